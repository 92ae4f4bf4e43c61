"""
Personal eventing (XEP-0163) with slixmpp's plugins: caps-driven
notifications, the last item on presence, retrieval, XEP-0402 bookmarks
and their XEP-0048 view; Client State Indication.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppPEPTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_pep(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "pep")
        for expected in (
            "pep-identity",
            "pep-features",
            "nick-published",
            "subscribed",
            "last-item-on-presence",
            "notification",
            "items-retrieved",
            "explicit-subscribe",
            "subscriptions-listed",
            "affiliations-listed",
            "bookmarks-stored",
            "bookmarks-private",
            "bookmarks-compat-read",
            "bookmarks-compat-write",
            "precondition-not-met",
            "csi-offered",
            "csi-collapsed",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
