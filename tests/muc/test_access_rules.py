"""
Who may do what in a room, probed from outside over real sockets: the
rules an attacker would try to get around (XEP-0045, XEP-0313).

Invitations come only from occupants allowed to invite, carry the
password only when such an occupant sends them, never lift a ban; a
decline goes only from an invitee to its inviter; the room archive obeys
the room's entry rules; what only the room may write in a message is
stripped from what occupants send; iqs to occupants obey C{allowpm};
voice is revoked only below one's own affiliation (section 8.4); an
outcast is told it is banned; strangers do not read the subject of
hidden or members-only rooms in room info.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.wire import OVERRIDES as WIRE_OVERRIDES, LoggedInClients, condition

DOMAIN = "conference.localhost"
ROOM = "den@" + DOMAIN
MUC = "http://jabber.org/protocol/muc"
MUC_USER = MUC + "#user"
MUC_OWNER = MUC + "#owner"
MUC_ADMIN = MUC + "#admin"
MAM = "urn:xmpp:mam:2"
SID = "urn:xmpp:sid:0"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
VERSION = "jabber:iq:version"

OVERRIDES = dict(WIRE_OVERRIDES, muc={"enabled": "true", "lock_new_rooms": "true"})


def field(var, *values):
    return "<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % (v,) for v in values))


def mucUser(stanza):
    for x in stanza.elements(MUC_USER, "x"):
        return x
    return None


class RoomTestCase(LoggedInClients, unittest.TestCase):
    """
    A server with MUC (new rooms locked until configured), and helpers to
    log in, create and configure rooms, and read stanzas.
    """

    overrides = OVERRIDES


    def join(self, client, nick, password=None, room=ROOM):
        """
        @return: Deferred firing with the error presence, or L{None} once
            joined.
        """
        return self.joinRoom(client, room, nick, password)

    @defer.inlineCallbacks
    def configure(self, owner, *fields, room=ROOM):
        reply = yield owner.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>"
            "%s%s</x></query></iq>"
            % (owner.nextID(), room, MUC_OWNER, field("FORM_TYPE", MUC + "#roomconfig"), "".join(fields))
        )
        self.assertEqual(reply["type"], "result", reply.toXml())

    @defer.inlineCallbacks
    def createRoom(self, owner, *fields, room=ROOM):
        self.assertIsNone((yield self.join(owner, "owner", room=room)))
        yield self.configure(owner, *fields, room=room)

    @defer.inlineCallbacks
    def setAffiliation(self, owner, bare, affiliation, reason=""):
        reply = yield owner.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'><item jid='%s' affiliation='%s'>"
            "<reason>%s</reason></item></query></iq>" % (owner.nextID(), ROOM, MUC_ADMIN, bare, affiliation, reason)
        )
        self.assertEqual(reply["type"], "result", reply.toXml())

    @defer.inlineCallbacks
    def affiliationList(self, owner, affiliation):
        reply = yield owner.iq(
            "<iq type='get' id='%s' to='%s'><query xmlns='%s'><item affiliation='%s'/></query></iq>"
            % (owner.nextID(), ROOM, MUC_ADMIN, affiliation)
        )
        self.assertEqual(reply["type"], "result", reply.toXml())
        return [item["jid"] for item in reply.query.elements(MUC_ADMIN, "item")]

    def messages(self, client, predicate=lambda e: True):
        return [e for e in client.received if e.name == "message" and predicate(e)]

    @defer.inlineCallbacks
    def archive(self, client):
        """
        Query the room archive.

        @return: the reply and the forwarded messages received.
        """
        before = len(client.received)
        reply = yield client.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s' queryid='q'/></iq>" % (client.nextID(), ROOM, MAM)
        )
        yield self.assertServed(client)
        results = [e for e in client.received[before:] if e.name == "message" and list(e.elements(MAM, "result"))]
        return reply, results


class InvitationTests(RoomTestCase):
    """
    Mediated invitations (section 7.8.2) come from occupants allowed to
    invite, and never hand out a password or lift a ban otherwise.
    """

    def invite(self, client, invitee, room=ROOM):
        client.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='%s'><reason>come</reason></invite></x></message>"
            % (room, MUC_USER, invitee)
        )

    @defer.inlineCallbacks
    def test_strangerCannotInviteToLearnThePassword(self):
        """
        A non-occupant inviting itself to a password-protected room gets
        C{not-acceptable} and no invitation, so no password.
        """
        owner = yield self.login("owner")
        yield self.createRoom(
            owner,
            field("muc#roomconfig_passwordprotectedroom", "1"),
            field("muc#roomconfig_roomsecret", "secret"),
        )
        mallory = yield self.login("mallory")
        self.invite(mallory, "mallory@localhost")
        error = yield self.until(mallory, lambda e: e.name == "message")
        self.assertEqual(condition(error), "not-acceptable")
        yield self.assertServed(mallory)
        for message in self.messages(mallory):
            self.assertNotIn("secret", message.toXml())

    @defer.inlineCallbacks
    def test_occupantInvitationCarriesPassword(self):
        """
        An occupant's invitation to a password-protected room carries the
        password, which the occupant knows.
        """
        owner = yield self.login("owner")
        yield self.createRoom(
            owner,
            field("muc#roomconfig_passwordprotectedroom", "1"),
            field("muc#roomconfig_roomsecret", "secret"),
        )
        guest = yield self.login("guest")
        self.invite(owner, "guest@localhost")
        invitation = yield self.until(guest, lambda e: e.name == "message")
        self.assertEqual(str(mucUser(invitation).password), "secret")

    @defer.inlineCallbacks
    def test_invitationDoesNotLiftBan(self):
        """
        In a members-only room where members may invite, a member's
        invitation to an outcast is refused (C{forbidden}): the outcast
        stays banned and gets nothing.
        """
        owner = yield self.login("owner")
        yield self.createRoom(
            owner,
            field("muc#roomconfig_membersonly", "1"),
            field("muc#roomconfig_allowinvites", "1"),
        )
        yield self.setAffiliation(owner, "member@localhost", "member")
        yield self.setAffiliation(owner, "banned@localhost", "outcast", "spam")
        member = yield self.login("member")
        banned = yield self.login("banned")
        self.assertIsNone((yield self.join(member, "member")))
        self.invite(member, "banned@localhost")
        error = yield self.until(member, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual(condition(error), "forbidden")
        self.assertEqual((yield self.affiliationList(owner, "outcast")), ["banned@localhost"])
        self.assertNotIn("banned@localhost", (yield self.affiliationList(owner, "member")))
        yield self.assertServed(banned)
        self.assertEqual(self.messages(banned), [])


class DeclineTests(RoomTestCase):
    """
    A decline goes from an invitee to its inviter only, without the body
    its sender wrote.
    """

    def decline(self, client, to, body="BUY NOW"):
        client.send(
            "<message to='%s'><body>%s</body><x xmlns='%s'><decline to='%s'><reason>no</reason></decline></x></message>"
            % (ROOM, body, MUC_USER, to)
        )

    @defer.inlineCallbacks
    def test_strangerCannotRelayThroughDecline(self):
        """
        A decline from someone who was not invited, addressed to an
        occupant, is refused and reaches nobody.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner)
        mallory = yield self.login("mallory")
        self.decline(mallory, ROOM + "/owner")
        error = yield self.until(mallory, lambda e: e.name == "message")
        self.assertIsNotNone(condition(error))
        yield self.assertServed(owner)
        self.assertEqual(self.messages(owner, lambda e: "BUY NOW" in e.toXml()), [])

    @defer.inlineCallbacks
    def test_inviteeDeclinesToInviter(self):
        """
        The invitee's decline reaches the inviter with the room's own
        body, not the one the invitee wrote.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner)
        guest = yield self.login("guest")
        owner.send(
            "<message to='%s'><x xmlns='%s'><invite to='guest@localhost'/></x></message>" % (ROOM, MUC_USER)
        )
        yield self.until(guest, lambda e: e.name == "message")
        self.decline(guest, "owner@localhost/r")
        declined = yield self.until(owner, lambda e: e.name == "message" and mucUser(e) is not None)
        (decline,) = list(mucUser(declined).elements(MUC_USER, "decline"))
        self.assertEqual(decline["from"], "guest@localhost/r")
        self.assertNotIn("BUY NOW", declined.toXml())


class ArchiveAccessTests(RoomTestCase):
    """
    The room archive checks that the requester may enter the room
    (XEP-0313 section 5.1.2): the join rules apply.
    """

    @defer.inlineCallbacks
    def talk(self, owner):
        owner.send("<message to='%s' type='groupchat'><body>said in the room</body></message>" % (ROOM,))
        yield self.until(owner, lambda e: e.name == "message" and e.body is not None)

    @defer.inlineCallbacks
    def test_passwordProtectedRoom(self):
        """
        A non-occupant who does not give the password reads nothing
        (C{not-authorized}, as a join without it); an occupant who
        entered with it reads the archive.
        """
        owner = yield self.login("owner")
        yield self.createRoom(
            owner,
            field("muc#roomconfig_passwordprotectedroom", "1"),
            field("muc#roomconfig_roomsecret", "secret"),
            field("muc#roomconfig_enablearchiving", "1"),
        )
        yield self.talk(owner)
        mallory = yield self.login("mallory")
        reply, results = yield self.archive(mallory)
        self.assertEqual(condition(reply), "not-authorized")
        self.assertEqual(results, [])
        guest = yield self.login("guest")
        self.assertIsNone((yield self.join(guest, "guest", password="secret")))
        reply, results = yield self.archive(guest)
        self.assertEqual(reply["type"], "result")
        self.assertEqual(len(results), 1)

    @defer.inlineCallbacks
    def test_lockedRoom(self):
        """
        Nobody but its owner reads the archive of a locked room
        (C{item-not-found}, as a join).
        """
        owner = yield self.login("owner")
        self.assertIsNone((yield self.join(owner, "owner")))
        mallory = yield self.login("mallory")
        reply, results = yield self.archive(mallory)
        self.assertEqual(condition(reply), "item-not-found")
        self.assertEqual(results, [])
        reply, results = yield self.archive(owner)
        self.assertEqual(reply["type"], "result")

    @defer.inlineCallbacks
    def test_bannedAndMembersOnly(self):
        """
        An outcast and, in a members-only room, a non-member read nothing
        (C{forbidden}); a member does.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner, field("muc#roomconfig_membersonly", "1"))
        yield self.talk(owner)
        yield self.setAffiliation(owner, "banned@localhost", "outcast")
        yield self.setAffiliation(owner, "member@localhost", "member")
        for user, expected in (("banned", "forbidden"), ("stranger", "forbidden")):
            client = yield self.login(user)
            reply, results = yield self.archive(client)
            self.assertEqual(condition(reply), expected, reply.toXml())
            self.assertEqual(results, [])
        member = yield self.login("member")
        reply, results = yield self.archive(member)
        self.assertEqual(reply["type"], "result")


