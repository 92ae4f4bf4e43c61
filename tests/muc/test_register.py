"""
Registering with a room and reserved nicks (XEP-0045 7.10, 7.12 and 9.3
with the nick attribute).

Registering (and unregistering) is all-or-nothing like the other room
changes: when storing the room fails, the requester gets
C{internal-server-error}, affiliations and reserved nicks are as before,
and nobody saw anything (no 307 eviction, no presence, no notice).  A
registration made while another change of the room is being stored waits
for it, is checked against the state it then finds, and is never undone
by that change failing.  The stores are the real memory backend, made to
fail or hold saves on demand.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    FlakyStorage,
    HeldStorage,
    MUCTestCase,
    REGISTER_GET,
    REGISTER_SET,
    ROOM,
    adminGet,
    adminSet,
    affItem,
    codes,
    condition,
    configure,
    field,
    iqResult,
    item,
    layout,
    listed,
    populateRoom,
    registrationForm,
    unregister,
)
from xmuc.muc.persistence import stateOf
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.xmpp import ns


def register(client, nick, id="r1", formType=ns.MUC_REGISTER):
    client.received()
    client.send(REGISTER_SET % (id, ROOM, registrationForm(nick, formType)))
    return client.received()


def reservedNickQuery(client, id="n1"):
    client.received()
    client.send("<iq id='%s' to='%s' type='get'><query xmlns='%s' node='x-roomuser-item'/></iq>" % (id, ROOM, ns.DISCO_INFO))
    [answer] = client.received()
    return answer


class RegistrationTestCase(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.romeo.received()


class RegistrationFormTests(RegistrationTestCase):
    def test_form(self):
        """
        A member gets the muc#register form: hidden FORM_TYPE and the
        required nick field, nothing else.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.juliet.send(REGISTER_GET % ("g1", ROOM))
        [answer] = self.juliet.received()
        self.assertEqual(answer["type"], "result")
        [x] = answer.query.elements(ns.DATA_FORMS, "x")
        self.assertEqual(x["type"], "form")
        fields = list(x.elements())
        self.assertEqual([(f["var"], f.getAttribute("type"), f.getAttribute("label")) for f in fields],
                         [("FORM_TYPE", "hidden", None), ("muc#register_roomnick", "text-single", "Nickname")])
        self.assertEqual(str(fields[0].value), ns.MUC_REGISTER)
        self.assertEqual([c.name for c in fields[1].elements()], ["required"])

    def test_registeredAnswer(self):
        """
        Once registered, a get answers <registered/> and the nick.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Jules"))
        self.juliet.send(REGISTER_GET % ("g1", ROOM))
        [answer] = self.juliet.received()
        self.assertEqual([c.name for c in answer.query.elements()], ["registered", "username"])
        self.assertEqual(str(answer.query.username), "Jules")

    def test_unaffiliatedRefused(self):
        """
        Unaffiliated users get registration-required (get and set) by
        default; outcasts get forbidden.
        """
        self.juliet.send(REGISTER_GET % ("g1", ROOM))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[:2], ("registration-required", "auth"))
        [error] = register(self.juliet, "Juliet")
        self.assertEqual(condition(error)[:2], ("registration-required", "auth"))
        self.assertEqual(self.room().reservedNicks, {})
        adminSet(self.romeo, affItem("user3@localhost", "outcast"))
        [error] = register(self.rosaline, "Rosaline")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_disco(self):
        self.romeo.send("<iq id='d1' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_INFO))
        [answer] = self.romeo.received()
        features = [f["var"] for f in answer.query.elements(ns.DISCO_INFO, "feature")]
        self.assertIn(ns.REGISTER, features)


class UnaffiliatedRegistrationTests(RegistrationTestCase):
    muc = {"allow_unaffiliated_registration": "true"}

    def test_registerMakesMember(self):
        """
        With [muc] allow_unaffiliated_registration, an occupant registers:
        it becomes a member, sees its updated presence (110, no actor)
        before the result, and the others see it too.
        """
        self.juliet.join("room", "Juliet")
        self.romeo.received()
        received = register(self.juliet, "Juliet")
        self.assertEqual([s.name for s in received], ["presence", "iq"])
        presence, result = received
        self.assertEqual(layout(presence), ["item", "status:110"])
        self.assertEqual(item(presence), {"affiliation": "member", "role": "participant", "jid": "user2@localhost/garden"})
        self.assertEqual(result["type"], "result")
        [seen] = self.romeo.received()
        self.assertEqual(layout(seen), ["item"])
        self.assertEqual(item(seen)["affiliation"], "member")
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "member")
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Juliet"})
        [result] = adminGet(self.romeo, "<item affiliation='member'/>")
        self.assertEqual(listed(result), [{"affiliation": "member", "jid": "user2@localhost", "nick": "Juliet"}])

    def test_registerFromOutside(self):
        """
        Someone not in the room registers: the occupants who may see JIDs
        get the affiliation notice.
        """
        received = register(self.juliet, "Juliet")
        self.assertEqual([s.name for s in received], ["iq"])
        [notice] = self.romeo.received()
        self.assertEqual(item(notice), {"jid": "user2@localhost", "affiliation": "member"})

    def test_badForms(self):
        """
        No form or another FORM_TYPE: bad-request; no nick or an invalid
        one: not-acceptable.  Nothing is applied.
        """
        self.juliet.received()
        self.juliet.send(REGISTER_SET % ("b1", ROOM, ""))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "bad-request")
        [error] = register(self.juliet, "Juliet", formType="urn:other")
        self.assertEqual(condition(error)[0], "bad-request")
        [error] = register(self.juliet, None)
        self.assertEqual(condition(error)[0], "not-acceptable")
        [error] = register(self.juliet, "")
        self.assertEqual(condition(error)[0], "not-acceptable")
        [error] = register(self.juliet, "bad\u200enick")
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.assertEqual(self.room().reservedNicks, {})
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "none")

    def test_nickOfSomeoneElse(self):
        register(self.juliet, "Juliet")
        [error] = register(self.rosaline, "Juliet")
        self.assertEqual(condition(error)[:2], ("conflict", "cancel"))
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Juliet"})

    def test_reRegisterChangesNick(self):
        register(self.juliet, "Juliet")
        register(self.juliet, "Jules", id="r2")
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Jules"})
        self.rosaline.join("room", "Juliet")
        self.assertIn("Juliet", self.room().occupants)

    def test_registeringEvictsWhoeverSitsOnTheNick(self):
        """
        Registering a nick someone else uses removes that occupant with
        307 and "This nickname is reserved", without actor.
        """
        self.rosaline.join("room", "Juliet")
        self.romeo.received()
        register(self.juliet, "Juliet")
        [gone] = [s for s in self.romeo.received() if s.name == "presence"]
        self.assertEqual(gone["type"], "unavailable")
        self.assertEqual(layout(gone), ["status:307", "item", ])
        self.assertEqual(str(gone.x.item.reason), "This nickname is reserved")
        self.assertEqual([c.name for c in gone.x.item.elements()], ["reason"])
        [own] = self.rosaline.received()
        self.assertEqual(codes(own), ["307", "110"])


class ReservedNickTests(RegistrationTestCase):
    def setUp(self):
        RegistrationTestCase.setUp(self)
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet"))

    def test_othersCannotJoinWithIt(self):
        """
        A reserved nick: conflict for others (error from the room, with the
        muc x echoed); its owner joins with it.
        """
        [error] = self.rosaline.join("room", "Juliet")
        self.assertEqual(error["type"], "error")
        self.assertEqual(condition(error)[:2], ("conflict", "cancel"))
        self.assertEqual(error.error["by"], ROOM)
        self.assertEqual(len(list(error.elements(ns.MUC, "x"))), 1)
        received = self.juliet.join("room", "Juliet")
        self.assertEqual(received[-2]["from"], ROOM + "/Juliet")
        self.assertIn("Juliet", self.room().occupants)

    def test_othersCannotChangeNickToIt(self):
        self.rosaline.join("room", "Rosaline")
        self.rosaline.send("<presence to='%s/Juliet'/>" % (ROOM,))
        [error] = self.rosaline.received()
        self.assertEqual(condition(error)[0], "conflict")
        self.assertIn("Rosaline", self.room().occupants)

    def test_discoNode(self):
        """
        disco#info node x-roomuser-item: the caller's reserved nick, or an
        empty query.
        """
        answer = reservedNickQuery(self.juliet)
        self.assertEqual(answer["type"], "result")
        self.assertEqual(answer.query["node"], "x-roomuser-item")
        [identity] = answer.query.elements()
        self.assertEqual(dict(identity.attributes), {"category": "conference", "name": "Juliet", "type": "text"})
        answer = reservedNickQuery(self.romeo)
        self.assertEqual(answer.query["node"], "x-roomuser-item")
        self.assertEqual(list(answer.query.elements()), [])

    def test_reservingThroughAdminEvicts(self):
        """
        Reserving (muc#admin nick attribute) a nick someone else sits on
        removes it (307, reason, no actor) before the notice and the result.
        """
        self.rosaline.join("room", "Rosa")
        self.romeo.received()
        received = adminSet(self.romeo, affItem("user4@localhost", "member", nick="Rosa"), id="a2")
        self.assertEqual([s.name for s in received], ["presence", "message", "iq"])
        gone = received[0]
        self.assertEqual(layout(gone), ["status:307", "item"])
        self.assertEqual(item(gone), {"affiliation": "none", "role": "none", "jid": "user3@localhost/street"})
        self.assertEqual(str(gone.x.item.reason), "This nickname is reserved")

    def test_ownReservationDoesNotEvict(self):
        self.juliet.join("room", "Juliet")
        self.romeo.received()
        received = adminSet(self.romeo, affItem("user2@localhost", "admin", nick="Juliet"), id="a2")
        self.assertEqual([s.name for s in received], ["presence", "iq"])
        self.assertEqual(item(received[0])["role"], "moderator")

    def test_unregister(self):
        """
        <remove/> drops the membership and the nick; occupants get the
        notice (no reason); the nick is free again.
        """
        received = unregister(self.juliet)
        self.assertEqual([(s.name, s["type"]) for s in received], [("iq", "result")])
        [notice] = self.romeo.received()
        self.assertEqual(layout(notice), ["item"])
        self.assertEqual(item(notice), {"jid": "user2@localhost", "affiliation": "none"})
        self.assertEqual(list(notice.x.item.elements()), [])
        self.assertEqual(self.room().reservedNicks, {})
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "none")
        self.rosaline.join("room", "Juliet")
        self.assertIn("Juliet", self.room().occupants)

    def test_unregisterKeepsHigherAffiliation(self):
        """
        An owner who registered and unregisters stays owner (only the nick
        goes); its presence is updated.
        """
        register(self.romeo, "Romeo")
        self.assertEqual(self.room().reservedNicks["user@localhost"], "Romeo")
        received = unregister(self.romeo)
        self.assertEqual([s.name for s in received], ["presence", "iq"])
        self.assertEqual(item(received[0])["affiliation"], "owner")
        self.assertNotIn("user@localhost", self.room().reservedNicks)
        self.assertEqual(self.room().getAffiliation("user@localhost"), "owner")

    def test_removingMembershipDropsNick(self):
        """
        The nick goes with the affiliation (none); as with Prosody, a ban
        keeps it (listed with the outcast, still reserved).
        """
        adminSet(self.romeo, affItem("user2@localhost", "none"), id="a2")
        self.assertEqual(self.room().reservedNicks, {})
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet"), id="a3")
        adminSet(self.romeo, affItem("user2@localhost", "outcast"), id="a4")
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Juliet"})

    def test_changingAffiliationKeepsNick(self):
        adminSet(self.romeo, affItem("user2@localhost", "admin"), id="a2")
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Juliet"})

    @defer.inlineCallbacks
    def test_reservedNickSurvivesRestart(self):
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1"))
        register(self.romeo, "Romeo")
        restarted = yield self.harness.restart()
        room = restarted.muc.rooms[ROOM]
        self.assertEqual(room.reservedNicks, {"user2@localhost": "Juliet", "user@localhost": "Romeo"})
        rosaline = restarted.client("user3@localhost/street")
        [error] = rosaline.join("room", "Juliet")
        self.assertEqual(condition(error)[0], "conflict")


#: Unaffiliated users may register, so that registering changes the
#: affiliation too (member), not only the reserved nick.
MUC_CONFIG = {"allow_unaffiliated_registration": "true"}


def sendRegistration(client, nick, id="r1"):
    """
    Send a registration form with C{nick}, without reading the answer.
    """
    client.send(REGISTER_SET % (id, ROOM, registrationForm(nick)))


class SaveFailureTests(unittest.TestCase):
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


class OverlappingSaveTests(unittest.TestCase):
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
