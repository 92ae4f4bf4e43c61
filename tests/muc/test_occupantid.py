"""
Occupant ids (XEP-0421, L{xmuc.muc.occupantid}): the salt they are derived
from is part of the room's state from the start, so a room change failing
to be stored cannot take it back.
"""

from twisted.trial import unittest

from tests.support.muc import HeldStorage, ROOM, configure, field
from xmuc.muc.occupantid import occupantID, occupantIDOf
from xmuc.testing.muc import MUCHarness
from xmuc.storage.interfaces import StorageUnavailable


class OccupantIdSaltTests(unittest.TestCase):
    """
    The occupant-id salt is part of the room's state from the start: a
    change failing while the first occupant joins cannot take it back (the
    occupant ids would change under the occupants' feet).
    """

    def test_saltSurvivesFailedChange(self):
        """
        A room stored without a salt (before occupant ids) is loaded; its
        owner changes it from outside, and while that is being stored
        Juliet joins (her presence carries an occupant id).  The change
        fails: the salt her id came from is still the room's.
        """
        storage = HeldStorage()
        harness = MUCHarness(storage=storage)
        room = harness.muc.restoreRoom(ROOM, {"config": {"persistent": True},
                                               "affiliations": {"romeo@localhost": "owner"}})
        storage.rooms.holding = True
        configure(harness.client("romeo@localhost/r"), field("muc#roomconfig_roomname", "Secret"), id="first")
        self.assertEqual(len(storage.rooms.held), 1)
        harness.client("juliet@localhost/j").join("room", "Juliet")
        juliet = room.occupants["Juliet"]
        storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(occupantID(room, "juliet@localhost"), occupantIDOf(room, juliet))

    def test_saltFromTheStart(self):
        """
        A new room has its salt before anyone joined it: a room store
        failing on the first change cannot drop it.
        """
        harness = MUCHarness()
        room = harness.muc.createRoom(ROOM)
        self.assertTrue(room.extra.get("occupantIdSalt"))
