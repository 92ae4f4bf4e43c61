"""
Configuration and affiliation changes are all-or-nothing when storing the
room fails: the requester gets C{internal-server-error}, the room keeps its
previous state (configuration, affiliations, reserved nicks) and nobody
saw anything.  The store is the real memory backend, made to fail on
demand.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.muc.locking import isLocked
from xmuc.muc.subject import subjectOf
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.storage.memory import MemoryRoomStore, MemoryStorage
from xmuc.testing.muc import DOMAIN, MUCHarness

from tests.test_muc_admin import adminSet, affItem, iqResult, roleItem
from tests.test_muc_core import condition, configure
from tests.test_muc_owner import field

ROOM = "room@" + DOMAIN


def populateRoom(testCase, storage, muc=None, memberNick=None, config="", benvolio=False):
    """
    The scene the save-failure tests play in: Romeo owns the persistent
    room C{room}; Juliet (no affiliation) and Mercutio are in it.  The
    clients' inboxes are emptied afterwards.

    @param testCase: gets C{storage}, C{harness}, C{romeo}, C{juliet},
        C{mercutio} (C{benvolio}), C{room} and C{clients} (every client).
    @param storage: the (fault-injecting) storage the service runs on.
    @param muc: optional C{[muc]} settings.
    @param memberNick: when given, Mercutio is a member first, with this
        reserved nick (C{""}: no nick), and joins with it.
    @param config: more owner form fields submitted with the persistence.
    @param benvolio: also make Benvolio, a client outside the room.
    """
    testCase.storage = storage
    testCase.harness = MUCHarness(muc=muc, storage=storage)
    testCase.romeo = testCase.harness.client("romeo@localhost/r")
    testCase.juliet = testCase.harness.client("juliet@localhost/j")
    testCase.mercutio = testCase.harness.client("mercutio@localhost/m")
    testCase.clients = (testCase.romeo, testCase.juliet, testCase.mercutio)
    if benvolio:
        testCase.benvolio = testCase.harness.client("benvolio@localhost/b")
        testCase.clients += (testCase.benvolio,)
    testCase.romeo.join("room", "Romeo")
    configure(testCase.romeo, field("muc#roomconfig_persistentroom", "1") + config)
    if memberNick is not None:
        adminSet(testCase.romeo, affItem("mercutio@localhost", "member", **({"nick": memberNick} if memberNick else {})))
    testCase.juliet.join("room", "Juliet")
    testCase.mercutio.join("room", memberNick or "Mercutio")
    testCase.room = testCase.harness.muc.rooms[ROOM]
    for client in testCase.clients:
        client.received()


class FlakyRoomStore(MemoryRoomStore):
    """
    The memory room store, failing to save or delete while C{failing}.

    @ivar attempts: how many saves/deletes were refused.
    """

    failing = False
    attempts = 0

    def save(self, room_jid, state):
        if self.failing:
            self.attempts += 1
            return defer.fail(StorageUnavailable("memory: rooms are down"))
        return MemoryRoomStore.save(self, room_jid, state)

    def delete(self, room_jid):
        if self.failing:
            self.attempts += 1
            return defer.fail(StorageUnavailable("memory: rooms are down"))
        return MemoryRoomStore.delete(self, room_jid)


class FlakyStorage(MemoryStorage):
    def __init__(self):
        MemoryStorage.__init__(self)
        self.rooms = FlakyRoomStore()


class SaveFailureTests(unittest.TestCase):
    """
    Romeo owns the persistent room C{room}; Juliet (no affiliation) and
    Mercutio (member) are in it.
    """

    def setUp(self):
        populateRoom(self, FlakyStorage(), memberNick="")

    def state(self):
        """
        @return: what a failed change must leave as it was.
        """
        return (self.room.config.toDict(), dict(self.room.affiliations), dict(self.room.reservedNicks),
                isLocked(self.room), sorted(self.room.occupants))

    @defer.inlineCallbacks
    def stored(self):
        return (yield self.storage.rooms.get(ROOM))

    def assertFailedQuietly(self, received, id):
        """
        The requester got C{internal-server-error} and nothing else; the
        others got nothing; the storage error was logged once.
        """
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(condition(iqResult(received, id))[0], "internal-server-error")
        for client in self.clients[1:]:
            self.assertEqual(client.received(), [])
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.assertEqual(self.storage.rooms.attempts, 1)

    @defer.inlineCallbacks
    def test_configurationUnchanged(self):
        """
        A form making the room members-only and renaming it: when storing
        fails, the room keeps its name and stays open, Juliet is not
        removed, nobody gets status 104; storage still has the old state.
        Once storage is back, the same form works.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        form = field("muc#roomconfig_roomname", "Secret") + field("muc#roomconfig_membersonly", "1")
        received = configure(self.romeo, form)
        self.assertFailedQuietly(received, "config")
        self.assertEqual(self.state(), before)
        self.assertEqual((yield self.stored()), storedBefore)
        self.storage.rooms.failing = False
        received = configure(self.romeo, form)
        self.assertEqual(iqResult(received, "config")["type"], "result")
        self.assertTrue(self.room.config.membersOnly)
        self.assertEqual([s["type"] for s in self.juliet.received() if s.name == "presence"], ["unavailable"])
        self.assertEqual((yield self.stored())["config"]["name"], "Secret")

    def test_becomingTemporaryUnchanged(self):
        """
        Making the room temporary needs storage to forget it: when that
        fails the room stays persistent (and known as stored).
        """
        self.storage.rooms.failing = True
        received = configure(self.romeo, field("muc#roomconfig_persistentroom", "0"))
        self.assertFailedQuietly(received, "config")
        self.assertTrue(self.room.config.persistent)
        self.assertTrue(self.room.store.isStored(self.room))

    @defer.inlineCallbacks
    def test_affiliationsUnchanged(self):
        """
        A request banning Juliet, making Mercutio an admin and reserving a
        nick: when storing fails, nothing of it is in force, Juliet is still
        in the room and nobody saw a presence or notice.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        received = adminSet(self.romeo, affItem("juliet@localhost", "outcast", reason="Begone")
                            + affItem("mercutio@localhost", "admin", nick="Merc")
                            + affItem("tybalt@localhost", "member", nick="Tybalt"))
        self.assertFailedQuietly(received, "a1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "none")
        self.assertEqual((yield self.stored()), storedBefore)

    def test_rolesNeedNoStorage(self):
        """
        A kick stores nothing: it works while storage is down.
        """
        self.storage.rooms.failing = True
        received = adminSet(self.romeo, roleItem("Juliet", "none"))
        self.assertEqual(iqResult(received, "a1")["type"], "result")
        self.assertNotIn("Juliet", self.room.occupants)
        self.assertEqual(self.storage.rooms.attempts, 0)

    def test_invitationToMembersOnlyRoom(self):
        """
        An invitation to a members-only room makes the invitee a member:
        when storing that fails, the inviter gets an error, the invitee is
        not a member and gets no invitation; the error is logged (not an
        unhandled error in a Deferred).
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        self.romeo.received()
        benvolio = self.harness.client("benvolio@localhost/b")
        self.storage.rooms.failing = True
        self.romeo.send("<message id='inv' to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
                        "<invite to='benvolio@localhost'/></x></message>" % (ROOM,))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(self.room.getAffiliation("benvolio@localhost"), "none")
        self.assertEqual(benvolio.received(), [])
        self.assertEqual([s for s in self.harness.delivered if s.getAttribute("to", "").startswith("benvolio@")], [])
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.storage.rooms.failing = False
        self.romeo.send("<message id='inv2' to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
                        "<invite to='benvolio@localhost'/></x></message>" % (ROOM,))
        self.assertEqual(self.room.getAffiliation("benvolio@localhost"), "member")


