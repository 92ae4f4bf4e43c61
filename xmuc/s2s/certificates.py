"""
TLS on server streams and the certificate checks of XEP-0178.

A server stream uses TLS in both roles: the initiating server is the TLS
client and presents its certificate too, so that the receiving server can
authenticate it with SASL EXTERNAL.  OpenSSL asks for the peer's
certificate but never refuses the handshake over it: whether a
certificate is good enough depends on the domain it is checked for, known
only from the stream (L{peerProblem}), and on C{[s2s] secure_auth}.
"""

import os
import ssl as _ssl

from cryptography import x509
from OpenSSL import SSL, crypto
from service_identity import CertificateError as _NameMismatch
from service_identity import VerificationError
from service_identity.cryptography import verify_certificate_hostname
from twisted.internet import ssl
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IOpenSSLServerConnectionCreator
from zope.interface import implementer

from xmuc.c2s.certificates import ALPN_SERVER, CertificateError, certificateOptions, readCertificatePair, selectALPN


def loadServerCertificate(config):
    """
    Read C{[s2s] tls_certificate} and C{tls_key}, or C{[c2s]}'s when they
    are not set.

    @return: a L{xmuc.c2s.certificates.CertificatePair}, or L{None} when
        no certificate is configured anywhere.
    @raise xmuc.config.ConfigError: for unreadable or mismatched files, or
        when encryption is required without a certificate.
    """
    section = "s2s" if config.get("s2s", "tls_certificate") else "c2s"
    certPath = config.resolvePath(config.get(section, "tls_certificate"))
    keyPath = config.resolvePath(config.get(section, "tls_key"))
    if not certPath:
        if config.get("s2s", "direct_tls_listen"):
            raise config.error("s2s", "direct_tls_listen", "a certificate ([s2s] or [c2s] tls_certificate) is needed")
        if config.get("s2s", "require_encryption") and config.get("s2s", "listen"):
            raise config.error(
                "s2s",
                "tls_certificate",
                "a certificate ([s2s] or [c2s] tls_certificate) is needed when require_encryption is true",
            )
        return None
    try:
        return readCertificatePair(certPath, keyPath or None)
    except CertificateError as e:
        raise config.error(section, "tls_key" if e.which == "key" else "tls_certificate", e.message)


def _acceptForNow(connection, certificate, errno, depth, ok):
    # The verdict is L{peerProblem}'s, once the domain is known.
    return True


@implementer(IOpenSSLClientConnectionCreator, IOpenSSLServerConnectionCreator)
class ServerTLS:
    """
    The TLS context of server streams, for both roles.
    """

    def __init__(self, pair=None):
        """
        @param pair: our L{xmuc.c2s.certificates.CertificatePair}, or
            L{None} (then only the client role works, without a
            certificate).
        """
        if pair is not None:
            options = certificateOptions(pair)
        else:
            options = ssl.CertificateOptions(raiseMinimumTo=ssl.TLSVersion.TLSv1_2)
        self.context = options.getContext()
        self.context.set_verify(SSL.VERIFY_PEER, _acceptForNow)
        # Prosody offers ALPN xmpp-server on STARTTLS too.
        self.context.set_alpn_select_callback(selectALPN(ALPN_SERVER))
        self.hasCertificate = pair is not None

    def serverConnectionForTLS(self, tlsProtocol):
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(tlsProtocol)
        return connection

    def forDomain(self, domain):
        """
        @return: the client connection creator for a stream to C{domain}
            (it sends C{domain} as SNI).
        """
        return _ClientTLS(self.context, domain)

    def clientConnectionForTLS(self, tlsProtocol):
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(tlsProtocol)
        return connection


@implementer(IOpenSSLClientConnectionCreator)
class _ClientTLS:
    def __init__(self, context, domain):
        self.context = context
        self.domain = domain

    def clientConnectionForTLS(self, tlsProtocol):
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(tlsProtocol)
        connection.set_tlsext_host_name(self.domain.encode("idna"))
        return connection


class TrustStore:
    """
    The certificate authorities whose certificates authenticate peers.
    """

    def __init__(self, caPath=None):
        """
        @param caPath: a PEM file of CA certificates, or L{None} for the
            system's store.
        @raise CertificateError: when C{caPath} holds no certificate.
        """
        self.store = crypto.X509Store()
        self.caPath = caPath
        if caPath:
            try:
                with open(caPath, "rb") as f:
                    authorities = x509.load_pem_x509_certificates(f.read())
            except (OSError, ValueError) as e:
                raise CertificateError("certificate", "cannot read CA certificates from %s (%s)" % (caPath, e))
            for authority in authorities:
                self.store.add_cert(crypto.X509.from_cryptography(authority))
        else:
            # OpenSSL's default locations (Debian: /etc/ssl/certs), where
            # the system's authorities are.
            paths = _ssl.get_default_verify_paths()
            cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
            capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
            if cafile or capath:
                self.store.load_locations(cafile, capath)

    def problem(self, connection, domain):
        """
        Check the certificate the peer of C{connection} presented (XEP-0178
        section 3: a chain to a trusted authority, and a name matching
        C{domain} by the rules of RFC 6125).

        @param connection: the L{SSL.Connection} after the handshake.
        @param domain: the domain the peer claims.
        @return: L{None} when the certificate is valid for C{domain}, else
            what is wrong, in words.
        """
        leaf = connection.get_peer_certificate()
        if leaf is None:
            return "no certificate"
        leafDER = crypto.dump_certificate(crypto.FILETYPE_ASN1, leaf)
        intermediates = [
            c
            for c in (connection.get_peer_cert_chain() or [])
            if crypto.dump_certificate(crypto.FILETYPE_ASN1, c) != leafDER
        ]
        try:
            crypto.X509StoreContext(self.store, leaf, chain=intermediates).verify_certificate()
        except crypto.X509StoreContextError as e:
            return "certificate not trusted (%s)" % (e,)
        try:
            verify_certificate_hostname(leaf.to_cryptography(), domain)
        except (VerificationError, _NameMismatch):
            return "certificate not valid for %s" % (domain,)
        return None


def peerConnection(transport):
    """
    @return: the L{SSL.Connection} of a transport with TLS, else L{None}.
    """
    getHandle = getattr(transport, "getHandle", None)
    handle = getHandle() if getHandle is not None else None
    return handle if isinstance(handle, SSL.Connection) else None
