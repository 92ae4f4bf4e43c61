"""
The server's TLS certificate: reading and checking a certificate and key
pair from PEM files, for the client listeners (read at start and again on
SIGHUP) and for C{xmucctl cert --import}.
"""

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL
from service_identity import CertificateError as _NameMismatch
from service_identity import VerificationError
from service_identity.cryptography import verify_certificate_hostname
from twisted.internet import ssl

_PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

#: The ALPN protocol names of client and server streams (XEP-0368).
ALPN_CLIENT = b"xmpp-client"
ALPN_SERVER = b"xmpp-server"


def selectALPN(protocol):
    """
    The ALPN choice of a TLS server context (for
    C{SSL.Context.set_alpn_select_callback}).

    Clients offer ALPN on STARTTLS too (C{openssl s_client -alpn
    xmpp-client}, Prosody's C{xmpp-server}).  Twisted's own selection
    answers an empty name when nothing it knows overlaps, which OpenSSL
    turns into an C{internal_error} alert: the handshake fails.  Here
    C{protocol} is chosen when offered; otherwise ALPN is simply not used
    (RFC 7301 section 3.2 lets a server that does not pick one of the
    offered protocols go on without the extension).

    @param protocol: L{ALPN_CLIENT} or L{ALPN_SERVER}.
    @return: the callback.
    """

    def select(connection, offered):
        return protocol if protocol in offered else SSL.NO_OVERLAPPING_PROTOCOLS

    return select


#: The TLS 1.2 suites offered: Mozilla's "intermediate" profile, forward
#: secret (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305) only.
#: TLS 1.3 suites are OpenSSL's, all of which already are both.
TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
])


def certificateOptions(pair):
    """
    @param pair: a L{CertificatePair}.
    @return: TLS options (L{ssl.CertificateOptions}) presenting it: TLS
        1.3, or TLS 1.2 with the L{TLS12_CIPHERS} suites only; the whole
        chain sent.
    """
    return ssl.CertificateOptions(
        privateKey=pair.key,
        certificate=pair.chain[0],
        extraCertChain=pair.chain[1:] or None,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2,
        acceptableCiphers=ssl.AcceptableCiphers.fromOpenSSLCipherString(TLS12_CIPHERS),
    )


class CertificateError(Exception):
    """
    A certificate or key file cannot be used.

    @ivar which: C{'certificate'} or C{'key'}: the file at fault.
    @ivar message: what is wrong, naming the file.
    """

    def __init__(self, which, message):
        Exception.__init__(self, message)
        self.which = which
        self.message = message


class CertificatePair:
    """
    A certificate chain and its private key, read and checked.

    @ivar chain: the L{x509.Certificate}s, the server's first, then the
        intermediates of its chain.
    @ivar key: the private key.
    """

    def __init__(self, chain, key):
        self.chain = chain
        self.key = key

    @property
    def certificate(self):
        """
        @return: the server's own L{x509.Certificate}.
        """
        return self.chain[0]

    def names(self):
        """
        @return: the DNS names of the certificate (subject alternative
            names, else the common name).
        """
        try:
            extension = self.certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            )
            return extension.value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            return [
                attribute.value
                for attribute in self.certificate.subject.get_attributes_for_oid(
                    x509.oid.NameOID.COMMON_NAME
                )
            ]

    def covers(self, host):
        """
        @param host: a domain.
        @return: whether clients verifying C{host} accept the certificate
            (RFC 6125 matching, wildcards included).
        """
        try:
            verify_certificate_hostname(self.certificate, host)
        except (VerificationError, _NameMismatch):
            return False
        return True

    def notAfter(self):
        """
        @return: the end of the certificate's validity (aware, UTC).
        """
        return self.certificate.not_valid_after_utc

    def describe(self):
        """
        @return: e.g. C{'for example.org, conference.example.org, valid
            until 2027-03-01 12:00 UTC'}.
        """
        return "for %s, valid until %s" % (
            ", ".join(self.names()) or "no name",
            self.notAfter().strftime("%Y-%m-%d %H:%M UTC"),
        )


def _read(path, which):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CertificateError(which, "cannot read %s (%s)" % (path, e.strerror))


def readCertificatePair(certificatePath, keyPath=None):
    """
    Read a certificate chain and its key, and check that they belong
    together.

    @param certificatePath: PEM file: the certificate, then optionally the
        intermediates (certbot's C{fullchain.pem}).
    @param keyPath: PEM file with the unencrypted private key (certbot's
        C{privkey.pem}); L{None}: read from C{certificatePath}.
    @return: a L{CertificatePair}.
    @raise CertificateError: for unreadable files, no PEM certificate, no
        unencrypted PEM key, or a key that does not match the certificate.
    """
    keyPath = keyPath or certificatePath
    certificatePEM = _read(certificatePath, "certificate")
    keyPEM = _read(keyPath, "key")
    try:
        chain = x509.load_pem_x509_certificates(certificatePEM)
    except ValueError:
        raise CertificateError("certificate", "no PEM certificate in %s" % (certificatePath,))
    try:
        key = serialization.load_pem_private_key(keyPEM, password=None)
    except (ValueError, TypeError):
        raise CertificateError("key", "no unencrypted PEM private key in %s" % (keyPath,))
    if chain[0].public_key().public_bytes(*_PUBLIC) != key.public_key().public_bytes(*_PUBLIC):
        raise CertificateError(
            "key", "the key in %s does not match the certificate in %s" % (keyPath, certificatePath)
        )
    return CertificatePair(chain, key)

