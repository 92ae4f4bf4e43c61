"""
Scansion scripts played against a real xmuc server started in-process with
the shipped C{tap-scansion.conf}.

Scripts come from C{tests/scripts/*.scs} and, when the folder exists, from
the seed scripts in C{../shared/seeds/*.scs} next to the repository.  Each
script becomes one test method (C{test_script_<name>}, C{test_seed_<name>}).
Set C{XMUC_REQUIRE_SEEDS=1} (CI does) to make a missing seeds folder a
failure instead of a skip.

Scripts that cannot pass yet are listed in L{EXPECTED_FAILURES}: they run
as trial "todo" tests, reported by pytest as xfail when they fail with a
L{ScriptFailure}, and as a failure ("Unexpected success") once they pass,
which is the signal to remove them from the list.
"""

import os
import re

from twisted.internet import defer, utils
from twisted.trial import unittest

from xmuc.testing.scansion import ScriptFailure, loadScript, parseScript, runScript
from tests.support.scansion import C2S_OVERRIDES, CONFIG, REPOSITORY, SCRIPTS, SEEDS
from xmuc.testing.server import startServer

#: Script file name -> why it is expected to fail for now.  Remove an entry
#: as soon as the script passes (pytest then reports it as failed).
EXPECTED_FAILURES = {
}


def _scriptFiles(folder):
    return sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if name.endswith(".scs")
    )


