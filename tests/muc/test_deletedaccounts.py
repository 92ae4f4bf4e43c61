"""
Deleted accounts leave every room (L{xmuc.muc.deletedaccounts}): an
account deleted loses its affiliations and reserved nicks everywhere, and a
deleted member sitting in a members-only room is removed.  Forgetting a
deleted account is a room change like the others: stored before anyone
sees it, undone when storing fails, and applied one at a time with the
other changes of the room.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    FlakyStorage,
    HeldStorage,
    MUCTestCase,
    ROOM,
    RoomStateMixin,
    adminSet,
    affItem,
    codes,
    configure,
    field,
    item,
)
from xmuc.hooks import ACCOUNT_DELETED
from xmuc.storage.interfaces import StorageUnavailable


class DeletedAccountTests(MUCTestCase):
    """
    The MUC side of tombstones: an account deleted loses its affiliations
    and reserved nicks in every room.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.romeo.received()

    @defer.inlineCallbacks
    def test_accountDeleted(self):
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet"))
        self.romeo.join("other", "Romeo")
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1"), room="other@conference.localhost")
        self.romeo.send("<iq id='x' to='other@conference.localhost' type='set'>"
                        "<query xmlns='http://jabber.org/protocol/muc#admin'>%s</query></iq>"
                        % (affItem("user2@localhost", "admin"),))
        self.romeo.received()
        yield self.harness.hooks.fireAll(ACCOUNT_DELETED, jid="user2@localhost")
        notices = self.romeo.received()
        self.assertEqual(sorted((n["from"], item(n)["affiliation"]) for n in notices),
                         [("other@conference.localhost", "none"), (ROOM, "none")])
        self.assertEqual(self.room().reservedNicks, {})
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "none")
        [(jid, state)] = [(j, s) for j, s in (yield self.harness.storage.rooms.list("conference.localhost"))
                          if j == "other@conference.localhost"]
        self.assertNotIn("user2@localhost", state["affiliations"])
        # Whoever gets the name next inherits nothing.
        self.rosaline.join("room", "Juliet")
        self.assertIn("Juliet", self.room().occupants)

    @defer.inlineCallbacks
    def test_occupantOfDeletedAccount(self):
        """
        A deleted member still sitting in a members-only room is removed
        (321).
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.juliet.join("room", "Juliet")
        self.romeo.received()
        yield self.harness.hooks.fireAll(ACCOUNT_DELETED, jid="user2@localhost")
        [gone] = self.romeo.received()
        self.assertEqual(codes(gone), ["321"])
        self.assertNotIn("Juliet", self.room().occupants)


class SaveFailureTests(RoomStateMixin, unittest.TestCase):
    storageFactory = FlakyStorage

    @defer.inlineCallbacks
    def test_accountDeletionUnchanged(self):
        """
        Mercutio's account is deleted while storage is down: the room keeps
        his membership and nick (in memory as in storage), nobody sees a
        presence, and the failure is logged.
        """
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        yield self.harness.hooks.fireAll(ACCOUNT_DELETED, jid="mercutio@localhost")
        for client in self.clients:
            self.assertEqual(client.received(), [])
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "member")
        self.assertEqual(self.room.reservedNicks, {"mercutio@localhost": "Merc"})
        self.assertEqual((yield self.stored()), storedBefore)
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)


class OverlappingSaveTests(RoomStateMixin, unittest.TestCase):
    storageFactory = HeldStorage

    def setUp(self):
        RoomStateMixin.setUp(self)
        self.storage.rooms.holding = True

    @defer.inlineCallbacks
    def test_accountDeletionWaitsForConfiguration(self):
        """
        Mercutio's account is deleted while a rename is being stored; the
        rename fails: the deletion still stands, in memory and in storage,
        and the occupants see Mercutio's presence only once it is stored.
        """
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        deleted = self.harness.hooks.fireAll(ACCOUNT_DELETED, jid="mercutio@localhost")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "member")
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(self.juliet.received(), [])
        self.storage.rooms.release()
        yield deleted
        [seen] = [s for s in self.juliet.received() if s.name == "presence"]
        self.assertEqual(seen["from"], ROOM + "/Merc")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.reservedNicks, {})
        yield self.assertStorageMatchesRoom()
