"""
aioxmpp (an asyncio XMPP library with a strict data-forms layer) against
xmuc over real sockets: STARTTLS with the test certificate, a room created
and configured through aioxmpp's MUC API, groupchat and private messages,
the occupant list, a voice request.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class AioxmppRoomTests(unittest.TestCase):
    timeout = 90

    @defer.inlineCallbacks
    def test_roomSession(self):
        """
        Every step of the room session passes as aioxmpp sees it, and the
        room keeps the configuration aioxmpp submitted.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "aioxmpp_room")
        self.assertEqual(
            checks,
            [
                "login-starttls",
                "create-owner",
                "config-form-parsed",
                "config-applied",
                "config-maxusers",
                "bob-occupants",
                "alice-occupants",
                "bob-got-groupchat",
                "alice-echo",
                "alice-got-groupchat",
                "pm-received",
                "pm-reply",
                "bob-visitor",
                "voice-request-form",
                "voice-granted",
                "alice-sees-leave",
                "left",
            ],
        )
        room = running.server.muc.rooms.get("aioroom@conference.localhost")
        self.assertEqual((room.config.name, room.config.persistent), ("aioxmpp room", True))
