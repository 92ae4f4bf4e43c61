"""
Service discovery as real clients do it (slixmpp's xep_0030 and xep_0004):
from the server to the MUC service to its rooms.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppDiscoveryTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_discovery(self):
        """
        disco#items of the server lists the MUC service; the service is a
        conference/text entity with the MUC feature that lists public
        rooms only; a room's disco#info has its identity, features and a
        muc#roominfo form; disco#items of a room answers; a missing room
        is item-not-found.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "discovery")
        for expected in (
            "server-items",
            "service-identity",
            "service-muc-feature",
            "rooms-listed",
            "hidden-not-listed",
            "room-identity",
            "room-name",
            "room-feature muc_public",
            "roominfo-form",
            "roominfo-occupants",
            "roominfo-description",
            "roominfo-subject",
            "hidden-feature",
            "room-items-stranger",
            "room-items-occupant",
            "missing-room",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
