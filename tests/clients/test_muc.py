"""
Real XMPP clients against xmuc, end to end: slixmpp bots (the library poezio
and many bots are built on) drive a whole MUC session through its xep_0045
plugin, over STARTTLS and SCRAM-SHA-256, and check what they see with
slixmpp's own events.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppMUCSessionTests(unittest.TestCase):
    timeout = 90

    @defer.inlineCallbacks
    def test_wholeSession(self):
        """
        Create and configure a room, a second bot joins, groupchat both
        ways with echo and stanza-id, a private message, subject, nick
        change, voice revoked and granted, member and owner lists, kick,
        ban, leave: every step as slixmpp's xep_0045 plugin expects it.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "muc_session")
        for expected in (
            "create-110-201",
            "config-applied",
            "config-disco",
            "join-sees-owner",
            "join-order",
            "affiliation-by-nick",
            "echo-stanza-id",
            "same-stanza-id",
            "alice-got",
            "pm",
            "pm-reply",
            "subject",
            "nick-303",
            "nick-new",
            "revoke-voice",
            "visitor-refused",
            "grant-voice",
            "member-list",
            "owner-list",
            "kicked-self",
            "banned-self",
            "outcast-list",
            "banned-rejoin",
            "leave",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
        room = running.server.muc.rooms.get("lounge@conference.localhost")
        self.assertIsNotNone(room)
        self.assertTrue(room.config.persistent)
        self.assertEqual(room.config.name, "The Lounge")


class SlixmppCrowdTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_crowd(self):
        """
        Twenty bots in one room all talking at once: each gets every
        message once, in the same order as everyone else, with the same
        stanza-ids.
        """
        count = 20
        running = yield startClientServer(self)
        for n in range(count):
            yield running.server.accounts.register("user%d" % (n,), "localhost", "password %d" % (n,))
        checks = yield runClientScript(self, running, "crowd", str(count))
        self.assertEqual(checks, ["same-roster", "all-received", "same-order", "unique-stanza-ids", "nothing-extra"])
