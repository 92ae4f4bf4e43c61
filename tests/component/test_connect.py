"""
The connecting end of a component link (L{xmuc.component.connect}) against
Twisted Words' accepting end on a real socket: the handshake, stanzas both
ways, reconnection with backoff, and what the host may send wrong.
"""

from twisted.internet import defer, endpoints, reactor
from twisted.trial import unittest

from tests.support.componenthost import ComponentHost
from xmuc.component.connect import ComponentLink
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import newStanza

DOMAIN = "rooms.example"


class Receiver:
    """
    The component behind the link: keeps what it receives.
    """

    domain = DOMAIN

    def __init__(self):
        self.received = []
        self._waiting = []

    def receive(self, stanza):
        self.received.append(stanza)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(stanza)

    def next(self):
        d = defer.Deferred()
        self._waiting.append(d)
        return d


class ConnectTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.host = ComponentHost("s3cret")
        self.portNumber = yield self.host.listen()
        self.addCleanup(lambda: self.host.stop())

    def startLink(self, secret="s3cret", **kw):
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.portNumber)
        kw.setdefault("initialDelay", 0.05)
        kw.setdefault("maxDelay", 0.2)
        link = ComponentLink(reactor, endpoint, DOMAIN, secret, **kw)
        link.receiver = self.receiver = Receiver()
        link.startService()
        self.addCleanup(link.stopService)
        return link

    @defer.inlineCallbacks
    def connected(self, **kw):
        """
        @return: Deferred firing with C{(link, host stream)} once the link
            is up.
        """
        stream = self.host.nextStream()
        link = self.startLink(**kw)
        yield link.whenUp()
        xs = yield stream
        return link, xs

    @defer.inlineCallbacks
    def test_noDelayKeepAlive(self):
        """
        The link's socket has Nagle off and TCP keepalive on.
        """
        import socket

        link, xs = yield self.connected()
        handle = link.xmlstream.transport.getHandle()
        self.assertTrue(handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        self.assertTrue(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

    @defer.inlineCallbacks
    def test_stanzasBothWays(self):
        """
        Once the handshake is done, stanzas the component routes reach the
        host in the component namespace, and the host's stanzas reach the
        component in the client namespace (children too).
        """
        link, xs = yield self.connected()
        message = newStanza("message", to="alice@example/r", **{"from": "room@" + DOMAIN})
        message.addElement("body", content="hi")
        link.route(message)
        got = yield self.host.waitFor(lambda e: e.name == "message")
        self.assertEqual(got.uri, ns.COMPONENT)
        self.assertEqual(got.getAttribute("to"), "alice@example/r")
        self.assertEqual(str(got.body), "hi")

        next = self.receiver.next()
        xs.send("<message from='alice@example/r' to='room@%s'><body>yo</body></message>" % DOMAIN)
        got = yield next
        self.assertEqual(got.uri, ns.CLIENT)
        self.assertEqual(got.body.uri, ns.CLIENT)
        self.assertEqual(str(got.body), "yo")

    @defer.inlineCallbacks
    def test_serializedFanOut(self):
        """
        routeSerialized writes the serialized text to the link: no element
        is built, and the host reads it in the component namespace.
        """
        link, xs = yield self.connected()
        element = newStanza("presence", **{"from": "room@%s/nick" % DOMAIN})
        serialized = Serialized(element)
        built = Serialized.built
        for who in ("a@example/1", "b@example/2"):
            serialized.sendTo(link, who)
        got = yield self.host.waitFor(lambda e: e.getAttribute("to") == "b@example/2")
        self.assertEqual((got.uri, got.name), (ns.COMPONENT, "presence"))
        self.assertEqual(Serialized.built, built)
        self.assertEqual(
            [e.getAttribute("to") for e in self.host.received], ["a@example/1", "b@example/2"]
        )

    @defer.inlineCallbacks
    def test_reconnects(self):
        """
        When the host goes away and comes back on the same port, the link
        comes back by itself and tells its restored callbacks; while down,
        outgoing stanzas are dropped and counted.
        """
        link, xs = yield self.connected()
        ups = []
        link.restored.append(lambda: ups.append(True))
        down = link.whenDown()
        yield self.host.stop()
        yield down
        link.route(newStanza("message", to="a@example/r", **{"from": DOMAIN}))
        self.assertEqual(link.dropped, 1)
        self.host = ComponentHost("s3cret")
        yield self.host.listen(self.portNumber)
        yield link.whenUp()
        self.assertEqual(ups, [True])

    @defer.inlineCallbacks
    def test_wrongSecretBacksOff(self):
        """
        A refused handshake is retried with a growing wait, and the link
        never comes up.
        """
        link = self.startLink(secret="wrong")
        for _ in range(3):
            yield self.host.nextClose()
        self.assertIsNone(link.xmlstream)
        self.assertGreaterEqual(link.failures, 2)
        self.assertIn("not-authorized", link._downReason)

    def test_backoffGrowsToMaximum(self):
        """
        The wait doubles per failure up to the maximum, less the jitter.
        """
        link = ComponentLink(
            reactor, None, DOMAIN, "x", initialDelay=1, maxDelay=8, jitter=0.5, random=lambda: 1.0
        )
        waits = []
        for failures in range(6):
            link.failures = failures
            waits.append(link.nextDelay())
        self.assertEqual(waits, [0.5, 1.0, 2.0, 4.0, 4.0, 4.0])
        link.random = lambda: 0.0
        self.assertEqual(link.nextDelay(), 8)

    @defer.inlineCallbacks
    def hostWrites(self, data):
        """
        Write C{data} from the host on an up link.

        @return: Deferred firing with what the host read back until the
            stream ended.
        """
        link, xs = yield self.connected()
        read = []
        xs.rawDataInFn = read.append
        closed = self.host.nextClose()
        xs.transport.write(data)
        yield closed
        return b"".join(read).decode("utf-8")

    @defer.inlineCallbacks
    def test_malformedXML(self):
        """
        Malformed XML from the host gets the not-well-formed stream error.
        """
        text = yield self.hostWrites(b"<message to='room@%s' from='a@b/c'><body></message>" % DOMAIN.encode())
        self.assertIn("not-well-formed", text)
        self.assertIn("</stream:stream>", text)
        self.assertEqual(self.receiver.received, [])

    @defer.inlineCallbacks
    def test_restrictedXML(self):
        """
        A comment (RFC 6120 11.1) gets the restricted-xml stream error.
        """
        text = yield self.hostWrites(b"<!-- hi -->")
        self.assertIn("restricted-xml", text)

    @defer.inlineCallbacks
    def test_unaddressedStanza(self):
        """
        A stanza without 'from' gets the improper-addressing stream error.
        """
        text = yield self.hostWrites(b"<message to='room@%s'/>" % DOMAIN.encode())
        self.assertIn("improper-addressing", text)

    @defer.inlineCallbacks
    def test_unknownElement(self):
        """
        A top-level element that is no stanza gets unsupported-stanza-type.
        """
        text = yield self.hostWrites(b"<foo from='a@b' to='%s'/>" % DOMAIN.encode())
        self.assertIn("unsupported-stanza-type", text)

    @defer.inlineCallbacks
    def test_stanzaForAnotherDomain(self):
        """
        A stanza for another domain is answered item-not-found; the link
        stays up and carries the next stanza.
        """
        link, xs = yield self.connected()
        up = link.xmlstream
        xs.send("<iq type='get' id='x1' from='a@example/r' to='elsewhere.example'>"
                "<ping xmlns='urn:xmpp:ping'/></iq>")
        reply = yield self.host.waitFor(lambda e: e.getAttribute("id") == "x1")
        self.assertEqual(reply.getAttribute("type"), "error")
        self.assertEqual(reply.getAttribute("from"), "elsewhere.example")
        self.assertIsNotNone(
            next(reply.error.elements(ns.XMPP_STANZAS, "item-not-found"), None)
        )
        self.assertEqual(self.receiver.received, [])
        got = self.receiver.next()
        xs.send("<message from='a@example/r' to='%s'/>" % DOMAIN)
        yield got
        self.assertIs(link.xmlstream, up)


class SilentHostTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_handshakeTimeout(self):
        """
        A host that accepts the connection and never answers the stream
        header is dropped after handshakeTimeout, and tried again.
        """
        from twisted.internet import protocol

        accepted = []

        class Silent(protocol.Protocol):
            def connectionMade(self):
                accepted.append(self)
                if len(accepted) == 2:
                    secondAttempt.callback(None)

        secondAttempt = defer.Deferred()
        factory = protocol.Factory.forProtocol(Silent)
        port = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        link = ComponentLink(reactor, endpoint, DOMAIN, "x", initialDelay=0.05, handshakeTimeout=0.1)
        link.receiver = Receiver()
        link.startService()
        self.addCleanup(link.stopService)
        yield secondAttempt
        self.assertIsNone(link.xmlstream)
        self.assertIn("no handshake within 0.1 s", link._downReason)
        for p in accepted:
            p.transport.abortConnection()

