"""
Stream Management (XEP-0198) on real client streams: enabling, counting,
acknowledgements, hibernation and resumption.
"""

from twisted.internet import defer, reactor
from twisted.trial import unittest

from tests.support.client import (
    NS_BIND,
    NS_STREAMS,
    connectTestClient,
    errorCondition,
    firstChild,
    mechanisms,
    startTestServer,
)
from tests.support.streammanagement import (
    NS_DELAY,
    NS_SM,
    ROOM,
    SERVICE,
    authenticateOnly,
    enable,
    expectNothing,
    handledCount,
    isSM,
    joinRoom,
    receiveSkippingRequests,
    sleep,
    streamError,
)


class _ServerMixin:
    """
    A server with MUC, Alice and Bob registered.
    """

    overrides = {}

    @defer.inlineCallbacks
    def setUp(self):
        overrides = {
            "c2s": {"resumption_timeout": "30", "max_unacked": "4"},
            "muc": {"enabled": "true", "domain": SERVICE, "lock_new_rooms": "false"},
        }
        for section, values in self.overrides.items():
            overrides.setdefault(section, {}).update(values)
        self.running = yield startTestServer(self, overrides)
        for user in ("alice", "bob"):
            yield self.running.server.accounts.register(user, "localhost", "pw")

    def connect(self):
        return connectTestClient(self, self.running)

    def session(self, full):
        return self.running.server.router.sessions.get(full)

    @defer.inlineCallbacks
    def waitGone(self, full, seconds=1.0):
        """
        Fail unless the session of C{full} ends within C{seconds} (the
        server notices a closed connection in its own reactor turn).
        """
        for _ in range(int(seconds / 0.02)):
            if self.session(full) is None:
                return
            yield sleep(0.02)
        self.assertIsNone(self.session(full))


