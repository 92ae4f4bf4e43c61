"""
Where a domain's server is: static routes first, else SRV records asked
of a real DNS server (Twisted Names serving a zone file on loopback), in
priority order, direct TLS ones (XEP-0368) included, else the domain on
port 5269.
"""


from twisted.internet import defer, reactor, task
from twisted.internet.protocol import DatagramProtocol
from twisted.names import client, dns
from twisted.trial import unittest

from xmuc.s2s.resolver import Resolver, ResolverStopped, Target

from tests.support.dnszone import serveZone, zoneResolver

ZONE = """\
$ORIGIN example.test.
$TTL 300
@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
ns IN A 127.0.0.1
_xmpp-server._tcp IN SRV 10 5 5269 xmpp2.example.test.
_xmpp-server._tcp IN SRV 5 5 5270 xmpp1.example.test.
_xmpps-server._tcp IN SRV 0 5 5223 tls.example.test.
rooms IN A 127.0.0.1
_xmpp-server._tcp.closed IN SRV 0 0 0 .
"""


class ResolverTests(unittest.TestCase):
    def setUp(self):
        self.dns = zoneResolver(self, ZONE)

    @defer.inlineCallbacks
    def test_srvOrder(self):
        """
        Both services' records, lowest priority first; the
        C{_xmpps-server} one starts with TLS.
        """
        targets = yield Resolver({}, self.dns).targets("example.test")
        self.assertEqual(
            [(t.host, t.port, t.directTLS) for t in targets],
            [("tls.example.test", 5223, True), ("xmpp1.example.test", 5270, False), ("xmpp2.example.test", 5269, False)],
        )

    @defer.inlineCallbacks
    def test_noRecords(self):
        """
        Without SRV records, the domain itself on port 5269.
        """
        targets = yield Resolver({}, self.dns).targets("rooms.example.test")
        self.assertEqual([(t.host, t.port, t.directTLS) for t in targets], [("rooms.example.test", 5269, False)])

    @defer.inlineCallbacks
    def test_staticRoute(self):
        """
        A static route wins over DNS.
        """
        targets = yield Resolver({"example.test": ("127.0.0.9", 5999)}, self.dns).targets("example.test")
        self.assertEqual(targets, [Target("127.0.0.9", 5999, False, "[s2s] routes")])

    @defer.inlineCallbacks
    def test_notOffered(self):
        """
        RFC 6120 3.2.1: a lone SRV target "." says the domain does not
        federate: nothing to try, not even port 5269.
        """
        targets = yield Resolver({}, self.dns).targets("closed.example.test")
        self.assertEqual(targets, [])


#: What schedules the timers of a DNS client.
DNS_CLIENT_PARTS = (client.Resolver, dns.DNSDatagramProtocol, dns.DNSProtocol)


class OwnedResolverTests(unittest.TestCase):
    """
    Without a DNS client given, the resolver makes its own, and L{stop}
    leaves no timer or socket of it behind (the global one of Twisted
    Names re-reads resolv.conf every minute, forever).
    """

    def silentServer(self):
        """
        @return: the address of a UDP port that never answers.
        """
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return ("127.0.0.1", port.getHost().port)

    @defer.inlineCallbacks
    def leftBehind(self, before):
        """
        @return: Deferred firing with the timers of DNS clients (resolv.conf
            re-reads, query retries) scheduled since C{before} and still
            pending after a reactor turn (sockets close in one).
        """
        yield task.deferLater(reactor, 0, lambda: None)
        return [
            call
            for call in reactor.getDelayedCalls()
            if call not in before
            and call.active()
            and isinstance(getattr(call.func, "__self__", None), DNS_CLIENT_PARTS)
        ]

    @defer.inlineCallbacks
    def test_lookupThenStop(self):
        """
        A real look-up through the resolver's own DNS client; once stopped,
        nothing of it is scheduled any more.
        """
        before = set(reactor.getDelayedCalls())
        resolver = Resolver({}, reactor=reactor, servers=[serveZone(self, ZONE)])
        resolver.start()
        targets = yield resolver.targets("example.test")
        self.assertEqual(
            [(t.host, t.port) for t in targets],
            [("tls.example.test", 5223), ("xmpp1.example.test", 5270), ("xmpp2.example.test", 5269)],
        )
        self.assertNotEqual((yield self.leftBehind(before)), [])
        resolver.stop()
        self.assertEqual((yield self.leftBehind(before)), [])

    @defer.inlineCallbacks
    def test_stopDuringLookup(self):
        """
        A look-up still waiting for its name server when the resolver stops
        fails at once with L{ResolverStopped} (no fallback to port 5269:
        nothing is to be connected to any more), its retry timers gone.
        """
        before = set(reactor.getDelayedCalls())
        resolver = Resolver({}, reactor=reactor, servers=[self.silentServer()])
        resolver.start()
        waiting = resolver.targets("example.test")
        self.assertFalse(waiting.called)
        resolver.stop()
        yield self.assertFailure(waiting, ResolverStopped)
        self.assertEqual((yield self.leftBehind(before)), [])

    @defer.inlineCallbacks
    def test_noLookupAfterStop(self):
        """
        Once stopped, a look-up fails without making a DNS client again.
        """
        before = set(reactor.getDelayedCalls())
        resolver = Resolver({}, reactor=reactor, servers=[self.silentServer()])
        resolver.stop()
        yield self.assertFailure(resolver.targets("example.test"), ResolverStopped)
        self.assertEqual((yield self.leftBehind(before)), [])
