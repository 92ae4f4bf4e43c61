"""
The certificate of server streams and what peers' certificates are
checked against: configuration errors name the key at fault.  The TLS
context of server streams, in handshakes over memory: peers that offer
ALPN (Prosody offers C{xmpp-server} on STARTTLS too) are served.
"""

import os

from OpenSSL import SSL
from twisted.trial import unittest

from xmuc.c2s.certificates import readCertificatePair
from xmuc.config import ConfigError, loadConfig
from xmuc.s2s.certificates import ServerTLS
from xmuc.server import XmucServer

from tests.support.pki import TestCA, selfSigned


class ConfigurationTests(unittest.TestCase):
    def configure(self, s2s):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        lines = ["[server]", "hosts = a.test", "[c2s]", "require_encryption = false", "[storage]", "backend = memory", "[s2s]"]
        lines += ["%s = %s" % item for item in s2s.items()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return directory, path

    def test_certificateRequired(self):
        """
        Federation with required encryption and no certificate anywhere:
        the error names [s2s] tls_certificate.
        """
        _, path = self.configure({"listen": "tcp:0:interface=127.0.0.2"})
        error = self.assertRaises(ConfigError, XmucServer, loadConfig(path))
        self.assertEqual((error.section, error.key), ("s2s", "tls_certificate"))

    def test_unreadableAuthorities(self):
        """
        A ca_certificates file that is not PEM: the error names the key
        and its line.
        """
        directory, path = self.configure({"listen": "tcp:0:interface=127.0.0.2", "require_encryption": "false", "ca_certificates": "nothing.pem"})
        with open(os.path.join(directory, "nothing.pem"), "w") as f:
            f.write("not a certificate\n")
        error = self.assertRaises(ConfigError, XmucServer, loadConfig(path))
        self.assertEqual((error.section, error.key, error.line), ("s2s", "ca_certificates", 10))

    def test_ownCertificate(self):
        """
        [s2s] tls_certificate wins over [c2s]'s.
        """
        directory, _ = self.configure({})
        ca = TestCA(directory)
        certificate, key = ca.issue(["a.test"])
        _, path = self.configure({"listen": "tcp:0:interface=127.0.0.2", "tls_certificate": certificate, "tls_key": key})
        server = XmucServer(loadConfig(path))
        self.assertEqual(server.s2s.certificate.names(), ["a.test"])

    def test_badRoute(self):
        """
        A route that is not domain=host:port is refused with the key.
        """
        _, path = self.configure({"routes": "b.test=nowhere"})
        error = self.assertRaises(ConfigError, loadConfig, path)
        self.assertEqual((error.section, error.key), ("s2s", "routes"))
        self.assertIn("domain=host:port", error.message)


def handshake(server, offered):
    """
    A TLS handshake between a client offering the ALPN protocols
    C{offered} (L{None}: no ALPN) and C{server}'s context.

    @return: the protocol the client sees negotiated (C{b""}: none).
    @raise SSL.Error: when the handshake fails.
    """
    client = SSL.Connection(SSL.Context(SSL.TLS_METHOD), None)
    client.set_connect_state()
    if offered is not None:
        client.set_alpn_protos(offered)
    accepting = SSL.Connection(server.context, None)
    accepting.set_accept_state()
    done = set()
    for _ in range(10):
        for side, other in ((client, accepting), (accepting, client)):
            try:
                side.do_handshake()
                done.add(side)
            except SSL.WantReadError:
                pass
            try:
                other.bio_write(side.bio_read(65536))
            except SSL.WantReadError:
                pass
        if len(done) == 2:
            return client.get_alpn_proto_negotiated()
    raise AssertionError("handshake did not finish")


class ServerTLSTests(unittest.TestCase):
    def setUp(self):
        certificate, key = selfSigned(self.mktemp(), ["xmuc.test"])
        self.tls = ServerTLS(readCertificatePair(certificate, key))

    def test_alpnServerProtocol(self):
        """
        A peer offering C{xmpp-server} (XEP-0368) gets it.
        """
        self.assertEqual(handshake(self.tls, [b"xmpp-server"]), b"xmpp-server")

    def test_alpnWithoutOverlap(self):
        """
        A peer offering only other protocols is served without ALPN,
        not refused.
        """
        self.assertEqual(handshake(self.tls, [b"h2", b"xmpp-client"]), b"")

    def test_noAlpn(self):
        self.assertEqual(handshake(self.tls, None), b"")
