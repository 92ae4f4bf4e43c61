"""
xmuc's MUC as an external component (XEP-0114) behind real host servers:
Debian's Prosody 0.12 and ejabberd 23.01.  Clients log in to the host;
the MUC at C{conference.localhost} is xmuc, connected to the host's
component port (L{tests.interop.componenthosts}).

 - The seed scripts and the project's MUC scripts are played through the
   host: one host serves every script of a class, each script gets a
   fresh xmuc component.
 - The host crashed and restarted while a room is busy: the link comes
   back, the room carries on, the occupants the crash disconnected are
   found gone and removed, nothing is logged as a failure.
 - A secret the host refuses: retried with backoff, logged once.

Where a host is not installed its tests skip, unless
C{XMUC_REQUIRE_PROSODY=1} / C{XMUC_REQUIRE_EJABBERD=1} (CI): then they
fail.  C{XMUC_KEEP_HOSTS=1} keeps the hosts' directories (configuration,
logs) in the temporary directory.
"""

import os
import re

from twisted.internet import defer
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial import unittest

from tests.interop.componenthosts import DOMAIN, MUC_DOMAIN, EjabberdHost, ProsodyHost, startComponent
from tests.interop.ejabberd import requireEjabberd
from tests.interop.prosody import requireProsody
from tests.support.scansion import SCRIPTS, SEEDS
from xmuc.muc.linkcheck import lastCheck
from xmuc.testing.scansion import (
    ClientSpec,
    ScansionClient,
    ScriptFailure,
    loadScript,
    parseStanza,
    runScript,
)

#: Script file name -> why it fails behind any host: what the in-process
#: MUC learns from its own server that a component cannot.
COMPONENT_DIFFERENCES = {
    "muc_register_deleted_account.scs": "a component is not told that an account of its "
    "host was deleted: rooms keep its affiliation and nickname (no tombstone)",
}

#: Script file name -> why it fails behind ejabberd (the host's doing).
EJABBERD_DIFFERENCES = {
    "prosody2_nickname_robotface.scs": "ejabberd 23.01 refuses the nickname itself "
    "(its JID check rejects the emoji resource with bad-request) before the room sees it",
    "muc_presence_payload.scs": "ejabberd 23.01's mod_vcard_xupdate adds an empty "
    "<x xmlns='vcard-temp:x:update'/> for a user without avatar, where Prosody (and the "
    "script) has <photo/> in it",
}


def _scripts():
    found = []
    for prefix, folder, pattern in (
        ("seed", SEEDS, r".*\.scs$"),
        ("script", SCRIPTS, r"^(muc_|prosody2_).*\.scs$"),
    ):
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if re.match(pattern, name):
                    found.append((prefix, os.path.join(folder, name)))
    return found


class _BehindHost:
    """
    The scripts through one host (C{hostClass}), shared by the tests of
    the class and started by the first.
    """

    timeout = 120
    hostClass = None
    differences = {}
    _host = None

    def requireHost(self):
        raise NotImplementedError()

    @defer.inlineCallbacks
    def setUp(self):
        self.requireHost()
        cls = type(self)
        if cls._host is None or cls._host.process is None:
            host = self.hostClass()
            yield host.start()
            cls._host = host
        self.host = cls._host

    @defer.inlineCallbacks
    def runScriptFile(self, path):
        yield startComponent(self, self.host)
        yield runScript(loadScript(path), "127.0.0.1", self.host.c2sPort, domain=DOMAIN)


def _addScriptTests(cls):
    for prefix, path in _scripts():
        name = os.path.basename(path)
        stem = os.path.splitext(name)[0]

        def test(self, path=path):
            return self.runScriptFile(path)

        test.__doc__ = "Scansion script %s through %s" % (name, cls.hostClass.name)
        reason = COMPONENT_DIFFERENCES.get(name) or cls.differences.get(name)
        if reason:
            test.todo = (ScriptFailure, reason)
        setattr(cls, "test_%s_%s" % (prefix, re.sub(r"\W", "_", stem)), test)
    return cls


@_addScriptTests
class ScriptsBehindProsody(_BehindHost, unittest.TestCase):
    hostClass = ProsodyHost

    def requireHost(self):
        requireProsody()


@_addScriptTests
class ScriptsBehindEjabberd(_BehindHost, unittest.TestCase):
    hostClass = EjabberdHost
    differences = EJABBERD_DIFFERENCES

    def requireHost(self):
        requireEjabberd()


ROOM = "busy@" + MUC_DOMAIN


