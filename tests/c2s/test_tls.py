"""
The TLS context of client streams: TLS 1.2 only with forward-secret,
authenticated-encryption suites (ECDHE with GCM or ChaCha20-Poly1305), TLS
1.3 as OpenSSL offers it.  Checked over real sockets, with Python's C{ssl}
module as the client.
"""

import os
import socket
import ssl as pyssl

from twisted.internet import defer, protocol, reactor, threads
from twisted.trial import unittest

from tests.support.client import makeSelfSignedCertificate
from xmuc.c2s.stream import loadTLSOptions
from xmuc.config import validate


def handshake(port, cipher=None, version=pyssl.TLSVersion.TLSv1_2):
    """
    Connect to C{127.0.0.1:port} and do a TLS handshake offering only
    C{cipher} (a TLS 1.2 suite name) at protocol C{version}.

    @return: the suite agreed, as C{ssl.SSLSocket.cipher()} names it.
    @raise ssl.SSLError: when the server refuses the handshake.
    """
    context = pyssl.SSLContext(pyssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = pyssl.CERT_NONE
    context.minimum_version = version
    context.maximum_version = version
    if cipher is not None:
        context.set_ciphers(cipher)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.cipher()[0]


class TLSSuitesTests(unittest.TestCase):
    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        options = loadTLSOptions(
            validate({"c2s": {"tls_certificate": certificate, "tls_key": key}})
        )
        factory = protocol.ServerFactory.forProtocol(protocol.Protocol)
        self.port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)

    def connect(self, cipher=None, version=pyssl.TLSVersion.TLSv1_2):
        return threads.deferToThread(
            handshake, self.port.getHost().port, cipher, version
        )

    @defer.inlineCallbacks
    def test_ecdheAEADAccepted(self):
        """
        A TLS 1.2 client offering one ECDHE suite with AEAD gets it.
        """
        for cipher in ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                       "ECDHE-RSA-CHACHA20-POLY1305"]:
            self.assertEqual((yield self.connect(cipher)), cipher)

    @defer.inlineCallbacks
    def test_weakSuitesRefused(self):
        """
        A TLS 1.2 client offering only a suite without forward secrecy
        (static RSA key exchange) or without AEAD (CBC with HMAC) is
        refused, whatever the other half of the suite.
        """
        for cipher in ["AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA",
                       "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256"]:
            yield self.assertFailure(self.connect(cipher), pyssl.SSLError)

    @defer.inlineCallbacks
    def test_tls13Accepted(self):
        """
        TLS 1.3 is negotiated as before.
        """
        agreed = yield self.connect(version=pyssl.TLSVersion.TLSv1_3)
        self.assertTrue(agreed.startswith("TLS_"), agreed)

    @defer.inlineCallbacks
    def test_olderVersionsRefused(self):
        """
        TLS 1.1 is refused (the minimum is TLS 1.2).
        """
        try:
            yield self.connect(version=pyssl.TLSVersion.TLSv1_1)
        except (pyssl.SSLError, ValueError):
            return
        self.fail("TLS 1.1 was accepted")
