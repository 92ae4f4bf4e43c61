"""
The MUC core at the component level: the real router and MUC service with
memory storage, local users' deliveries collected (L{xmuc.testing.muc}).
Room lifecycle, joining (with status 210 when the service changes the
joiner's nick), being in a room.
"""

from tests.support.muc import (
    MUCTestCase,
    ROOM,
    adminSet,
    affItem,
    codes,
    condition,
    configure,
    field,
    item,
    layout,
    mucX,
)
from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.muc import hooks, invitations
from xmuc.muc.history import historyOf
from xmuc.muc.locking import isLocked
from xmuc.muc.subject import subjectOf
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply


class RoomLifecycleTests(MUCTestCase):
    muc = {"lock_new_rooms": "true"}

    def test_creation(self):
        """
        The first join creates the room: the creator is owner and
        moderator, gets 201, item, 110 in that order, then an empty subject.
        """
        received = self.romeo.join("room", "Romeo")
        self.assertEqual(len(received), 2)
        presence, subject = received
        self.assertEqual(presence["from"], ROOM + "/Romeo")
        self.assertIsNone(presence.getAttribute("type"))
        self.assertEqual(layout(presence), ["status:201", "item", "status:110"])
        self.assertEqual(item(presence), {"affiliation": "owner", "role": "moderator", "jid": "user@localhost/balcony"})
        self.assertEqual((subject["type"], subject["from"]), ("groupchat", ROOM))
        self.assertEqual(str(subject.subject), "")
        self.assertEqual(self.room().getAffiliation("user@localhost"), "owner")

    def test_lockedRoomRefusesOthers(self):
        """
        A new room is locked: others get item-not-found until the owner
        submits a form (the instant room: an empty submit).
        """
        self.romeo.join("room", "Romeo")
        [error] = self.juliet.join("room", "Juliet")
        self.assertEqual(condition(error)[0], "item-not-found")
        self.romeo.send("<iq id='i1' to='%s' type='set'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'/></query></iq>"
                        % (ROOM, ns.MUC_OWNER))
        [result] = self.romeo.received()
        self.assertEqual((result["type"], result["id"]), ("result", "i1"))
        received = self.juliet.join("room", "Juliet")
        self.assertEqual([s["from"] for s in received], [ROOM + "/Romeo", ROOM + "/Juliet", ROOM])

    def test_cancelKeepsLocked(self):
        """
        Cancelling the initial configuration leaves the room locked.
        """
        self.romeo.join("room", "Romeo")
        self.romeo.send("<iq id='c' to='%s' type='set'><query xmlns='%s'><x xmlns='jabber:x:data' type='cancel'/></query></iq>"
                        % (ROOM, ns.MUC_OWNER))
        [result] = self.romeo.received()
        self.assertEqual(result["type"], "result")
        self.assertTrue(isLocked(self.room()))
        [error] = self.juliet.join("room", "Juliet")
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_temporaryRoomVanishes(self):
        """
        A temporary room disappears with its last occupant.
        """
        self.createRoom("")
        self.romeo.send("<presence to='%s/Romeo' type='unavailable'/>" % (ROOM,))
        self.assertIsNone(self.room())

    def test_persistentRoomStays(self):
        """
        A persistent room stays when empty, and is stored before the iq
        result.
        """
        self.createRoom(field("muc#roomconfig_persistentroom", "1"))
        self.romeo.send("<presence to='%s/Romeo' type='unavailable'/>" % (ROOM,))
        self.assertIsNotNone(self.room())
        stored = []
        self.harness.storage.rooms.get(ROOM).addCallback(stored.append)
        self.assertTrue(stored[0]["config"]["persistent"])

    def test_messageToMissingRoom(self):
        """
        Anything but a join to a room that does not exist gets
        item-not-found from the service.
        """
        self.romeo.send("<message to='nowhere@%s' type='groupchat'><body>x</body></message>" % (DOMAIN,))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "item-not-found")
        self.assertEqual(error.error["by"], DOMAIN)
        self.romeo.send("<presence to='nowhere@%s/Romeo'/>" % (DOMAIN,))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "item-not-found")
        self.assertEqual(self.harness.muc.rooms, {})

    def test_restrictedCreation(self):
        """
        With restrict_room_creation only server admins create rooms.
        """
        harness = MUCHarness(muc={"restrict_room_creation": "true"}, admins=["admin@localhost"])
        user = harness.client("user@localhost/r")
        [error] = user.join("room", "Romeo")
        self.assertEqual(condition(error)[0], "not-allowed")
        admin = harness.client("admin@localhost/r")
        self.assertEqual(codes(admin.join("room", "Boss")[0]), ["201", "110"])


class JoinTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()

    def assertJoinError(self, received, expected, code=None):
        [error] = received
        cond, _, legacy = condition(error)
        self.assertEqual(cond, expected)
        if code:
            self.assertEqual(legacy, code)
        self.assertEqual(error.error["by"], ROOM)
        self.assertEqual(len(list(error.elements(ns.MUC, "x"))), 1, "join errors echo the muc x")
        self.assertNotIn(error["to"], self.room().occupantsByJID)

    def test_joinSequence(self):
        """
        The joiner gets the others' presence, its own (110), history,
        then the subject; the others get its presence without 110.
        """
        self.romeo.send("<message to='%s' type='groupchat' id='h1'><body>before</body></message>" % (ROOM,))
        self.romeo.received()
        received = self.juliet.join("room", "Juliet")
        self.assertEqual([(s.name, s["from"]) for s in received], [
            ("presence", ROOM + "/Romeo"), ("presence", ROOM + "/Juliet"),
            ("message", ROOM + "/Romeo"), ("message", ROOM)])
        romeo, own, history, subject = received
        self.assertEqual(item(romeo), {"affiliation": "owner", "role": "moderator"})
        self.assertEqual(codes(own), ["110"])
        self.assertEqual(item(own), {"affiliation": "none", "role": "participant", "jid": "user2@localhost/garden"})
        delay = history.delay
        self.assertEqual((delay.uri, delay["from"]), (ns.DELAY, ROOM))
        self.assertEqual(str(history.body), "before")
        self.assertIsNotNone(subject.subject)
        [seen] = self.romeo.received()
        self.assertEqual(seen["from"], ROOM + "/Juliet")
        self.assertEqual(codes(seen), [])
        self.assertEqual(item(seen)["jid"], "user2@localhost/garden", "moderators see real JIDs")

    def test_noNick(self):
        """
        A join without a nick (to the bare room) is jid-malformed.
        """
        self.juliet.send("<presence to='%s'><x xmlns='%s'/></presence>" % (ROOM, ns.MUC))
        self.assertJoinError(self.juliet.received(), "jid-malformed")

    def test_invisibleNick(self):
        """
        A nick that resourceprep maps to nothing is jid-malformed; a nick
        of white space is not-allowed.
        """
        self.assertJoinError(self.juliet.join("room", "\u200b"), "jid-malformed")
        self.assertJoinError(self.juliet.join("room", "%20%20".replace("%20", " ")), "not-allowed")

    def test_nickConflict(self):
        self.assertJoinError(self.juliet.join("room", "Romeo"), "conflict", "409")

    def test_password(self):
        """
        Without or with a wrong password: not-authorized (401).
        """
        configure(self.romeo, field("muc#roomconfig_roomsecret", "secret"))
        self.assertJoinError(self.juliet.join("room", "Juliet"), "not-authorized", "401")
        self.assertJoinError(self.juliet.join("room", "Juliet", "<password>wrong</password>"), "not-authorized", "401")
        received = self.juliet.join("room", "Juliet", "<password>secret</password>")
        self.assertEqual(codes(received[1]), ["110"])

    def test_membersOnly(self):
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        self.assertJoinError(self.juliet.join("room", "Juliet"), "registration-required", "407")
        self.room().setAffiliation("user2@localhost", "member")
        self.assertEqual(codes(self.juliet.join("room", "Juliet")[1]), ["110"])

    def test_banned(self):
        self.room().setAffiliation("user2@localhost", "outcast")
        self.assertJoinError(self.juliet.join("room", "Juliet"), "forbidden", "403")

    def test_full(self):
        configure(self.romeo, field("muc#roomconfig_maxusers", "2"))
        self.juliet.join("room", "Juliet")
        self.assertJoinError(self.rosaline.join("room", "Juliet2"), "service-unavailable", "503")

    def test_serviceMaximum(self):
        """
        The service-wide limit applies too; owners still get in.
        """
        harness = MUCHarness(muc={"max_occupants": "1"})
        owner = harness.client("user@localhost/a")
        owner.join("room", "Owner")
        [error] = harness.client("user2@localhost/b").join("room", "Other")
        self.assertEqual(condition(error)[0], "service-unavailable")

    def test_nonAnonymousStatus100(self):
        configure(self.romeo, field("muc#roomconfig_whois", "anyone"))
        own = self.juliet.join("room", "Juliet")[1]
        self.assertEqual(layout(own), ["status:100", "item", "status:110"])

    def test_loggingStatus170(self):
        configure(self.romeo, field("muc#roomconfig_enablelogging", "1"))
        own = self.juliet.join("room", "Juliet")[1]
        self.assertEqual(codes(own), ["170", "110"])

    def test_moderatedRoomVisitor(self):
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        own = self.juliet.join("room", "Juliet")[1]
        self.assertEqual(item(own)["role"], "visitor")

    def test_joinWithoutMucX(self):
        """
        A presence without the muc x from a non-occupant is not a join.
        """
        self.juliet.send("<presence to='%s/Juliet'/>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "item-not-found")


class HistoryTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        for n in range(5):
            self.romeo.send("<message to='%s' type='groupchat'><body>message %d</body></message>" % (ROOM, n))
        # Chat states (no body) are not history.
        self.romeo.send("<message to='%s' type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>" % (ROOM,))
        self.romeo.received()

    def history(self, request=""):
        received = self.juliet.join("room", "Juliet", request)
        return [str(s.body) for s in received if s.name == "message" and s.body is not None]

    def test_all(self):
        self.assertEqual(self.history(), ["message %d" % n for n in range(5)])

    def test_maxstanzas(self):
        self.assertEqual(self.history("<history maxstanzas='2'/>"), ["message 3", "message 4"])
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        self.assertEqual(self.history("<history maxstanzas='0'/>"), [])

    def test_maxchars(self):
        entry = historyOf(self.harness.muc.rooms[ROOM])[-1]
        perEntry = entry.chars + len(self.juliet.jid)
        self.assertEqual(self.history("<history maxchars='%d'/>" % (perEntry * 2 + 5)), ["message 3", "message 4"])
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        self.assertEqual(self.history("<history maxchars='0'/>"), [])

    def test_secondsAndSince(self):
        self.assertEqual(len(self.history("<history seconds='60'/>")), 5)
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        self.assertEqual(self.history("<history since='2999-01-01T00:00:00Z'/>"), [])
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        self.assertEqual(len(self.history("<history since='2000-01-01T00:00:00Z'/>")), 5)

    def test_hints(self):
        """
        Storage hints decide what is history; chat markers are kept.
        """
        self.romeo.send("<message to='%s' type='groupchat'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>" % (ROOM,))
        self.romeo.send("<message to='%s' type='groupchat'><store xmlns='urn:xmpp:hints'/></message>" % (ROOM,))
        self.romeo.send("<message to='%s' type='groupchat'><displayed xmlns='urn:xmpp:chat-markers:0' id='x'/></message>" % (ROOM,))
        received = self.juliet.join("room", "Juliet")
        kept = [s for s in received if s.name == "message" and s.delay is not None]
        self.assertEqual(len(kept), 7)
        self.assertNotIn("secret", "".join(s.toXml() for s in kept))

    def test_historyLength(self):
        """
        The configured length bounds the history; 0 keeps none.
        """
        configure(self.romeo, field("muc#roomconfig_historylength", "2"))
        self.assertEqual(self.history(), ["message 3", "message 4"])

    def test_badHistoryLength(self):
        [error, ] = configure(self.romeo, field("muc#roomconfig_historylength", "many"))
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.assertIn("muc#roomconfig_historylength", str(error.error.text))

    def test_delayStamp(self):
        received = self.juliet.join("room", "Juliet")
        delays = [s.delay for s in received if s.name == "message" and s.body is not None]
        self.assertEqual(len(delays), 5)
        for delay in delays:
            self.assertRegex(delay["stamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class InRoomTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def test_presenceUpdate(self):
        self.juliet.send("<presence to='%s/Juliet'><show>away</show><status>brb</status></presence>" % (ROOM,))
        [seen] = self.romeo.received()
        self.assertEqual((str(seen.show), str(seen.status)), ("away", "brb"))
        [own] = self.juliet.received()
        self.assertEqual(codes(own), ["110"])
        self.assertEqual(str(own.show), "away")

    def test_subscriptionRefused(self):
        """
        Rooms take no subscriptions: service-unavailable, as Prosody; the
        occupant stays.
        """
        self.juliet.send("<presence to='%s' type='subscribe'/>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(error["type"], "error")
        self.assertEqual(error.error.firstChildElement().name, "service-unavailable")
        self.assertEqual(self.romeo.received(), [])
        self.assertIn("Juliet", self.room().occupants)

    def test_leave(self):
        """
        Leaving: the leaver gets its unavailable presence with 110, the
        others without; the status text is kept.
        """
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'><status>bye</status></presence>" % (ROOM,))
        [seen] = self.romeo.received()
        self.assertEqual((seen["type"], seen["from"], str(seen.status)), ("unavailable", ROOM + "/Juliet", "bye"))
        self.assertEqual(item(seen)["role"], "none")
        [own] = self.juliet.received()
        self.assertEqual((own["type"], codes(own)), ("unavailable", ["110"]))
        self.assertEqual(list(self.room().occupants), ["Romeo"])

    def test_errorPresenceKicks(self):
        """
        An error presence from an occupant (its server bounced us) removes
        it with status 333.
        """
        self.juliet.send("<presence to='%s/Juliet' type='error'><error type='cancel'><gone xmlns='%s'/></error></presence>"
                         % (ROOM, ns.XMPP_STANZAS))
        [seen] = self.romeo.received()
        self.assertEqual((seen["type"], codes(seen)), ("unavailable", ["333"]))

    def test_nickChange(self):
        self.juliet.send("<presence to='%s/Jules'/>" % (ROOM,))
        gone, back = self.romeo.received()
        self.assertEqual((gone["from"], gone["type"], codes(gone)), (ROOM + "/Juliet", "unavailable", ["303"]))
        self.assertEqual(item(gone)["nick"], "Jules")
        self.assertEqual(item(gone)["role"], "participant")
        self.assertEqual((back["from"], back.getAttribute("type")), (ROOM + "/Jules", None))
        ownGone, ownBack = self.juliet.received()
        self.assertEqual(codes(ownGone), ["303", "110"])
        self.assertEqual(codes(ownBack), ["110"])
        self.assertEqual(sorted(self.room().occupants), ["Jules", "Romeo"])

    def test_nickChangeConflict(self):
        self.juliet.send("<presence to='%s/Romeo'/>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "conflict")
        self.assertEqual(error["from"], ROOM + "/Romeo")
        self.assertEqual(self.romeo.received(), [])

    def test_groupchat(self):
        """
        A message goes to every occupant including the sender, from
        room/nick, with a stanza-id by the room; a forged one is dropped.
        """
        self.juliet.send("<message to='%s' type='groupchat' id='m1'><body>hello</body>"
                         "<stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='forged'/></message>" % (ROOM, ROOM))
        for client in (self.romeo, self.juliet):
            [message] = client.received()
            self.assertEqual((message["from"], message["id"], str(message.body)), (ROOM + "/Juliet", "m1", "hello"))
            ids = list(message.elements(ns.STANZA_ID, "stanza-id"))
            self.assertEqual(len(ids), 1)
            self.assertEqual(ids[0]["by"], ROOM)
            self.assertNotEqual(ids[0]["id"], "forged")

    def test_groupchatFromNonOccupant(self):
        self.rosaline.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        [error] = self.rosaline.received()
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.assertEqual(self.romeo.received(), [])

    def test_visitorCannotSpeak(self):
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        self.rosaline.join("room", "Rosaline")
        self.rosaline.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        [error] = self.rosaline.received()
        self.assertEqual(condition(error)[0], "forbidden")
        # Juliet joined before: participant, may speak.
        self.juliet.received()
        self.juliet.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        self.assertEqual(len(self.rosaline.received()), 1)

    def test_subject(self):
        """
        Participants may not change the subject by default; moderators may;
        joiners get it from room/nick.
        """
        self.juliet.send("<message to='%s' type='groupchat'><subject>mine</subject></message>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")
        self.romeo.send("<message to='%s' type='groupchat'><subject>Balcony</subject></message>" % (ROOM,))
        for client in (self.romeo, self.juliet):
            [message] = client.received()
            self.assertEqual((message["from"], str(message.subject)), (ROOM + "/Romeo", "Balcony"))
        received = self.rosaline.join("room", "Rosaline")
        self.assertEqual((received[-1]["from"], str(received[-1].subject)), (ROOM + "/Romeo", "Balcony"))

    def test_subjectByParticipants(self):
        configure(self.romeo, field("muc#roomconfig_changesubject", "1"))
        self.juliet.received()
        self.juliet.send("<message to='%s' type='groupchat'><subject>ours</subject></message>" % (ROOM,))
        [message] = self.romeo.received()
        self.assertEqual(str(message.subject), "ours")

    def test_subjectWithBodyIsAMessage(self):
        self.juliet.send("<message to='%s' type='groupchat'><subject>s</subject><body>b</body></message>" % (ROOM,))
        [message] = self.romeo.received()
        self.assertEqual(str(message.body), "b")
        self.assertIsNone(subjectOf(self.room()).text)

    def test_privateMessage(self):
        self.juliet.send("<message to='%s/Romeo' type='chat' id='p1'><body>psst</body></message>" % (ROOM,))
        [message] = self.romeo.received()
        self.assertEqual((message["from"], message["type"], str(message.body)), (ROOM + "/Juliet", "chat", "psst"))
        self.assertEqual(len(list(message.elements(ns.MUC_USER, "x"))), 1)
        self.assertNotIn("user2@localhost", message.toXml())

    def test_privateMessageErrors(self):
        self.juliet.send("<message to='%s/Nobody' type='chat'><body>?</body></message>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "item-not-found")
        self.rosaline.send("<message to='%s/Romeo' type='chat'><body>?</body></message>" % (ROOM,))
        [error] = self.rosaline.received()
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.juliet.send("<message to='%s/Romeo' type='groupchat'><body>?</body></message>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "bad-request")

    def test_privateMessagesRestricted(self):
        configure(self.romeo, field("muc#roomconfig_allowpm", "moderators"))
        self.juliet.received()
        self.juliet.send("<message to='%s/Romeo' type='chat'><body>?</body></message>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")
        self.romeo.send("<message to='%s/Juliet' type='chat'><body>ok</body></message>" % (ROOM,))
        self.assertEqual(len(self.juliet.received()), 1)
        [error] = configure(self.romeo, field("muc#roomconfig_allowpm", "everybody"))
        self.assertEqual(condition(error)[0], "not-acceptable")

    def test_iqToOccupant(self):
        """
        An iq to room/nick reaches the occupant from the sender's room JID;
        the answer goes back with the original id.  Self-pings are answered
        by the room.
        """
        self.juliet.send("<iq to='%s/Romeo' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>" % (ROOM,))
        [forwarded] = self.romeo.received()
        self.assertEqual((forwarded["from"], forwarded["to"]), (ROOM + "/Juliet", "user@localhost/balcony"))
        self.assertNotEqual(forwarded["id"], "v1")
        self.romeo.send("<iq to='%s/Juliet' type='result' id='%s'><query xmlns='jabber:iq:version'><name>x</name></query></iq>"
                        % (ROOM, forwarded["id"]))
        [answer] = self.juliet.received()
        self.assertEqual((answer["from"], answer["id"], answer["type"]), (ROOM + "/Romeo", "v1", "result"))
        self.juliet.send("<iq to='%s/Juliet' type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>" % (ROOM,))
        [pong] = self.juliet.received()
        self.assertEqual((pong["type"], pong["id"], pong["from"]), ("result", "ping", ROOM + "/Juliet"))

    def test_unknownRoomIq(self):
        self.juliet.send("<iq to='%s' type='get' id='x'><query xmlns='urn:example:nothing'/></iq>" % (ROOM,))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "service-unavailable")


class InvitationTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()

    def invitation(self, invitee="user2@localhost"):
        return [s for s in self.harness.delivered if s.getAttribute("to") == invitee][-1]

    def test_invite(self):
        """
        The invitee gets the invitation from the room, with the reason,
        the password, a jabber:x:conference element and a body; in a
        semi-anonymous room the inviter appears as its room JID.
        """
        configure(self.romeo, field("muc#roomconfig_roomsecret", "pw"))
        self.romeo.send("<message to='%s'><x xmlns='%s'><invite to='user2@localhost'><reason>come</reason></invite></x></message>"
                        % (ROOM, ns.MUC_USER))
        message = self.invitation()
        self.assertEqual(message["from"], ROOM)
        x = mucX(message)
        self.assertEqual([c.name for c in x.elements()], ["invite", "password"])
        invite = x.invite
        self.assertEqual(invite["from"], ROOM + "/Romeo")
        self.assertEqual(str(invite.reason), "come")
        self.assertEqual(str(x.password), "pw")
        [conference] = list(message.elements(ns.CONFERENCE, "x"))
        self.assertEqual((conference["jid"], str(conference)), (ROOM, "come"))
        self.assertIn(ROOM, str(message.body))
        self.assertNotIn("user@localhost", message.toXml())

    def test_passwordOnlyFromThoseWhoKnowIt(self):
        """
        An invitation carries the password when its sender gave it on
        entering, or owns the room: not when an admin who came in without
        it invites, nor once the password changed.
        """
        configure(self.romeo, field("muc#roomconfig_roomsecret", "pw"))
        adminSet(self.romeo, affItem("user3@localhost", "admin"))
        self.juliet.join("room", "Juliet", "<password>pw</password>")
        self.rosaline.join("room", "Rosaline")

        def passwords(client):
            client.send("<message to='%s'><x xmlns='%s'><invite to='user4@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
            return [str(p) for p in mucX(self.invitation("user4@localhost")).elements(ns.MUC_USER, "password")]

        self.assertEqual(passwords(self.juliet), ["pw"])
        self.assertEqual(passwords(self.rosaline), [])
        configure(self.romeo, field("muc#roomconfig_roomsecret", "new"))
        self.assertEqual(passwords(self.juliet), [])
        self.assertEqual(passwords(self.romeo), ["new"])

    def test_inviteNonAnonymous(self):
        configure(self.romeo, field("muc#roomconfig_whois", "anyone"))
        self.romeo.send("<message to='%s'><x xmlns='%s'><invite to='user2@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        self.assertEqual(mucX(self.invitation()).invite["from"], "user@localhost/balcony")

    def invite(self):
        self.romeo.send("<message to='%s'><x xmlns='%s'><invite to='user2@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        self.romeo.received()
        self.juliet.received()

    def test_decline(self):
        """
        The invitee's decline reaches the inviter from the room, with the
        invitee's real JID and reason.
        """
        self.invite()
        self.juliet.send("<message to='%s'><x xmlns='%s'><decline to='user@localhost/balcony'><reason>no</reason></decline></x></message>"
                         % (ROOM, ns.MUC_USER))
        [message] = self.romeo.received()
        decline = mucX(message).decline
        self.assertEqual((message["from"], decline["from"], str(decline.reason)), (ROOM, "user2@localhost/garden", "no"))

    def test_declineToRoomJID(self):
        """
        A decline addressed to the room JID the invitation named (the
        inviter's, in a semi-anonymous room) reaches the inviter, once.
        """
        self.invite()
        self.juliet.send("<message to='%s'><x xmlns='%s'><decline to='%s/Romeo'/></x></message>" % (ROOM, ns.MUC_USER, ROOM))
        [message] = self.romeo.received()
        self.assertEqual(mucX(message).decline["from"], "user2@localhost/garden")
        self.juliet.send("<message to='%s'><x xmlns='%s'><decline to='%s/Romeo'/></x></message>" % (ROOM, ns.MUC_USER, ROOM))
        self.assertEqual(self.romeo.received(), [])
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_declineToOtherInviter(self):
        """
        A decline names its inviter: addressed to someone who did not
        invite, it is refused and reaches nobody.
        """
        self.invite()
        self.juliet.send("<message to='%s'><x xmlns='%s'><decline to='user3@localhost/x'/></x></message>" % (ROOM, ns.MUC_USER))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "item-not-found")
        self.assertEqual([s for s in self.harness.delivered if s.getAttribute("to", "").startswith("user3@")], [])

    def test_pendingInvitationsBounded(self):
        """
        A room remembers a bounded number of invitations: the oldest
        invitee is forgotten first.
        """
        pending = invitations.PendingInvitations()
        for n in range(invitations.MAX_INVITEES + 1):
            pending.remember("u%d@localhost" % (n,), "room@conference.localhost/Romeo", "user@localhost/balcony")
        self.assertEqual(len(pending), invitations.MAX_INVITEES)
        self.assertNotIn("u0@localhost", pending)
        for n in range(invitations.MAX_INVITERS + 1):
            pending.remember("u1@localhost", "room@conference.localhost/R%d" % (n,), "r%d@localhost/x" % (n,))
        self.assertEqual(len(pending["u1@localhost"]), invitations.MAX_INVITERS)

    def test_membersOnlyInvite(self):
        """
        In a members-only room an owner's invitation makes the invitee a
        member; a member may not invite unless allowinvites.
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        self.romeo.send("<message to='%s'><x xmlns='%s'><invite to='user2@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        self.assertEqual(self.room().getAffiliation("user2@localhost"), "member")
        self.juliet.join("room", "Juliet")
        self.juliet.send("<message to='%s'><x xmlns='%s'><invite to='user3@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[:2], ("forbidden", "auth"))
        configure(self.romeo, field("muc#roomconfig_allowinvites", "1"))
        self.juliet.received()
        self.juliet.send("<message to='%s'><x xmlns='%s'><invite to='user3@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        self.assertEqual(self.juliet.received(), [])
        self.assertEqual(self.room().getAffiliation("user3@localhost"), "member")

    def test_visitorsCannotInvite(self):
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        self.juliet.join("room", "Juliet")
        self.juliet.send("<message to='%s'><x xmlns='%s'><invite to='user3@localhost'/></x></message>" % (ROOM, ns.MUC_USER))
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")

    def test_badPayload(self):
        self.romeo.send("<message to='%s'><x xmlns='%s'><invite/></x></message>" % (ROOM, ns.MUC_USER))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "bad-request")


class RejoinTests(MUCTestCase):
    def test_rejoinResends(self):
        """
        A join presence from an occupant under its own nick (a client that
        lost track) gets the occupant list, its presence, history and the
        subject again; the others only see a presence update.
        """
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.romeo.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        self.romeo.received()
        received = self.juliet.join("room", "Juliet")
        self.assertEqual([(s.name, s["from"]) for s in received], [
            ("presence", ROOM + "/Romeo"), ("presence", ROOM + "/Juliet"),
            ("message", ROOM + "/Romeo"), ("message", ROOM)])
        [update] = self.romeo.received()
        self.assertEqual((update["from"], codes(update)), (ROOM + "/Juliet", []))
        self.assertEqual(len(self.room().occupants), 2)


class OccupantIdTests(MUCTestCase):
    def ids(self, stanzas):
        return [o["id"] for s in stanzas for o in s.elements("urn:xmpp:occupant-id:0", "occupant-id")]

    def test_occupantId(self):
        """
        XEP-0421: presence and messages carry a stable occupant id per real
        bare JID, not the JID, and clients cannot forge it.
        """
        self.createRoom()
        received = self.juliet.join("room", "Juliet")
        romeoID, julietID = self.ids(received[:2])
        self.assertNotEqual(romeoID, julietID)
        self.assertNotIn("user2", julietID)
        self.juliet.send("<message to='%s' type='groupchat'><body>x</body>"
                         "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>" % (ROOM,))
        self.assertEqual(self.ids(self.romeo.received()[-1:]), [julietID])
        self.juliet.send("<presence to='%s/Jules'/>" % (ROOM,))
        self.assertEqual(set(self.ids(self.romeo.received())), {julietID})
        self.juliet.send("<message to='%s/Romeo' type='chat'><body>pm</body></message>" % (ROOM,))
        self.assertEqual(self.ids(self.romeo.received()), [julietID])


class ServiceChangedNickTests(MUCTestCase):
    """
    A C{pre-join} hook returning a str renames the joiner (hooks.py): the
    joiner's self-presence comes from the new nick with status 210.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom("")
        self.harness.muc.hooks.add(hooks.OCCUPANT_PRE_JOIN, self.rename)

    def rename(self, room, occupant, stanza, **kw):
        if occupant.nick == "juliet":
            return "Juliet"
        return None

    def test_status210(self):
        self.romeo.received()
        received = self.juliet.join("room", "juliet")
        selfPresence = [s for s in received if s.name == "presence" and s["from"] == ROOM + "/Juliet"][-1]
        self.assertIn("210", codes(selfPresence))
        self.assertIn("110", codes(selfPresence))
        self.assertEqual(sorted(self.room().occupants), ["Juliet", "Romeo"])
        [toRomeo] = self.romeo.received()
        self.assertEqual(toRomeo["from"], ROOM + "/Juliet")
        self.assertNotIn("210", codes(toRomeo))

    def test_noRenameNo210(self):
        received = self.rosaline.join("room", "Rosaline")
        self.assertNotIn("210", codes(received[-2]))

    def test_renamedOntoTakenNickConflicts(self):
        self.rosaline.join("room", "Juliet")
        [error] = self.juliet.join("room", "juliet")
        self.assertEqual(condition(error)[0], "conflict")



class _FarServer:
    """
    What the router hands stanzas for other domains to: it takes them
    while C{reachable}, else bounces each at once, as a server whose
    stream failed does.
    """

    def __init__(self, router):
        self.router = router
        self.reachable = True
        self.received = []

    def route(self, stanza):
        if self.reachable:
            self.received.append(stanza)
        elif stanza.getAttribute("type") != "error":
            self.router.route(errorReply(stanza, "remote-server-not-found", payload=False))

    def routeSerialized(self, to, data, build):
        self.route(build())


class UnreachableOccupantTests(MUCTestCase):
    """
    An occupant whose server stops answering: everything the room sends
    it bounces at once, its own leaving included.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.far = _FarServer(self.harness.router)
        self.harness.router.remote = self.far
        self.createRoom()
        self.stranger = self.harness.client("stranger@far.example/x")
        self.stranger.join("room", "Stranger")
        self.romeo.received()

    def test_bouncedLeavingRemovesOnce(self):
        """
        The first bounce removes the occupant with 333; the unavailable
        presence that removal sends bounces too, and is ignored: the
        occupant leaves once, nothing raises.
        """
        self.far.reachable = False
        self.romeo.send("<message to='%s' type='groupchat'><body>hello</body></message>" % (ROOM,))
        left = [s for s in self.romeo.received() if s.name == "presence"]
        self.assertEqual([(s["from"], s["type"], codes(s)) for s in left],
                         [(ROOM + "/Stranger", "unavailable", ["333"])])
        self.assertEqual(list(self.room().occupants), ["Romeo"])

    def test_unreachableJoinerNeverAppears(self):
        """
        A joiner whose server cannot be reached is gone before anyone
        sees it arrive.
        """
        self.far.reachable = False
        self.harness.client("other@far.example/y").join("room", "Other")
        self.assertEqual([s for s in self.romeo.received() if s.name == "presence"], [])
        self.assertEqual(sorted(self.room().occupants), ["Romeo", "Stranger"])
