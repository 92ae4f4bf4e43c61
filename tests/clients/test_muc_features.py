"""
More of XEP-0045 through slixmpp's xep_0045 plugin: history, instant rooms,
invitations, passwords, members-only, voice requests, payload forwarding,
reserved nicks, role lists, destruction.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppMUCFeatureTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_features(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "muc_features")
        for expected in (
            "instant-room-created",
            "instant-room-open",
            "history",
            "history-delay",
            "history-since-past",
            "history-since-future",
            "history-seconds",
            "history-maxchars-0",
            "correction-forwarded",
            "chatstate-forwarded",
            "stranger-message-refused",
            "invite",
            "roomuser-item",
            "room-vcard",
            "room-version",
            "room-ping",
            "moderator-list",
            "participant-list",
            "config-change-104",
            "config-change-visible",
            "nick-conflict",
            "password-required",
            "password-wrong",
            "password-right",
            "members-only-refused",
            "members-only-member",
            "moderated-visitor",
            "voice-request",
            "destroyed",
            "destroyed-gone",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)

    @defer.inlineCallbacks
    def test_privateGroupChat(self):
        """
        A Conversations-style private group: unique name, members-only and
        non-anonymous, members in one delta, direct invitation, real JIDs
        visible, non-members refused.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "private_group")
        for expected in (
            "unique-name",
            "created",
            "private-features",
            "member-list",
            "direct-invitation",
            "non-anonymous-100",
            "real-jid-visible",
            "member-jid-visible",
            "non-member-refused",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