def _methodName(prefix, path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return "test_%s_%s" % (prefix, re.sub(r"\W", "_", stem))


class ScansionScriptTests(unittest.TestCase):
    """
    One test per script; methods are added below by L{_addScriptTests}.
    """

    timeout = 120

    @defer.inlineCallbacks
    def runScriptFile(self, path):
        """
        Start a server, play the script at C{path} against it, stop it.
        """
        script = loadScript(path)
        server = yield startServer(CONFIG, overrides=C2S_OVERRIDES)
        self.addCleanup(server.stop)
        yield runScript(script, "127.0.0.1", server.c2sPort)


def _makeTest(path):
    def test(self):
        return self.runScriptFile(path)

    name = os.path.basename(path)
    test.__doc__ = "Scansion script %s" % (path,)
    if name in EXPECTED_FAILURES:
        # Only a script failure is expected; a server that does not start
        # or a broken script is still an error.
        test.todo = (ScriptFailure, EXPECTED_FAILURES[name])
    return test


def _addScriptTests(cls):
    for path in _scriptFiles(SCRIPTS):
        setattr(cls, _methodName("script", path), _makeTest(path))
    if os.path.isdir(SEEDS):
        for path in _scriptFiles(SEEDS):
            setattr(cls, _methodName("seed", path), _makeTest(path))
    else:

        def test_seeds(self):
            message = "seed scripts folder %s is missing" % (SEEDS,)
            if os.environ.get("XMUC_REQUIRE_SEEDS") == "1":
                self.fail(message + " (XMUC_REQUIRE_SEEDS=1)")
            raise unittest.SkipTest(message + "; set XMUC_REQUIRE_SEEDS=1 to fail")

        cls.test_seeds = test_seeds


_addScriptTests(ScansionScriptTests)


class ExpectedFailuresListTests(unittest.TestCase):
    """
    The list of expected failures stays honest.
    """

    def test_namesExist(self):
        """
        Every name in L{EXPECTED_FAILURES} is a script that is run, so that
        a stale entry (renamed script) is noticed.
        """
        if not os.path.isdir(SEEDS):
            raise unittest.SkipTest("seed scripts folder %s is missing" % (SEEDS,))
        known = {
            os.path.basename(path)
            for folder in (SCRIPTS, SEEDS)
            for path in _scriptFiles(folder)
        }
        self.assertEqual(set(EXPECTED_FAILURES) - known, set())


class PytestIntegrationTests(unittest.TestCase):
    """
    L{EXPECTED_FAILURES} relies on pytest reporting trial's C{todo} as
    xfail; without the integration an expected failure would silently show
    as a pass.
    """

    def test_trialReporterRegistered(self):
        try:
            from _pytest.unittest import TestCaseFunction
        except ImportError:
            raise unittest.SkipTest("not running under pytest")
        import sys

        if "pytest" not in sys.modules:
            raise unittest.SkipTest("not running under pytest")
        from twisted.trial.itrial import IReporter

        self.assertTrue(
            IReporter.implementedBy(TestCaseFunction),
            "pytest's trial integration is off: tests/conftest.py must import "
            "twisted.trial.unittest",
        )


BAD_PING = """\
# A script that must fail: the ping id does not match

[Client] Romeo
	jid: runner-romeo@localhost
	password: password

-----

Romeo connects

Romeo sends:
	<iq type='get' id='ping1' to='localhost'>
		<ping xmlns='urn:xmpp:ping'/>
	</iq>

Romeo receives:
	<iq type='result' id='ping2'/>
"""

NOT_NOTHING = """\
# A script that must fail: Juliet does get a message

[Client] Romeo
	jid: runner-romeo@localhost
	password: password

[Client] Juliet
	jid: runner-juliet@localhost
	password: password
	resource: balcony

-----

Romeo connects

Juliet connects

Romeo sends:
	<message type='chat' to="${Juliet's full JID}"><body>psst</body></message>

Juliet receives: nothing
"""


class RunnerTests(unittest.TestCase):
    """
    The runner's failure reports and command line, against the real server.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.server = yield startServer(CONFIG, overrides=C2S_OVERRIDES)
        self.addCleanup(self.server.stop)

    @defer.inlineCallbacks
    def test_mismatchReport(self):
        """
        A failed C{receives} names the file and line of the step, shows the
        expected stanza and every stanza discarded with why it did not match.
        """
        script = parseScript(BAD_PING, "bad_ping.scs")
        error = yield self.assertFailure(
            runScript(script, "127.0.0.1", self.server.c2sPort, timeout=1.0),
            ScriptFailure,
        )
        message = str(error)
        self.assertIn("bad_ping.scs:16: Romeo receives failed", message)
        self.assertIn("no matching stanza within 1.0s", message)
        self.assertIn("<iq type='result' id='ping2'/>", message)
        self.assertIn("received and discarded (1, none matched)", message)
        self.assertIn("id='ping1'", message)
        self.assertIn("attribute id is 'ping1', expected 'ping2'", message)

    @defer.inlineCallbacks
    def test_receivesNothingReport(self):
        script = parseScript(NOT_NOTHING, "nothing.scs")
        error = yield self.assertFailure(
            runScript(script, "127.0.0.1", self.server.c2sPort),
            ScriptFailure,
        )
        message = str(error)
        self.assertIn("nothing.scs:21: Juliet receives nothing failed", message)
        self.assertIn("<body>psst</body>", message)
        self.assertIn("runner-juliet@localhost/balcony", message)

    @defer.inlineCallbacks
    def test_commandLine(self):
        """
        C{python -m xmuc.testing.scansion} prints PASS/FAIL per script and
        exits 1 when one failed.
        """
        import sys

        bad = os.path.abspath(self.mktemp() + ".scs")
        with open(bad, "w") as f:
            f.write(BAD_PING)
        good = os.path.join(SCRIPTS, "ping.scs")
        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            [
                "-m",
                "xmuc.testing.scansion",
                "--port",
                str(self.server.c2sPort),
                "--timeout",
                "1",
                good,
                bad,
            ],
            env=dict(os.environ, PYTHONPATH=REPOSITORY),
            path=REPOSITORY,
        )
        out = out.decode("utf-8")
        self.assertEqual(code, 1, out + err.decode("utf-8"))
        self.assertIn("PASS %s" % (good,), out)
        self.assertIn("FAIL %s" % (bad,), out)
        self.assertIn(":16: Romeo receives failed", out)

        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            ["-m", "xmuc.testing.scansion", "--port", str(self.server.c2sPort), good],
            env=dict(os.environ, PYTHONPATH=REPOSITORY),
            path=REPOSITORY,
        )
        self.assertEqual(code, 0, out + err)
