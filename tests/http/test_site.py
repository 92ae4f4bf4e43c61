"""
The C{[http]} section: off when C{listen} is empty, each value checked
with an error naming the key.
"""

from twisted.trial import unittest

from xmuc.config import ConfigError, validate
from xmuc.server import XmucServer


def server(**http):
    config = validate(
        {
            "storage": {"backend": "memory"},
            "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"},
            "http": http,
        }
    )
    return XmucServer(config)


class ConfigTests(unittest.TestCase):
    def test_offByDefault(self):
        """
        Without C{[http] listen} (or with it empty) nothing serves HTTP.
        """
        self.assertIsNone(server().http)
        self.assertIsNone(server(listen="").http)

    def test_on(self):
        """
        With it, the root others attach to, the WebSocket and discovery
        resources on it, and the values as given.
        """
        http = server(
            listen="tcp:0:interface=127.0.0.1",
            external_url="https://chat.example.org/",
            trusted_proxies="127.0.0.1, 10.0.0.0/8",
            allowed_origins="https://Chat.example.org/",
        ).http
        self.assertIn(b"xmpp-websocket", http.root.children)
        self.assertIn(b".well-known", http.root.children)
        self.assertEqual(http.externalURL, "https://chat.example.org")
        self.assertEqual(http.allowedOrigins, frozenset(["https://chat.example.org"]))
        self.assertTrue(http.proxies.trusts("10.1.2.3"))
        self.assertFalse(http.proxies.trusts("192.0.2.1"))

    def assertRefused(self, key, value):
        error = self.assertRaises(ConfigError, validate, {"http": {key: value}})
        self.assertEqual((error.section, error.key), ("http", key))

    def test_badValues(self):
        self.assertRefused("listen", "nonsense:1:2")
        self.assertRefused("external_url", "chat.example.org")
        self.assertRefused("external_url", "https://example.org/?q=1")
        self.assertRefused("trusted_proxies", "10.0.0.0/33")
        self.assertRefused("trusted_proxies", "proxy.example.org")
        self.assertRefused("allowed_origins", "https://example.org/path")
