"""
Tests for the event loop choice (L{xmuc.reactorchoice} and the twistd
plugin): epoll by default on Linux, C{[server] reactor} honoured when
possible, and a reactor that does not exist or cannot be used here falls
back to the platform default (not to select), with a warning.
"""

import os
import subprocess
import sys

from twisted.application import reactors
from twisted.internet import defer
from twisted.python.runtime import platform
from twisted.trial import unittest

from tests.helpers_twistd import runTwistdToEnd, startTwistd, stopCleanly, tapConfig
from xmuc import reactorchoice

PYTHON = sys.executable

def config(reactor):
    """
    @param reactor: the C{[server] reactor} value.
    @return: a tap.conf text (C{{port}} still in it): no MUC, logging at
        info (the reactor lines are checked).
    """
    return tapConfig(
        server={"reactor": reactor}, muc={"enabled": "false"}, log={"level": "info"}
    )


# Runs the plugin's option parsing in a fresh interpreter, as twistd does,
# then starts logging (which writes the warnings kept until then) and shows
# the reactor that ended up installed.
PROBE = """\
import sys
preinstall = sys.argv[2]
if preinstall:
    from twisted.application.reactors import installReactor
    installReactor(preinstall)
from twisted.plugins.xmuc_plugin import Options
Options().parseOptions(["-c", sys.argv[1]])
from twisted.logger import globalLogBeginner, textFileLogObserver
globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)], redirectStandardIO=False)
from twisted.internet import reactor
print("REACTOR", type(reactor).__module__)
"""


def _serverAvailable():
    try:
        import xmuc.c2s.stream  # noqa: F401
        import xmuc.session.manager  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


class FakeInstallers:
    """
    Records what L{reactorchoice.chooseReactor} installs, without installing.
    """

    def __init__(self, failure=None):
        self.failure = failure
        self.calls = []

    def install(self, name):
        self.calls.append(name)
        if self.failure is not None:
            raise self.failure

    def installDefault(self):
        self.calls.append("<default>")


class ChooseReactorTests(unittest.TestCase):
    """
    L{reactorchoice.chooseReactor} with the installing replaced.  The test
    process has its reactor installed already, so the "not yet installed"
    branch is reached by hiding it.
    """

    def hideInstalledReactor(self):
        self.patch(reactorchoice, "installedReactor", lambda: None)

    def choose(self, name, failure=None):
        installers = FakeInstallers(failure)
        warnings = reactorchoice.chooseReactor(
            name, installers.install, installers.installDefault
        )
        return installers.calls, warnings

    def test_platformDefault(self):
        if platform.isLinux():
            self.assertEqual(reactorchoice.platformDefaultName(), "epoll")
            self.assertEqual(
                reactorchoice.PLATFORM_DEFAULT_MODULE, "twisted.internet.epollreactor"
            )

    def test_empty(self):
        self.hideInstalledReactor()
        self.assertEqual(self.choose(""), (["<default>"], []))
        self.assertEqual(self.choose("default"), (["<default>"], []))

    def test_asked(self):
        self.hideInstalledReactor()
        self.assertEqual(self.choose("poll"), (["poll"], []))

    def test_unknown(self):
        self.hideInstalledReactor()
        calls, warnings = self.choose("turbo", reactors.NoSuchReactor("turbo"))
        self.assertEqual(calls, ["turbo", "<default>"])
        self.assertEqual(len(warnings), 1)
        self.assertIn("'turbo' does not exist", warnings[0])
        self.assertIn("falling back to the platform default", warnings[0])
        self.assertIn("epoll", warnings[0])

    def test_unusable(self):
        self.hideInstalledReactor()
        calls, warnings = self.choose("kqueue", ImportError("no select.kqueue"))
        self.assertEqual(calls, ["kqueue", "<default>"])
        self.assertIn("cannot be used here", warnings[0])
        self.assertIn("no select.kqueue", warnings[0])

    def test_alreadyInstalledSame(self):
        from twisted.internet import reactor

        for installer in reactors.getReactorTypes():
            if installer.moduleName == type(reactor).__module__:
                self.assertEqual(self.choose(installer.shortName), ([], []))
                return
        raise unittest.SkipTest("the test reactor has no short name")

    def test_alreadyInstalledOther(self):
        from twisted.internet import reactor

        other = "poll" if "poll" not in type(reactor).__module__ else "select"
        calls, warnings = self.choose(other)
        self.assertEqual(calls, [])
        self.assertIn("is ignored", warnings[0])
        self.assertIn(type(reactor).__name__, warnings[0])

    def test_alreadyInstalledDefaultAsked(self):
        self.assertEqual(self.choose(""), ([], []))


