"""
Configuration and affiliation changes are all-or-nothing when storing the
room fails: the requester gets C{internal-server-error}, the room keeps its
previous state (configuration, affiliations, reserved nicks) and nobody
saw anything.  The store is the real memory backend, made to fail on
demand.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.muc.testing import DOMAIN, MUCHarness
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.storage.memory import MemoryRoomStore, MemoryStorage

from tests.test_muc_admin import adminSet, affItem, iqResult, roleItem
from tests.test_muc_core import condition, configure
from tests.test_muc_owner import field

ROOM = "room@" + DOMAIN


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
        self.storage = FlakyStorage()
        self.harness = MUCHarness(storage=self.storage)
        self.romeo = self.harness.client("romeo@localhost/r")
        self.juliet = self.harness.client("juliet@localhost/j")
        self.mercutio = self.harness.client("mercutio@localhost/m")
        self.romeo.join("room", "Romeo")
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1"))
        adminSet(self.romeo, affItem("mercutio@localhost", "member"))
        self.juliet.join("room", "Juliet")
        self.mercutio.join("room", "Mercutio")
        self.room = self.harness.muc.rooms[ROOM]
        self.clients = (self.romeo, self.juliet, self.mercutio)
        for client in self.clients:
            client.received()

    def state(self):
        """
        @return: what a failed change must leave as it was.
        """
        return (self.room.config.toDict(), dict(self.room.affiliations), dict(self.room.reservedNicks),
                self.room.locked, sorted(self.room.occupants))

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
        self.assertTrue(self.room.stored)

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
