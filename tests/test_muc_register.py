"""
Registering with a room and reserved nicks (issue 5, points 1, 2 and 5;
XEP-0045 7.10, 7.12 and 9.3 with the nick attribute), and deleted
accounts leaving every room (issue 6, point 4, MUC side).
"""

from twisted.internet import defer

from tests.test_muc_admin import adminGet, adminSet, affItem, listed
from tests.test_muc_core import ROOM, MUCTestCase, codes, condition, configure, field, item, layout
from xmuc.hooks import ACCOUNT_DELETED
from xmuc.xmpp import ns

REGISTER_GET = "<iq id='%s' to='%s' type='get'><query xmlns='jabber:iq:register'/></iq>"
REGISTER_SET = "<iq id='%s' to='%s' type='set'><query xmlns='jabber:iq:register'>%s</query></iq>"
FORM = ("<x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE'><value>%s</value></field>%s</x>")


def registrationForm(nick, formType=ns.MUC_REGISTER):
    nickField = "<field var='muc#register_roomnick'><value>%s</value></field>" % (nick,) if nick is not None else ""
    return FORM % (formType, nickField)


def register(client, nick, id="r1", formType=ns.MUC_REGISTER):
    client.received()
    client.send(REGISTER_SET % (id, ROOM, registrationForm(nick, formType)))
    return client.received()


def unregister(client, id="u1"):
    client.received()
    client.send(REGISTER_SET % (id, ROOM, "<remove/>"))
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


class DeletedAccountTests(RegistrationTestCase):
    """
    The MUC side of tombstones: an account deleted loses its affiliations
    and reserved nicks in every room.
    """

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
