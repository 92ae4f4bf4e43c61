"""
Tests for L{xmuc.config}: every kind of error names the file, the line, the
section and the key; C{collectErrors} reports them all; and C{twistd xmuc}
refuses a bad configuration with one line and a non-zero exit code, never a
traceback.
"""

import os
import textwrap

from twisted.trial import unittest

from tests.support.twistd import runTwistdToEnd, tapConfig
from xmuc.config import ConfigError, collectErrors, loadConfig

# Line numbers in it are part of the expected errors: the sections and keys
# of the base, in its order, nothing else.
GOOD = tapConfig(c2s={"listen": "tcp:0:interface=127.0.0.1"}, muc=None, log=None)


class ConfigFileMixin:
    def writeConfig(self, text, name="tap.conf"):
        """
        @return: the absolute path of a new file holding C{text}.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path


class LoadConfigErrorTests(ConfigFileMixin, unittest.TestCase):
    """
    Each kind of error found by L{loadConfig} says where it is.
    """

    def assertError(self, text, section, key, line, messagePart):
        path = self.writeConfig(text)
        error = self.assertRaises(ConfigError, loadConfig, path)
        self.assertEqual(
            (error.path, error.section, error.key, error.line),
            (path, section, key, line),
        )
        self.assertIn(messagePart, error.message)
        rendered = str(error)
        self.assertIn(path, rendered)
        if line is not None:
            self.assertIn("%s:%d" % (path, line), rendered)
        if section is not None:
            self.assertIn("[%s]" % (section,), rendered)
        if key is not None:
            self.assertIn(key, rendered)
        return error

    def test_good(self):
        config = loadConfig(self.writeConfig(GOOD))
        self.assertEqual(config.get("server", "hosts"), ["localhost"])
        self.assertEqual(config.get("server", "shutdown_timeout"), 5.0)
        self.assertEqual(config.get("log", "level"), "info")

    def test_unknownSection(self):
        self.assertError(GOOD + "\n[bogus]\nx = 1\n", "bogus", None, 15, "unknown section")

    def test_unknownKey(self):
        self.assertError(
            GOOD.replace("hosts = localhost", "hosts = localhost\nhost = typo"),
            "server",
            "host",
            3,
            "unknown key",
        )

    def test_badValue(self):
        self.assertError(
            GOOD.replace("require_encryption = false", "require_encryption = maybe"),
            "c2s",
            "require_encryption",
            6,
            "bad value",
        )

    def test_badLogLevel(self):
        self.assertError(GOOD + "[log]\nlevel = loud\n", "log", "level", 15, "bad value")

    def test_badNamespaceLevels(self):
        self.assertError(
            GOOD + "[log]\nlevels = xmuc.c2s\n", "log", "levels", 15, "namespace=level"
        )

    def test_badEndpoint(self):
        self.assertError(
            GOOD.replace("tcp:0:interface=127.0.0.1", "nonsense:5222"),
            "c2s",
            "listen",
            5,
            "endpoint",
        )

    def test_duplicateKey(self):
        self.assertError(
            GOOD.replace("backend = memory", "backend = memory\nbackend = sqlite"),
            "storage",
            "backend",
            14,
            "twice",
        )

    def test_duplicateSection(self):
        self.assertError(GOOD + "[server]\nadmins =\n", "server", None, 14, "twice")

    def test_textBeforeSection(self):
        self.assertError("hosts = localhost\n" + GOOD, None, None, 1, "section")

    def test_missingFile(self):
        path = os.path.join(os.path.abspath(self.mktemp()), "absent.conf")
        error = self.assertRaises(ConfigError, loadConfig, path)
        self.assertEqual(error.path, path)
        self.assertIn("not found", str(error))
        self.assertIn(path, str(error))

    def test_unknownBackend(self):
        """
        An unknown backend name is found when the server is built, and named
        like the other errors, with the backends that exist.
        """
        from xmuc.server import XmucServer

        path = self.writeConfig(GOOD.replace("backend = memory", "backend = mongo"))
        config = loadConfig(path)
        error = self.assertRaises(ConfigError, XmucServer, config)
        self.assertEqual(
            (error.path, error.section, error.key, error.line),
            (path, "storage", "backend", 13),
        )
        self.assertIn("mongo", str(error))
        self.assertIn("sqlite", str(error))


class CollectErrorsTests(ConfigFileMixin, unittest.TestCase):
    """
    L{collectErrors} finds every problem, each with its place.
    """

    def test_every(self):
        raw = {
            "server": {"hosts": "localhost", "shutdown_timeout": "soon"},
            "c2s": {"require_encryption": "perhaps", "colour": "blue"},
            "nonsense": {"a": "b"},
        }
        errors = collectErrors(raw, "x.conf")
        found = sorted((e.section, e.key) for e in errors)
        self.assertEqual(
            found,
            [
                ("c2s", "colour"),
                ("c2s", "require_encryption"),
                ("nonsense", None),
                ("server", "shutdown_timeout"),
            ],
        )
        for error in errors:
            self.assertEqual(error.path, "x.conf")

    def test_none(self):
        self.assertEqual(collectErrors({"server": {"hosts": "localhost"}}), [])


class TwistdConfigErrorTests(ConfigFileMixin, unittest.TestCase):
    """
    C{twistd xmuc} with a broken configuration: a non-zero exit code and one
    line naming the problem, no traceback, no usage text.
    """

    def runTwistd(self, path):
        code, output = runTwistdToEnd(os.path.dirname(path), path)
        self.assertNotEqual(code, 0, output)
        self.assertNotIn("Traceback", output)
        self.assertNotIn("Usage:", output)
        return output

    def test_badValue(self):
        path = self.writeConfig(
            GOOD.replace("require_encryption = false", "require_encryption = maybe")
        )
        output = self.runTwistd(path)
        self.assertIn("%s:6 [c2s] require_encryption" % (path,), output)

    def test_unknownSection(self):
        path = self.writeConfig(GOOD + "\n[bogus]\nx = 1\n")
        self.assertIn("%s:15 [bogus]" % (path,), self.runTwistd(path))

    def test_unknownKey(self):
        path = self.writeConfig(GOOD + "[muc]\ncolour = blue\n")
        self.assertIn("%s:15 [muc] colour" % (path,), self.runTwistd(path))

    def test_missingFile(self):
        path = os.path.join(os.path.abspath(self.mktemp()), "absent.conf")
        os.makedirs(os.path.dirname(path))
        output = self.runTwistd(path)
        self.assertIn(path, output)
        self.assertIn("not found", output)

    def test_unknownBackend(self):
        path = self.writeConfig(GOOD.replace("backend = insecure", "backend = ldap"))
        output = self.runTwistd(path)
        self.assertIn("%s:9 [auth] backend" % (path,), output)
        self.assertIn("ldap", output)

    def test_insecureNotAllowed(self):
        """
        The test authentication backend refuses to run unless explicitly
        allowed, and says which key to set.
        """
        path = self.writeConfig(GOOD.replace("allow_insecure = true\n", ""))
        output = self.runTwistd(path)
        self.assertIn("[auth] allow_insecure", output)
