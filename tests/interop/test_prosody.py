"""
Our scansion scripts played against a real Prosody, the reference the
hidden scripts come from.

A script of C{tests/scripts/} or of the seeds that fails here encodes
behaviour Prosody does not have (or a script bug).  Where Prosody is not
installed every test here skips, unless C{XMUC_REQUIRE_PROSODY=1} (CI):
then they fail.  Run with
C{pytest tests/interop/test_prosody.py}; set C{XMUC_PROSODY_KEEP=1} to keep
Prosody's directory (config and debug log) under C{_trial_temp/}.

Scripts known to differ on purpose are listed in L{PROSODY_DIFFERENCES}.
"""

import os
import re

from twisted.internet import defer
from twisted.trial import unittest

from tests.interop.prosody import ProsodyServer, prosodyVersion, requireProsody
from xmuc.testing.scansion import RECEIVES, ScriptFailure, loadScript, parseScript, runScript

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPOSITORY, "tests", "scripts")
SEEDS = os.path.normpath(os.path.join(REPOSITORY, os.pardir, "shared", "seeds"))

#: Script file name -> why it does not pass against Prosody.
PROSODY_DIFFERENCES = {
    "muc_register_deleted_account.scs": "Prosody 0.12's MUC keeps the "
    "affiliations of deleted accounts (tombstones came later; the seeds ask for it)",
    "muc_invitation_rules.scs": "Prosody 0.12 lets a non-occupant invite (forbidden "
    "only where it would be a visitor, and the invitation carries the password), "
    "relays any decline to whatever JID it names, and lets an invitation to a "
    "members-only room turn an outcast into a member",
}

#: Script file name -> why it cannot be judged against Prosody 0.12.
PROSODY_SKIPS = {
    "muc_config.scs": "Prosody 0.12 orders the status codes of a configuration "
    "change (104, 172) in Lua table order, which changes from one process to "
    "the next: the script passes or fails at random against it",
    "muc_moderation.scs": "Prosody 0.12 has no XEP-0425 (message moderation "
    "is mod_muc_moderation of prosody-modules, not installed)",
}

#: The seeds come from a newer Prosody than Debian's 0.12 (the only one we
#: can install): there, stanza errors carry the legacy C{code} and join
#: errors echo the C{<x xmlns='http://jabber.org/protocol/muc'/>} of the
#: request.  0.12 does neither; these two details are removed from expected
#: stanzas before a script runs against it (xmuc follows the seeds).
_LEGACY_CODE = re.compile(r"""(<error\b[^>]*?)\s+code=(['"])\d+\2""")
_MUC_X_ECHO = re.compile(
    r"""<x\s+xmlns=(['"])http://jabber\.org/protocol/muc\1\s*/>"""
)


def forProsody012(script):
    """
    Adapt the expected stanzas of C{script} to Prosody 0.12 (see
    L{_LEGACY_CODE}, L{_MUC_X_ECHO}).

    @param script: a parsed script, changed in place.
    @return: C{script}.
    """
    for action in script.actions:
        if action.kind == RECEIVES:
            text = _LEGACY_CODE.sub(r"\1", action.xml_text)
            if re.search(r"""type=(['"])error\1""", text):
                text = _MUC_X_ECHO.sub("", text)
            action.xml_text = text
    return script


def _scriptFiles(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if name.endswith(".scs")
    )


class ProsodyScriptTests(unittest.TestCase):
    """
    One test per script (C{test_script_<name>}, C{test_seed_<name>}), each
    against a fresh Prosody.
    """

    timeout = 120

    def setUp(self):
        requireProsody()

    @defer.inlineCallbacks
    def runScriptFile(self, path):
        """
        Start Prosody, play the script at C{path}, stop Prosody.
        """
        directory = None
        if os.environ.get("XMUC_PROSODY_KEEP") == "1":
            directory = os.path.abspath(self.mktemp())
        server = ProsodyServer(directory)
        yield server.start()
        self.addCleanup(server.stop)
        yield runScript(forProsody012(loadScript(path)), "127.0.0.1", server.c2sPort)


def _makeTest(path):
    def test(self):
        return self.runScriptFile(path)

    name = os.path.basename(path)
    test.__doc__ = "Scansion script %s against Prosody" % (path,)
    if name in PROSODY_SKIPS:
        test.skip = PROSODY_SKIPS[name]
    if name in PROSODY_DIFFERENCES:
        test.todo = (ScriptFailure, PROSODY_DIFFERENCES[name])
    return test


def _addScriptTests(cls):
    for prefix, folder in (("script", SCRIPTS), ("seed", SEEDS)):
        for path in _scriptFiles(folder):
            stem = os.path.splitext(os.path.basename(path))[0]
            setattr(
                cls, "test_%s_%s" % (prefix, re.sub(r"\W", "_", stem)), _makeTest(path)
            )


_addScriptTests(ProsodyScriptTests)


class ProsodyHarnessTests(unittest.TestCase):
    """
    The harness itself: Prosody starts, answers a ping, stops.
    """

    timeout = 60

    def setUp(self):
        requireProsody()

    def test_version(self):
        """
        The installed Prosody reports a version.
        """
        self.assertIn("prosody", (prosodyVersion() or "").lower())

    @defer.inlineCallbacks
    def test_startPingStop(self):
        """
        A started Prosody answers a ping from a test client and its process
        ends on L{ProsodyServer.stop}, removing its directory.
        """
        server = ProsodyServer()
        yield server.start()
        try:
            script = parseScript(
                "# ping\n[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: x\n"
                "-----\nRomeo connects\nRomeo sends:\n"
                "\t<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>\n"
                "Romeo receives:\n\t<iq type='result' id='p1' from='localhost'/>\n",
                "ping.scs",
            )
            yield runScript(script, "127.0.0.1", server.c2sPort)
        finally:
            yield server.stop()
        self.assertFalse(os.path.exists(server.directory))
