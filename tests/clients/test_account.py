"""
What a client expects from its account, with slixmpp's plugins: blocking,
vCard and avatar hash, private bookmarks, uptime and time.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppAccountTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_account(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "account")
        for expected in (
            "features",
            "blocklist-empty",
            "block-pushed",
            "blocked-bounced",
            "blocklist-read",
            "unblocked",
            "vcard-read",
            "avatar-hash",
            "bookmarks-private",
            "uptime",
            "entity-time",
            "vcard-not-writable",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
