"""
Stream Management (XEP-0198) and offline storage: when a session ends with
unacknowledged chat or normal messages (hibernation timed out, or a stream
closed before acknowledging), they are not bounced but handed to offline
storage, which delivers them to another available resource of the account
or keeps them for the next one, as Prosody's mod_smacks with mod_offline.
Only what storage refuses comes back to the sender.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectTestClient, errorCondition, firstChild, startTestServer
from tests.support.streammanagement import (
    NS_DELAY,
    enable,
    expectNothing,
    receiveSkippingRequests,
    sleep,
)


class UnackedMessagesTests(unittest.TestCase):
    """
    Alice hibernates (resumable stream management, connection aborted)
    for half a second; Bob writes to her meanwhile.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, {"c2s": {"resumption_timeout": "0.5"}})
        for user in ("alice", "bob"):
            yield self.running.server.accounts.register(user, "localhost", "pw")
        self.bob = yield connectTestClient(self, self.running)
        yield self.bob.login("bob", "pw", "pc")

    @defer.inlineCallbacks
    def hibernatingAlice(self):
        """
        @return: the full JID of Alice's hibernating session.
        """
        alice = yield connectTestClient(self, self.running)
        aliceJID = yield alice.login("alice", "pw", "phone")
        yield enable(alice)
        alice.send("<presence/>")
        yield receiveSkippingRequests(alice)
        alice.transport.abortConnection()
        yield alice.waitClosed()
        yield sleep(0.05)
        self.assertIsNotNone(self.running.server.router.sessions.get(aliceJID))
        return aliceJID

    @defer.inlineCallbacks
    def waitEnded(self, full, seconds=3.0):
        for _ in range(int(seconds / 0.05)):
            if self.running.server.router.sessions.get(full) is None:
                break
            yield sleep(0.05)
        self.assertIsNone(self.running.server.router.sessions.get(full))
        # Offline storage answers after an account look-up.
        yield sleep(0.1)

    @defer.inlineCallbacks
    def test_storedWhenNoOtherSession(self):
        """
        A chat and a normal message queued for the hibernating session are
        stored when it times out (no bounce); Alice's next session gets
        them, with a delay, at its initial presence.  A headline is still
        bounced (it is never stored).
        """
        aliceJID = yield self.hibernatingAlice()
        self.bob.send("<message to='%s' type='chat' id='c1'><body>first</body></message>" % (aliceJID,))
        self.bob.send("<message to='%s' id='n1'><body>second</body></message>" % (aliceJID,))
        self.bob.send("<message to='%s' type='headline' id='h1'><body>news</body></message>" % (aliceJID,))
        yield self.waitEnded(aliceJID)
        bounced = yield receiveSkippingRequests(self.bob)
        self.assertEqual((bounced.getAttribute("id"), bounced.getAttribute("type")), ("h1", "error"))
        self.assertEqual(errorCondition(bounced), "recipient-unavailable")
        yield expectNothing(self.bob, 0.2, ("message",))
        count = yield self.running.server.sm.offline.store.count("alice@localhost")
        self.assertEqual(count, 2)

        alice = yield connectTestClient(self, self.running)
        yield alice.login("alice", "pw", "laptop")
        alice.send("<presence/>")
        messages = []
        while len(messages) < 2:
            element = yield alice.receive()
            if element.name == "message":
                messages.append(element)
        self.assertEqual([str(m.body) for m in messages], ["first", "second"])
        for message in messages:
            self.assertIsNotNone(firstChild(message, NS_DELAY, "delay"))

    @defer.inlineCallbacks
    def test_deliveredToOtherAvailableSession(self):
        """
        With another available session of Alice's, the queued chat message
        goes there when the hibernating one times out: nothing is stored
        and Bob gets no error.
        """
        tablet = yield connectTestClient(self, self.running)
        yield tablet.login("alice", "pw", "tablet")
        tablet.send("<presence/>")
        yield tablet.receive()
        aliceJID = yield self.hibernatingAlice()
        self.bob.send("<message to='%s' type='chat' id='c1'><body>for the phone</body></message>" % (aliceJID,))
        yield self.waitEnded(aliceJID)
        while True:
            element = yield tablet.receive()
            if element.name == "message":
                break
        self.assertEqual((element.getAttribute("id"), str(element.body)), ("c1", "for the phone"))
        count = yield self.running.server.sm.offline.store.count("alice@localhost")
        self.assertEqual(count, 0)
        yield expectNothing(self.bob, 0.2, ("message",))

    @defer.inlineCallbacks
    def test_bouncedWhenStorageRefuses(self):
        """
        A full offline store refuses the message: then, and only then, it
        comes back to the sender (without the archive's stanza-id).
        """
        self.running.server.sm.offline.store.limit = 0
        aliceJID = yield self.hibernatingAlice()
        self.bob.send("<message to='%s' type='chat' id='c1'><body>no room</body></message>" % (aliceJID,))
        yield self.waitEnded(aliceJID)
        bounced = yield receiveSkippingRequests(self.bob)
        self.assertEqual((bounced.getAttribute("id"), bounced.getAttribute("type")), ("c1", "error"))
        self.assertIsNotNone(errorCondition(bounced))
        self.assertIsNone(firstChild(bounced, "urn:xmpp:sid:0", "stanza-id"))

    @defer.inlineCallbacks
    def test_cleanCloseWithUnackedMessage(self):
        """
        Not only hibernation: a stream closed with a message it never
        acknowledged (stream management without resumption) also hands it
        to offline storage.
        """
        alice = yield connectTestClient(self, self.running)
        aliceJID = yield alice.login("alice", "pw", "phone")
        yield enable(alice, resume=False)
        alice.send("<presence/>")
        yield receiveSkippingRequests(alice)
        self.bob.send("<message to='%s' type='chat' id='c1'><body>unacked</body></message>" % (aliceJID,))
        element = yield receiveSkippingRequests(alice)
        self.assertEqual(element.getAttribute("id"), "c1")
        alice.transport.abortConnection()
        yield self.waitEnded(aliceJID)
        count = yield self.running.server.sm.offline.store.count("alice@localhost")
        self.assertEqual(count, 1)
        yield expectNothing(self.bob, 0.2, ("message",))

    @defer.inlineCallbacks
    def test_archivedMessageDroppedAfterArchiveQuery(self):
        """
        A session that read its archive gets the message from there: an
        unacknowledged message carrying the archive's stanza-id is neither
        stored nor bounced (Prosody's mam_requested).
        """
        alice = yield connectTestClient(self, self.running)
        aliceJID = yield alice.login("alice", "pw", "phone")
        yield enable(alice)
        alice.send("<presence/>")
        yield receiveSkippingRequests(alice)
        reply = yield alice.iq("<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2'/></iq>")
        self.assertEqual(reply.getAttribute("type"), "result")
        alice.transport.abortConnection()
        yield alice.waitClosed()
        yield sleep(0.05)
        self.bob.send("<message to='%s' type='chat' id='c1'><body>archived</body></message>" % (aliceJID,))
        yield self.waitEnded(aliceJID)
        count = yield self.running.server.sm.offline.store.count("alice@localhost")
        self.assertEqual(count, 0)
        yield expectNothing(self.bob, 0.2, ("message",))
