"""
The TLS context of server streams, in handshakes over memory: peers that
offer ALPN (Prosody offers C{xmpp-server} on STARTTLS too) are served.
"""

from OpenSSL import SSL
from twisted.trial import unittest

from tests.support.pki import selfSigned
from xmuc.c2s.certificates import readCertificatePair
from xmuc.s2s.certificates import ServerTLS


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