class _LinkToHost:
    """
    The link to a host of the test's own: the host crashing while a room
    is busy, a secret the host refuses.
    """

    timeout = 120
    hostClass = None

    def requireHost(self):
        raise NotImplementedError()

    @defer.inlineCallbacks
    def setUp(self):
        self.requireHost()
        self.host = self.hostClass()
        self.addCleanup(self.host.stopNow)
        yield self.host.start()
        self.failures = []

        def observe(event):
            if event.get("log_failure") is not None or event.get("isError"):
                self.failures.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)

    @defer.inlineCallbacks
    def client(self, name):
        client = ScansionClient(ClientSpec(name=name, jid="%s@%s" % (name, DOMAIN), password="pw"))
        yield client.connect("127.0.0.1", self.host.c2sPort, DOMAIN)
        self.addCleanup(client.disconnect)
        return client

    @defer.inlineCallbacks
    def join(self, client, nick):
        client.send(parseStanza(
            "<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>" % (ROOM, nick)))
        yield client.receive(parseStanza("<presence from='%s/%s'/>" % (ROOM, nick)))

    @defer.inlineCallbacks
    def test_restart(self):
        """
        Two occupants talk in a persistent room; the host crashes and
        restarts, which ends their sessions without the room hearing it.  Once the link is
        back, both sessions are found gone and removed; a newcomer joins
        the same room, sees nobody else in it and gets its history; the
        first occupant joins again under its nickname.
        """
        server = yield startComponent(self, self.host, muc={"lock_new_rooms": "false"},
                                      component={"ping_timeout": "10"})
        alice = yield self.client("alice")
        bob = yield self.client("bob")
        yield self.join(alice, "alice")
        alice.send(parseStanza(
            "<iq type='set' id='cfg' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>"
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
            "<field var='muc#roomconfig_persistentroom'><value>1</value></field>"
            "</x></query></iq>" % (ROOM,)))
        yield alice.receive(parseStanza("<iq type='result' id='cfg'/>"))
        yield self.join(bob, "bob")
        alice.send(parseStanza("<message type='groupchat' to='%s'><body>before</body></message>" % (ROOM,)))
        yield bob.receive(parseStanza(
            "<message type='groupchat' from='%s/alice'><body>before</body></message>" % (ROOM,)))
        room = server.muc.rooms[ROOM]
        before = set(room.occupantsByJID)
        self.assertEqual(len(before), 2)

        down = server.link.whenDown()
        # Killed: a host stopping cleanly sends the occupants' unavailable
        # presence to the room before it goes; this one cannot.
        yield self.host.restart(crash=True)
        yield down
        yield server.link.whenUp()
        removed = yield lastCheck(server.muc)
        self.assertEqual(set(removed), before)
        self.assertIs(server.muc.rooms[ROOM], room)
        self.assertEqual(room.occupants, {})

        carol = yield self.client("carol")
        yield self.join(carol, "carol")
        presences = [s for s in carol.queue if s.name == "presence"]
        self.assertEqual(presences, [], "no ghost presence before the newcomer's own")
        yield carol.receive(parseStanza(
            "<message type='groupchat' from='%s/alice'><body>before</body></message>" % (ROOM,)))
        alice = yield self.client("alice")
        yield self.join(alice, "alice")
        self.assertEqual(sorted(o.nick for o in room.occupants.values()), ["alice", "carol"])
        self.assertEqual(self.failures, [])


    @defer.inlineCallbacks
    def test_wrongSecret(self):
        """
        A host refusing the secret: the component keeps trying with
        backoff, says so once at warn level (the next refusals at debug),
        and nothing fails.
        """
        from twisted.internet import reactor, task

        from xmuc.componentserver import ComponentServer
        from xmuc.config import loadConfig
        from tests.interop.componenthosts import componentConfig

        warnings = []

        def observe(event):
            if (event.get("log_namespace") == "xmuc.component.connect"
                    and event.get("log_level") >= LogLevel.warn):
                warnings.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        server = ComponentServer(loadConfig(componentConfig(
            self, self.host, component={"secret": "not-the-secret", "reconnect_delay": "0.05",
                                        "max_reconnect_delay": "0.1"})))
        server.startService()
        self.addCleanup(server.stopService)
        while server.link.failures < 3:
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertIsNone(server.link.xmlstream)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("not-authorized", warnings[0]["reason"])
        self.assertEqual(self.failures, [])


class LinkToProsody(_LinkToHost, unittest.TestCase):
    hostClass = ProsodyHost

    def requireHost(self):
        requireProsody()


class LinkToEjabberd(_LinkToHost, unittest.TestCase):
    hostClass = EjabberdHost

    def requireHost(self):
        requireEjabberd()
