"""
Two xmuc servers federating over loopback (real sockets, real TLS): users
of one reach users, the server and rooms of the other, once with
certificates from a trusted authority (SASL EXTERNAL, C{secure_auth =
true}) and once with self-signed certificates (Server Dialback,
C{secure_auth = false}).
"""

from twisted.internet import defer, endpoints, protocol, reactor, task
from twisted.trial import unittest

from xmuc.hooks import S2S_DOMAIN_FAILED
from xmuc.xmpp.serialized import Serialized

from tests.support.client import errorCondition, firstChild
from tests.support.federation import loginTo, receiveUntil, startFederation

MUC = "http://jabber.org/protocol/muc"
MUC_USER = MUC + "#user"
MUC_ADMIN = MUC + "#admin"
PING = "urn:xmpp:ping"
VERSION = "jabber:iq:version"
DISCO_INFO = "http://jabber.org/protocol/disco#info"


def isMessage(element):
    return element.name == "message"


def presenceOf(kind, sender=None):
    def check(element):
        return (
            element.name == "presence"
            and element.getAttribute("type") == kind
            and (sender is None or element.getAttribute("from", "").startswith(sender))
        )

    return check



@defer.inlineCallbacks
def waitUntil(predicate, timeout=10.0):
    """
    @return: Deferred firing once C{predicate()} is true (checked every
        10 ms), failing after C{timeout} seconds.
    """
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        yield task.deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("condition not met within %s s" % (timeout,))

