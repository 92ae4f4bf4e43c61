"""
What a server stream may not do, each answered by the right stream error
(RFC 6120 section 4.9.3) while the server keeps federating with everyone
else: a raw peer on a real socket plays the other server.
"""

from twisted.internet import defer, endpoints, protocol, reactor
from twisted.trial import unittest

from tests.support.client import connectClient
from tests.support.federation import loginTo, receiveUntil, s2sPort, startFederation

STREAMS = "http://etherx.jabber.org/streams"
DIALBACK = "jabber:server:dialback"
PING = "urn:xmpp:ping"

HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='%s'"
    " xmlns:db='%s' from='%%s' to='%%s' version='1.0'>" % (STREAMS, DIALBACK)
)


class IncomingStreamTests(unittest.TestCase):
    """
    a.test takes plain-text streams (C{require_encryption = false}) and
    accepts dialback from untrusted certificates, so that a raw peer can
    speak to it; b.test is a real server that raw peers pretend to be.
    """

    @defer.inlineCallbacks
    def setUp(self):
        plain = {"s2s": {"require_encryption": "false", "connect_timeout": "1", "max_stanza_size": "2048"}}
        self.a, self.b = yield startFederation(self, ["a.test", "b.test"], mode="selfsigned", extra={"a.test": plain})

    @defer.inlineCallbacks
    def peer(self, sender="b.test", to="a.test", header=True):
        """
        @return: Deferred firing with a raw connection to a.test's s2s
            listener, its header sent (from C{sender} to C{to}) and a.test's
            header and features read, unless not C{header}.
        """
        host, port = s2sPort(self.a)
        client = yield connectClient(port, to, host=host)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        if header:
            client.send(HEADER % (sender, to))
            yield client.receive()
            features = yield client.receive()
            self.assertEqual(features.name, "features")
        return client

    @defer.inlineCallbacks
    def authenticatedPeer(self):
        """
        @return: Deferred firing with a raw peer authenticated as b.test by
            dialback (with the key b.test would make: a.test checks it
            with the real b.test).
        """
        client = yield self.peer()
        key = self.b.server.s2s.keys.key("a.test", "b.test", client.header["id"])
        client.send("<db:result from='b.test' to='a.test'>%s</db:result>" % (key,))
        answer = yield client.receive(10)
        self.assertEqual((answer.uri, answer.name, answer.getAttribute("type")), (DIALBACK, "result", "valid"))
        return client

    @defer.inlineCallbacks
    def assertStillFederating(self):
        """
        Users of a.test still reach b.test.
        """
        alice = yield loginTo(self, self.a, "alice", available=False)
        reply = yield alice.iq("<iq type='get' id='p' to='b.test'><ping xmlns='%s'/></iq>" % (PING,), timeout=10)
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_stanzaBeforeAuthentication(self):
        client = yield self.peer()
        client.send("<message from='bob@b.test' to='alice@a.test'><body>x</body></message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_spoofedFrom(self):
        """
        Stanzas from the authenticated domain are delivered; one from
        another domain ends the stream with invalid-from.
        """
        alice = yield loginTo(self, self.a, "alice")
        client = yield self.authenticatedPeer()
        client.send("<message from='bob@b.test/x' to='alice@a.test' type='chat'><body>real</body></message>")
        got = yield receiveUntil(alice, lambda e: e.name == "message")
        self.assertEqual((got.getAttribute("from"), str(got.body)), ("bob@b.test/x", "real"))
        client.send("<message from='mallory@evil.test' to='alice@a.test'><body>spoof</body></message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "invalid-from")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_recipientNotServed(self):
        client = yield self.authenticatedPeer()
        client.send("<message from='bob@b.test' to='x@c.test'><body>x</body></message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "host-unknown")

    @defer.inlineCallbacks
    def test_headerForAnotherHost(self):
        client = yield self.peer(header=False)
        client.send(HEADER % ("b.test", "c.test"))
        condition = yield client.streamError()
        self.assertEqual(condition, "host-unknown")

    @defer.inlineCallbacks
    def test_badDialbackKey(self):
        """
        A key b.test did not make: b.test says so when asked, and a.test
        answers invalid and closes with not-authorized.
        """
        client = yield self.peer()
        client.send("<db:result from='b.test' to='a.test'>%s</db:result>" % ("0" * 64,))
        answer = yield client.receive(10)
        self.assertEqual((answer.name, answer.getAttribute("type")), ("result", "invalid"))
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_silentPeer(self):
        """
        A peer that connects and never sends its header is closed with
        connection-timeout after connect_timeout.
        """
        client = yield self.peer(header=False)
        condition = yield client.streamError(timeout=10)
        self.assertEqual(condition, "connection-timeout")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_malformedXML(self):
        client = yield self.authenticatedPeer()
        client.send("<message from='bob@b.test' to='alice@a.test'><body>x</message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-well-formed")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_oversizeStanza(self):
        client = yield self.authenticatedPeer()
        client.send("<message from='bob@b.test' to='alice@a.test'><body>%s</body></message>" % ("x" * 4096,))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield self.assertStillFederating()

    @defer.inlineCallbacks
    def test_encryptionRequired(self):
        """
        b.test requires TLS (the default): STARTTLS is offered as required,
        and dialback before it is refused.
        """
        host, port = s2sPort(self.b)
        client = yield connectClient(port, "b.test", host=host)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        client.send(HEADER % ("a.test", "b.test"))
        yield client.receive()
        features = yield client.receive()
        starttls = [e for e in features.elements() if e.name == "starttls"]
        self.assertEqual(len(starttls), 1)
        self.assertEqual([e.name for e in starttls[0].elements()], ["required"])
        client.send("<db:result from='a.test' to='b.test'>%s</db:result>" % ("0" * 64,))
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")

    @defer.inlineCallbacks
    def test_tooManyDialbackRequests(self):
        """
        Each dialback request makes a.test call a server back: one stream
        may have ten waiting, the eleventh is a policy-violation.
        """
        silent = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.4").listen(
            protocol.Factory.forProtocol(protocol.Protocol)
        )
        self.addCleanup(silent.stopListening)
        client = yield self.peer()
        for number in range(11):
            domain = "d%d.test" % (number,)
            self.a.server.s2s.resolver.routes[domain] = ("127.0.0.4", silent.getHost().port)
            client.send("<db:result from='%s' to='a.test'>%s</db:result>" % (domain, "0" * 64))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")

    @defer.inlineCallbacks
    def test_dialbackAsLocalDomain(self):
        """
        A peer asking to send as a domain of a.test itself is refused with
        invalid-from.
        """
        client = yield self.peer()
        client.send("<db:result from='rooms.a.test' to='a.test'>%s</db:result>" % ("0" * 64,))
        condition = yield client.streamError()
        self.assertEqual(condition, "invalid-from")
