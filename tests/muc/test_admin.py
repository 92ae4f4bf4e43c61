"""
Affiliations, roles and moderation (XEP-0045 sections 8, 9 and
the affiliation lists of 10): muc#admin lists, effects on occupants,
notices about people who are not in the room, role lists, voice requests,
bad input and all-or-nothing requests, and the permission matrices.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    ADMIN_IQ,
    MUCTestCase,
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
    mucX,
    roleItem,
)
from xmuc.testing.muc import MUCHarness
from xmuc.xmpp import ns


def actorOf(stanza):
    for child in mucX(stanza).elements(ns.MUC_USER, "item"):
        for actor in child.elements(ns.MUC_USER, "actor"):
            return dict(actor.attributes)
    return None


def reasonOf(stanza):
    for child in mucX(stanza).elements(ns.MUC_USER, "item"):
        for reason in child.elements(ns.MUC_USER, "reason"):
            return str(reason)
    return None


class AdminTestCase(MUCTestCase):
    """
    Romeo owns C{room} (unlocked, semi-anonymous) and is in it.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.romeo.received()

    def enter(self, client, nick):
        received = client.join("room", nick)
        self.romeo.received()
        return received


class AffiliationListTests(AdminTestCase):
    def test_memberListWithNicks(self):
        """
        An owner gets the member list with reserved nicks; other lists are
        separate.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet") + affItem("user3@localhost", "member")
                 + affItem("user4@localhost", "admin") + affItem("user5@localhost", "outcast"))
        [result] = adminGet(self.romeo, "<item affiliation='member'/>")
        self.assertEqual(result["type"], "result")
        self.assertEqual(listed(result), [
            {"affiliation": "member", "jid": "user2@localhost", "nick": "Juliet"},
            {"affiliation": "member", "jid": "user3@localhost"},
        ])
        [result] = adminGet(self.romeo, "<item affiliation='admin'/>")
        self.assertEqual(listed(result), [{"affiliation": "admin", "jid": "user4@localhost"}])
        [result] = adminGet(self.romeo, "<item affiliation='outcast'/>")
        self.assertEqual(listed(result), [{"affiliation": "outcast", "jid": "user5@localhost"}])
        [result] = adminGet(self.romeo, "<item affiliation='owner'/>")
        self.assertEqual(listed(result), [{"affiliation": "owner", "jid": "user@localhost"}])

    def test_adminSeesListsUpToItsOwn(self):
        """
        An admin gets the member, outcast and admin lists, not the owner
        list (forbidden).
        """
        adminSet(self.romeo, affItem("user2@localhost", "admin"))
        for affiliation in ("member", "outcast", "admin"):
            [result] = adminGet(self.juliet, "<item affiliation='%s'/>" % (affiliation,))
            self.assertEqual(result["type"], "result", affiliation)
        [error] = adminGet(self.juliet, "<item affiliation='owner'/>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_othersForbiddenInSemiAnonymousRooms(self):
        """
        In a semi-anonymous room, members and unaffiliated occupants may
        not see the lists (they carry real JIDs).
        """
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.enter(self.juliet, "Juliet")
        self.enter(self.rosaline, "Rosaline")
        for client in (self.juliet, self.rosaline):
            [error] = adminGet(client, "<item affiliation='member'/>")
            self.assertEqual(condition(error)[0], "forbidden")

    def test_membersOfOpenNonAnonymousRoomForbidden(self):
        """
        In an open non-anonymous room only admins and owners get lists, as
        in Prosody 0.12: a member and an unaffiliated occupant are
        forbidden (there is no C{muc#roomconfig_getmemberlist} to allow
        them, as in Prosody).
        """
        configure(self.romeo, field("muc#roomconfig_whois", "anyone"))
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.enter(self.juliet, "Juliet")
        self.enter(self.rosaline, "Rosaline")
        for client in (self.juliet, self.rosaline):
            [error] = adminGet(client, "<item affiliation='member'/>")
            self.assertEqual(condition(error)[0], "forbidden")

    def test_membersOfMembersOnlyNonAnonymousRoomGetEveryList(self):
        """
        In a members-only room where everyone sees real JIDs, a member gets
        every list (outcasts and owners too), in the room or not, as in
        Prosody 0.12; an unaffiliated user is still forbidden.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member") + affItem("user5@localhost", "outcast"))
        configure(self.romeo, field("muc#roomconfig_whois", "anyone") + field("muc#roomconfig_membersonly", "1"))
        [result] = adminGet(self.juliet, "<item affiliation='member'/>")
        self.assertEqual(listed(result), [{"affiliation": "member", "jid": "user2@localhost"}])
        [result] = adminGet(self.juliet, "<item affiliation='outcast'/>")
        self.assertEqual(listed(result), [{"affiliation": "outcast", "jid": "user5@localhost"}])
        [result] = adminGet(self.juliet, "<item affiliation='owner'/>")
        self.assertEqual(listed(result), [{"affiliation": "owner", "jid": "user@localhost"}])
        [error] = adminGet(self.rosaline, "<item affiliation='member'/>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_membersOfMembersOnlySemiAnonymousRoomForbidden(self):
        """
        A members-only room that hides real JIDs gives members no list.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        [error] = adminGet(self.juliet, "<item affiliation='member'/>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_badListRequests(self):
        """
        No item, an unknown affiliation or role, or both attributes:
        bad-request.
        """
        for items in ("", "<item affiliation='friend'/>", "<item role='king'/>",
                      "<item affiliation='member' role='participant'/>", "<item/>"):
            [error] = adminGet(self.romeo, items)
            self.assertEqual(condition(error)[0], "bad-request", items)


class AffiliationChangeTests(AdminTestCase):
    def test_noticeAboutNonOccupantBeforeResult(self):
        """
        Granting membership to someone not in the room: occupants who may
        see real JIDs get the notice (item jid, affiliation), before the
        iq result; occupants who may not see JIDs get nothing.
        """
        self.enter(self.rosaline, "Rosaline")
        received = adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.assertEqual([s.name for s in received], ["message", "iq"])
        notice, result = received
        self.assertEqual(notice["from"], ROOM)
        self.assertEqual(layout(notice), ["item"])
        self.assertEqual(item(notice), {"jid": "user2@localhost", "affiliation": "member"})
        self.assertEqual((result["type"], result["id"]), ("result", "a1"))
        self.assertEqual(self.rosaline.received(), [])
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "member")

    def test_noNoticeWithoutChange(self):
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        received = adminSet(self.romeo, affItem("user2@localhost", "member"), id="a2")
        self.assertEqual([s.name for s in received], ["iq"])

    def test_occupantPresenceWithActorAndReason(self):
        """
        Granting membership to an occupant: its presence goes to everyone
        with the new affiliation, the actor and the reason; the actor's
        real JID only to those who may see real JIDs.
        """
        self.enter(self.juliet, "Juliet")
        self.enter(self.rosaline, "Rosaline")
        self.juliet.received()
        received = adminSet(self.romeo, affItem("user2@localhost", "member", reason="Welcome"))
        self.assertEqual([s.name for s in received], ["presence", "iq"])
        presence = received[0]
        self.assertEqual(presence["from"], ROOM + "/Juliet")
        self.assertEqual(item(presence), {"affiliation": "member", "role": "participant", "jid": "user2@localhost/garden"})
        self.assertEqual(actorOf(presence), {"nick": "Romeo", "jid": "user@localhost/balcony"})
        self.assertEqual(reasonOf(presence), "Welcome")
        [own] = self.juliet.received()
        self.assertEqual(codes(own), ["110"])
        self.assertEqual(actorOf(own), {"nick": "Romeo"})
        [seen] = self.rosaline.received()
        self.assertNotIn("jid", item(seen))
        self.assertEqual(actorOf(seen), {"nick": "Romeo"})

    def test_adminBecomesModerator(self):
        self.enter(self.juliet, "Juliet")
        adminSet(self.romeo, affItem("user2@localhost", "admin"))
        self.assertEqual(self.room().occupants["Juliet"].role, "moderator")
        adminSet(self.romeo, affItem("user2@localhost", "member"), id="a2")
        self.assertEqual(self.room().occupants["Juliet"].role, "participant")

    def test_banRemovesWith301(self):
        """
        A ban removes the occupant with 301 (actor, reason) and keeps it
        out (forbidden).
        """
        self.enter(self.juliet, "Juliet")
        self.juliet.received()
        received = adminSet(self.romeo, affItem("user2@localhost", "outcast", reason="Go"))
        presence = received[0]
        self.assertEqual(presence["type"], "unavailable")
        self.assertEqual(layout(presence), ["status:301", "item"])
        self.assertEqual(item(presence), {"affiliation": "outcast", "role": "none", "jid": "user2@localhost/garden"})
        self.assertEqual(reasonOf(presence), "Go")
        self.assertEqual(iqResult(received, "a1")["type"], "result")
        [own] = self.juliet.received()
        self.assertEqual(codes(own), ["301", "110"])
        self.assertNotIn("Juliet", self.room().occupants)
        [error] = self.juliet.join("room", "Juliet")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_lossOfMembershipInMembersOnlyRoom(self):
        """
        Losing membership in a members-only room removes the occupant with
        321: status first, then the item with the actor.
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.enter(self.juliet, "Juliet")
        received = adminSet(self.romeo, affItem("user2@localhost", "none"), id="a2")
        presence = received[0]
        self.assertEqual(presence["type"], "unavailable")
        self.assertEqual(layout(presence), ["status:321", "item"])
        self.assertEqual(item(presence), {"affiliation": "none", "role": "none", "jid": "user2@localhost/garden"})
        self.assertEqual(actorOf(presence), {"nick": "Romeo", "jid": "user@localhost/balcony"})
        self.assertEqual(iqResult(received, "a2")["type"], "result")

    def test_switchToMembersOnlyRemovesNonMembers(self):
        """
        Switching a room to members-only removes unaffiliated occupants
        with 322; members stay.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member"))
        self.enter(self.juliet, "Juliet")
        self.enter(self.rosaline, "Rosaline")
        self.rosaline.received()
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        [own] = [s for s in self.rosaline.received() if s.name == "presence"]
        self.assertEqual(own["type"], "unavailable")
        self.assertEqual(codes(own), ["322", "110"])
        self.assertEqual(sorted(self.room().occupants), ["Juliet", "Romeo"])

    def test_lastOwnerCannotLeaveOwnership(self):
        """
        The last owner cannot drop ownership (conflict); with another owner
        it can, and then the room refuses the new last owner too.
        """
        for affiliation in ("admin", "member", "none", "outcast"):
            [error] = adminSet(self.romeo, affItem("user@localhost", affiliation))
            self.assertEqual(condition(error)[0], "conflict", affiliation)
            self.assertEqual(self.room().getAffiliation("user@localhost"), "owner")
        adminSet(self.romeo, affItem("user2@localhost", "owner"))
        received = adminSet(self.romeo, affItem("user@localhost", "admin"), id="a2")
        self.assertEqual(iqResult(received, "a2")["type"], "result")
        self.assertEqual(self.room().getAffiliation("user@localhost"), "admin")
        [error] = adminSet(self.juliet, affItem("user2@localhost", "none"), id="a3")
        self.assertEqual(condition(error)[0], "conflict")

    def test_twoOwnersCannotBothLeaveInOneRequest(self):
        adminSet(self.romeo, affItem("user2@localhost", "owner"))
        [error] = adminSet(self.romeo, affItem("user2@localhost", "none") + affItem("user@localhost", "none"), id="a2")
        self.assertEqual(condition(error)[0], "conflict")
        self.assertEqual(sorted(self.room().owners()), ["user2@localhost", "user@localhost"])

    def test_affiliationsByBareJID(self):
        """
        A full JID in an item stands for its bare JID; every session of
        that user is affected.
        """
        self.enter(self.juliet, "Juliet")
        other = self.harness.client("user2@localhost/phone")
        other.join("room", "Juliet2")
        adminSet(self.romeo, affItem("user2@localhost/whatever", "admin"))
        self.assertEqual(self.room().affiliations.get("user2@localhost"), "admin")
        self.assertEqual({o.role for o in self.room().occupantsOf("user2@localhost")}, {"moderator"})

    def test_serverAdminActsAsOwner(self):
        """
        A server administrator, not in the room and not affiliated, acts as
        an owner.
        """
        harness = MUCHarness(admins=["boss@localhost"])
        romeo = harness.client("user@localhost/balcony")
        romeo.join("room", "Romeo")
        boss = harness.client("boss@localhost/desk")
        boss.send(ADMIN_IQ % ("b1", ROOM, "set", affItem("user2@localhost", "owner")))
        [result] = boss.received()
        self.assertEqual(result["type"], "result")
        self.assertEqual(harness.muc.rooms[ROOM].affiliations["user2@localhost"], "owner")
        boss.send(ADMIN_IQ % ("b2", ROOM, "get", "<item affiliation='owner'/>"))
        [result] = boss.received()
        self.assertEqual(len(listed(result)), 2)


class BadInputTests(AdminTestCase):
    def test_malformedItems(self):
        """
        Items without jid (and without an occupant's nick), unknown
        affiliations or roles, JIDs that do not parse, both or neither
        attribute: bad-request, nothing changes.
        """
        for items in ("",
                      "<item affiliation='member'/>",
                      "<item affiliation='member' nick='Nobody'/>",
                      "<item affiliation='friend' jid='user2@localhost'/>",
                      "<item affiliation='member' jid='a@b@c'/>",
                      "<item affiliation='member' jid='@localhost'/>",
                      "<item affiliation='member' jid=''/>",
                      "<item role='king' nick='Romeo'/>",
                      "<item role='participant'/>",
                      "<item affiliation='member' role='participant' jid='user2@localhost' nick='Juliet'/>",
                      "<item jid='user2@localhost'/>"):
            received = adminSet(self.romeo, items)
            self.assertEqual([s.name for s in received], ["iq"], items)
            self.assertEqual(condition(received[0])[0], "bad-request", items)
        self.assertEqual(self.room().affiliations, {"user@localhost": "owner"})

    def test_allOrNothing(self):
        """
        When one item of a request is refused, none is applied and nobody
        is told anything.
        """
        adminSet(self.romeo, affItem("user4@localhost", "admin"))
        admin = self.harness.client("user4@localhost/desk")
        self.enter(admin, "Admin")
        self.enter(self.juliet, "Juliet")
        self.juliet.received()
        received = adminSet(admin, affItem("user2@localhost", "member") + affItem("user3@localhost", "owner"))
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(condition(received[0])[0], "not-allowed")
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "none")
        self.assertEqual(self.room().getAffiliation("user3@localhost"), "none")
        received = adminSet(self.romeo, affItem("user2@localhost", "member") + "<item affiliation='bogus' jid='x@localhost'/>")
        self.assertEqual(condition(received[-1])[0], "bad-request")
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(self.juliet.received(), [])
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "none")
        received = adminSet(self.romeo, roleItem("Juliet", "visitor") + roleItem("Nobody", "visitor"))
        self.assertEqual(condition(received[-1])[0], "item-not-found")
        self.assertEqual(self.room().occupants["Juliet"].role, "participant")

    def test_multipleItemsApplied(self):
        received = adminSet(self.romeo, affItem("user2@localhost", "member") + affItem("user3@localhost", "admin")
                            + affItem("user5@localhost", "outcast"))
        self.assertEqual([s.name for s in received], ["message", "message", "message", "iq"])
        self.assertEqual(self.room().affiliations, {"user@localhost": "owner", "user2@localhost": "member",
                                                    "user3@localhost": "admin", "user5@localhost": "outcast"})

    def test_selfRoleChange(self):
        """
        An owner may change its own role, as with Prosody (no affiliation
        is above its own): demoted to participant, the owner gets its
        presence and the iq result.
        """
        received = adminSet(self.romeo, roleItem("Romeo", "participant"))
        self.assertEqual([s.name for s in received], ["presence", "iq"])
        self.assertEqual(received[-1]["type"], "result")
        self.assertEqual(self.room().occupants["Romeo"].role, "participant")

    def test_unknownNick(self):
        [error] = adminSet(self.romeo, roleItem("Nobody", "none"))
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_nickReservedByAnother(self):
        """
        Reserving a nick another JID holds: conflict; two items reserving
        the same nick: conflict.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet"))
        [error] = adminSet(self.romeo, affItem("user3@localhost", "member", nick="Juliet"), id="a2")
        self.assertEqual(condition(error)[0], "conflict")
        [error] = adminSet(self.romeo, affItem("user3@localhost", "member", nick="X") + affItem("user4@localhost", "member", nick="X"), id="a3")
        self.assertEqual(condition(error)[0], "conflict")
        self.assertEqual(self.room().reservedNicks, {"user2@localhost": "Juliet"})


class RoleTests(AdminTestCase):
    def setUp(self):
        AdminTestCase.setUp(self)
        self.enter(self.juliet, "Juliet")
        self.enter(self.rosaline, "Rosaline")
        self.juliet.received()
        self.rosaline.received()

    def test_kick(self):
        """
        A kick (role none) removes the occupant with 307, actor and reason.
        """
        received = adminSet(self.romeo, roleItem("Juliet", "none", "Behave"))
        presence = received[0]
        self.assertEqual(presence["type"], "unavailable")
        self.assertEqual(layout(presence), ["status:307", "item"])
        self.assertEqual(item(presence), {"affiliation": "none", "role": "none", "jid": "user2@localhost/garden"})
        self.assertEqual(actorOf(presence), {"nick": "Romeo", "jid": "user@localhost/balcony"})
        self.assertEqual(reasonOf(presence), "Behave")
        self.assertEqual(iqResult(received, "a1")["type"], "result")
        [own] = self.juliet.received()
        self.assertEqual(codes(own), ["307", "110"])
        [seen] = self.rosaline.received()
        self.assertEqual(actorOf(seen), {"nick": "Romeo"})
        self.assertNotIn("Juliet", self.room().occupants)

    def test_kickByJID(self):
        """
        A role item may name the occupant by real JID.
        """
        adminSet(self.romeo, "<item role='none' jid='user2@localhost'/>")
        self.assertNotIn("Juliet", self.room().occupants)

    def test_voiceRevokeAndGrant(self):
        received = adminSet(self.romeo, roleItem("Juliet", "visitor"))
        self.assertEqual(item(received[0]), {"affiliation": "none", "role": "visitor", "jid": "user2@localhost/garden"})
        self.assertEqual(layout(received[0]), ["item"])
        [own] = self.juliet.received()
        self.assertEqual(item(own)["role"], "visitor")
        self.assertEqual(codes(own), ["110"])
        self.juliet.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")
        adminSet(self.romeo, roleItem("Juliet", "participant"), id="a2")
        self.assertEqual(self.room().occupants["Juliet"].role, "participant")

    def test_moderatorGrantAndRevoke(self):
        """
        A member made moderator revokes the voice of an unaffiliated
        participant; an owner takes moderation back.
        """
        adminSet(self.romeo, affItem("user2@localhost", "member"), id="a0")
        self.juliet.received()
        adminSet(self.romeo, roleItem("Juliet", "moderator"))
        self.assertEqual(self.room().occupants["Juliet"].role, "moderator")
        # A moderator now sees real JIDs in a semi-anonymous room.
        [seen] = self.juliet.received()
        self.assertEqual(item(seen)["jid"], "user2@localhost/garden")
        adminSet(self.juliet, roleItem("Rosaline", "visitor"), id="j1")
        self.assertEqual(self.room().occupants["Rosaline"].role, "visitor")
        adminSet(self.romeo, roleItem("Juliet", "participant"), id="a2")
        self.assertEqual(self.room().occupants["Juliet"].role, "participant")

    def test_roleLists(self):
        """
        Moderators get role lists (nick, role, affiliation, real JID);
        others are forbidden.
        """
        adminSet(self.romeo, roleItem("Rosaline", "visitor"))
        [result] = adminGet(self.romeo, "<item role='participant'/>")
        self.assertEqual(listed(result), [{"affiliation": "none", "role": "participant", "jid": "user2@localhost/garden", "nick": "Juliet"}])
        [result] = adminGet(self.romeo, "<item role='visitor'/>", id="g2")
        self.assertEqual([i["nick"] for i in listed(result)], ["Rosaline"])
        [result] = adminGet(self.romeo, "<item role='moderator'/>", id="g3")
        self.assertEqual([i["nick"] for i in listed(result)], ["Romeo"])
        [error] = adminGet(self.juliet, "<item role='participant'/>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_anotherSessionOfAModerator(self):
        """
        Permission goes by bare JID: another session of the owner acts.
        """
        other = self.harness.client("user@localhost/phone")
        received = adminSet(other, roleItem("Juliet", "visitor"))
        self.assertEqual(iqResult(received, "a1")["type"], "result")
        self.assertEqual(self.room().occupants["Juliet"].role, "visitor")


class PersistenceTests(AdminTestCase):
    @defer.inlineCallbacks
    def test_storedBeforeResult(self):
        """
        In a persistent room, the effects (the notice) and the iq result of
        an affiliation change wait until storage has the new state; after a
        restart it is there.
        """
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1"))
        store = self.harness.storage.rooms
        pending = []
        realSave = store.save

        def slowSave(roomJID, state):
            d = defer.Deferred()
            pending.append((d, roomJID, state))
            return d

        store.save = slowSave
        received = adminSet(self.romeo, affItem("user2@localhost", "admin", nick="Juliet"))
        self.assertEqual(received, [])
        [(d, roomJID, state)] = pending
        self.assertEqual(state["affiliations"]["user2@localhost"], "admin")
        self.assertEqual(state["reservedNicks"], {"user2@localhost": "Juliet"})
        store.save = realSave
        yield realSave(roomJID, state)
        d.callback(None)
        notice, result = self.romeo.received()
        self.assertEqual((notice.name, result["type"]), ("message", "result"))
        restarted = yield self.harness.restart()
        room = restarted.muc.rooms[ROOM]
        self.assertEqual(room.getAffiliation("user2@localhost"), "admin")
        self.assertEqual(room.reservedNicks, {"user2@localhost": "Juliet"})


class VoiceRequestTests(AdminTestCase):
    REQUEST = ("<message to='%s'><x xmlns='jabber:x:data' type='submit'>"
               "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
               "<field var='muc#role'><value>participant</value></field></x></message>" % (ROOM,))

    def setUp(self):
        AdminTestCase.setUp(self)
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        self.enter(self.juliet, "Juliet")
        self.juliet.received()

    def approvalForm(self):
        self.juliet.send(self.REQUEST)
        [message] = self.romeo.received()
        self.assertEqual(message["from"], ROOM)
        [x] = message.elements(ns.DATA_FORMS, "x")
        values = {f["var"]: [str(v) for v in f.elements(ns.DATA_FORMS, "value")] for f in x.elements(ns.DATA_FORMS, "field")}
        return values

    def test_requestGoesToModerators(self):
        """
        A visitor's request reaches moderators as the approval form with the
        requester's real JID and nick.
        """
        self.assertEqual(self.room().occupants["Juliet"].role, "visitor")
        values = self.approvalForm()
        self.assertEqual(values["FORM_TYPE"], [ns.MUC_REQUEST])
        self.assertEqual(values["muc#role"], ["participant"])
        self.assertEqual(values["muc#jid"], ["user2@localhost/garden"])
        self.assertEqual(values["muc#roomnick"], ["Juliet"])
        self.assertEqual(values["muc#request_allow"], ["false"])
        self.assertEqual(self.juliet.received(), [])

    def test_approval(self):
        """
        The moderator submits the form with muc#request_allow: the visitor
        becomes participant, the moderator as actor.
        """
        self.approvalForm()
        self.romeo.send("<message to='%s'><x xmlns='jabber:x:data' type='submit'>"
                        "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                        "<field var='muc#role'><value>participant</value></field>"
                        "<field var='muc#jid'><value>user2@localhost/garden</value></field>"
                        "<field var='muc#roomnick'><value>Juliet</value></field>"
                        "<field var='muc#request_allow'><value>true</value></field></x></message>" % (ROOM,))
        self.assertEqual(self.room().occupants["Juliet"].role, "participant")
        [own] = self.juliet.received()
        self.assertEqual(item(own)["role"], "participant")
        self.assertEqual(actorOf(own), {"nick": "Romeo"})

    def test_denialAndNonModerators(self):
        """
        A form without muc#request_allow true changes nothing; a
        non-moderator cannot approve (forbidden).
        """
        self.approvalForm()
        answer = ("<message to='%s'><x xmlns='jabber:x:data' type='submit'>"
                  "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                  "<field var='muc#roomnick'><value>Juliet</value></field>"
                  "<field var='muc#request_allow'><value>%s</value></field></x></message>")
        self.romeo.send(answer % (ROOM, "false"))
        self.assertEqual(self.room().occupants["Juliet"].role, "visitor")
        self.juliet.send(answer % (ROOM, "true"))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")
        self.assertEqual(self.room().occupants["Juliet"].role, "visitor")


class OutsideActorTests(unittest.TestCase):
    def test_serverAdminOutsideTheRoom(self):
        """
        An actor who is not in the room (a server administrator) is named
        by real JID to those who may see it; the others get no <actor/>.
        """
        harness = MUCHarness(admins=["boss@localhost"])
        romeo = harness.client("user@localhost/balcony")
        juliet = harness.client("user2@localhost/garden")
        romeo.join("room", "Romeo")
        juliet.join("room", "Juliet")
        romeo.received()
        boss = harness.client("boss@localhost/desk")
        boss.send(ADMIN_IQ % ("b1", ROOM, "set", affItem("user2@localhost", "member")))
        [seen] = romeo.received()
        self.assertEqual(actorOf(seen), {"jid": "boss@localhost/desk"})
        [own] = juliet.received()
        self.assertIsNone(actorOf(own))
