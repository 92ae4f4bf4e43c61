"""
Logging in as real clients do (slixmpp): default mechanism choice,
SCRAM-SHA-1, PLAIN over TLS, a wrong password, a server-assigned resource,
a full JID logging in twice.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppLoginTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_logins(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "logins")
        for expected in (
            "default-mechanism",
            "scram-sha-1",
            "plain",
            "wrong-password",
            "server-resource",
            "replaced-new-bound",
            "replaced-old-told",
            "replaced-new-works",
        ):
            self.assertIn(expected, checks)
