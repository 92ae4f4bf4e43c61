"""
Whose forwarding headers are believed (C{[http] trusted_proxies}).
"""

import ipaddress

from twisted.internet import address
from twisted.trial import unittest

from xmuc.http.proxy import TrustedProxies, clientAddress


def proxies(*networks):
    return TrustedProxies([ipaddress.ip_network(n) for n in networks])


class ClientHostTests(unittest.TestCase):
    def test_untrustedPeer(self):
        """
        Anybody may write C{X-Forwarded-For}: from a peer that is no
        trusted proxy, the peer is the client.
        """
        self.assertEqual(proxies("10.0.0.1").clientHost("192.0.2.5", ["203.0.113.7"]), "192.0.2.5")

    def test_trustedPeer(self):
        self.assertEqual(proxies("10.0.0.1").clientHost("10.0.0.1", ["203.0.113.7"]), "203.0.113.7")

    def test_rightmostUntrusted(self):
        """
        Each proxy appends the address it was reached from: the right-most
        address no trusted proxy wrote is the client; what is left of it
        the client may have forged.
        """
        trusted = proxies("10.0.0.0/8")
        self.assertEqual(
            trusted.clientHost("10.0.0.1", ["1.1.1.1, 198.51.100.9", "10.2.3.4"]), "198.51.100.9"
        )

    def test_onlyProxies(self):
        self.assertEqual(proxies("10.0.0.0/8").clientHost("10.0.0.1", ["10.0.0.2"]), "10.0.0.2")

    def test_noHeader(self):
        self.assertEqual(proxies("10.0.0.1").clientHost("10.0.0.1", []), "10.0.0.1")

    def test_garbage(self):
        """
        A value that is no address stops the walk: the last hop known is
        the client.
        """
        self.assertEqual(proxies("10.0.0.1").clientHost("10.0.0.1", ["unknown"]), "10.0.0.1")

    def test_ipv6(self):
        trusted = proxies("::1", "127.0.0.1")
        self.assertEqual(trusted.clientHost("::1", ["2001:db8::7"]), "2001:db8::7")
        self.assertEqual(trusted.clientHost("::ffff:127.0.0.1", ["[2001:db8::8]"]), "2001:db8::8")


class SecureTests(unittest.TestCase):
    def test_transport(self):
        self.assertTrue(proxies().isSecure("192.0.2.5", True, None))

    def test_trustedHTTPS(self):
        self.assertTrue(proxies("10.0.0.1").isSecure("10.0.0.1", False, "https"))
        self.assertTrue(proxies("10.0.0.1").isSecure("10.0.0.1", False, "HTTPS, http"))

    def test_trustedHTTP(self):
        self.assertFalse(proxies("10.0.0.1").isSecure("10.0.0.1", False, "http"))

    def test_untrusted(self):
        self.assertFalse(proxies("10.0.0.1").isSecure("192.0.2.5", False, "https"))


class ClientAddressTests(unittest.TestCase):
    def test_same(self):
        peer = address.IPv4Address("TCP", "127.0.0.1", 4567)
        self.assertIs(clientAddress(peer, "127.0.0.1"), peer)

    def test_forwarded(self):
        peer = address.IPv4Address("TCP", "127.0.0.1", 4567)
        self.assertEqual(clientAddress(peer, "2001:db8::7"), address.IPv6Address("TCP", "2001:db8::7", 0))
        self.assertEqual(clientAddress(peer, "203.0.113.7"), address.IPv4Address("TCP", "203.0.113.7", 0))
