"""
Changing the room subject is a room change like the others
(L{xmuc.muc.persistence.saveChange}): stored before anyone sees it, undone
when storing fails, and applied one at a time with the other changes of the
room, checked against the state it then finds.  The stores are the real
memory backend, made to fail or hold saves on demand.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    FlakyStorage,
    HeldStorage,
    ROOM,
    RoomStateMixin,
    condition,
    configure,
    field,
    iqResult,
)
from xmuc.muc.subject import subjectOf
from xmuc.storage.interfaces import StorageUnavailable

SUBJECT = "<message id='%s' to='%s' type='groupchat'><subject>%s</subject></message>"


def sendSubject(client, subject, id="s1"):
    client.send(SUBJECT % (id, ROOM, subject))


def subjects(stanzas):
    """
    @return: C{[(from, subject)]} of the subject messages in C{stanzas}.
    """
    return [(s["from"], str(s.subject)) for s in stanzas
            if s.name == "message" and s.subject is not None and s.getAttribute("type") != "error"]


class SaveFailureTests(RoomStateMixin, unittest.TestCase):
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
        self.assertEqual((subjectOf(self.room).text, subjectOf(self.room).nick, subjectOf(self.room).time), (None, None, None))
        self.assertEqual((yield self.stored()), storedBefore)
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.storage.rooms.failing = False
        sendSubject(self.romeo, "Plague", id="s2")
        self.assertEqual(subjects(self.juliet.received()), [(ROOM + "/Romeo", "Plague")])
        self.assertEqual((yield self.stored())["subject"], "Plague")


class OverlappingSaveTests(RoomStateMixin, unittest.TestCase):
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
        self.assertIsNone(subjectOf(self.room).text)
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
        self.assertEqual(subjectOf(self.room).text, "Plague")
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
        self.assertIsNone(subjectOf(self.room).text)
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
        self.assertEqual(subjectOf(self.room).text, "Plague")
        self.assertNotEqual(self.room.config.name, "Secret")
        yield self.assertStorageMatchesRoom()
