"""
Tests for L{xmuc.config}: every kind of error names the file, the line, the
section and the key; C{collectErrors} reports them all; and C{twistd xmuc}
refuses a bad configuration with one line and a non-zero exit code, never a
traceback.

Also what an operator gets without writing a line: the shipped C{tap.conf}
and C{tap-scansion.conf} (one host C{localhost}, SQLite under C{./data/},
c2s on 127.0.0.1:5222, MUC at C{conference.localhost}; open test
authentication, no TLS and memory storage for the scansion one, which the
in-project harness plays its scripts under), and the defaults of keys left
out (TLS required, registration off, 256 KiB stanzas, insecure
authentication refused, three authentication failures, 5 s shutdown wait).
"""

import os
import sys
import textwrap

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.support.client import collectUntilClosed, connectClient, streamErrorConditions
from tests.support import scansion
from tests.support.twistd import freePort, runTwistdIn, runTwistdToEnd, tapConfig
from xmuc.config import ConfigError, collectErrors, loadConfig, validate
from xmuc.server import XmucServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


class ShippedConfigurationTests(unittest.TestCase):
    """
    The values of the configurations shipped at the top of the repository.
    """

    def test_tapConf(self):
        config = loadConfig(os.path.join(ROOT, "tap.conf"))
        self.assertEqual(config.get("server", "hosts"), ["localhost"])
        self.assertEqual(config.get("c2s", "listen"), ["tcp:5222:interface=127.0.0.1"])
        self.assertTrue(config.get("c2s", "require_encryption"))
        self.assertFalse(config.get("c2s", "allow_registration"))
        self.assertEqual(config.get("auth", "backend"), "internal")
        self.assertFalse(config.get("auth", "allow_insecure"))
        self.assertEqual(config.get("storage", "backend"), "sqlite")
        # SQLite file, certificate and key all under ./data/ next to tap.conf
        # (where `make run` writes the certificate).
        for section, key in (
            ("storage", "path"),
            ("c2s", "tls_certificate"),
            ("c2s", "tls_key"),
        ):
            self.assertEqual(
                os.path.dirname(config.resolvePath(config.get(section, key))),
                os.path.join(ROOT, "data"),
                (section, key),
            )
        self.assertTrue(config.get("muc", "enabled"))
        self.assertEqual(config.get("muc", "domain"), "conference.localhost")

    def test_tapScansionConf(self):
        config = loadConfig(os.path.join(ROOT, "tap-scansion.conf"))
        self.assertEqual(config.get("server", "hosts"), ["localhost"])
        self.assertEqual(config.get("c2s", "listen"), ["tcp:5222:interface=127.0.0.1"])
        self.assertFalse(config.get("c2s", "require_encryption"))
        self.assertEqual(config.get("auth", "backend"), "insecure")
        self.assertTrue(config.get("auth", "allow_insecure"))
        self.assertEqual(config.get("storage", "backend"), "memory")
        self.assertTrue(config.get("muc", "enabled"))
        self.assertEqual(config.get("muc", "domain"), "conference.localhost")

    def test_harnessUsesTapScansionConf(self):
        """
        The in-project scansion harness runs the scripts under the shipped
        file itself, changing only the port.
        """
        self.assertEqual(
            os.path.realpath(scansion.CONFIG),
            os.path.realpath(os.path.join(ROOT, "tap-scansion.conf")),
        )
        self.assertEqual(list(scansion.C2S_OVERRIDES), ["c2s"])
        self.assertEqual(list(scansion.C2S_OVERRIDES["c2s"]), ["listen"])


class DefaultTests(unittest.TestCase):
    """
    What an operator gets by leaving a key out.
    """

    def setUp(self):
        self.config = validate({})

    def test_encryptionRequired(self):
        self.assertTrue(self.config.get("c2s", "require_encryption"))

    def test_registrationOff(self):
        self.assertFalse(self.config.get("c2s", "allow_registration"))

    def test_maxStanzaSize256KiB(self):
        self.assertEqual(self.config.get("server", "max_stanza_size"), 256 * 1024)

    def test_insecureNotAllowed(self):
        self.assertFalse(self.config.get("auth", "allow_insecure"))
        self.assertEqual(self.config.get("auth", "backend"), "internal")

    def test_threeAuthFailures(self):
        self.assertEqual(self.config.get("c2s", "max_auth_failures"), 3)

    def test_shutdownWaitFiveSeconds(self):
        self.assertEqual(self.config.get("server", "shutdown_timeout"), 5.0)