class StreamManagementTests(_ServerMixin, unittest.TestCase):
    """
    Enabling, counting and acknowledging.
    """

    @defer.inlineCallbacks
    def test_advertisedOnlyAfterAuthentication(self):
        """
        The C{<sm/>} feature comes with the features after SASL, not
        before.
        """
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIsNone(firstChild(features, NS_SM, "sm"))
        features = yield client.startTLS()
        self.assertIsNone(firstChild(features, NS_SM, "sm"))
        self.assertIn("PLAIN", mechanisms(features))
        features = yield client.authenticate("alice", "pw", "PLAIN")
        self.assertIsNotNone(firstChild(features, NS_SM, "sm"))
        self.assertIsNotNone(firstChild(features, NS_BIND, "bind"))

    @defer.inlineCallbacks
    def test_enableBeforeBindRefused(self):
        """
        C{<enable/>} before binding gets C{<failed><unexpected-request/>}
        and the stream goes on: binding and enabling then work.
        """
        client = yield self.connect()
        yield authenticateOnly(client, "alice")
        client.send("<enable xmlns='%s' resume='true'/>" % (NS_SM,))
        answer = yield client.receive()
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="unexpected-request"))
        yield client.bind("phone")
        enabled, _ = yield enable(client)
        self.assertEqual(enabled.getAttribute("resume"), "true")

    @defer.inlineCallbacks
    def test_smBeforeAuthenticationRefused(self):
        """
        Stream management elements before authentication are refused like
        any other element there (C{not-authorized}).
        """
        client = yield self.connect()
        yield client.openStream()
        yield client.startTLS()
        client.send("<enable xmlns='%s'/>" % (NS_SM,))
        condition = yield streamError(client)
        self.assertEqual(condition, "not-authorized")

    @defer.inlineCallbacks
    def test_enable(self):
        """
        C{<enable resume='true'/>} after binding: C{<enabled/>} with an id,
        C{resume='true'} and the configured C{max}; enabling again fails.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client)
        self.assertTrue(enabled.getAttribute("id"))
        self.assertEqual(enabled.getAttribute("resume"), "true")
        self.assertEqual(enabled.getAttribute("max"), "30")
        client.send("<enable xmlns='%s'/>" % (NS_SM,))
        answer = yield receiveSkippingRequests(client)
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="unexpected-request"))

    @defer.inlineCallbacks
    def test_enableWithoutResumption(self):
        """
        Without C{resume}, C{<enabled/>} carries no id.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client, resume=False)
        self.assertIsNone(enabled.getAttribute("id"))
        self.assertIsNone(enabled.getAttribute("resume"))

    @defer.inlineCallbacks
    def test_countsStanzasAfterEnableOnly(self):
        """
        The server's C{h} counts the stanzas received after C{<enable/>}:
        the session iq and pings before it do not count.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        yield client.iq("<iq type='get' id='p0'><ping xmlns='urn:xmpp:ping'/></iq>")
        client.send("<r xmlns='%s'/>" % (NS_SM,))
        yield enable(client)
        client.send("<r xmlns='%s'/>" % (NS_SM,))
        ack = yield receiveSkippingRequests(client)
        self.assertTrue(isSM(ack, "a"), ack.toXml())
        self.assertEqual(ack.getAttribute("h"), "0")
        client.send("<presence/>")
        client.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        client.send("<message to='bob@localhost' type='chat'><body>x</body></message>")
        client.send("<r xmlns='%s'/>" % (NS_SM,))
        while True:
            ack = yield receiveSkippingRequests(client)
            if isSM(ack, "a"):
                break
        self.assertEqual(ack.getAttribute("h"), "3")

    @defer.inlineCallbacks
    def test_serverRequestsAcks(self):
        """
        After sending stanzas the server sends C{<r/>}; C{<a h/>} empties
        its queue of unacknowledged stanzas.
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        _, since = yield enable(client)
        client.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        result = yield client.receive()
        self.assertEqual(result.getAttribute("id"), "p1")
        request = yield client.receive()
        self.assertTrue(isSM(request, "r"), request.toXml())
        smState = self.session(jid).streamManagement
        self.assertEqual(len(smState.queue), 1)
        client.send("<a xmlns='%s' h='%d'/>" % (NS_SM, handledCount(client, since)))
        yield client.iq("<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>")
        # p1 was acknowledged, p2's result was not yet.
        self.assertEqual(len(smState.queue), 1)
        self.assertEqual(smState.acked, 1)

    @defer.inlineCallbacks
    def test_ackTooHigh(self):
        """
        Acknowledging more stanzas than were sent is an
        C{undefined-condition} stream error.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        yield enable(client)
        yield client.iq("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        client.send("<a xmlns='%s' h='2'/>" % (NS_SM,))
        condition = yield streamError(client)
        self.assertEqual(condition, "undefined-condition")

    @defer.inlineCallbacks
    def test_tooManyUnacked(self):
        """
        A client that never acknowledges: the fifth unacknowledged stanza
        (C{max_unacked = 4}) closes the stream with C{resource-constraint},
        and the session ends at once (no hibernation).
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        yield enable(client)
        for number in range(5):
            client.send("<iq type='get' id='p%d'><ping xmlns='urn:xmpp:ping'/></iq>" % (number,))
        while True:
            element = yield client.receive()
            if element.uri == NS_STREAMS and element.name == "error":
                break
        self.assertEqual(errorCondition(element), "resource-constraint")
        yield client.waitClosed()
        yield self.waitGone(jid)
        self.assertFalse(self.running.server.sm.isOnline("alice@localhost"))

    @defer.inlineCallbacks
    def test_cleanCloseEndsSession(self):
        """
        C{</stream:stream>} ends a resumable session immediately: it is not
        kept for resumption.
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client)
        yield client.close()
        yield self.waitGone(jid)
        other = yield self.connect()
        yield authenticateOnly(other, "alice")
        other.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, enabled.getAttribute("id")))
        answer = yield other.receive()
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="item-not-found"))

    @defer.inlineCallbacks
    def test_resumeAfterBindRefused(self):
        """
        C{<resume/>} on a bound stream fails with C{unexpected-request}.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        client.send("<resume xmlns='%s' previd='x' h='0'/>" % (NS_SM,))
        answer = yield client.receive()
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="unexpected-request"))


