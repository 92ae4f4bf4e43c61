"""
Certificates for federation tests: a throwaway certificate authority that
issues server certificates for given domain names, and self-signed
certificates, written as PEM files into a directory.

Typical use::

    ca = TestCA(self.mktemp())
    certificate, key = ca.issue(["a.test", "rooms.a.test"])
    # [s2s] ca_certificates = ca.certificatePath on the other server
    certificate, key = selfSigned(directory, ["b.test"])

Certificates carry the names as DNS subject alternative names (RFC 6125,
what XEP-0178 checks for a server) and are usable for both TLS roles,
since a server stream presents its certificate as client (initiating) and
as server (receiving).
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_SERVER_USAGES = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _newKey():
    # P-256: fast to make, so many tests can have their own certificates.
    return ec.generate_private_key(ec.SECP256R1())


def _keyPEM(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _leafBuilder(names, issuer, days):
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(issuer)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SERVER_USAGES, critical=False)
    )


class TestCA:
    """
    A certificate authority living in a directory.

    @ivar directory: where every file is written.
    @ivar certificatePath: the CA certificate (PEM), for C{[s2s]
        ca_certificates}.
    """

    # Not a test case, whatever the name suggests to collectors.
    __test__ = False

    def __init__(self, directory, name="xmuc test CA"):
        self.directory = directory
        self._key = _newKey()
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.certificatePath = _write(
            directory, "ca.crt", self.certificate.public_bytes(serialization.Encoding.PEM)
        )

    def issue(self, names, prefix=None, days=30):
        """
        Issue a server certificate.

        @param names: the DNS names it is valid for (the first is also its
            common name).
        @param prefix: file name prefix in the directory (default: the
            first name).
        @param days: validity.
        @return: C{(certificatePath, keyPath)}.
        """
        names = list(names)
        key = _newKey()
        certificate = (
            _leafBuilder(names, self._name, days)
            .public_key(key.public_key())
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        prefix = prefix or names[0]
        return (
            _write(self.directory, prefix + ".crt", certificate.public_bytes(serialization.Encoding.PEM)),
            _write(self.directory, prefix + ".key", _keyPEM(key)),
        )


def selfSigned(directory, names, prefix=None, days=30):
    """
    Write a self-signed server certificate.

    @param directory: where to write (made if missing).
    @param names: the DNS names it is valid for.
    @param prefix: file name prefix (default: the first name).
    @return: C{(certificatePath, keyPath)}.
    """
    names = list(names)
    key = _newKey()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = _leafBuilder(names, subject, days).public_key(key.public_key()).sign(key, hashes.SHA256())
    prefix = prefix or names[0]
    return (
        _write(directory, prefix + ".crt", certificate.public_bytes(serialization.Encoding.PEM)),
        _write(directory, prefix + ".key", _keyPEM(key)),
    )
