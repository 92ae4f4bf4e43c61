"""
Iqs to occupant JIDs with real clients: XEP-0410 MUC self-ping and
XEP-0045 7.5 iq forwarding between slixmpp bots.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer


class SlixmppOccupantIQTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_selfPingAndForwarding(self):
        """
        The room answers an occupant's self-ping, refuses strangers with
        not-acceptable, says item-not-found for unknown nicks and rooms;
        ping, version, disco#info and vCard to another occupant come back
        from its occupant JID; nick changes and leaving show in the
        self-ping.
        """
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "occupant_iqs")
        for expected in (
            "self-ping-joined",
            "self-ping-result",
            "stranger-ping-not-acceptable",
            "stranger-ping-from",
            "stranger-self-ping-disconnected",
            "ping-missing-nick",
            "ping-missing-room",
            "ping-other",
            "version-other",
            "disco-other",
            "vcard-other-answered",
            "stranger-version-not-acceptable",
            "old-nick-item-not-found",
            "new-nick-joined",
            "left-disconnected",
            "no-stream-errors",
        ):
            self.assertIn(expected, checks)