class OneLineErrorTests(unittest.TestCase):
    """
    C{twistd -n xmuc} with a bad configuration prints exactly one line (not
    a usage text, not a traceback) and exits non-zero.
    """

    def runTwistd(self, text, name="tap.conf", write=True):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, name)
        if write:
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        code, output = runTwistdToEnd(directory, path)
        self.assertNotEqual(code, 0, output)
        lines = [line for line in output.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, output)
        self.assertIn(path, lines[0])
        return lines[0]

    def test_badValue(self):
        line = self.runTwistd(GOOD.replace("require_encryption = false", "require_encryption = maybe"))
        self.assertIn("[c2s] require_encryption", line)

    def test_unknownSection(self):
        self.assertIn("[bogus]", self.runTwistd(GOOD + "\n[bogus]\nx = 1\n"))

    def test_unknownKey(self):
        self.assertIn("[muc] colour", self.runTwistd(GOOD + "[muc]\ncolour = blue\n"))

    def test_missingFile(self):
        self.assertIn("not found", self.runTwistd("", name="absent.conf", write=False))

    def test_unknownStorageBackend(self):
        line = self.runTwistd(GOOD.replace("backend = memory", "backend = nosuchdb"))
        self.assertIn("[storage] backend", line)
        self.assertIn("nosuchdb", line)

    def test_insecureWithoutPermission(self):
        line = self.runTwistd(GOOD.replace("allow_insecure = true\n", ""))
        self.assertIn("[auth] allow_insecure", line)


PYTHON = sys.executable


class ShippedTapConfTests(unittest.TestCase):
    """
    What C{make run} does, in a fresh directory: the shipped tap.conf (only
    the port changed), C{xmucctl cert localhost}, C{xmucctl adduser}, then
    C{twistd -n xmuc -c tap.conf}; a client logs in over STARTTLS with
    SCRAM-SHA-256 and talks; SIGINT (Ctrl-C) ends it with status 0.
    """

    timeout = 90

    def xmucctl(self, directory, *argv):
        return utils.getProcessOutputAndValue(
            PYTHON, ["-m", "xmuc.ctl", "-c", "tap.conf"] + list(argv),
            env=os.environ, path=directory,
        )

    @defer.inlineCallbacks
    def test_makeRunEquivalent(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        with open(os.path.join(ROOT, "tap.conf"), encoding="utf-8") as f:
            shipped = f.read()
        self.assertIn("tcp:5222:interface=127.0.0.1", shipped)
        port = freePort()
        with open(os.path.join(directory, "tap.conf"), "w", encoding="utf-8") as f:
            # The shipped HTTP port may be taken on a test machine.
            f.write(
                shipped.replace("tcp:5222:", "tcp:%d:" % (port,)).replace(
                    "tcp:5280:", "tcp:%d:" % (freePort(),)
                )
            )

        out, err, code = yield self.xmucctl(directory, "cert", "localhost")
        self.assertEqual(code, 0, err)
        out, err, code = yield self.xmucctl(directory, "adduser", "alice", "--password", "rabbit")
        self.assertEqual(code, 0, err)

        server = yield runTwistdIn(self, directory, port)

        client = yield connectClient(port)
        jid = yield client.login("alice", "rabbit", "here", tls=True, mechanism="SCRAM-SHA-256")
        self.assertTrue(client.transport.TLS)
        client.send("<message to='%s' id='hello'><body>hi</body></message>" % (jid,))
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "hello")

        server.signal("INT")
        received = yield collectUntilClosed(client)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
        self.assertIn("alice@localhost authenticated with SCRAM-SHA-256", output)
        for name in ("localhost.crt", "localhost.key", "xmuc.sqlite"):
            self.assertTrue(os.path.exists(os.path.join(directory, "data", name)), name)
