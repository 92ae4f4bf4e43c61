"""
The TLS context of client streams: TLS 1.2 only with forward-secret,
authenticated-encryption suites (ECDHE with GCM or ChaCha20-Poly1305), TLS
1.3 as OpenSSL offers it.  Checked over real sockets, with Python's C{ssl}
module as the client; ALPN (clients offering C{xmpp-client}, as C{openssl
s_client -starttls xmpp -alpn xmpp-client} does) with a pyOpenSSL client
over STARTTLS and a direct TLS listener.
"""

import os
import socket
import ssl as pyssl

from OpenSSL import SSL
from twisted.internet import defer, endpoints, protocol, reactor, threads
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.trial import unittest
from zope.interface import implementer

from tests.support.client import (
    NS_TLS,
    XMPPTestClient,
    certificateDirectory,
    connectTestClient,
    firstChild,
    makeSelfSignedCertificate,
    mechanisms,
    startServerWith,
    tlsSections,
)
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


@implementer(IOpenSSLClientConnectionCreator)
class OfferingALPN:
    """
    A TLS client offering the ALPN C{protocols}, verifying nothing
    (throwaway certificates).
    """

    def __init__(self, protocols):
        self.protocols = protocols

    def clientConnectionForTLS(self, tlsProtocol):
        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        context.set_alpn_protos(self.protocols)
        connection = SSL.Connection(context, None)
        connection.set_app_data(tlsProtocol)
        return connection


def negotiated(client):
    """
    @return: the ALPN protocol agreed on C{client}'s TLS connection, or
        L{None}.
    """
    return client.transport.getHandle().get_alpn_proto_negotiated() or None


class ALPNTests(unittest.TestCase):
    """
    Clients offering ALPN complete the handshake and go on with XMPP.
    """

    @defer.inlineCallbacks
    def startTLS(self, protocols):
        """
        Open a stream on a server requiring STARTTLS and start TLS offering
        C{protocols}.

        @return: Deferred firing with C{(client, features)} after the
            restart over TLS.
        """
        running = yield startServerWith(self, tlsSections(certificateDirectory(self)))
        client = yield connectTestClient(self, running)
        yield client.openStream()
        client.send("<starttls xmlns='%s'/>" % (NS_TLS,))
        answer = yield client.receive()
        self.assertEqual(answer.name, "proceed")
        client.transport.startTLS(OfferingALPN(protocols))
        client._newParser()
        features = yield client.openStream()
        return client, features

    @defer.inlineCallbacks
    def test_startTLSOfferingXMPPClient(self):
        """
        A client offering C{xmpp-client} on STARTTLS gets it, and the
        stream goes on: SASL is offered over TLS.
        """
        client, features = yield self.startTLS([b"xmpp-client"])
        self.assertEqual(negotiated(client), b"xmpp-client")
        self.assertIn("PLAIN", mechanisms(features))

    @defer.inlineCallbacks
    def test_startTLSOfferingOthers(self):
        """
        A client offering only protocols the server does not speak is
        served without ALPN (not refused with an C{internal_error}).
        """
        client, features = yield self.startTLS([b"h2", b"http/1.1"])
        self.assertIsNone(negotiated(client))
        self.assertIn("PLAIN", mechanisms(features))

    @defer.inlineCallbacks
    def test_directTLSListener(self):
        """
        On an C{ssl:} client listener (XEP-0368 direct TLS), a client
        offering C{xmpp-client} gets it; the stream is encrypted from the
        start, so SASL is offered at once and STARTTLS is not.
        """
        directory = certificateDirectory(self)
        sections = tlsSections(directory)
        c2s = sections["c2s"]
        c2s["listen"] = "ssl:0:interface=127.0.0.1:privateKey=%s:certKey=%s" % (
            c2s["tls_key"],
            c2s["tls_certificate"],
        )
        running = yield startServerWith(self, sections)
        endpoint = endpoints.wrapClientTLS(
            OfferingALPN([b"xmpp-client"]),
            endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", running.c2sPort),
        )
        client = yield endpoints.connectProtocol(endpoint, XMPPTestClient("localhost"))
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        features = yield client.openStream()
        self.assertEqual(negotiated(client), b"xmpp-client")
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        self.assertIn("PLAIN", mechanisms(features))
