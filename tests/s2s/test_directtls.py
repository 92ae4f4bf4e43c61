"""
Direct TLS between servers (XEP-0368): b.test publishes only an
C{_xmpps-server._tcp} SRV record (on a real DNS server on loopback) for its
C{[s2s] direct_tls_listen} port, and a.test reaches it there.
"""


from twisted.internet import defer
from twisted.trial import unittest

from tests.support.dnszone import zoneResolver
from tests.support.federation import loginTo, receiveUntil, startFederation

ZONE = """\
$ORIGIN b.test.
$TTL 300
@ IN SOA ns.b.test. admin.b.test. 1 3600 600 86400 300
@ IN NS ns.b.test.
_xmpps-server._tcp IN SRV 0 5 %d localhost.
"""


class DirectTLSTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_directTLS(self):
        direct = {"s2s": {"direct_tls_listen": "tcp:0:interface=127.0.0.1"}}
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca", extra={"b.test": direct})
        directPort = b.server.s2s.ports[1].getHost().port
        resolver = a.server.s2s.resolver
        del resolver.routes["b.test"]
        resolver.dns = zoneResolver(self, ZONE % (directPort,))
        alice = yield loginTo(self, a, "alice")
        bob = yield loginTo(self, b, "bob")
        alice.send("<message to='bob@b.test' id='m'><body>over direct TLS</body></message>")
        got = yield receiveUntil(bob, lambda e: e.name == "message")
        self.assertEqual(str(got.body), "over direct TLS")
        link = a.server.s2s.links["a.test", "b.test"]
        self.assertEqual((link.stream.target.port, link.stream.target.directTLS), (directPort, True))
        self.assertEqual(
            {n.authenticated.get("a.test") for n in b.server.s2s.incoming if n.xmlstream.tls},
            {"SASL EXTERNAL"},
        )
