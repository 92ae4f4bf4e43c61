"""
L{xmuc.cli.ArgumentParser}: parsing never prints nor exits.
"""

from twisted.trial import unittest

from xmuc.cli import ArgumentParser, HelpRequested, UsageError


def parser():
    result = ArgumentParser(prog="prog")
    result.add_argument("--count", type=int, default=1)
    result.add_argument("name")
    return result


class ArgumentParserTests(unittest.TestCase):
    def test_parsed(self):
        args = parser().parse_args(["--count", "3", "x"])
        self.assertEqual((args.count, args.name), (3, "x"))

    def test_missing(self):
        """
        A missing argument raises L{UsageError} with the usage text.
        """
        error = self.assertRaises(UsageError, parser().parse_args, [])
        self.assertIn("name", error.message)
        self.assertIn("usage: prog", error.usage)

    def test_badValue(self):
        """
        A value of the wrong type raises L{UsageError}, naming the option.
        """
        error = self.assertRaises(UsageError, parser().parse_args, ["--count", "ten", "x"])
        self.assertIn("--count", error.message)
        self.assertIn("usage: prog", error.usage)

    def test_help(self):
        """
        C{--help} raises L{HelpRequested} with the help text.
        """
        help = self.assertRaises(HelpRequested, parser().parse_args, ["--help"])
        self.assertIn("--count", help.text)