class ConfiguredReactorNameTests(unittest.TestCase):
    def test_read(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[server]\nreactor = poll\n")
        self.assertEqual(reactorchoice.configuredReactorName(path), "poll")

    def test_unreadable(self):
        self.assertEqual(reactorchoice.configuredReactorName(self.mktemp()), "")
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("no section\n")
        self.assertEqual(reactorchoice.configuredReactorName(path), "")


class PluginReactorTests(unittest.TestCase):
    """
    The plugin's option parsing, in a fresh interpreter, installs the
    reactor of C{[server] reactor} before loading the configuration.
    """

    def probe(self, reactor, preinstall=""):
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write(config(reactor).replace("{port}", "0"))
        result = subprocess.run(
            [PYTHON, "-c", PROBE, path, preinstall],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        installed = [line.split()[1] for line in lines if line.startswith("REACTOR ")]
        return installed[0], result.stdout

    def test_default(self):
        module, output = self.probe("")
        self.assertEqual(module, reactorchoice.PLATFORM_DEFAULT_MODULE)
        self.assertNotIn("warn", output)

    def test_poll(self):
        module, output = self.probe("poll")
        self.assertEqual(module, "twisted.internet.pollreactor")

    def test_asyncio(self):
        module, output = self.probe("asyncio")
        self.assertEqual(module, "twisted.internet.asyncioreactor")

    def test_unavailable(self):
        """
        kqueue exists in Twisted but not on Linux: a warning, then the
        platform default.
        """
        if not platform.isLinux():
            raise unittest.SkipTest("kqueue is only known to be missing on Linux")
        module, output = self.probe("kqueue")
        self.assertEqual(module, "twisted.internet.epollreactor")
        self.assertIn("reactor 'kqueue' cannot be used here", output)
        self.assertIn("falling back to the platform default, epoll", output)

    def test_unknown(self):
        module, output = self.probe("turbo")
        self.assertEqual(module, reactorchoice.PLATFORM_DEFAULT_MODULE)
        self.assertIn("reactor 'turbo' does not exist", output)

    def test_alreadyInstalled(self):
        """
        twistd -r installs its reactor first; a different [server] reactor is
        reported as ignored.
        """
        module, output = self.probe("epoll", preinstall="poll")
        self.assertEqual(module, "twisted.internet.pollreactor")
        self.assertIn("[server] reactor = epoll is ignored", output)


class TwistdReactorTests(unittest.TestCase):
    """
    The whole server under twistd: the reactor it runs on is in its log.
    """

    def setUp(self):
        missing = _serverAvailable()
        if missing:
            raise unittest.SkipTest("the server cannot start yet: %s" % (missing,))

    @defer.inlineCallbacks
    def runServer(self, reactor, *twistdOptions):
        """
        Start C{twistd -n xmuc}, wait until it listens, stop it with
        SIGTERM.

        @return: Deferred firing with its output.
        """
        server = yield startTwistd(self, config(reactor), twistdOptions)
        output = yield stopCleanly(self, server)
        return output

    @defer.inlineCallbacks
    def test_epollByDefault(self):
        if not platform.isLinux():
            raise unittest.SkipTest("epoll is the default on Linux only")
        output = yield self.runServer("")
        self.assertIn("reactor class: twisted.internet.epollreactor.EPollReactor", output)

    @defer.inlineCallbacks
    def test_fallback(self):
        if not platform.isLinux():
            raise unittest.SkipTest("kqueue is only known to be missing on Linux")
        output = yield self.runServer("kqueue")
        self.assertIn("reactor 'kqueue' cannot be used here", output)
        self.assertIn("reactor class: twisted.internet.epollreactor.EPollReactor", output)

    @defer.inlineCallbacks
    def test_twistdOptionWins(self):
        output = yield self.runServer("epoll", "-r", "poll")
        self.assertIn("reactor class: twisted.internet.pollreactor.PollReactor", output)
        self.assertIn("[server] reactor = epoll is ignored", output)

    def test_twistdUnknownReactor(self):
        """
        twistd's own -r with a name it cannot install stops before xmuc
        runs: documented, checked here so that a change is noticed.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        code, output = runTwistdToEnd(directory, "absent.conf", ["-r", "kqueue"])
        self.assertNotEqual(code, 0)
        self.assertIn("reactor cannot be used", output)
