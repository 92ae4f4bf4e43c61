"""
The subject and the forgetting of deleted accounts are room changes like
the others (L{xmuc.muc.persistence.saveChange}): stored before anyone sees
them, undone when storing fails, and applied one at a time with the other
changes of the room, checked against the state they then find.  The stores
are the real memory backend, made to fail or hold saves on demand
(L{tests.test_muc_savefailure}).
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.muc.occupantid import occupantID
from xmuc.muc.persistence import stateOf
from xmuc.muc.testing import MUCHarness
from xmuc.storage.interfaces import StorageUnavailable

from tests.test_muc_admin import iqResult
from tests.test_muc_core import ROOM, condition, configure
from tests.test_muc_owner import field
from tests.test_muc_savefailure import FlakyStorage, HeldStorage, populateRoom

SUBJECT = "<message id='%s' to='%s' type='groupchat'><subject>%s</subject></message>"


def sendSubject(client, subject, id="s1"):
    client.send(SUBJECT % (id, ROOM, subject))


def subjects(stanzas):
    """
    @return: C{[(from, subject)]} of the subject messages in C{stanzas}.
    """
    return [(s["from"], str(s.subject)) for s in stanzas
            if s.name == "message" and s.subject is not None and s.getAttribute("type") != "error"]


class RoomStateMixin:
    """
    Romeo owns the persistent room; Juliet (no affiliation, participant)
    and Mercutio (member, nick Merc reserved) are in it.
    """

    storageFactory = None

    def setUp(self):
        populateRoom(self, self.storageFactory(), memberNick="Merc",
                     config=field("muc#roomconfig_changesubject", "1"), benvolio=True)

    @defer.inlineCallbacks
    def stored(self):
        return (yield self.storage.rooms.get(ROOM))

    @defer.inlineCallbacks
    def assertStorageMatchesRoom(self):
        self.assertEqual((yield self.stored()), json.loads(json.dumps(stateOf(self.room))))


class SubjectSaveFailureTests(RoomStateMixin, unittest.TestCase):
    storageFactory = FlakyStorage

    @defer.inlineCallbacks
    def test_subjectUnchanged(self):
        """
        When storing the new subject fails, nobody sees it, the sender gets
        internal-server-error, the room and storage keep the old subject;
        once storage is back the same message works.
        """
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        self.romeo.received()
        sendSubject(self.romeo, "Plague")
        [error] = self.romeo.received()
        self.assertEqual((error["type"], condition(error)[0]), ("error", "internal-server-error"))
        for client in self.clients[1:]:
            self.assertEqual(client.received(), [])
        self.assertEqual((self.room.subject, self.room.subjectNick, self.room.subjectTime), (None, None, None))
        self.assertEqual((yield self.stored()), storedBefore)
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.storage.rooms.failing = False
        sendSubject(self.romeo, "Plague", id="s2")
        self.assertEqual(subjects(self.juliet.received()), [(ROOM + "/Romeo", "Plague")])
        self.assertEqual((yield self.stored())["subject"], "Plague")

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


class OverlappingSubjectTests(RoomStateMixin, unittest.TestCase):
    storageFactory = HeldStorage

    def setUp(self):
        RoomStateMixin.setUp(self)
        self.storage.rooms.holding = True

    @defer.inlineCallbacks
    def test_subjectWaitsForConfiguration(self):
        """
        Romeo renames the room; while that is being stored he sets the
        subject: a joiner meanwhile still gets the old (empty) subject.
        The rename fails; the subject is then stored, and broadcast only
        once stored; storage has exactly the room's state.
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        sendSubject(self.romeo, "Plague")
        self.assertIsNone(self.room.subject)
        received = self.benvolio.join("room", "Benvolio")
        self.assertEqual(subjects(received), [(ROOM, "")])
        self.storage.rooms.fail()
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.assertEqual(subjects(self.juliet.received()), [])
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual((state["config"]["name"], state["subject"]), (nameBefore, "Plague"))
        self.storage.rooms.release()
        self.assertEqual(subjects(self.juliet.received()), [(ROOM + "/Romeo", "Plague")])
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(self.room.subject, "Plague")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_subjectCheckedAgainstConfiguration(self):
        """
        Romeo stops participants from changing the subject; while that is
        being stored Juliet (a participant) sets it.  Once the change is
        stored, Juliet's subject is checked against it: forbidden, nobody
        sees it, nothing more is stored.
        """
        configure(self.romeo, field("muc#roomconfig_changesubject", "0"), id="first")
        sendSubject(self.juliet, "Mine")
        self.storage.rooms.release()
        [error] = [s for s in self.juliet.received() if s.name == "message" and s["type"] == "error"]
        self.assertEqual((error["type"], condition(error)[0]), ("error", "forbidden"))
        self.assertEqual(subjects(self.romeo.received()), [])
        self.assertIsNone(self.room.subject)
        self.assertEqual(self.storage.rooms.held, [])
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_storedSubjectSurvivesLaterFailure(self):
        """
        A subject is being stored, a rename waits for it; the subject is
        stored (and broadcast), the rename fails: the subject stays.
        """
        sendSubject(self.romeo, "Plague")
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="second")
        self.storage.rooms.release()
        self.assertEqual(subjects(self.juliet.received()), [(ROOM + "/Romeo", "Plague")])
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(self.room.subject, "Plague")
        self.assertNotEqual(self.room.config.name, "Secret")
        yield self.assertStorageMatchesRoom()

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
        from xmuc.muc.persistence import restoreRoom

        storage = HeldStorage()
        harness = MUCHarness(storage=storage)
        room = restoreRoom(harness.muc, ROOM, {"config": {"persistent": True},
                                               "affiliations": {"romeo@localhost": "owner"}})
        storage.rooms.holding = True
        configure(harness.client("romeo@localhost/r"), field("muc#roomconfig_roomname", "Secret"), id="first")
        self.assertEqual(len(storage.rooms.held), 1)
        harness.client("juliet@localhost/j").join("room", "Juliet")
        juliet = room.occupants["Juliet"]
        storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(occupantID(room, "juliet@localhost"), juliet.occupantID)

    def test_saltFromTheStart(self):
        """
        A new room has its salt before anyone joined it: a room store
        failing on the first change cannot drop it.
        """
        harness = MUCHarness()
        room = harness.muc.createRoom(ROOM)
        self.assertTrue(room.extra.get("occupantIdSalt"))


class DestroyWhileSavingTests(unittest.TestCase):
    """
    A room destroyed while a change of it is being stored: the storage
    forgets it after that save, so the save cannot put it back (it would
    come back at the next start).
    """

    @defer.inlineCallbacks
    def test_destroyedRoomStaysForgotten(self):
        storage = HeldStorage()
        harness = MUCHarness(storage=storage)
        romeo = harness.client("romeo@localhost/r")
        romeo.join("room", "Romeo")
        configure(romeo, field("muc#roomconfig_persistentroom", "1"))
        storage.rooms.holding = True
        configure(romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        romeo.send("<iq id='d1' to='%s' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                   "<destroy/></query></iq>" % (ROOM,))
        self.assertNotIn(ROOM, harness.muc.rooms)
        storage.rooms.release()
        received = romeo.received()
        self.assertEqual(iqResult(received, "first")["type"], "result")
        self.assertEqual(iqResult(received, "d1")["type"], "result")
        self.assertIsNone((yield storage.rooms.get(ROOM)))
