"""
The federating ejabberd harness on its own: its DNS zone answers as
Erlang's resolver needs, and two private ejabberds find each other through
it and federate (dialback over STARTTLS), before xmuc is involved.
"""

import os

from twisted.internet import defer, reactor
from twisted.names import client, dns, error
from twisted.trial import unittest

from tests.interop.ejabberd import requireEjabberd
from tests.interop.ejabberds2s import FederatingEjabberd, SRVZone
from tests.interop.prosodys2s import S2S_PORT, loopbackAddresses


class SRVZoneTests(unittest.TestCase):
    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        self.zone = SRVZone(directory, {"a.test": "127.0.0.50"})
        port = self.zone.start(reactor)
        self.addCleanup(self.zone.stop)
        self.resolver = client.Resolver(servers=[("127.0.0.1", port)])

    @defer.inlineCallbacks
    def test_srvRecord(self):
        """
        A peer's C{_xmpp-server._tcp} record targets its address on port
        5269, and the answer carries the query's RD bit back (RFC 1035
        4.1.1; Erlang's resolver drops an answer without it).
        """
        query = dns.Query(b"_xmpp-server._tcp.a.test", dns.SRV)
        answer = yield self.resolver.queryUDP([query])
        self.assertEqual(answer.rCode, dns.OK)
        self.assertTrue(answer.recDes)
        [record] = answer.answers
        self.assertEqual((str(record.payload.target), record.payload.port), ("127.0.0.50", S2S_PORT))

    @defer.inlineCallbacks
    def test_otherNames(self):
        """
        Every other name of the zone does not exist: the direct TLS record
        of the peer, and the records of a domain nobody added.
        """
        for name in ("_xmpps-server._tcp.a.test", "_xmpp-server._tcp.b.test"):
            with self.assertRaises(error.DomainError):
                yield self.resolver.lookupService(name)

    def test_onlyTestDomains(self):
        """
        Only names under C{.test} (the zone) can be peers.
        """
        self.assertRaises(ValueError, SRVZone, self.mktemp(), {"example.com": "127.0.0.50"})


class TwoEjabberdsTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_chat(self):
        """
        Users of two private ejabberds chat across them: each server found
        the other through its SRV record.
        """
        requireEjabberd()
        first, second = loopbackAddresses(2, first=40)
        directory = os.path.abspath(self.mktemp())
        a = FederatingEjabberd("a.test", first, {"b.test": second}, os.path.join(directory, "a"))
        b = FederatingEjabberd("b.test", second, {"a.test": first}, os.path.join(directory, "b"))
        for server in (a, b):
            yield server.start()
            self.addCleanup(server.stop)
        alice = yield a.connectClient(self, "alice")
        bob = yield b.connectClient(self, "bob")
        for sender, receiver, to, body in ((alice, bob, "bob@b.test/r", "hi bob"), (bob, alice, "alice@a.test/r", "hi")):
            sender.send("<message to='%s' type='chat' id='m'><body>%s</body></message>" % (to, body))
            while True:
                message = yield receiver.receive(30)
                if message.name == "message" and message.body is not None:
                    break
            self.assertEqual(str(message.body), body)
