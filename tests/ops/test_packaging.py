"""
Packaging: the wheel built from the checkout holds the twistd plugin and
the backend plugins, and installed (not editable) into a fresh virtualenv it
gives a working C{twistd xmuc} and C{xmucctl}; the example systemd unit runs
the server the documented way; C{make install} only builds C{.venv/}, and
C{make run} and C{make test} build it first.

The fresh virtualenv gets the dependencies by seeing this virtualenv's
site-packages directory (a C{.pth} line, which does not run this
virtualenv's own C{.pth} files, so the editable checkout stays invisible):
nothing is downloaded and the test takes seconds.
"""

import configparser
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
import tempfile

import pytest
from twisted.trial import unittest

from tests.support.twistd import freePort, tapConfig, waitForPortBlocking
from xmuc.config import SCHEMA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = sys.executable

# What the twistd console script does.
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"

# SQLite under ./data/ (the storage plugin must be found), logging at info
# (the listening line is checked).
CONFIG = tapConfig(
    storage={"backend": "sqlite", "path": "data/xmuc.sqlite"},
    muc={"enabled": "false"},
    log={"level": "info"},
)

def run(argv, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    return subprocess.run(argv, **kwargs)


@pytest.mark.slow
class InstalledPackageTests(unittest.TestCase):
    """
    Build the wheel once, install it into a fresh virtualenv, use it.
    """

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="xmuc-packaging-")
        source = os.path.join(cls.work, "src")
        # A copy: building writes build/ and *.egg-info next to setup.cfg.
        shutil.copytree(
            ROOT,
            source,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "_trial_temp*", "build", "dist", "*.egg-info",
                "__pycache__", "dropin.cache", "data", ".pytest_cache",
            ),
        )
        dist = os.path.join(cls.work, "dist")
        result = run(
            [PYTHON, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--no-index", "--wheel-dir", dist, source]
        )
        assert result.returncode == 0, result.stdout + result.stderr
        [name] = os.listdir(dist)
        cls.wheel = os.path.join(dist, name)

        cls.venv = os.path.join(cls.work, "venv")
        result = run([sys._base_executable, "-m", "venv", "--without-pip", cls.venv])
        assert result.returncode == 0, result.stderr
        cls.python = os.path.join(cls.venv, "bin", "python")
        sitePackages = run(
            [cls.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
        with open(os.path.join(sitePackages, "xmuc-test-dependencies.pth"), "w") as f:
            f.write(sysconfig.get_paths()["purelib"] + "\n")
        result = run(
            [PYTHON, "-m", "pip", "--python", cls.python, "install", "--quiet",
             "--no-deps", "--no-index", cls.wheel]
        )
        assert result.returncode == 0, result.stdout + result.stderr
        cls.sitePackages = sitePackages
        # Nothing may come from the checkout: run from elsewhere.
        cls.cwd = os.path.join(cls.work, "run")
        os.makedirs(cls.cwd)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_wheelContents(self):
        names = zipfile.ZipFile(self.wheel).namelist()
        for wanted in (
            "twisted/plugins/xmuc_plugin.py",
            "xmuc/plugins/__init__.py",
            "xmuc/plugins/xmuc_storage.py",
            "xmuc/plugins/xmuc_auth.py",
            "xmuc/ctl.py",
        ):
            self.assertIn(wanted, names)
        # Shipping these would replace Twisted's own.
        self.assertNotIn("twisted/__init__.py", names)
        self.assertNotIn("twisted/plugins/__init__.py", names)
        self.assertEqual([n for n in names if "__pycache__" in n or n.endswith(".cache")], [])

    def test_importedFromTheVirtualenv(self):
        result = run(
            [self.python, "-c",
             "import xmuc, twisted.plugins.xmuc_plugin as p; print(xmuc.__file__); print(p.__file__)"],
            cwd=self.cwd,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        for line in result.stdout.split():
            self.assertTrue(line.startswith(self.sitePackages), line)

    def test_twistdHelp(self):
        result = run([self.python, "-c", TWISTD, "--help"], cwd=self.cwd)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("xmuc", result.stdout)
        self.assertIn("Multi-User Chat", result.stdout)

    def test_xmucctlHelp(self):
        script = os.path.join(self.venv, "bin", "xmucctl")
        result = run([script, "--help"], cwd=self.cwd)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("usage: xmucctl", result.stdout)
        result = run([script, "frobnicate"], cwd=self.cwd)
        self.assertEqual(result.returncode, 2)

    def test_serverAndAdmin(self):
        """
        The installed server starts (finding its storage and auth plugins),
        xmucctl works next to it on the same SQLite file, SIGTERM stops it
        with status 0.
        """
        port = freePort()
        directory = os.path.join(self.work, "server-%d" % (port,))
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        with open(path, "w") as f:
            f.write(CONFIG.replace("{port}", str(port)))
        process = subprocess.Popen(
            [self.python, "-c", TWISTD, "--pidfile=", "-n", "xmuc", "-c", path],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            waitForPortBlocking(port, process)
            xmucctl = os.path.join(self.venv, "bin", "xmucctl")
            added = run([xmucctl, "-c", path, "adduser", "alice", "--password", "pw"], cwd=self.cwd)
            listed = run([xmucctl, "-c", path, "users"], cwd=self.cwd)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.assertEqual(process.returncode, 0, output)
        self.assertIn("ClientStreamFactory starting on %d" % (port,), output)
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertEqual(listed.stdout, "alice@localhost\n")


class SystemdUnitTests(unittest.TestCase):
    def test_unit(self):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(os.path.join(ROOT, "contrib", "xmuc.service"))
        service = parser["Service"]
        self.assertIn("twistd", service["ExecStart"])
        self.assertIn(" -n xmuc -c /etc/xmuc/tap.conf", service["ExecStart"])
        self.assertTrue(service["ExecStart"].startswith("/"), "systemd needs an absolute path")
        self.assertTrue(service["WorkingDirectory"].startswith("/"))
        self.assertIn("--pidfile=", service["ExecStart"])
        self.assertEqual(parser["Install"]["WantedBy"], "multi-user.target")
        # systemctl reload: SIGHUP reloads the certificate.
        self.assertEqual(service["ExecReload"], "/bin/kill -HUP $MAINPID")

    def test_openFiles(self):
        """
        The unit raises the open files limit far above systemd's 1,024 (one
        per connection) and above what the default connection caps allow.
        """
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(os.path.join(ROOT, "contrib", "xmuc.service"))
        limit = int(parser["Service"]["LimitNOFILE"])
        self.assertGreaterEqual(limit, 65536)
        self.assertGreater(limit, 10 * int(SCHEMA["c2s"]["max_unauthenticated"].default))


class MakefileTests(unittest.TestCase):
    """
    The Makefile targets, as C{make -n} (dry run) shows them on a checkout
    without C{.venv/}: C{install} builds the virtualenv with the package
    installed editable (what running needs, no test tools) and does nothing
    else; C{run} builds it first, C{test} builds it and adds the test tools.
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
        self.assertNotIn("[test", commands)
        self.assertNotIn("editable_mode=compat", commands)

    def test_run(self):
        commands = self.dryRun("run")
        self.assertBuildsVirtualenv(commands)
        lines = commands.splitlines()
        certificate = [i for i, line in enumerate(lines) if " cert localhost" in line]
        server = [
            i
            for i, line in enumerate(lines)
            if ".venv/bin/twistd -n --pidfile data/twistd.pid xmuc -c tap.conf" in line
        ]
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
        self.assertIn("-e '.[test,postgresql]'", commands)
        self.assertIn(".venv/bin/python -m pytest", commands)
        self.assertNotIn("twistd", commands)

    def test_runWithoutTestTools(self):
        """
        C{make run} installs what running needs, not the test tools.
        """
        self.assertNotIn("[test", self.dryRun("run"))

    def test_installedOnce(self):
        """
        Once built (and newer than setup.cfg), C{make test} does not
        reinstall.
        """
        os.makedirs(os.path.join(self.checkout, ".venv"))
        future = os.path.getmtime(os.path.join(self.checkout, "setup.cfg")) + 10
        for name in (".installed", ".installed-test"):
            marker = os.path.join(self.checkout, ".venv", name)
            open(marker, "w").close()
            os.utime(marker, (future, future))
        commands = self.dryRun("test")
        self.assertNotIn("pip install", commands)
        self.assertIn(".venv/bin/python -m pytest", commands)


class GitignoreTests(unittest.TestCase):
    """
    What running and testing leave in a checkout is ignored by git.
    """

    def test_runtimeFilesIgnored(self):
        with open(os.path.join(ROOT, ".gitignore")) as f:
            patterns = f.read().split()
        for pattern in ("/data/", "twistd.pid", "_trial_temp*/", ".venv/"):
            self.assertIn(pattern, patterns)
