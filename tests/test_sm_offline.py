"""
Tests for offline messages (L{xmuc.session.offline}, as Prosody's mod_offline):
through the real L{SessionManager} with memory storage, and over real
client streams across a server restart on SQLite.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.xmpp import ns
from xmuc.xmpp.datetime import parseStamp
from xmuc.xmpp.ns import CARBONS, MAM

from helpers_client import connectTestClient, startTestServer
from test_sm import errorCondition
from test_sm_support import SMHarness

INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}


def delayOf(message):
    """
    @return: the C{<delay/>} (XEP-0203) of C{message}, or L{None}.
    """
    for child in message.elements():
        if (child.uri, child.name) == (ns.DELAY, "delay"):
            return child
    return None


def stanzaIDs(message):
    return [
        (e.getAttribute("by"), e.getAttribute("id"))
        for e in message.elements()
        if (e.uri, e.name) == (ns.STANZA_ID, "stanza-id")
    ]


class OfflineTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.h.sm.offline.now = lambda: 1700000000.75
        self.romeo = self.h.connect("romeo@localhost", "phone")
        self.h.createAccount("juliet@localhost")

    def stored(self, bare="juliet@localhost"):
        return self.h.successResultOf(self.h.storage.offline.count(bare))

    def chat(self, body, to="juliet@localhost", type="chat", extra=""):
        typeAttribute = "" if type is None else " type='%s'" % (type,)
        self.h.send(
            self.romeo,
            "<message to='%s' id='m-%s'%s><body>%s</body>%s</message>" % (to, body, typeAttribute, body, extra),
        )

    def test_storedInsteadOfBounced(self):
        """
        Chat and normal messages (with a type or without) to an existing
        account with no session are stored, not bounced.
        """
        self.chat("one")
        self.chat("two", type="normal")
        self.chat("three", type=None)
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.stored(), 3)

    def test_toOfflineFullJID(self):
        """
        A chat to a full JID that has no session is stored as well
        (Prosody: the bare JID's rules apply), keeping its 'to'.
        """
        self.chat("one", to="juliet@localhost/balcony")
        self.assertEqual(self.romeo.take("message"), [])
        juliet = self.h.connect("juliet@localhost", "garden", create=False, roster=False, available=False)
        self.h.send(juliet, "<presence/>")
        (message,) = juliet.take("message")
        self.assertEqual(message["to"], "juliet@localhost/balcony")

    def test_payloadWithoutBodyStored(self):
        """
        As Prosody's mod_offline, any chat or normal message is stored,
        whatever its payload (an invitation, a chat state...).
        """
        self.h.send(
            self.romeo,
            "<message to='juliet@localhost'><x xmlns='jabber:x:conference' jid='room@conference.localhost'/></message>",
        )
        self.h.send(
            self.romeo,
            "<message to='juliet@localhost' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        )
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.stored(), 2)

    def test_deliveredAtInitialPresence(self):
        """
        Initial presence (priority 0) brings the stored messages, oldest
        first, each with a delay from the server and the time it was
        stored; they are gone from storage afterwards, and come only once.
        """
        for body in ["one", "two", "three"]:
            self.chat(body)
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.assertEqual(juliet.take("message"), [])
        self.h.send(juliet, "<presence/>")
        messages = juliet.take("message")
        self.assertEqual([str(m.body) for m in messages], ["one", "two", "three"])
        for message in messages:
            self.assertEqual(message["from"], "romeo@localhost/phone")
            self.assertEqual(message["type"], "chat")
            delay = delayOf(message)
            self.assertEqual(delay["from"], "localhost")
            self.assertEqual(delay["stamp"], "2023-11-14T22:13:20Z")
            self.assertEqual(parseStamp(delay["stamp"]), 1700000000.0)
        self.assertEqual(self.stored(), 0)
        # Presence updates and another session's initial presence bring
        # nothing more.
        self.h.send(juliet, "<presence><show>away</show></presence>")
        other = self.h.connect("juliet@localhost", "garden", create=False)
        self.assertEqual(juliet.take("message"), [])
        self.assertEqual(other.take("message"), [])

    def test_deliveredAfterInitialPresenceBroadcast(self):
        """
        As Prosody, the messages come after what initial presence sends
        the session (here, its own presence reflected).
        """
        self.chat("one")
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.send(juliet, "<presence/>")
        names = [(s.name, s.getAttribute("type")) for s in juliet.take()]
        self.assertEqual(names, [("presence", None), ("message", "chat")])

    def test_negativePriorityDoesNotTrigger(self):
        """
        Initial presence with a negative priority leaves the messages
        stored (and later messages are stored too); the next initial
        presence of priority 0 or more gets them.
        """
        self.chat("one")
        bot = self.h.connect("juliet@localhost", "bot", create=False, priority=-1)
        self.chat("two")
        self.assertEqual(bot.take("message"), [])
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.stored(), 2)
        self.h.send(bot, "<presence><priority>5</priority></presence>")
        self.assertEqual(bot.take("message"), [])
        self.assertEqual(self.stored(), 2)
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.send(juliet, "<presence><priority>0</priority></presence>")
        self.assertEqual([str(m.body) for m in juliet.take("message")], ["one", "two"])
        self.assertEqual(bot.take("message"), [])

    def test_notStored(self):
        """
        Groupchat is bounced, headline and error are dropped; none is
        stored.
        """
        self.chat("g", type="groupchat")
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "service-unavailable")
        self.chat("h", type="headline")
        self.h.send(
            self.romeo,
            "<message to='juliet@localhost' type='error'><error type='cancel'>"
            "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        )
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.stored(), 0)

    def test_fullStoreBounces(self):
        """
        Once the user has C{limit} messages waiting, the next ones bounce
        (service-unavailable), without an archive id.
        """
        self.h.storage.offline.limit = 2
        for body in ["one", "two", "three"]:
            self.chat(body)
        (error,) = self.romeo.take("message")
        self.assertEqual(error["type"], "error")
        self.assertEqual(error["id"], "m-three")
        self.assertEqual(errorCondition(error), "service-unavailable")
        self.assertEqual(stanzaIDs(error), [])
        self.assertEqual(self.stored(), 2)

    def test_unknownUserBounces(self):
        self.chat("one", to="nobody@localhost")
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "service-unavailable")
        self.assertEqual(stanzaIDs(error), [])
        self.assertEqual(self.stored("nobody@localhost"), 0)

    def test_deletedUserBounces(self):
        self.h.successResultOf(self.h.storage.accounts.delete("juliet@localhost"))
        self.h.successResultOf(self.h.storage.tombstones.add("juliet@localhost", "account"))
        self.chat("one")
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "service-unavailable")
        self.assertEqual(self.stored(), 0)

    def test_archivedOnceWhenStored(self):
        """
        The recipient's archive gets a stored message once, when stored;
        the stored copy, delivered later, carries the same stanza-id.
        """
        self.chat("one")
        archived = self.h.successResultOf(self.h.storage.archive.recent("juliet@localhost", 10))
        self.assertEqual([row["nick"] for row in archived], ["romeo@localhost"])
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.send(juliet, "<presence/>")
        (message,) = juliet.take("message")
        self.assertEqual(stanzaIDs(message), [("juliet@localhost", archived[0]["stanza_id"])])
        again = self.h.successResultOf(self.h.storage.archive.recent("juliet@localhost", 10))
        self.assertEqual(len(again), 1)

    def test_archiveQueriedFirstLeavesThemStored(self):
        """
        As Prosody's mod_mam: a session that queried its archive before its
        initial presence gets no offline messages; they stay stored.
        """
        self.chat("one")
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.send(juliet, "<iq type='set' id='q'><query xmlns='%s'/></iq>" % (MAM,))
        juliet.take()
        self.h.send(juliet, "<presence/>")
        self.assertEqual(juliet.take("message"), [])
        self.assertEqual(self.stored(), 1)

    def test_noCarbons(self):
        """
        Storing makes no carbon copy (to a bound, unavailable, carbons
        session), nor does the delivery from storage to the other
        sessions.
        """
        hidden = self.h.connect("juliet@localhost", "hidden", create=False, available=False)
        self.h.send(hidden, "<iq type='set' id='c'><enable xmlns='%s'/></iq>" % (CARBONS,))
        hidden.take()
        self.chat("one")
        self.assertEqual(hidden.take(), [])
        self.assertEqual(self.stored(), 1)
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.send(juliet, "<presence/>")
        self.assertEqual(len(juliet.take("message")), 1)
        self.assertEqual(hidden.take("message"), [])

    def test_sessionGoneBeforeDeliveryKeepsThem(self):
        """
        When the session leaves before the stored messages were read, they
        stay stored.
        """
        self.chat("one")
        juliet = self.h.connect("juliet@localhost", "balcony", create=False, available=False)
        self.h.sm.offline.initialPresence = lambda session, bare: None
        self.h.send(juliet, "<presence/>")
        self.h.sm.unbind(juliet)
        del self.h.sm.offline.initialPresence
        self.h.sm.offline.flush(juliet, "juliet@localhost")
        self.assertEqual(juliet.take("message"), [])
        self.assertEqual(self.stored(), 1)

    def test_accountDeletionPurges(self):
        """
        Deleting an account (L{AccountManager.delete}) deletes its offline
        messages and its PEP data, nobody else's.
        """
        from xmuc.accounts.manager import AccountManager

        class Auth:
            def deleteAccount(self, bare):
                return defer.succeed(True)

        self.chat("one")
        self.chat("one", to="romeo@localhost/gone")
        pep = self.h.storage.pep
        for owner in ["juliet@localhost", "romeo@localhost"]:
            self.h.successResultOf(pep.setNode(owner, "urn:xmpp:avatar:metadata", {}))
            self.h.successResultOf(pep.publish(owner, "urn:xmpp:avatar:metadata", "a", "<x/>", 1.0))
        self.h.auth = Auth()
        self.h.successResultOf(AccountManager(self.h).delete("juliet@localhost"))
        self.assertEqual(self.stored(), 0)
        self.assertEqual(self.h.successResultOf(pep.listNodes("juliet@localhost")), [])
        self.assertEqual(self.h.successResultOf(pep.items("juliet@localhost", "urn:xmpp:avatar:metadata")), [])
        self.assertEqual(len(self.h.successResultOf(pep.listNodes("romeo@localhost"))), 1)

    def test_advertised(self):
        """
        The server's disco#info has C{msgoffline}, as Prosody's.
        """
        self.h.send(self.romeo, "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,))
        (reply,) = self.romeo.take()
        features = {e["var"] for e in reply.query.elements() if e.name == "feature"}
        self.assertIn("msgoffline", features)


class WireTests(unittest.TestCase):
    """
    Real streams and SQLite storage, across a server restart.
    """

    @defer.inlineCallbacks
    def login(self, running, user, resource="r", presence=True):
        client = yield connectTestClient(self, running)
        yield client.login(user, "pw", resource)
        if presence:
            client.send("<presence/>")
            yield client.receiveStanza()
        return client

    @defer.inlineCallbacks
    def test_storedAcrossRestart(self):
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        overrides = dict(INSECURE, storage={"backend": "sqlite", "path": os.path.join(path, "xmuc.sqlite")})
        running = yield startTestServer(self, overrides, tls=False)
        # The account exists once it logged in (insecure auth).
        juliet = yield self.login(running, "juliet")
        yield juliet.close()
        romeo = yield self.login(running, "romeo")
        # Wait until juliet's session is gone.
        for _ in range(100):
            if not running.server.sm.isOnline("juliet@localhost"):
                break
            yield deferLater(0.02)
        romeo.send("<message to='juliet@localhost' id='m1' type='chat'><body>wherefore art thou</body></message>")
        # Stored (the account is looked up, then the message written).
        for _ in range(250):
            count = yield running.server.storage.offline.count("juliet@localhost")
            if count:
                break
            yield deferLater(0.02)
        self.assertEqual(count, 1)
        # No bounce came back.
        yield romeo.iq("<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertFalse(romeo._queue.pending)
        yield running.stop()

        running = yield startTestServer(self, overrides, tls=False)
        juliet = yield self.login(running, "juliet", "again", presence=False)
        juliet.send("<presence/>")
        while True:
            element = yield juliet.receiveStanza()
            if element.name == "message":
                break
        self.assertEqual(str(element.body), "wherefore art thou")
        self.assertEqual(element["from"], "romeo@localhost/r")
        delay = delayOf(element)
        self.assertEqual(delay["from"], "localhost")
        self.assertIsNotNone(parseStamp(delay["stamp"]))
        count = yield running.server.storage.offline.count("juliet@localhost")
        self.assertEqual(count, 0)


def deferLater(seconds):
    from twisted.internet import reactor, task

    return task.deferLater(reactor, seconds, lambda: None)
