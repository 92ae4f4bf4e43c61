"""
The SCRAM functions against the RFC 5802 (SHA-1) and RFC 7677 (SHA-256)
test exchanges, message parsing, and SASLprep.
"""

import base64

from twisted.trial import unittest

from xmuc.auth import scram


class ExchangeVector:
    def __init__(self, hashName, clientNonce, serverNonce, salt, proof, verifier):
        self.hashName = hashName
        self.clientFirstBare = "n=user,r=" + clientNonce
        self.serverFirst = "r=%s%s,s=%s,i=4096" % (clientNonce, serverNonce, salt)
        self.clientFinalWithoutProof = "c=biws,r=%s%s" % (clientNonce, serverNonce)
        self.salt = base64.b64decode(salt)
        self.proof = proof
        self.verifier = verifier


RFC5802 = ExchangeVector(
    "SHA-1",
    "fyko+d2lbbFgONRv9qkxdawL",
    "3rfcNHYJY1ZVvWVs7j",
    "QSXCR+Q6sek8bf92",
    "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    "rmF9pqV8S7suAoZWja4dJRkFsKQ=",
)

RFC7677 = ExchangeVector(
    "SHA-256",
    "rOprNGfwEbeRWgbNEkqO",
    "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    "W22ZaJ0SNY7soEsUEjb6gQ==",
    "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
)


class RFCVectorsTests(unittest.TestCase):
    def check(self, vector):
        h = vector.hashName
        salted = scram.saltedPassword(h, "pencil", vector.salt, 4096)
        key = scram.clientKey(h, salted)
        stored = scram.storedKey(h, key)
        message = scram.authMessage(
            vector.clientFirstBare, vector.serverFirst, vector.clientFinalWithoutProof
        )
        proof = scram.clientProof(h, key, stored, message)
        self.assertEqual(scram.b64encode(proof), vector.proof)
        self.assertTrue(scram.verifyProof(h, stored, message, proof))
        wrong = bytes([proof[0] ^ 1]) + proof[1:]
        self.assertFalse(scram.verifyProof(h, stored, message, wrong))
        self.assertFalse(scram.verifyProof(h, stored, message, proof[:-1]))
        signature = scram.serverSignature(h, scram.serverKey(h, salted), message)
        self.assertEqual(scram.serverFinal(signature), "v=" + vector.verifier)

    def test_rfc5802_sha1(self):
        self.check(RFC5802)

    def test_rfc7677_sha256(self):
        self.check(RFC7677)

    def test_credentialsRoundTrip(self):
        credentials = scram.makeCredentials("SHA-256", "pencil", salt=RFC7677.salt)
        stored = scram.decodeCredentials(scram.encodeCredentials(credentials))
        self.assertEqual(stored, credentials)
        self.assertEqual(stored["iterations"], scram.DEFAULT_ITERATIONS)
        self.assertNotIn(b"pencil", repr(scram.encodeCredentials(credentials)).encode())


class MessageTests(unittest.TestCase):
    def test_clientFirst(self):
        first = scram.parseClientFirst(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
        self.assertEqual(first.gs2Header, "n,,")
        self.assertIsNone(first.authzid)
        self.assertEqual(first.username, "user")
        self.assertEqual(first.nonce, "fyko+d2lbbFgONRv9qkxdawL")
        self.assertEqual(first.bare, "n=user,r=fyko+d2lbbFgONRv9qkxdawL")

    def test_clientFirstAuthzidAndEscapes(self):
        first = scram.parseClientFirst(b"y,a=u=2Cx@h,n=a=3Db=2Cc,r=abc")
        self.assertEqual(first.gs2Header, "y,a=u=2Cx@h,")
        self.assertEqual(first.authzid, "u,x@h")
        self.assertEqual(first.username, "a=b,c")

    def test_channelBindingRefused(self):
        e = self.assertRaises(
            scram.ScramError, scram.parseClientFirst, b"p=tls-unique,,n=user,r=abc"
        )
        self.assertEqual(e.condition, "malformed-request")

    def test_malformedClientFirst(self):
        for data in (
            b"",
            b"n,,",
            b"x,,n=user,r=abc",
            b"n,,r=abc,n=user",
            b"n,,n=user",
            b"n,,n=,r=abc",
            b"n,,n=us=41er,r=abc",
            b"n,,m=ext,n=user,r=abc",
            b"n,,n=user,r=abc,m=x",
            b"n,,n=\xff,r=abc",
        ):
            self.assertRaises(scram.ScramError, scram.parseClientFirst, data)

    def test_clientFinal(self):
        final = scram.parseClientFinal(
            b"c=biws,r=abcdef,p=" + RFC5802.proof.encode()
        )
        self.assertEqual(final.channelBinding, b"n,,")
        self.assertEqual(final.nonce, "abcdef")
        self.assertEqual(final.withoutProof, "c=biws,r=abcdef")
        self.assertEqual(scram.b64encode(final.proof), RFC5802.proof)

    def test_clientFinalBadBase64(self):
        for data in (b"c=biws,r=abc,p=not base64!", b"c=%%%,r=abc,p=AAAA", b"c=biws,r=abc"):
            e = self.assertRaises(scram.ScramError, scram.parseClientFinal, data)
            self.assertEqual(e.condition, "malformed-request")

    def test_iterationsDefault(self):
        self.assertGreaterEqual(scram.DEFAULT_ITERATIONS, scram.MIN_ITERATIONS)
        self.assertEqual(scram.MIN_ITERATIONS, 4096)


class SASLprepTests(unittest.TestCase):
    """
    The examples of RFC 4013 section 3.
    """

    def test_examples(self):
        self.assertEqual(scram.saslprep("I\u00adX"), "IX")
        self.assertEqual(scram.saslprep("user"), "user")
        self.assertEqual(scram.saslprep("USER"), "USER")
        self.assertEqual(scram.saslprep("\u00aa"), "a")
        self.assertEqual(scram.saslprep("\u2168"), "IX")
        self.assertEqual(scram.saslprep("a\u00a0b"), "a b")

    def test_prohibited(self):
        self.assertRaises(UnicodeError, scram.saslprep, "\u0007")
        self.assertRaises(UnicodeError, scram.saslprep, "\u0627\u0031")

    def test_passwordsNormalizedBeforeHashing(self):
        salt = b"0123456789abcdef"
        self.assertEqual(
            scram.saltedPassword("SHA-1", "I\u00adX", salt, 4096),
            scram.saltedPassword("SHA-1", "IX", salt, 4096),
        )