class HeldRoomStore(MemoryRoomStore):
    """
    The memory room store whose saves wait, while C{holding}, until the
    test lets each one through (L{release}) or fails it (L{fail}).

    @ivar held: C{[(Deferred, room JID, state)]} of the waiting saves.
    """

    holding = False

    def __init__(self):
        MemoryRoomStore.__init__(self)
        self.held = []

    def save(self, room_jid, state):
        if not self.holding:
            return MemoryRoomStore.save(self, room_jid, state)
        d = defer.Deferred()
        self.held.append((d, room_jid, state))
        return d

    def release(self):
        """
        Store the oldest waiting save, then fire it.
        """
        d, roomJID, state = self.held.pop(0)
        MemoryRoomStore.save(self, roomJID, state).chainDeferred(d)

    def fail(self):
        """
        Fail the oldest waiting save; storage keeps what it had.
        """
        d, _, _ = self.held.pop(0)
        d.errback(StorageUnavailable("memory: rooms are down"))


class HeldStorage(MemoryStorage):
    def __init__(self):
        MemoryStorage.__init__(self)
        self.rooms = HeldRoomStore()


class OverlappingSaveTests(unittest.TestCase):
    """
    Two changes of one room overlap: the second is applied and stored only
    once the first save finished, so when the first fails its restore
    cannot undo the second, and storage always has the room's state.
    """

    def setUp(self):
        populateRoom(self, HeldStorage())
        self.storage.rooms.holding = True

    stored = SaveFailureTests.stored

    @defer.inlineCallbacks
    def assertStorageMatchesRoom(self):
        from xmuc.muc.persistence import stateOf

        self.assertEqual((yield self.stored()), json.loads(json.dumps(stateOf(self.room))))

    @defer.inlineCallbacks
    def test_firstConfigurationFailsSecondStands(self):
        """
        Romeo renames the room and makes it members-only; while that is
        being stored he submits a description.  The first save fails: he
        gets internal-server-error for it, the room keeps its name and
        stays open (Juliet stays); the second change is then applied to
        that state and stored: the description is there, the first change
        is not, and storage has exactly the room's state.
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret") + field("muc#roomconfig_membersonly", "1"),
                  id="first")
        configure(self.romeo, field("muc#roomconfig_roomdesc", "Verona"), id="second")
        # Only the first is being stored; the second waits for it.
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.assertEqual(self.storage.rooms.held[0][2]["config"]["name"], "Secret")
        self.assertEqual(self.romeo.received(), [])
        self.storage.rooms.fail()
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        # The second is now applied to the restored room and stored.
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual(state["config"]["name"], nameBefore)
        self.assertFalse(state["config"]["membersOnly"])
        self.assertEqual(state["config"]["description"], "Verona")
        self.assertEqual(self.romeo.received(), [])
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.romeo.received(), "second")["type"], "result")
        self.assertEqual(self.room.config.name, nameBefore)
        self.assertFalse(self.room.config.membersOnly)
        self.assertEqual(self.room.config.description, "Verona")
        self.assertIn("Juliet", self.room.occupants)
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_configurationFailsAffiliationStands(self):
        """
        A configuration change then an affiliation change overlap; the
        configuration's save fails: Mercutio is still made an admin (notice
        and result once stored), the configuration is the old one.
        """
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        self.assertEqual(adminSet(self.romeo, affItem("mercutio@localhost", "admin"), id="second"), [])
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "admin")
        self.storage.rooms.release()
        received = self.romeo.received()
        self.assertEqual(condition(iqResult(received, "first"))[0], "internal-server-error")
        self.assertEqual(iqResult(received, "second")["type"], "result")
        self.assertIn(ROOM + "/Mercutio", [s["from"] for s in self.mercutio.received() if s.name == "presence"])
        self.assertNotEqual(self.room.config.name, "Secret")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "admin")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_secondCheckedAgainstTheFirst(self):
        """
        Romeo makes Mercutio an owner; while that is being stored, Mercutio
        (an owner in memory) makes Juliet an admin.  The first save fails:
        the second is checked again against the restored room, where
        Mercutio is nobody, and refused; Juliet gets nothing.
        """
        adminSet(self.romeo, affItem("mercutio@localhost", "owner"), id="first")
        self.assertEqual(adminSet(self.mercutio, affItem("juliet@localhost", "admin"), id="second"), [])
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(condition(iqResult(self.mercutio.received(), "second"))[0], "not-allowed")
        self.assertEqual(self.storage.rooms.held, [])
        self.assertEqual(self.juliet.received(), [])
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "none")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_plainSaveWaitsForChange(self):
        """
        A subject change while a configuration change is being stored is
        stored after it, with the state the failed change left (not the
        name that was never in force).
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        self.romeo.send("<message to='%s' type='groupchat'><subject>News</subject></message>" % (ROOM,))
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual((state["config"]["name"], state["subject"]), (nameBefore, "News"))
        self.storage.rooms.release()
        self.assertEqual(subjectOf(self.room).text, "News")
        yield self.assertStorageMatchesRoom()