class ForgedRoomDataTests(RoomTestCase):
    """
    What only the room writes (its C{muc#user} x, its stanza-id) is
    stripped from an occupant's groupchat message before it is relayed
    and archived, whatever the letter case of the claimed room JID.
    """

    @defer.inlineCallbacks
    def test_stripped(self):
        """
        A guest's groupchat message with a forged C{muc#user} x (an item
        with a real JID, status 110) and a stanza-id claiming the room in
        capitals reaches the owner, and the archive, with neither: only the
        room's own stanza-id.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner, field("muc#roomconfig_enablearchiving", "1"))
        guest = yield self.login("guest")
        self.assertIsNone((yield self.join(guest, "guest")))
        guest.send(
            "<message to='%s' type='groupchat'><body>hello</body>"
            "<x xmlns='%s'><item jid='admin@localhost/x' affiliation='owner' role='moderator'/>"
            "<status code='110'/></x>"
            "<stanza-id xmlns='%s' by='%s' id='forged'/></message>" % (ROOM, MUC_USER, SID, ROOM.upper())
        )
        relayed = yield self.until(owner, lambda e: e.name == "message" and e.body is not None)
        self.assertIsNone(mucUser(relayed))
        ids = [s["id"] for s in relayed.elements(SID, "stanza-id")]
        self.assertNotIn("forged", ids)
        self.assertEqual(len(ids), 1)
        reply, results = yield self.archive(owner)
        self.assertEqual(len(results), 1)
        text = results[0].toXml()
        self.assertNotIn("admin@localhost/x", text)
        self.assertNotIn("forged", text)


class OccupantRuleTests(RoomTestCase):
    """
    The smaller rules: iqs to occupants follow C{allowpm}; a moderator
    cannot silence an occupant of equal or higher affiliation; an
    outcast meets C{forbidden} at a members-only door; strangers see no
    subject of hidden or members-only rooms in room info.
    """

    @defer.inlineCallbacks
    def test_iqToOccupantFollowsAllowPM(self):
        """
        Where private messages are off, an iq to an occupant's client is
        refused too (C{forbidden}); reading the public data of its account
        (vCard: avatars), which its server answers, still goes through.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner, field("muc#roomconfig_allowpm", "none"))
        guest = yield self.login("guest")
        self.assertIsNone((yield self.join(guest, "guest")))
        reply = yield guest.iq(
            "<iq type='get' id='v' to='%s/owner'><query xmlns='%s'/></iq>" % (ROOM, VERSION)
        )
        self.assertEqual(condition(reply), "forbidden")
        reply = yield guest.iq("<iq type='get' id='c' to='%s/owner'><vCard xmlns='vcard-temp'/></iq>" % (ROOM,))
        self.assertEqual(reply["from"], ROOM + "/owner")
        self.assertNotEqual(condition(reply), "forbidden", reply.toXml())

    def silence(self, client, nick):
        return client.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'><item nick='%s' role='visitor'/></query></iq>"
            % (client.nextID(), ROOM, MUC_ADMIN, nick)
        )

    @defer.inlineCallbacks
    def test_voiceRevokedOnlyBelowOwnAffiliation(self):
        """
        Section 8.4: "A moderator MUST NOT be able to revoke voice from a
        user whose affiliation is at or above the moderator's level. In
        addition, a service MUST NOT allow the voice privileges of an admin
        or owner to be removed by anyone": a member made moderator silences
        an unaffiliated participant, not another member, an admin or an
        owner; an owner does not silence an admin.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner)
        yield self.setAffiliation(owner, "admin@localhost", "admin")
        yield self.setAffiliation(owner, "member@localhost", "member")
        yield self.setAffiliation(owner, "mod@localhost", "member")
        admin = yield self.login("admin")
        member = yield self.login("member")
        mod = yield self.login("mod")
        guest = yield self.login("guest")
        for client, nick in ((admin, "admin"), (member, "member"), (mod, "mod"), (guest, "guest")):
            self.assertIsNone((yield self.join(client, nick)))
        reply = yield owner.iq(
            "<iq type='set' id='m' to='%s'><query xmlns='%s'><item nick='mod' role='moderator'/></query></iq>"
            % (ROOM, MUC_ADMIN)
        )
        self.assertEqual(reply["type"], "result", reply.toXml())
        for nick in ("admin", "owner", "member"):
            reply = yield self.silence(mod, nick)
            self.assertEqual(condition(reply), "not-allowed", nick)
        reply = yield self.silence(owner, "admin")
        self.assertEqual(condition(reply), "not-allowed")
        reply = yield self.silence(mod, "guest")
        self.assertEqual(reply["type"], "result", reply.toXml())

    @defer.inlineCallbacks
    def test_outcastAtMembersOnlyDoor(self):
        """
        An outcast joining a members-only room is told it is banned
        (C{forbidden}), not that it needs to register.
        """
        owner = yield self.login("owner")
        yield self.createRoom(owner, field("muc#roomconfig_membersonly", "1"))
        yield self.setAffiliation(owner, "banned@localhost", "outcast")
        banned = yield self.login("banned")
        error = yield self.join(banned, "banned")
        self.assertEqual(condition(error), "forbidden")

    @defer.inlineCallbacks
    def test_roomInfoHidesSubjectFromStrangers(self):
        """
        The room info of a hidden room and of a members-only room does not
        tell a stranger their subject; their owner still gets the info.
        """
        owner = yield self.login("owner")
        stranger = yield self.login("stranger")
        for name, fields in (
            ("hidden", (field("muc#roomconfig_publicroom", "0"),)),
            ("private", (field("muc#roomconfig_membersonly", "1"),)),
        ):
            room = "%s@%s" % (name, DOMAIN)
            yield self.createRoom(owner, *fields, room=room)
            owner.send("<message to='%s' type='groupchat'><subject>the secret plan</subject></message>" % (room,))
            yield self.until(owner, lambda e: e.name == "message" and e.subject is not None)
            reply = yield stranger.iq(
                "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (stranger.nextID(), room, DISCO_INFO)
            )
            self.assertNotIn("the secret plan", reply.toXml(), name)
            reply = yield owner.iq(
                "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (owner.nextID(), room, DISCO_INFO)
            )
            self.assertEqual(reply["type"], "result")
