"""
Registering with a room (and unregistering) is all-or-nothing like the
other room changes: when storing the room fails, the requester gets
C{internal-server-error}, affiliations and reserved nicks are as before,
and nobody saw anything (no 307 eviction, no presence, no notice).  A
registration made while another change of the room is being stored waits
for it, is checked against the state it then finds, and is never undone
by that change failing.  The stores are the real memory backend, made to
fail or hold saves on demand (L{tests.test_muc_savefailure}).
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.muc.persistence import stateOf
from xmuc.storage.interfaces import StorageUnavailable

from tests.support.muc import (
    FlakyStorage,
    HeldStorage,
    REGISTER_SET,
    ROOM,
    adminSet,
    affItem,
    codes,
    condition,
    configure,
    field,
    iqResult,
    populateRoom,
    registrationForm,
    unregister,
)

#: Unaffiliated users may register, so that registering changes the
#: affiliation too (member), not only the reserved nick.
MUC_CONFIG = {"allow_unaffiliated_registration": "true"}


def sendRegistration(client, nick, id="r1"):
    """
    Send a registration form with C{nick}, without reading the answer.
    """
    client.send(REGISTER_SET % (id, ROOM, registrationForm(nick)))


def register(client, nick, id="r1"):
    """
    @return: what C{client} received in answer to registering C{nick}.
    """
    client.received()
    sendRegistration(client, nick, id)
    return client.received()


class RegisterSaveFailureTests(unittest.TestCase):
    """
    Romeo owns the persistent room; Juliet (no affiliation) sits on the
    nick Juliet; Mercutio is a member with the reserved nick Merc.
    Benvolio is not in the room.
    """

    def setUp(self):
        populateRoom(self, FlakyStorage(), muc=MUC_CONFIG, memberNick="Merc", benvolio=True)

    def state(self):
        """
        @return: what a failed registration must leave as it was.
        """
        return (dict(self.room.affiliations), dict(self.room.reservedNicks), sorted(self.room.occupants),
                {nick: o.role for nick, o in self.room.occupants.items()})

    @defer.inlineCallbacks
    def stored(self):
        return (yield self.storage.rooms.get(ROOM))

    def assertFailedQuietly(self, requester, received, id):
        """
        C{requester} got C{internal-server-error} and nothing else; the
        others got nothing; the storage error was logged once.
        """
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(condition(iqResult(received, id))[0], "internal-server-error")
        for client in self.clients:
            if client is not requester:
                self.assertEqual(client.received(), [])
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.assertEqual(self.storage.rooms.attempts, 1)

    @defer.inlineCallbacks
    def test_reservingOccupiedNickUnchanged(self):
        """
        Mercutio registers the nick Juliet sits on: when storing fails,
        Juliet is not evicted (no 307), Mercutio keeps his old nick
        reservation and storage the old state.  Once storage is back, the
        same request evicts Juliet with 307.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        received = register(self.mercutio, "Juliet")
        self.assertFailedQuietly(self.mercutio, received, "r1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.reservedNicks, {"mercutio@localhost": "Merc"})
        self.assertEqual((yield self.stored()), storedBefore)
        self.storage.rooms.failing = False
        received = register(self.mercutio, "Juliet", id="r2")
        self.assertEqual(iqResult(received, "r2")["type"], "result")
        [gone] = [s for s in self.juliet.received() if s.name == "presence"]
        self.assertEqual((gone["type"], codes(gone)), ("unavailable", ["307", "110"]))
        self.assertEqual((yield self.stored())["reservedNicks"], {"mercutio@localhost": "Juliet"})

    @defer.inlineCallbacks
    def test_becomingMemberUnchanged(self):
        """
        Juliet (no affiliation) registers: when storing fails she is still
        unaffiliated with no reserved nick, and nobody (she included) saw
        her presence as a member.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        received = register(self.juliet, "Jules")
        self.assertFailedQuietly(self.juliet, received, "r1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "none")
        self.assertEqual(self.room.occupants["Juliet"].affiliation, "none")
        self.assertEqual((yield self.stored()), storedBefore)

    def test_registeringFromOutsideSendsNoNotice(self):
        """
        Benvolio, not in the room, registers: when storing fails, the
        owner gets no affiliation notice and Benvolio is nobody.
        """
        before = self.state()
        self.storage.rooms.failing = True
        received = register(self.benvolio, "Benvolio")
        self.assertFailedQuietly(self.benvolio, received, "r1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.getAffiliation("benvolio@localhost"), "none")

    @defer.inlineCallbacks
    def test_unregisteringUnchanged(self):
        """
        Mercutio unregisters: when storing fails he is still a member with
        his nick reserved, and nobody saw his presence without membership.
        Once storage is back, the same request works.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        received = unregister(self.mercutio)
        self.assertFailedQuietly(self.mercutio, received, "u1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "member")
        self.assertEqual((yield self.stored()), storedBefore)
        self.storage.rooms.failing = False
        received = unregister(self.mercutio, id="u2")
        self.assertEqual(iqResult(received, "u2")["type"], "result")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.reservedNicks, {})
        stored = yield self.stored()
        self.assertEqual((stored["affiliations"], stored["reservedNicks"]), ({"romeo@localhost": "owner"}, {}))

    def test_refusalsStoreNothing(self):
        """
        A refused registration (nick reserved by someone else) never
        reaches storage, which may be down.
        """
        self.storage.rooms.failing = True
        received = register(self.juliet, "Merc")
        self.assertEqual(condition(iqResult(received, "r1"))[0], "conflict")
        self.assertEqual(self.storage.rooms.attempts, 0)


class OverlappingRegistrationTests(unittest.TestCase):
    """
    A registration overlaps another change of the room being stored: it is
    applied and stored only once that one finished, against the state it
    left.
    """

    def setUp(self):
        populateRoom(self, HeldStorage(), muc=MUC_CONFIG)
        self.storage.rooms.holding = True

    @defer.inlineCallbacks
    def assertStorageMatchesRoom(self):
        stored = yield self.storage.rooms.get(ROOM)
        self.assertEqual(stored, json.loads(json.dumps(stateOf(self.room))))

    @defer.inlineCallbacks
    def test_configurationFailsRegistrationStands(self):
        """
        Romeo renames the room; while that is being stored, Mercutio
        registers the nick Juliet sits on.  Nothing of the registration
        happens before the rename finished; the rename's save fails, the
        registration is then applied and stored: Mercutio is a member with
        the nick, Juliet is evicted with 307 only then, the name is the old
        one, and storage has exactly the room's state.
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        sendRegistration(self.mercutio, "Juliet", id="second")
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.assertEqual(self.room.reservedNicks, {})
        self.assertIn("Juliet", self.room.occupants)
        self.assertEqual((self.juliet.received(), self.mercutio.received()), ([], []))
        self.storage.rooms.fail()
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual(state["reservedNicks"], {"mercutio@localhost": "Juliet"})
        self.assertEqual(state["config"]["name"], nameBefore)
        # Stored, not yet acknowledged: Juliet is still there.
        self.assertEqual((self.juliet.received(), self.mercutio.received()), ([], []))
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.mercutio.received(), "second")["type"], "result")
        [gone] = [s for s in self.juliet.received() if s.name == "presence"]
        self.assertEqual((gone["type"], codes(gone)), ("unavailable", ["307", "110"]))
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "member")
        self.assertEqual(self.room.reservedNicks, {"mercutio@localhost": "Juliet"})
        self.assertEqual(self.room.config.name, nameBefore)
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_registrationFailsAffiliationStands(self):
        """
        Mercutio registers; while that is being stored Romeo makes Juliet
        an admin.  The registration's save fails: Mercutio is nobody, no
        nick is reserved, Juliet is an admin, storage has the room's state.
        """
        sendRegistration(self.mercutio, "Merc", id="first")
        self.assertEqual(adminSet(self.romeo, affItem("juliet@localhost", "admin"), id="second"), [])
        self.storage.rooms.fail()
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.assertEqual(condition(iqResult(self.mercutio.received(), "first"))[0], "internal-server-error")
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.romeo.received(), "second")["type"], "result")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.reservedNicks, {})
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "admin")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_registrationCheckedAgainstEarlierBan(self):
        """
        Romeo bans Mercutio; while that is being stored Mercutio registers.
        Once the ban is stored, the registration is checked against it and
        refused (forbidden): nothing more is stored, Mercutio stays an
        outcast.
        """
        adminSet(self.romeo, affItem("mercutio@localhost", "outcast"), id="first")
        sendRegistration(self.mercutio, "Merc", id="second")
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.romeo.received(), "first")["type"], "result")
        self.assertEqual(condition(iqResult(self.mercutio.received(), "second"))[0], "forbidden")
        self.assertEqual(self.storage.rooms.held, [])
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "outcast")
        self.assertEqual(self.room.reservedNicks, {})
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_nickReservedMeanwhile(self):
        """
        Romeo reserves the nick Merc for Tybalt; while that is being stored
        Mercutio registers Merc.  Once the reservation is stored, the
        registration conflicts with it; nothing more is stored.
        """
        adminSet(self.romeo, affItem("tybalt@localhost", "member", nick="Merc"), id="first")
        sendRegistration(self.mercutio, "Merc", id="second")
        self.storage.rooms.release()
        self.assertEqual(condition(iqResult(self.mercutio.received(), "second"))[0], "conflict")
        self.assertEqual(self.storage.rooms.held, [])
        self.assertEqual(self.room.reservedNicks, {"tybalt@localhost": "Merc"})
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_nickFreedByFailedReservation(self):
        """
        As above, but the reservation for Tybalt fails to be stored: the
        nick is free again and Mercutio's registration stands.
        """
        adminSet(self.romeo, affItem("tybalt@localhost", "member", nick="Merc"), id="first")
        sendRegistration(self.mercutio, "Merc", id="second")
        self.storage.rooms.fail()
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.storage.rooms.release()
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(iqResult(self.mercutio.received(), "second")["type"], "result")
        self.assertEqual(self.room.reservedNicks, {"mercutio@localhost": "Merc"})
        self.assertEqual(self.room.getAffiliation("tybalt@localhost"), "none")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_unregistrationWaitsForConfiguration(self):
        """
        Mercutio, registered, unregisters while a configuration change is
        being stored; that save fails: the unregistration still stands
        (membership and nick gone, in memory and in storage).
        """
        self.storage.rooms.holding = False
        register(self.mercutio, "Merc")
        self.storage.rooms.holding = True
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        self.mercutio.received()
        self.mercutio.send(REGISTER_SET % ("second", ROOM, "<remove/>"))
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "member")
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.mercutio.received(), "second")["type"], "result")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.reservedNicks, {})
        yield self.assertStorageMatchesRoom()
