"""
Room settings are declared by the features that own them, with their
defaults, in one generic store.
"""

from twisted.trial import unittest

from xmuc.muc import password, presencebroadcast
from xmuc.muc.roomconfig import RoomConfig, declareSettings
from xmuc.testing.muc import MUCHarness


class DeclaredSettingsTests(unittest.TestCase):
    def test_featuresDeclareTheirSettings(self):
        """
        The service's settings are those the features declare, with their
        defaults; the service's own limits are the defaults of the occupant
        limit and the history length.
        """
        service = MUCHarness(muc={"max_occupants": "7", "default_history_length": "3"}).muc
        self.assertEqual(service.roomSettings["password"], password.SETTINGS["password"])
        self.assertEqual(service.roomSettings["presenceBroadcast"], ["moderator", "participant", "visitor"])
        self.assertEqual((service.roomSettings["maxUsers"], service.roomSettings["historyLength"]), (7, 3))

    def test_declaredTwice(self):
        """
        Two features cannot declare the same setting.
        """
        service = MUCHarness().muc
        self.assertRaises(ValueError, declareSettings, service, {"password": "x"})

    def test_listsCopiedPerRoom(self):
        """
        A list default is copied for each room: changing one room's list
        changes neither the default nor another room's.
        """
        first = RoomConfig(presencebroadcast.SETTINGS)
        second = RoomConfig(presencebroadcast.SETTINGS)
        first.presenceBroadcast.remove("visitor")
        self.assertEqual(second.presenceBroadcast, ["moderator", "participant", "visitor"])
        self.assertEqual(presencebroadcast.SETTINGS["presenceBroadcast"], ["moderator", "participant", "visitor"])
