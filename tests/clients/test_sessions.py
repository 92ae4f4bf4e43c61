"""
Real clients coming and going (slixmpp): origin-id in the echo, desync
rejoins, clients that vanish without leaving, the same account on two
devices under one nick.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppSessionsTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_clientsComeAndGo(self):
        """
        The echo keeps origin-id; a repeated join presence gets the room
        again; an aborted connection and a closed stream both make the
        occupant leave; it can come back.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "sessions")
        for expected in (
            "origin-id bob",
            "origin-id alice",
            "rejoin-self-presence",
            "rejoin-subject",
            "rejoin-occupants",
            "rejoin-roster",
            "status-update",
            "offline-leaves",
            "aborted-leaves",
            "closed-leaves",
            "roster-after",
            "back-again",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)

    @defer.inlineCallbacks
    def test_multiSessionNick(self):
        """
        Two devices of one account under one nick (Prosody's multi-session
        nicks): both are in, both get messages, the occupant leaves with
        its last device.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "multisession")
        for expected in (
            "second-device-joins",
            "message phone",
            "message laptop",
            "one-device-gone-still-there",
            "last-device-gone-leaves",
        ):
            self.assertIn(expected, checks)