class ResumptionTests(_ServerMixin, unittest.TestCase):
    """
    Hibernation and resumption.
    """

    overrides = {"c2s": {"max_unacked": "50"}}

    @defer.inlineCallbacks
    def occupants(self):
        """
        Alice (resumable stream management) and Bob in L{ROOM}.

        @return: C{(alice, aliceJID, enabled, since, bob)}.
        """
        alice = yield self.connect()
        aliceJID = yield alice.login("alice", "pw", "phone")
        enabled, since = yield enable(alice)
        yield joinRoom(alice, "Alice")
        bob = yield self.connect()
        yield bob.login("bob", "pw", "pc")
        yield joinRoom(bob, "Bob")
        # Alice sees Bob arrive.
        arrival = yield receiveSkippingRequests(alice)
        self.assertEqual(arrival.getAttribute("from"), ROOM + "/Bob")
        return alice, aliceJID, enabled, since, bob

    @defer.inlineCallbacks
    def resume(self, previd, h, user="alice"):
        """
        A new connection resuming C{previd}.

        @return: C{(client, answer)}.
        """
        client = yield self.connect()
        yield authenticateOnly(client, user)
        client.send("<resume xmlns='%s' previd='%s' h='%d'/>" % (NS_SM, previd, h))
        answer = yield client.receive()
        return client, answer

    @defer.inlineCallbacks
    def test_resumeKeepsRoomAndDeliversQueued(self):
        """
        Alice's connection drops: the room does not see her leave, what
        is sent to her meanwhile is delivered (with a delay stamp) after
        C{<resume/>} on a new connection, which goes on with the same JID.
        """
        alice, aliceJID, enabled, since, bob = yield self.occupants()
        h = handledCount(alice, since)
        alice.transport.abortConnection()
        yield alice.waitClosed()
        yield sleep(0.1)
        self.assertIsNotNone(self.session(aliceJID))
        self.assertTrue(self.session(aliceJID).streamManagement.hibernating)
        bob.send("<message to='%s' type='groupchat'><body>while away</body></message>" % (ROOM,))
        bob.send("<message to='%s' type='chat' id='c1'><body>private</body></message>" % (aliceJID,))
        echo = yield bob.receive()
        self.assertEqual(str(echo.body), "while away")
        yield expectNothing(bob, 0.3, ("presence",))

        newAlice, answer = yield self.resume(enabled.getAttribute("id"), h)
        self.assertTrue(isSM(answer, "resumed"), answer.toXml())
        self.assertEqual(answer.getAttribute("previd"), enabled.getAttribute("id"))
        self.assertEqual(answer.getAttribute("h"), "1")  # the join presence
        bodies = {}
        for _ in range(2):
            element = yield receiveSkippingRequests(newAlice)
            self.assertEqual(element.name, "message")
            self.assertIsNotNone(firstChild(element, NS_DELAY, "delay"))
            bodies[element.getAttribute("type")] = str(element.body)
        self.assertEqual(bodies, {"groupchat": "while away", "chat": "private"})
        # Same session, same JID, on the new connection.
        self.assertFalse(self.session(aliceJID).streamManagement.hibernating)
        reply = yield newAlice.iq("<iq type='get' id='after'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("to"), aliceJID)
        newAlice.send("<message to='%s' type='groupchat'><body>back</body></message>" % (ROOM,))
        message = yield receiveSkippingRequests(bob)
        self.assertEqual(message.getAttribute("from"), ROOM + "/Alice")
        self.assertEqual(str(message.body), "back")

    @defer.inlineCallbacks
    def test_resumeWhileOldConnectionOpen(self):
        """
        Resuming a session whose connection is still open closes that
        connection with C{conflict}; the session goes on on the new one.
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        enabled, since = yield enable(client)
        newClient, answer = yield self.resume(enabled.getAttribute("id"), 0)
        self.assertTrue(isSM(answer, "resumed"), answer.toXml())
        condition = yield streamError(client)
        self.assertEqual(condition, "conflict")
        yield client.waitClosed()
        yield sleep(0.1)
        reply = yield newClient.iq("<iq type='get' id='after'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("to"), jid)
        self.assertIsNotNone(self.session(jid))

    @defer.inlineCallbacks
    def test_bindReplacesHibernatingSession(self):
        """
        A client that binds the resource of its hibernating session
        instead of resuming replaces it: the old one cannot be resumed any
        more.
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client)
        client.transport.abortConnection()
        yield client.waitClosed()
        yield sleep(0.05)
        old = self.session(jid)
        self.assertTrue(old.streamManagement.hibernating)
        other = yield self.connect()
        newJID = yield other.login("alice", "pw", "phone")
        self.assertEqual(newJID, jid)
        self.assertIsNot(self.session(jid), old)
        self.assertFalse(old.streamManagement.hibernating)
        late, answer = yield self.resume(enabled.getAttribute("id"), 0)
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="item-not-found"))
        reply = yield other.iq("<iq type='get' id='still'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_unansweredRequestDropsConnection(self):
        """
        A client that leaves the server's C{<r/>} unanswered for the ack
        timeout looks dead: its connection is dropped and the session
        hibernates, ready to be resumed.
        """
        self.running.server.c2sFactory.resumption.ackTimeout = 0.3
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        enabled, since = yield enable(client)
        yield client.iq("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        request = yield client.receive()
        self.assertTrue(isSM(request, "r"))
        yield client.waitClosed(3)
        yield sleep(0.05)
        self.assertTrue(self.session(jid).streamManagement.hibernating)
        newClient, answer = yield self.resume(enabled.getAttribute("id"), 0)
        self.assertTrue(isSM(answer, "resumed"))
        # The unacknowledged ping result comes again (an iq: no delay).
        again = yield newClient.receive()
        self.assertEqual(again.getAttribute("id"), "p1")
        self.assertIsNone(firstChild(again, NS_DELAY, "delay"))

    @defer.inlineCallbacks
    def test_resumeUnknownID(self):
        """
        An unknown C{previd} (or another user's) gets
        C{<failed><item-not-found/>}; the stream can still bind.
        """
        client = yield self.connect()
        yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client)
        client.transport.abortConnection()
        yield client.waitClosed()
        other, answer = yield self.resume("nosuchid", 0)
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="item-not-found"))
        jid = yield other.bind("laptop")
        self.assertEqual(jid, "alice@localhost/laptop")
        bob, answer = yield self.resume(enabled.getAttribute("id"), 0, user="bob")
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="item-not-found"))

    @defer.inlineCallbacks
    def test_resumeWithTooHighH(self):
        """
        C{<resume h/>} acknowledging more than was sent fails (with the
        server's count) and ends the hibernating session.
        """
        client = yield self.connect()
        jid = yield client.login("alice", "pw", "phone")
        enabled, _ = yield enable(client)
        client.transport.abortConnection()
        yield client.waitClosed()
        yield sleep(0.05)
        other, answer = yield self.resume(enabled.getAttribute("id"), 7)
        self.assertTrue(isSM(answer, "failed"))
        self.assertEqual(answer.getAttribute("h"), "0")
        self.assertIsNotNone(firstChild(answer, name="undefined-condition"))
        self.assertIsNone(self.session(jid))


