"""
Two xmuc servers federating over loopback (real sockets, real TLS): users
of one reach users, the server and rooms of the other, once with
certificates from a trusted authority (SASL EXTERNAL, C{secure_auth =
true}) and once with self-signed certificates (Server Dialback,
C{secure_auth = false}).
"""

from twisted.internet import defer
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
        presence each then sees, and unavailable presence when a contact
        leaves.
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
        other.send("<presence type='unavailable'/>")
        gone = yield receiveUntil(bob, presenceOf("unavailable", "alice@a.test"))
        self.assertEqual(gone.getAttribute("from"), "alice@a.test/other")

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
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        alice.send("<message to='bob@b.test' id='m1'><body>one</body></message>")
        yield receiveUntil(bob, isMessage)
        link = a.server.s2s.links["a.test", "b.test"]
        yield link.stream.xmlstream.lost
        self.assertIsNone(link.stream)
        alice.send("<message to='bob@b.test' id='m2'><body>two</body></message>")
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual(str(got.body), "two")
        self.assertIsNotNone(link.stream)

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
