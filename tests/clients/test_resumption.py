"""
Stream Management resumption (XEP-0198) with a real client: slixmpp's
xep_0198 plugin resumes its session after its connection died.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppResumptionTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_resumeAfterConnectionLoss(self):
        """
        slixmpp enables resumption, loses its connection, reconnects and
        resumes: the room message sent meanwhile arrives, and the room
        never saw it leave.
        """
        running = yield startClientServer(self, {"muc": {"lock_new_rooms": "false"}})
        checks = yield runClientScript(self, running, "resumption")
        for expected in (
            "sm-enabled",
            "resumed",
            "queued-message-delivered",
            "still-in-room",
            "room-never-saw-her-leave",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
