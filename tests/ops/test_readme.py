"""
README.rst promises: the two set-up commands first, a reference entry
for every configuration key, and an operations section that covers
connecting a client, starting, stopping, every admin command with an
example, and the logging settings.
"""

import os
import re

from twisted.trial import unittest

from xmuc import ctl
from xmuc.config import SCHEMA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme():
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        return f.read()


class ReadmeTests(unittest.TestCase):
    def test_twoCommandsFirst(self):
        """
        The first literal block holds exactly C{make run} and C{make test}.
        """
        text = readme()
        block = text[text.index("::\n") :].split("\n\n")[1]
        commands = [line.split("#")[0].strip() for line in block.splitlines()]
        self.assertEqual(commands, ["make run", "make test"])

    def test_everyKeyDocumented(self):
        """
        Every key of every section has an entry (C{``key`` (default ...)})
        under the heading of its section in the configuration reference.
        """
        text = readme()
        reference = text[text.index("Configuration reference\n") :]
        headings = list(re.finditer(r"^``\[(\w+)\]``: .*\n-+\n", reference, re.M))
        documented = {}
        for number, heading in enumerate(headings):
            end = headings[number + 1].start() if number + 1 < len(headings) else len(reference)
            body = reference[heading.end() : end]
            documented[heading.group(1)] = set(re.findall(r"^``(\w+)``", body, re.M))
        for section, options in SCHEMA.items():
            self.assertIn(section, documented, "no reference heading for [%s]" % section)
            missing = set(options) - documented[section]
            self.assertEqual(missing, set(), "[%s] keys not documented" % section)


class CodeMapTests(unittest.TestCase):
    """
    The README's code map names every module of xmuc, so a newcomer finds
    each concept's file from it.
    """

    def test_everyModuleListed(self):
        with open(os.path.join(ROOT, "README.rst")) as f:
            text = f.read()
        codeMap = text[text.index("Code map\n========\n"):]
        missing = []
        for directory, _, files in os.walk(os.path.join(ROOT, "xmuc")):
            for name in files:
                path = os.path.relpath(os.path.join(directory, name), ROOT)
                if not name.endswith(".py") or name == "__init__.py":
                    continue
                if "``%s``" % (name,) not in codeMap and "``%s``" % (path,) not in codeMap:
                    missing.append(path)
        self.assertEqual(missing, [])


class ReadmeOperationsTests(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
            self.text = f.read()

    def section(self, title, underline):
        """
        @return: the text under the heading C{title} up to the next heading
            of the same level.
        """
        match = re.search(
            r"^%s\n%s+\n(.*?)(?=^[^\n]+\n%s+\n|\Z)"
            % (re.escape(title), re.escape(underline), re.escape(underline)),
            self.text,
            re.M | re.S,
        )
        self.assertIsNotNone(match, "no section %r" % (title,))
        return match.group(1)

    def test_connectingAClient(self):
        body = self.section("Connecting a client", "=")
        self.assertIn("xmucctl", body)
        self.assertIn("5222", body)

    def test_operationsSections(self):
        operations = self.section("Operations", "=")
        for title in ("Starting", "Stopping", "Logging", "Administration: ``xmucctl``"):
            self.assertIn("\n%s\n" % (title,), "\n" + operations)

    def test_stopping(self):
        body = self.section("Stopping", "-")
        for word in ("SIGTERM", "SIGINT", "332", "system-shutdown", "shutdown_timeout"):
            self.assertIn(word, body)

    def test_loggingSettings(self):
        body = self.section("Logging", "-")
        for key in SCHEMA["log"]:
            self.assertIn("``%s``" % (key,), body)

    def test_everyCommandHasAnExample(self):
        body = self.section("Administration: ``xmucctl``", "-")
        commands = set(ctl.STORAGE_COMMANDS) | {"check-config", "cert"}
        for command in commands:
            self.assertRegex(body, r"\n    (echo .*\| )?xmucctl %s\b" % (re.escape(command),))
        for code in ("0", "1", "2"):
            self.assertIn(code, body)