class FederationMixin:
    """
    What every authentication mode must give.

    @cvar mode: how the servers authenticate each other.
    @cvar method: how the incoming streams say the peer authenticated.
    """

    mode = None
    method = None

    @defer.inlineCallbacks
    def setUp(self):
        self.a, self.b = yield startFederation(self, ["a.test", "b.test"], mode=self.mode)

    def methodsOn(self, running, domain):
        """
        @return: how C{domain} authenticated on the incoming streams of
            C{running}.
        """
        return {n.authenticated[domain] for n in running.server.s2s.incoming if domain in n.authenticated}

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        A message from a user on one server reaches a user on the other,
        and the answer comes back, with the senders' full JIDs; each
        server authenticated the other as this mode says.
        """
        alice = yield loginTo(self, self.a, "alice")
        bob = yield loginTo(self, self.b, "bob")
        alice.send("<message to='bob@b.test' type='chat' id='m1'><body>hi bob</body></message>")
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual((got.getAttribute("from"), str(got.body)), (alice.jid, "hi bob"))
        bob.send("<message to='%s' type='chat' id='m2'><body>hi alice</body></message>" % (alice.jid,))
        got = yield receiveUntil(alice, isMessage)
        self.assertEqual((got.getAttribute("from"), str(got.body)), (bob.jid, "hi alice"))
        self.assertEqual(self.methodsOn(self.b, "a.test"), {self.method})
        self.assertEqual(self.methodsOn(self.a, "b.test"), {self.method})

    @defer.inlineCallbacks
    def test_subscriptionsBothWays(self):
        """
        RFC 6121 subscriptions across servers: requests, approvals, the
        presence each then sees, probes answered for a new resource, and
        unavailable presence when a contact's connection drops.
        """
        alice = yield loginTo(self, self.a, "alice")
        bob = yield loginTo(self, self.b, "bob")
        alice.send("<presence to='bob@b.test' type='subscribe'/>")
        yield receiveUntil(bob, presenceOf("subscribe", "alice@a.test"))
        bob.send("<presence to='alice@a.test' type='subscribed'/>")
        yield receiveUntil(alice, presenceOf("subscribed", "bob@b.test"))
        seen = yield receiveUntil(alice, presenceOf(None, "bob@b.test"))
        self.assertEqual(seen.getAttribute("from"), bob.jid)
        bob.send("<presence to='alice@a.test' type='subscribe'/>")
        yield receiveUntil(alice, presenceOf("subscribe", "bob@b.test"))
        alice.send("<presence to='bob@b.test' type='subscribed'/>")
        seen = yield receiveUntil(bob, presenceOf(None, "alice@a.test"))
        self.assertEqual(seen.getAttribute("from"), alice.jid)
        # A second resource of alice: bob sees it come, through a probe
        # answered by b.test.
        other = yield loginTo(self, self.a, "alice", resource="other")
        seen = yield receiveUntil(bob, presenceOf(None, "alice@a.test/other"))
        yield receiveUntil(other, presenceOf(None, "bob@b.test"))
        # Its connection drops: bob sees it leave.
        other.transport.abortConnection()
        gone = yield receiveUntil(bob, presenceOf("unavailable", "alice@a.test"))
        self.assertEqual(gone.getAttribute("from"), "alice@a.test/other")

    @defer.inlineCallbacks
    def test_remoteSenderOfflineCarbonsArchive(self):
        """
        Messages from a user of the other server: kept offline and given at
        login, copied to the other resource (carbons), archived.
        """
        # Offline storage is for accounts that exist.
        yield self.a.server.accounts.register("alice", "a.test", "pw")
        bob = yield loginTo(self, self.b, "bob")
        bob.send("<message to='alice@a.test' type='chat' id='o1'><body>while you were away</body></message>")
        # The message is stored once b.test's stream delivered it: a ping
        # on the same stream comes back after it.
        reply = yield bob.iq("<iq type='get' id='p' to='a.test'><ping xmlns='%s'/></iq>" % (PING,), timeout=10)
        self.assertEqual(reply.getAttribute("type"), "result")
        alice = yield loginTo(self, self.a, "alice", available=False)
        alice.send("<presence/>")
        stored = yield receiveUntil(alice, isMessage)
        self.assertEqual((stored.getAttribute("from"), str(stored.body)), (bob.jid, "while you were away"))
        phone = yield loginTo(self, self.a, "alice", resource="phone")
        reply = yield phone.iq("<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>", timeout=10)
        self.assertEqual(reply.getAttribute("type"), "result")
        bob.send("<message to='%s' type='chat' id='o2'><body>to your desk</body></message>" % (alice.jid,))
        yield receiveUntil(alice, lambda e: e.name == "message" and e.body is not None and str(e.body) == "to your desk")
        copy = yield receiveUntil(phone, isMessage)
        self.assertIn("to your desk", copy.toXml())
        self.assertIsNotNone(firstChild(copy, "urn:xmpp:carbons:2", "received"))
        phone.send("<iq type='set' id='mam'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>")
        archived = []
        while True:
            element = yield phone.receive(10)
            if element.name == "iq" and element.getAttribute("id") == "mam":
                break
            if element.name == "message" and firstChild(element, "urn:xmpp:mam:2", "result") is not None:
                archived.append(element.toXml())
        self.assertTrue(any("while you were away" in text for text in archived), archived)
        self.assertTrue(any("to your desk" in text for text in archived), archived)

    @defer.inlineCallbacks
    def test_iqBothWays(self):
        """
        Ping, version and disco of the other server, and an iq between
        users of both servers, each way.
        """
        alice = yield loginTo(self, self.a, "alice")
        bob = yield loginTo(self, self.b, "bob")
        for client, server in ((alice, "b.test"), (bob, "a.test")):
            reply = yield client.iq("<iq type='get' id='p1' to='%s'><ping xmlns='%s'/></iq>" % (server, PING), timeout=10)
            self.assertEqual((reply.getAttribute("type"), reply.getAttribute("from")), ("result", server))
            reply = yield client.iq("<iq type='get' id='v1' to='%s'><query xmlns='%s'/></iq>" % (server, VERSION), timeout=10)
            self.assertEqual(reply.getAttribute("type"), "result")
            self.assertEqual(str(firstChild(firstChild(reply, VERSION, "query"), VERSION, "name")), "xmuc")
            reply = yield client.iq("<iq type='get' id='d1' to='%s'><query xmlns='%s'/></iq>" % (server, DISCO_INFO), timeout=10)
            features = [f["var"] for f in firstChild(reply, DISCO_INFO, "query").elements() if f.name == "feature"]
            self.assertIn(DISCO_INFO, features)
        alice.send("<iq type='get' id='u1' to='%s'><ping xmlns='%s'/></iq>" % (bob.jid, PING))
        asked = yield receiveUntil(bob, lambda e: e.name == "iq")
        self.assertEqual((asked.getAttribute("from"), asked.getAttribute("id")), (alice.jid, "u1"))
        bob.send("<iq type='result' id='u1' to='%s'/>" % (alice.jid,))
        answer = yield receiveUntil(alice, lambda e: e.name == "iq")
        self.assertEqual((answer.getAttribute("type"), answer.getAttribute("from")), ("result", bob.jid))

    @defer.inlineCallbacks
    def test_remoteOccupant(self):
        """
        A user of b.test joins a room of a.test: both see each other's
        presence, groupchat goes both ways, private messages too, and the
        owner kicks the remote occupant.
        """
        room = "lounge@rooms.a.test"
        alice = yield loginTo(self, self.a, "alice")
        bob = yield loginTo(self, self.b, "bob")
        alice.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (room, MUC))
        yield receiveUntil(alice, lambda e: e.name == "message" and e.subject is not None)
        bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (room, MUC))
        yield receiveUntil(bob, lambda e: e.name == "message" and e.subject is not None)
        seen = yield receiveUntil(alice, presenceOf(None, room + "/Bob"))
        item = firstChild(firstChild(seen, MUC_USER, "x"), MUC_USER, "item")
        self.assertEqual(item["role"], "participant")
        bob.send("<message to='%s' type='groupchat' id='g1'><body>hello from b</body></message>" % (room,))
        got = yield receiveUntil(alice, isMessage)
        self.assertEqual((got.getAttribute("from"), str(got.body)), (room + "/Bob", "hello from b"))
        echo = yield receiveUntil(bob, isMessage)
        self.assertEqual((echo.getAttribute("from"), str(echo.body)), (room + "/Bob", "hello from b"))
        alice.send("<message to='%s' type='groupchat' id='g2'><body>welcome</body></message>" % (room,))
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual((got.getAttribute("from"), str(got.body)), (room + "/Alice", "welcome"))
        alice.send("<message to='%s/Bob' type='chat' id='pm1'><body>psst</body></message>" % (room,))
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual((got.getAttribute("from"), str(got.body)), (room + "/Alice", "psst"))
        bob.send("<message to='%s/Alice' type='chat' id='pm2'><body>yes?</body></message>" % (room,))
        got = yield receiveUntil(alice, lambda e: e.name == "message" and e.body is not None and str(e.body) == "yes?")
        self.assertEqual(got.getAttribute("from"), room + "/Bob")
        reply = yield alice.iq(
            "<iq type='set' id='k1' to='%s'><query xmlns='%s'><item nick='Bob' role='none'/></query></iq>"
            % (room, MUC_ADMIN),
            timeout=10,
        )
        self.assertEqual(reply.getAttribute("type"), "result")
        kicked = yield receiveUntil(bob, presenceOf("unavailable", room + "/Bob"))
        codes = [s["code"] for s in firstChild(kicked, MUC_USER, "x").elements() if s.name == "status"]
        self.assertIn("307", codes)
        # The room and the users' host each authenticated on its own.
        self.assertEqual(self.methodsOn(self.b, "rooms.a.test"), {self.method})

    @defer.inlineCallbacks
    def test_localUserInRemoteRoom(self):
        """
        A user of a.test in a room of b.test: self-ping, the room's
        archive, an invitation to another a.test user, and a ban of the
        remote bare JID by the room's owner.
        """
        room = "den@rooms.b.test"
        bob = yield loginTo(self, self.b, "bob")
        bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (room, MUC))
        yield receiveUntil(bob, lambda e: e.name == "message" and e.subject is not None)
        alice = yield loginTo(self, self.a, "alice")
        carol = yield loginTo(self, self.a, "carol")
        alice.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (room, MUC))
        yield receiveUntil(alice, lambda e: e.name == "message" and e.subject is not None)
        reply = yield alice.iq("<iq type='get' id='sp' to='%s/Alice'><ping xmlns='%s'/></iq>" % (room, PING), timeout=10)
        self.assertEqual(reply.getAttribute("type"), "result")
        alice.send("<message to='%s' type='groupchat' id='g1'><body>archived</body></message>" % (room,))
        yield receiveUntil(alice, lambda e: e.name == "message" and e.body is not None)
        alice.send("<iq type='set' id='mam' to='%s'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>" % (room,))
        result = yield receiveUntil(alice, lambda e: e.name == "message" and firstChild(e, "urn:xmpp:mam:2", "result") is not None)
        self.assertIn("archived", result.toXml())
        done = yield receiveUntil(alice, lambda e: e.name == "iq")
        self.assertEqual((done.getAttribute("id"), done.getAttribute("type")), ("mam", "result"))
        alice.send(
            "<message to='%s'><x xmlns='%s'><invite to='carol@a.test'><reason>come</reason></invite></x></message>"
            % (room, MUC_USER)
        )
        invitation = yield receiveUntil(carol, isMessage)
        self.assertEqual(invitation.getAttribute("from"), room)
        invite = firstChild(firstChild(invitation, MUC_USER, "x"), MUC_USER, "invite")
        # The room is semi-anonymous: the inviter shows as its occupant.
        self.assertEqual(invite.getAttribute("from"), room + "/Alice")
        reply = yield bob.iq(
            "<iq type='set' id='ban' to='%s'><query xmlns='%s'><item jid='alice@a.test' affiliation='outcast'/></query></iq>"
            % (room, MUC_ADMIN),
            timeout=10,
        )
        self.assertEqual(reply.getAttribute("type"), "result")
        banned = yield receiveUntil(alice, presenceOf("unavailable", room + "/Alice"))
        codes = [s["code"] for s in firstChild(banned, MUC_USER, "x").elements() if s.name == "status"]
        self.assertIn("301", codes)
        alice.send("<presence to='%s/Again'><x xmlns='%s'/></presence>" % (room, MUC))
        refused = yield receiveUntil(alice, presenceOf("error"))
        self.assertEqual(errorCondition(refused), "forbidden")

    @defer.inlineCallbacks
    def test_unreachableDomain(self):
        """
        A stanza to a domain whose server does not answer comes back as
        remote-server-not-found, and the server keeps serving.
        """
        self.a.server.s2s.resolver.routes["nowhere.test"] = ("127.0.0.1", 1)
        alice = yield loginTo(self, self.a, "alice")
        alice.send("<message to='x@nowhere.test' id='lost'><body>anyone?</body></message>")
        bounced = yield receiveUntil(alice, isMessage)
        self.assertEqual((bounced.getAttribute("type"), bounced.getAttribute("from")), ("error", "x@nowhere.test"))
        self.assertEqual(errorCondition(bounced), "remote-server-not-found")
        reply = yield alice.iq("<iq type='get' id='p' to='b.test'><ping xmlns='%s'/></iq>" % (PING,), timeout=10)
        self.assertEqual(reply.getAttribute("type"), "result")


class CertificateFederationTests(FederationMixin, unittest.TestCase):
    mode = "ca"
    method = "SASL EXTERNAL"


class DialbackFederationTests(FederationMixin, unittest.TestCase):
    mode = "selfsigned"
    method = "dialback"


class SecureAuthTests(unittest.TestCase):
    """
    With C{secure_auth = true}, a peer whose certificate is for another
    name is not authenticated, in either direction.
    """

    @defer.inlineCallbacks
    def test_certificateForAnotherName(self):
        a, b = yield startFederation(
            self, ["a.test", "b.test"], mode="ca", certificateNames={"b.test": ["other.test"]}
        )
        failures = []
        a.server.hooks.add(S2S_DOMAIN_FAILED, lambda **data: failures.append(data))
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        alice.send("<message to='bob@b.test' id='m1'><body>hi</body></message>")
        bounced = yield receiveUntil(alice, isMessage)
        self.assertEqual((bounced.getAttribute("type"), errorCondition(bounced)), ("error", "remote-server-not-found"))
        self.assertEqual([(f["domain"], f["condition"]) for f in failures], [("b.test", "remote-server-not-found")])
        self.assertIn("certificate not valid for b.test", failures[0]["reason"])
        bob.send("<message to='alice@a.test' id='m2'><body>hi</body></message>")
        bounced = yield receiveUntil(bob, isMessage)
        self.assertEqual((bounced.getAttribute("type"), errorCondition(bounced)), ("error", "remote-server-not-found"))


    @defer.inlineCallbacks
    def test_noEncryptionOffered(self):
        """
        A peer without TLS is not used while require_encryption is true:
        the stanza bounces.
        """
        plain = {"s2s": {"tls_certificate": "", "tls_key": "", "require_encryption": "false"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca", extra={"b.test": plain})
        failures = []
        a.server.hooks.add(S2S_DOMAIN_FAILED, lambda **data: failures.append(data["reason"]))
        alice = yield loginTo(self, a, "alice")
        alice.send("<message to='bob@b.test' id='m1'><body>hi</body></message>")
        bounced = yield receiveUntil(alice, isMessage)
        self.assertEqual((bounced.getAttribute("type"), errorCondition(bounced)), ("error", "remote-server-not-found"))
        self.assertIn("offers no STARTTLS", failures[0])


class StreamLifeTests(unittest.TestCase):
    """
    Streams close when idle and open again on demand; a room broadcast to
    remote occupants is the text serialized once per variant.
    """

    @defer.inlineCallbacks
    def test_idleStreamReopens(self):
        a, b = yield startFederation(
            self, ["a.test", "b.test"], mode="ca", extra={"a.test": {"s2s": {"idle_timeout": "1"}}}
        )
        failures = []
        a.server.hooks.add(S2S_DOMAIN_FAILED, lambda **data: failures.append(data))
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        alice.send("<message to='bob@b.test' id='m1'><body>one</body></message>")
        yield receiveUntil(bob, isMessage)
        link = a.server.s2s.links["a.test", "b.test"]
        yield link.stream.xmlstream.lost
        # Closing an idle stream is no failure; the unused link goes.
        self.assertEqual(failures, [])
        self.assertNotIn(("a.test", "b.test"), a.server.s2s.links)
        alice.send("<message to='bob@b.test' id='m2'><body>two</body></message>")
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual(str(got.body), "two")
        self.assertIsNotNone(a.server.s2s.links["a.test", "b.test"].stream)

    @defer.inlineCallbacks
    def test_fanOutToRemoteOccupants(self):
        """
        A groupchat message to a room with three occupants on b.test is
        serialized once and written to b.test's stream as text: no element
        is built per remote recipient.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca")
        room = "hall@rooms.a.test"
        clients = []
        for name in ("bob", "carol", "dave"):
            client = yield loginTo(self, b, name)
            client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (room, name, MUC))
            yield receiveUntil(client, lambda e: e.name == "message" and e.subject is not None)
            clients.append(client)
        made, built = Serialized.made, Serialized.built
        clients[0].send("<message to='%s' type='groupchat' id='g'><body>all of you</body></message>" % (room,))
        for client in clients:
            got = yield receiveUntil(client, lambda e: e.name == "message" and e.body is not None)
            self.assertEqual((got.getAttribute("from"), str(got.body)), (room + "/bob", "all of you"))
        self.assertEqual(Serialized.built - built, 0)
        self.assertEqual(Serialized.made - made, 1)

    @defer.inlineCallbacks
    def test_silentServerTimesOut(self):
        """
        A server that accepts the connection and never answers: after
        connect_timeout the stanza comes back as remote-server-timeout.
        """
        a, b = yield startFederation(
            self, ["a.test", "b.test"], mode="ca", extra={"a.test": {"s2s": {"connect_timeout": "1"}}}
        )
        silent = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.4").listen(
            protocol.Factory.forProtocol(protocol.Protocol)
        )
        self.addCleanup(silent.stopListening)
        a.server.s2s.resolver.routes["silent.test"] = ("127.0.0.4", silent.getHost().port)
        alice = yield loginTo(self, a, "alice")
        alice.send("<message to='x@silent.test' id='m'><body>hello?</body></message>")
        bounced = yield receiveUntil(alice, isMessage)
        self.assertEqual((bounced.getAttribute("type"), errorCondition(bounced)), ("error", "remote-server-timeout"))

    @defer.inlineCallbacks
    def test_shutdownReachesRemoteOccupants(self):
        """
        When a server stops, occupants of its rooms on the other server
        get status 332 before the streams close.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca")
        room = "hall@rooms.a.test"
        bob = yield loginTo(self, b, "bob")
        bob.send("<presence to='%s/bob'><x xmlns='%s'/></presence>" % (room, MUC))
        yield receiveUntil(bob, lambda e: e.name == "message" and e.subject is not None)
        yield a.server.stopService()
        left = yield receiveUntil(bob, presenceOf("unavailable", room + "/bob"))
        codes = [s["code"] for s in firstChild(left, MUC_USER, "x").elements() if s.name == "status"]
        self.assertIn("332", codes)
        self.assertEqual(a.server.s2s.streams, set())

    @defer.inlineCallbacks
    def test_lostStreamReported(self):
        """
        An established stream cut without closing: the domain-failed event
        names the domain, and the next stanza opens a new stream.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca")
        failures = []
        a.server.hooks.add(S2S_DOMAIN_FAILED, lambda **data: failures.append((data["domain"], data["condition"])))
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        alice.send("<message to='bob@b.test' id='m1'><body>one</body></message>")
        yield receiveUntil(bob, isMessage)
        link = a.server.s2s.links["a.test", "b.test"]
        lost = link.stream.xmlstream.lost
        for negotiator in list(b.server.s2s.incoming):
            if "a.test" in negotiator.authenticated:
                negotiator.xmlstream.transport.abortConnection()
        yield lost
        self.assertEqual(failures, [("b.test", "remote-server-not-found")])
        alice.send("<message to='bob@b.test' id='m2'><body>two</body></message>")
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual(str(got.body), "two")

    @defer.inlineCallbacks
    def test_queueHoldsAJoinStorm(self):
        """
        What may wait for a stream being set up is bounded in bytes, not
        stanzas: the presences of a room that 200 users of one remote
        server join at once (tens of thousands of small stanzas) all wait.
        """
        [a] = yield startFederation(self, ["a.test"], mode="ca")
        silent = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.4").listen(
            protocol.Factory.forProtocol(protocol.Protocol)
        )
        self.addCleanup(silent.stopListening)
        a.server.s2s.resolver.routes["silent.test"] = ("127.0.0.4", silent.getHost().port)
        link = a.server.s2s.link("rooms.a.test", "silent.test")
        presence = "<presence from='room@rooms.a.test/user%d' to='user%d@silent.test/r'/>"
        for number in range(40000):
            link.send(presence % (number, number))
        self.assertEqual(len(link.queue), 40000)
        self.assertEqual(link.maxQueuedBytes, 16 * 1024 * 1024)

    @defer.inlineCallbacks
    def test_queueBounded(self):
        """
        Beyond what may wait for a stream being set up, stanzas bounce at
        once with resource-constraint; those waiting bounce when the set-up
        fails.
        """
        a, b = yield startFederation(
            self, ["a.test", "b.test"], mode="ca", extra={"a.test": {"s2s": {"connect_timeout": "1"}}}
        )
        silent = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.4").listen(
            protocol.Factory.forProtocol(protocol.Protocol)
        )
        self.addCleanup(silent.stopListening)
        a.server.s2s.resolver.routes["silent.test"] = ("127.0.0.4", silent.getHost().port)
        link = a.server.s2s.link("a.test", "silent.test")
        alice = yield loginTo(self, a, "alice")
        for number in range(3):
            if number == 2:
                # Room for what waits already, not for one more.
                link.maxQueuedBytes = link.queuedBytes
            alice.send("<message to='x@silent.test' id='m%d'><body>hello?</body></message>" % (number,))
            if number < 2:
                yield waitUntil(lambda: len(link.queue) == number + 1)
        bounced = {}
        for _ in range(3):
            error = yield receiveUntil(alice, isMessage)
            bounced[error.getAttribute("id")] = errorCondition(error)
        self.assertEqual(
            bounced, {"m2": "resource-constraint", "m0": "remote-server-timeout", "m1": "remote-server-timeout"}
        )