class HibernationTimeoutTests(unittest.TestCase):
    """
    A session not resumed in time ends.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(
            self,
            {
                "c2s": {"resumption_timeout": "0.5"},
                "muc": {"enabled": "true", "domain": SERVICE, "lock_new_rooms": "false"},
            },
        )
        for user in ("alice", "bob"):
            yield self.running.server.accounts.register(user, "localhost", "pw")

    @defer.inlineCallbacks
    def test_timeoutLeavesRoomAndBounces(self):
        """
        After C{resumption_timeout} the room sees Alice leave, a headline
        queued for her comes back to its sender as
        C{recipient-unavailable} (chat and normal messages go to offline
        storage instead: tests/c2s/test_streammanagement_offline.py), and a
        late resumption fails with the final count.
        """
        running = self.running
        alice = yield connectTestClient(self, running)
        aliceJID = yield alice.login("alice", "pw", "phone")
        enabled, since = yield enable(alice)
        yield joinRoom(alice, "Alice")
        bob = yield connectTestClient(self, running)
        yield bob.login("bob", "pw", "pc")
        yield joinRoom(bob, "Bob")
        alice.transport.abortConnection()
        yield alice.waitClosed()
        yield sleep(0.05)
        bob.send("<message to='%s' type='headline' id='c1'><body>hello?</body></message>" % (aliceJID,))
        # Nothing while she hibernates...
        yield expectNothing(bob, 0.2)
        # ...then she leaves the room and the message bounces.
        seen = {}
        while len(seen) < 2:
            element = yield bob.receive(3)
            if element.name == "presence":
                self.assertEqual(element.getAttribute("from"), ROOM + "/Alice")
                self.assertEqual(element.getAttribute("type"), "unavailable")
                seen["left"] = True
            elif element.name == "message":
                self.assertEqual(element.getAttribute("type"), "error")
                self.assertEqual(element.getAttribute("id"), "c1")
                self.assertEqual(errorCondition(element), "recipient-unavailable")
                seen["bounced"] = True
        self.assertIsNone(running.server.router.sessions.get(aliceJID))
        late = yield connectTestClient(self, running)
        yield authenticateOnly(late, "alice")
        late.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, enabled.getAttribute("id")))
        answer = yield late.receive()
        self.assertTrue(isSM(answer, "failed"))
        self.assertIsNotNone(firstChild(answer, name="item-not-found"))
        # The join presence.
        self.assertEqual(answer.getAttribute("h"), "1")

    @defer.inlineCallbacks
    def test_shutdownEndsHibernatingSessions(self):
        """
        Stopping the server ends hibernating sessions (rooms first: they
        get their 332 presence queued), without waiting for the timeout.
        """
        running = self.running
        running.server.c2sFactory.resumption.timeout = 30
        alice = yield connectTestClient(self, running)
        aliceJID = yield alice.login("alice", "pw", "phone")
        yield enable(alice)
        yield joinRoom(alice, "Alice")
        alice.transport.abortConnection()
        yield alice.waitClosed()
        yield sleep(0.05)
        self.assertIsNotNone(running.server.router.sessions.get(aliceJID))
        started = reactor.seconds()
        yield running.stop()
        self.assertLess(reactor.seconds() - started, 3)
        self.assertFalse(running.server.sm.isOnline("alice@localhost"))
        self.assertEqual(running.server.c2sFactory.resumption.hibernating(), [])
