"""
The certificate of server streams and what peers' certificates are
checked against: configuration errors name the key at fault.
"""

import os

from twisted.trial import unittest

from xmuc.config import ConfigError, loadConfig
from xmuc.server import XmucServer

from tests.support.pki import TestCA


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
