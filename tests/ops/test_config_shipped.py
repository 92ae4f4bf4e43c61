"""
Audit of issue 2 (deployment, configuration) and issue 7 (packaging) for
what the other tests left implicit:

 - the shipped C{tap.conf} and C{tap-scansion.conf} hold what the issue
   says (one host C{localhost}, SQLite under C{./data/}, c2s on
   127.0.0.1:5222, MUC at C{conference.localhost}; open test
   authentication, no TLS, memory storage for the scansion one);
 - the defaults the issue fixes hold when a key is left out (TLS
   required, registration off, 256 KiB stanzas, insecure refused, 5 s
   shutdown wait);
 - a bad configuration makes C{twistd} print exactly one line;
 - C{make install} only builds C{.venv/}; C{make run} and C{make test}
   depend on it.
"""

import os
import shutil
import subprocess
import textwrap

from twisted.trial import unittest

from tests.support.twistd import runTwistdToEnd, tapConfig
from xmuc.config import loadConfig, validate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
        from tests.support import scansion as test_scansion

        self.assertEqual(
            os.path.realpath(test_scansion.CONFIG),
            os.path.realpath(os.path.join(ROOT, "tap-scansion.conf")),
        )
        self.assertEqual(list(test_scansion.C2S_OVERRIDES), ["c2s"])
        self.assertEqual(list(test_scansion.C2S_OVERRIDES["c2s"]), ["listen"])


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


# Line numbers in it are part of the expected errors: the sections and keys
# of the base, in its order, nothing else.
GOOD = tapConfig(c2s={"listen": "tcp:0:interface=127.0.0.1"}, muc=None, log=None)


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


class MakefileTests(unittest.TestCase):
    """
    The Makefile targets, as C{make -n} (dry run) shows them on a checkout
    without C{.venv/}: C{install} builds the virtualenv with the package
    installed editable and does nothing else; C{run} and C{test} build it
    first.
    """

    def setUp(self):
        if shutil.which("make") is None:
            raise unittest.SkipTest("make is not installed")
        self.checkout = os.path.abspath(self.mktemp())
        os.makedirs(self.checkout)
        for name in ("Makefile", "setup.cfg", "pyproject.toml"):
            shutil.copy(os.path.join(ROOT, name), self.checkout)

    def dryRun(self, target):
        result = subprocess.run(
            ["make", "-n", target],
            cwd=self.checkout,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def assertBuildsVirtualenv(self, commands):
        self.assertIn("-m venv .venv", commands)
        self.assertIn(".venv/bin/python -m pip install", commands)
        self.assertIn(" -e ", commands)

    def test_install(self):
        commands = self.dryRun("install")
        self.assertBuildsVirtualenv(commands)
        self.assertNotIn("twistd", commands)
        self.assertNotIn("pytest", commands)

    def test_run(self):
        commands = self.dryRun("run")
        self.assertBuildsVirtualenv(commands)
        lines = commands.splitlines()
        certificate = [i for i, line in enumerate(lines) if " cert localhost" in line]
        server = [i for i, line in enumerate(lines) if ".venv/bin/twistd -n xmuc -c tap.conf" in line]
        self.assertEqual(len(certificate), 1, commands)
        self.assertEqual(len(server), 1, commands)
        # The virtualenv first, then the certificate, then the server.
        install = max(i for i, line in enumerate(lines) if "pip install" in line)
        self.assertLess(install, certificate[0])
        self.assertLess(certificate[0], server[0])

    def test_runKeepsCertificate(self):
        """
        An existing certificate is not made again.
        """
        os.makedirs(os.path.join(self.checkout, "data"))
        for name in ("localhost.crt", "localhost.key"):
            open(os.path.join(self.checkout, "data", name), "w").close()
        commands = self.dryRun("run")
        self.assertNotIn(" cert localhost", commands)

    def test_test(self):
        commands = self.dryRun("test")
        self.assertBuildsVirtualenv(commands)
        self.assertIn(".venv/bin/python -m pytest", commands)
        self.assertNotIn("twistd", commands)

    def test_installedOnce(self):
        """
        Once built (and newer than setup.cfg), C{make test} does not
        reinstall.
        """
        marker = os.path.join(self.checkout, ".venv", ".installed")
        os.makedirs(os.path.dirname(marker))
        open(marker, "w").close()
        future = os.path.getmtime(os.path.join(self.checkout, "setup.cfg")) + 10
        os.utime(marker, (future, future))
        commands = self.dryRun("test")
        self.assertNotIn("pip install", commands)
        self.assertIn(".venv/bin/python -m pytest", commands)


class ServiceMakerTests(unittest.TestCase):
    """
    The twistd plugin: an C{IServiceMaker} named C{xmuc}, found by twistd's
    plugin lookup, building a C{MultiService} from the file given with
    C{-c}.
    """

    def test_pluginBuildsMultiService(self):
        from twisted.application.service import IServiceMaker, MultiService
        from twisted.plugin import IPlugin, getPlugins

        makers = [m for m in getPlugins(IServiceMaker) if m.tapname == "xmuc"]
        self.assertEqual(len(makers), 1)
        maker = makers[0]
        self.assertTrue(IServiceMaker.providedBy(maker))
        self.assertTrue(IPlugin.providedBy(maker))

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(GOOD.replace("tcp:0:", "tcp:5999:"))
        options = maker.options()
        options.parseOptions(["-c", path])
        service = maker.makeService(options)
        self.assertIsInstance(service, MultiService)
        self.assertEqual(service.config.path, path)
        self.assertEqual(
            [listener.endpoint._port for listener in service.listeners], [5999]
        )
        # Nothing was started: building listens on nothing.
        self.assertFalse(service.running)
        self.assertEqual([listener.port for listener in service.listeners], [None])
