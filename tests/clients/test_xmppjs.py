"""
xmpp.js (C{@xmpp/client}, the library of many web clients) against xmuc
over real sockets: STARTTLS with the test certificate, a room created and
configured with the owner iq and its form read field by field, the
occupant list from the join presences, groupchat and private messages.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import startClientServer
from tests.support.xmppjs import runXmppJSScript


class XmppJSRoomTests(unittest.TestCase):
    timeout = 180

    @defer.inlineCallbacks
    def test_roomSession(self):
        """
        Every step of the room session passes as xmpp.js sees it, and the
        room keeps the configuration it submitted.
        """
        running = yield startClientServer(self)
        checks = yield runXmppJSScript(self, running, "room")
        self.assertEqual(
            checks,
            [
                "login-starttls",
                "bound",
                "create-110-201",
                "create-owner",
                "config-field-types",
                "config-list-values-offered",
                "config-form-type",
                "config-submitted",
                "config-applied",
                "bob-occupants",
                "alice-sees-bob",
                "bob-got-groupchat",
                "alice-echo",
                "alice-got-groupchat",
                "pm-received",
                "pm-reply",
                "bob-left",
                "alice-sees-leave",
            ],
        )
        room = running.server.muc.rooms.get("jsroom@conference.localhost")
        self.assertEqual((room.config.name, room.config.persistent, room.config.public), ("xmpp.js room", True, True))
