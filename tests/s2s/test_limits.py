"""
What another server may cost, over real connections between real
federating servers (and raw peers on real sockets): incoming connections
per address and unauthenticated ones in total, the read rate of a server
stream (the peer is slowed, nothing is dropped), and a peer that does not
read what it is sent (its stream is closed).

Raw peers connect from a loopback address of their own (127.0.0.9): the
federating servers listen on 127.0.0.2 and 127.0.0.3.
"""

from twisted.internet import defer, reactor, task
from twisted.logger import formatEvent, globalLogPublisher
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

#: The address raw peers connect from.
FLOODER = "127.0.0.9"

#: Seconds a condition polled by L{waitUntil} may take to become true.
WAIT = 20.0


@defer.inlineCallbacks
def waitUntil(predicate, timeout=WAIT):
    """
    Poll C{predicate} until it is true.

    @raise AssertionError: when it is still false after C{timeout} seconds.
    """
    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError("condition not reached: %r" % (predicate,))
        yield task.deferLater(reactor, 0.01, lambda: None)


def collectLog(testCase):
    """
    @return: a list that receives the text of every log event from now on
        to the end of the test.
    """
    collected = []

    def observer(event):
        if event.get("log_format"):
            collected.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    testCase.addCleanup(globalLogPublisher.removeObserver, observer)
    return collected


@defer.inlineCallbacks
def assertReaches(testCase, running, domain):
    """
    A user of C{running} pings C{domain}: the answer comes back (over
    federation).
    """
    user = yield loginTo(testCase, running, "pinger", available=False)
    reply = yield user.iq("<iq type='get' id='p' to='%s'><ping xmlns='%s'/></iq>" % (domain, PING), timeout=WAIT)
    testCase.assertEqual(reply.getAttribute("type"), "result")


def incomingFrom(running, domain):
    """
    @return: the incoming L{xmuc.s2s.stream.ServerXmlStream} of C{running}
        on which C{domain} authenticated.
    """
    for negotiator in running.server.s2s.incoming:
        if domain in negotiator.authenticated:
            return negotiator.xmlstream
    raise LookupError(domain)


class ConnectionCapTests(unittest.TestCase):
    @defer.inlineCallbacks
    def rawPeer(self, running, header=True):
        """
        @return: Deferred firing with a raw connection from L{FLOODER} to
            C{running}'s s2s listener; when C{header}, its stream header
            sent (as from C{flood.test}) and the server's header and
            features read.
        """
        host, port = s2sPort(running)
        domain = running.server.hosts[0]
        client = yield connectClient(port, domain, host=host, source=FLOODER)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        if header:
            client.send(HEADER % ("flood.test", domain))
            answer = yield client.receive()
            self.assertEqual(answer.name, "stream")
            features = yield client.receive()
            self.assertEqual(features.name, "features")
        return client

    @defer.inlineCallbacks
    def test_floodFromOneAddress(self):
        """
        Past C{[s2s] max_connections_per_ip} connections from one address,
        each new one gets a C{policy-violation} stream error; a real peer
        from another address still federates, both ways.
        """
        limit = {"s2s": {"max_connections_per_ip": "3"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], extra={"b.test": limit})
        admitted = []
        for _ in range(3):
            peer = yield self.rawPeer(b)
            admitted.append(peer)
        for _ in range(4):
            peer = yield self.rawPeer(b, header=False)
            condition = yield peer.streamError()
            self.assertEqual(condition, "policy-violation")
            yield peer.waitClosed()
        self.assertEqual(b.server.s2s.limits.connectionsFrom(FLOODER), 3)
        yield assertReaches(self, a, "b.test")
        yield assertReaches(self, b, "a.test")
        # A connection that goes frees its place.
        admitted[0].transport.loseConnection()
        yield waitUntil(lambda: b.server.s2s.limits.connectionsFrom(FLOODER) == 2)
        yield self.rawPeer(b)

    @defer.inlineCallbacks
    def test_unauthenticatedOldestClosed(self):
        """
        Past C{[s2s] max_unauthenticated} connections that authenticated no
        domain, the oldest of them is closed with C{policy-violation}; a
        real peer connecting then still authenticates and federates.
        """
        limit = {"s2s": {"max_unauthenticated": "2", "max_connections_per_ip": "0"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], extra={"b.test": limit})
        idle1 = yield self.rawPeer(b)
        yield self.rawPeer(b)
        idle3 = yield self.rawPeer(b)
        condition = yield idle1.streamError()
        self.assertEqual(condition, "policy-violation")
        self.assertFalse(idle3.closed.called)
        yield assertReaches(self, a, "b.test")
        self.assertIn("a.test", incomingFrom(b, "a.test").negotiator.authenticated)


class ReadRateTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_fastPeerSlowedNotDropped(self):
        """
        A peer sending faster than C{[s2s] read_rate} after C{read_burst}
        is not read for a while, again and again (300 kB at 100 kB/s:
        several reads, each waiting for the rate; TCP slows the peer down);
        every stanza it sent arrives, in order.
        """
        slow = {"s2s": {"read_rate": "100000", "read_burst": "4096"}}
        fast = {"c2s": {"read_rate": "0"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], extra={"a.test": fast, "b.test": slow})
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        body = "x" * 2000
        count = 150
        for number in range(count):
            alice.send(
                "<message to='bob@b.test/r' type='chat' id='m%d'><body>%s</body></message>" % (number, body)
            )
        for number in range(count):
            message = yield receiveUntil(bob, lambda e: e.name == "message", timeout=WAIT)
            self.assertEqual((message.getAttribute("id"), str(message.body)), ("m%d" % (number,), body))
        stream = incomingFrom(b, "a.test")
        self.assertGreater(stream.readRate.holds, 1)
        yield waitUntil(lambda: not stream.inputGate.reasons)


class SlowPeerTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_peerNotReadingClosed(self):
        """
        A peer that stops reading: once more than C{[s2s]
        max_send_backlog} bytes wait for it beyond the socket buffers, the
        stream to it is closed with C{policy-violation} and aborted; the
        next stanzas open a new stream, which works.
        """
        bounded = {"s2s": {"max_send_backlog": "400000", "send_timeout": "0"}, "c2s": {"read_rate": "0"}}
        # b reads a's stream only when this test says so.
        unlimited = {"s2s": {"read_rate": "0"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], extra={"a.test": bounded, "b.test": unlimited})
        log = collectLog(self)
        alice = yield loginTo(self, a, "alice")
        yield assertReaches(self, a, "b.test")
        incoming = incomingFrom(b, "a.test")
        incoming.transport.pauseProducing()
        self.addCleanup(lambda: incoming.transport and incoming.transport.resumeProducing())
        outgoing = a.server.s2s.links["a.test", "b.test"].stream.xmlstream
        body = "x" * 60000
        number = 0
        while not outgoing.lost.called:
            # 120 MB: far beyond any socket buffers.
            self.assertLess(number, 2000, "the stream to a peer that does not read stays open")
            for _ in range(20):
                number += 1
                alice.send(
                    "<message to='nobody@b.test' type='headline' id='s%d'><body>%s</body></message>" % (number, body)
                )
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertTrue(any("does not read (policy-violation" in text for text in log), log)
        self.assertLessEqual(outgoing.output.backlog, 400000 + 2 * 60000)
        incoming.transport.resumeProducing()
        yield waitUntil(lambda: ("a.test", "b.test") not in a.server.s2s.links or
                        a.server.s2s.links["a.test", "b.test"].stream is not None)
        yield assertReaches(self, a, "b.test")
