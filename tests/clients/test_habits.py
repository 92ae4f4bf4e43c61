"""
Client habits that must never break the stream: what slixmpp, Gajim and
Conversations send after login (disco, roster with 'ver', carbons, vCard,
bookmarks in private storage or PEP, blocking, MAM), caps presence,
whitespace keepalives and pings. Each iq gets a result or a sensible error.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppHabitsTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_everythingAnswered(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "habits")
        for expected in (
            "disco-info-server",
            "disco-info-account",
            "roster-get-ver",
            "carbons-enable",
            "carbons-plugin",
            "vcard-own-bare",
            "vcard-no-to",
            "vcard-server",
            "vcard-set",
            "private-bookmarks-get",
            "private-bookmarks-set",
            "bookmarks-plugin",
            "pep-bookmarks",
            "blocklist",
            "mam-query",
            "iq-no-payload",
            "caps-presence",
            "caps-raw",
            "caps-empty",
            "ping-server",
            "ping-no-to",
            "ping-muc-service",
            "ping-other-full",
            "ping-offline-full",
            "still-alive",
            "no-disconnect",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
