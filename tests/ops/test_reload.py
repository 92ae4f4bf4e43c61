"""
SIGHUP reloads the TLS certificate of the real server process (C{twistd
-n xmuc}): clients already connected stay connected, new TLS connections
get the new certificate, and a broken new certificate is refused with a
logged error while the one in use stays.
"""

import os

from cryptography import x509
from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectClient, makeSelfSignedCertificate
from tests.support.twistd import startTwistd, stopCleanly, tapConfig

PING = "<iq type='get' id='%s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"


def replaceFile(path, data):
    """
    Replace C{path} at once, as certbot's renewal does (a new file renamed
    over the old).
    """
    with open(path + ".new", "wb") as f:
        f.write(data)
    os.replace(path + ".new", path)


def serialOf(pemPath):
    with open(pemPath, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).serial_number


class ReloadTests(unittest.TestCase):
    def setUp(self):
        self.directory = os.path.abspath(self.mktemp())
        os.makedirs(self.directory)
        self.certificate = os.path.join(self.directory, "server.crt")
        self.key = os.path.join(self.directory, "server.key")
        self.install("first")

    def install(self, name):
        """
        Make a new self-signed certificate and put it where tap.conf points.

        @return: its serial number.
        """
        directory = os.path.join(self.directory, name)
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        for source, target in ((key, self.key), (certificate, self.certificate)):
            with open(source, "rb") as f:
                replaceFile(target, f.read())
        return serialOf(self.certificate)

    @defer.inlineCallbacks
    def tlsClient(self, server):
        """
        @return: a client logged in over TLS, and the serial number of the
            certificate the server showed it.
        """
        client = yield connectClient(server.port)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        yield client.login("user%d" % (len(self._cleanups),), "pw", "r", tls=True)
        peer = client.transport.getPeerCertificate().to_cryptography()
        return client, peer.serial_number

    @defer.inlineCallbacks
    def assertAlive(self, client, id):
        reply = yield client.iq(PING % (id,))
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_hangupReloads(self):
        firstSerial = serialOf(self.certificate)
        server = yield startTwistd(
            self,
            tapConfig(
                c2s={
                    "tls_certificate": self.certificate,
                    "tls_key": self.key,
                    "require_encryption": "true",
                },
                log={"level": "info"},
            ),
        )
        self.assertIn(
            "[xmuc.server#info] TLS: STARTTLS required, certificate for localhost, valid until ",
            server.text(),
        )
        established, serial = yield self.tlsClient(server)
        self.assertEqual(serial, firstSerial)

        secondSerial = self.install("second")
        server.signal("HUP")
        yield server.waitForOutput("TLS certificate reloaded")
        newcomer, serial = yield self.tlsClient(server)
        self.assertEqual(serial, secondSerial)
        yield self.assertAlive(established, "p1")
        yield self.assertAlive(newcomer, "p2")

        # A key that belongs to another certificate: refused, logged, and
        # the second certificate stays in use.
        other = os.path.join(self.directory, "other")
        os.makedirs(other)
        otherCertificate, otherKey = makeSelfSignedCertificate(other)
        with open(otherKey, "rb") as f:
            replaceFile(self.key, f.read())
        server.signal("HUP")
        output = yield server.waitForOutput("TLS certificate not reloaded")
        self.assertIn("does not match the certificate", output)
        late, serial = yield self.tlsClient(server)
        self.assertEqual(serial, secondSerial)
        yield self.assertAlive(established, "p3")
        yield self.assertAlive(late, "p4")

        output = yield stopCleanly(self, server)
        self.assertNotIn("Traceback", output)
