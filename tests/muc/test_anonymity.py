"""
Semi-anonymous rooms never show a real JID to a non-moderator, in any
stanza (XEP-0045 5.2.1 and 7.2.3); moderators and non-anonymous rooms show
them.

Besides the single cases, a scenario drives most room operations through
stanzas (joins, presence, nick changes, messages, private messages,
history, MAM, occupant iqs, probes, invitations, voice requests,
affiliation and role changes with actors and reasons, lists and disco
asked by non-moderators, destroy) and, after every step, scans the
serialized XML of everything delivered to a non-moderator for any other
occupant's real JID.  The same scenario in a non-anonymous room checks
that JIDs are visible where XEP-0045 shows them.
"""

import re

from twisted.trial import unittest

from tests.support.muc import MUCTestCase, OWNER_SUBMIT, ROOM, field, item
from xmuc.xmpp.stanza import parseElement
from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.xmpp import ns

JULIET_BARE = "user2@localhost"
ROMEO_BARE = "user@localhost"


class SemiAnonymityTests(MUCTestCase):
    def exercise(self):
        """
        Everything an occupant can see: joins, presence updates, nick
        changes, messages, subject, private messages, kicks, leaving.
        """
        self.createRoom(field("muc#roomconfig_changesubject", "1"))
        self.juliet.join("room", "Juliet", "<history maxstanzas='5'/>")
        self.rosaline.join("room", "Rosaline")
        self.romeo.send("<message to='%s' type='groupchat'><body>hi</body></message>" % (ROOM,))
        self.juliet.send("<presence to='%s/Juliet'><show>dnd</show></presence>" % (ROOM,))
        self.juliet.send("<presence to='%s/Jules'/>" % (ROOM,))
        self.juliet.send("<message to='%s' type='groupchat'><subject>s</subject></message>" % (ROOM,))
        self.romeo.send("<message to='%s/Rosaline' type='chat'><body>pm</body></message>" % (ROOM,))
        room = self.room()
        room.setAffiliation(JULIET_BARE, "member", actor=room.occupants["Romeo"], reason="welcome")
        room.setRole(room.occupants["Jules"], "none", actor=room.occupants["Romeo"], codes=("307",))
        self.juliet.join("room", "Juliet")
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))

    def test_participantNeverSeesRealJIDs(self):
        self.exercise()
        seen = "".join(s.toXml() for s in self.rosaline.received())
        self.assertIn("Juliet", seen)
        self.assertNotIn(JULIET_BARE, seen)
        self.assertNotIn(ROMEO_BARE + "/", seen)

    def test_moderatorSeesRealJIDs(self):
        self.exercise()
        seen = "".join(s.toXml() for s in self.romeo.received())
        self.assertIn(JULIET_BARE + "/garden", seen)

    def test_actorJIDOnlyForModerators(self):
        """
        An actor is named by nick to everyone, by JID only to those who may
        see real JIDs.
        """
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.rosaline.join("room", "Rosaline")
        for client in (self.romeo, self.juliet, self.rosaline):
            client.received()
        room = self.room()
        room.setAffiliation(JULIET_BARE, "member", actor=room.occupants["Romeo"])
        [toRosaline] = self.rosaline.received()
        actor = toRosaline.x.item.actor
        self.assertEqual(dict(actor.attributes), {"nick": "Romeo"})
        [toRomeo] = self.romeo.received()
        self.assertEqual(dict(toRomeo.x.item.actor.attributes), {"nick": "Romeo", "jid": "user@localhost/balcony"})
        [toJuliet] = self.juliet.received()
        self.assertEqual(dict(toJuliet.x.item.actor.attributes), {"nick": "Romeo"})

    def test_nonAnonymous(self):
        self.createRoom(field("muc#roomconfig_whois", "anyone"))
        received = self.rosaline.join("room", "Rosaline")
        self.assertEqual(item(received[0])["jid"], "user@localhost/balcony")

    def test_affiliationNoticeOnlyToThoseWhoSeeJIDs(self):
        """
        Notices about non-occupants carry a real JID: moderators only.
        """
        self.createRoom()
        self.rosaline.join("room", "Rosaline")
        self.romeo.received()
        self.room().setAffiliation(JULIET_BARE, "member")
        [notice] = self.romeo.received()
        self.assertEqual(dict(notice.x.item.attributes), {"jid": JULIET_BARE, "affiliation": "member"})
        self.assertEqual(self.rosaline.received(), [])


ADMIN = "http://jabber.org/protocol/muc#admin"
MAM = "urn:xmpp:mam:2"
REQUEST = "http://jabber.org/protocol/muc#request"

# Accounts (full JIDs); names chosen so that no JID is a substring of another.
ROMEO = "romeo@localhost/balcony"  # owner
NURSE = "nurse@localhost/kitchen"  # admin (moderator)
JULIET = "juliet@localhost/garden"  # participant, later member
ROSALINE = "rosaline@localhost/street"  # participant, never a moderator
MERCUTIO = "mercutio@localhost/square"  # visitor, kicked
BENVOLIO = "benvolio@localhost/market"  # banned while in the room
TYBALT = "tybalt@localhost/castle"  # never joins: invited, banned by JID
JULIET2 = "juliet@localhost/bedroom"  # Juliet's second session

OCCUPANT_JIDS = [ROMEO, NURSE, JULIET, ROSALINE, MERCUTIO, BENVOLIO]


def bare(jid):
    return jid.split("/")[0]


def inviteSenders(stanza):
    """
    @return: the C{from} of mediated invitations in C{stanza}: the invitee
        is told who invites it (XEP-0045 7.8.2, Prosody alike).
    """
    found = set()
    for x in stanza.elements(ns.MUC_USER, "x"):
        for invite in x.elements(ns.MUC_USER, "invite"):
            if invite.getAttribute("from"):
                found.add(bare(invite["from"]))
    return found


class TextSession:
    """
    A session of the router's fast path: what it is sent, parsed back and
    recorded with the harness's deliveries.
    """

    def __init__(self, delivered):
        self.delivered = delivered

    def send(self, data):
        self.delivered.append(parseElement(data.decode("utf-8") if isinstance(data, bytes) else data))


class Scenario:
    """
    Runs the operations on a harness; after each step calls C{check(step)}.
    """

    def __init__(self, testCase, whois, textSessions=False):
        self.t = testCase
        self.h = MUCHarness()
        if textSessions:
            # Broadcasts then take the router's fast path: text serialized
            # once per variant, as real sessions receive it.
            for jid in OCCUPANT_JIDS + [JULIET2]:
                self.h.router.sessions[jid] = TextSession(self.h.delivered)
        self.whois = whois
        self.c = {jid: self.h.client(jid) for jid in OCCUPANT_JIDS + [TYBALT, JULIET2]}
        self.moderators = {bare(ROMEO), bare(NURSE)}
        self.seen = 0
        self.leaks = []
        self.visible = {}  # step -> list of (recipient, stanza xml) delivered to non-moderators

    def send(self, jid, xml):
        self.c[jid].send(xml)

    def check(self, step):
        """
        Scan what was delivered since the last step.
        """
        delivered = self.h.delivered[self.seen:]
        self.seen = len(self.h.delivered)
        for stanza in delivered:
            recipient = bare(stanza.getAttribute("to", ""))
            if recipient in self.moderators:
                continue
            text = stanza.toXml()
            self.visible.setdefault(step, []).append((recipient, text))
            allowed = {recipient} | inviteSenders(stanza)
            for jid in OCCUPANT_JIDS:
                if bare(jid) in allowed:
                    continue
                if re.search(re.escape(bare(jid)) + r"(?![\w.-])", text) or jid.split("/")[1] in text:
                    self.leaks.append((step, recipient, jid, text))

    def sawAny(self, step, recipient, jid):
        """
        @return: whether C{recipient} got C{jid} in a stanza at C{step}.
        """
        return any(r == bare(recipient) and bare(jid) in text for r, text in self.visible.get(step, []))

    def lastIqId(self, jid):
        """
        @return: the id of the last iq the room forwarded to C{jid}.
        """
        return [s for s in self.h.delivered if s.name == "iq" and s.getAttribute("to") == jid][-1]["id"]

    def join(self, jid, nick, extra=""):
        self.send(jid, "<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>" % (ROOM, nick, ns.MUC, extra))

    def admin(self, jid, items, type="set", id="a"):
        self.send(jid, "<iq id='%s' to='%s' type='%s'><query xmlns='%s'>%s</query></iq>" % (id, ROOM, type, ADMIN, items))

    def run(self):
        s = self.check
        self.join(ROMEO, "Romeo")
        self.send(ROMEO, OWNER_SUBMIT % ("c1", ROOM, field("muc#roomconfig_whois", self.whois)
                                         + field("muc#roomconfig_changesubject", "1")
                                         + field("muc#roomconfig_allowinvites", "1")
                                         + field("muc#roomconfig_persistentroom", "1")
                                         + field("muc#roomconfig_presencebroadcast", "moderator", "participant",
                                                 "visitor", "none")))
        self.admin(ROMEO, "<item affiliation='admin' jid='%s'/>" % bare(NURSE))
        # an offline member: its unavailable presence goes to joiners
        self.admin(ROMEO, "<item affiliation='member' jid='%s' nick='Tyb'/>" % bare(TYBALT))
        s("create")
        self.join(NURSE, "Nurse")
        s("join-admin")
        self.send(ROMEO, "<message to='%s' type='groupchat'><body>before</body></message>" % ROOM)
        s("groupchat-owner")
        self.join(JULIET, "Juliet", "<history maxstanzas='20'/>")
        s("join-juliet")
        self.send(JULIET, "<message to='%s' type='groupchat'><body>from juliet</body></message>" % ROOM)
        s("groupchat-juliet")
        self.join(ROSALINE, "Rosaline", "<history maxstanzas='20'/>")
        s("join-rosaline")
        self.send(JULIET, "<presence to='%s/Juliet'><show>away</show><status>reading</status></presence>" % ROOM)
        s("presence-update")
        self.send(JULIET, "<presence to='%s/Jules'/>" % ROOM)
        s("nick-change")
        self.send(JULIET, "<presence to='%s/Juliet'/>" % ROOM)
        s("nick-change-back")
        self.send(ROMEO, "<message to='%s/Rosaline' type='chat'><body>pm from owner</body></message>" % ROOM)
        self.send(JULIET, "<message to='%s/Rosaline' type='chat'><body>pm from juliet</body></message>" % ROOM)
        self.send(ROSALINE, "<message to='%s/Juliet' type='chat'><body>pm reply</body></message>" % ROOM)
        s("private-messages")
        self.send(ROSALINE, "<iq id='v1' to='%s/Romeo' type='get'><vCard xmlns='vcard-temp'/></iq>" % ROOM)
        s("occupant-iq")
        # vCard requests go to the occupant's bare JID, its server answers
        self.h.client(bare(ROMEO)).send("<iq id='%s' to='%s/Rosaline' type='result'><vCard xmlns='vcard-temp'>"
                                        "<FN>Romeo</FN></vCard></iq>" % (self.lastIqId(bare(ROMEO)), ROOM))
        s("occupant-iq-answer")
        self.send(ROSALINE, "<iq id='p1' to='%s/Juliet' type='get'><ping xmlns='urn:xmpp:ping'/></iq>" % ROOM)
        self.send(JULIET, "<iq id='%s' to='%s/Rosaline' type='error'><ping xmlns='urn:xmpp:ping'/>"
                          "<error type='cancel'><service-unavailable xmlns='%s'/></error></iq>"
                  % (self.lastIqId(JULIET), ROOM, ns.XMPP_STANZAS))
        s("occupant-iq-error")
        self.send(ROSALINE, "<presence to='%s/Juliet' type='probe'/>" % ROOM)
        self.send(ROSALINE, "<presence to='%s/Tyb' type='probe'/>" % ROOM)
        s("probe")
        self.send(ROSALINE, "<iq id='m1' to='%s' type='set'><query xmlns='%s' queryid='q'/></iq>" % (ROOM, MAM))
        s("mam")
        self.send(ROSALINE, "<iq id='d1' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_ITEMS))
        self.send(ROSALINE, "<iq id='d2' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_INFO))
        self.send(ROSALINE, "<iq id='d3' to='%s/Juliet' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_ITEMS))
        s("disco")
        for affiliation in ("member", "admin", "owner", "outcast"):
            self.admin(ROSALINE, "<item affiliation='%s'/>" % affiliation, type="get", id="l-" + affiliation)
        for role in ("moderator", "participant", "visitor"):
            self.admin(ROSALINE, "<item role='%s'/>" % role, type="get", id="r-" + role)
        s("lists-by-participant")
        self.send(ROSALINE, "<message to='%s'><x xmlns='%s'><invite to='%s'><reason>come</reason></invite></x></message>"
                  % (ROOM, ns.MUC_USER, bare(TYBALT)))
        s("invite")
        self.send(TYBALT, "<message to='%s'><x xmlns='%s'><decline to='%s'><reason>no</reason></decline></x></message>"
                  % (ROOM, ns.MUC_USER, bare(ROSALINE)))
        s("decline")
        self.send(ROMEO, "<message to='%s' type='groupchat'><subject>new subject</subject></message>" % ROOM)
        self.send(JULIET, "<message to='%s' type='groupchat'><subject>juliet's subject</subject></message>" % ROOM)
        s("subject")
        self.join(JULIET2, "Juliet")
        s("second-session")
        self.send(JULIET2, "<presence to='%s/Juliet' type='unavailable'/>" % ROOM)
        s("second-session-leaves")
        self.admin(ROMEO, "<item affiliation='member' jid='%s'><reason>welcome</reason></item>" % bare(JULIET))
        s("member-grant-occupant")
        self.admin(NURSE, "<item affiliation='member' jid='someone@localhost'><reason>new</reason></item>")
        s("member-grant-absent")
        self.send(ROMEO, OWNER_SUBMIT % ("c2", ROOM, field("muc#roomconfig_moderatedroom", "1")))
        s("moderated")
        self.join(MERCUTIO, "Mercutio", "<history maxstanzas='20'/>")
        s("join-visitor")
        self.send(MERCUTIO, "<message to='%s'><x xmlns='jabber:x:data' type='submit'>%s%s</x></message>"
                  % (ROOM, field("FORM_TYPE", REQUEST), field("muc#role", "participant")))
        s("voice-request")
        self.send(ROMEO, "<message to='%s'><x xmlns='jabber:x:data' type='submit'>%s%s%s%s%s</x></message>"
                  % (ROOM, field("FORM_TYPE", REQUEST), field("muc#role", "participant"),
                     field("muc#jid", MERCUTIO), field("muc#roomnick", "Mercutio"), field("muc#request_allow", "true")))
        s("voice-granted")
        self.admin(NURSE, "<item nick='Mercutio' role='visitor'><reason>quiet</reason></item>")
        s("voice-revoked")
        self.admin(ROMEO, "<item nick='Rosaline' role='moderator'/>", id="rm")
        self.moderators.add(bare(ROSALINE))
        self.check("moderator-grant")
        self.admin(ROMEO, "<item nick='Rosaline' role='participant'/>", id="rp")
        self.moderators.discard(bare(ROSALINE))
        self.seen = len(self.h.delivered)  # the revocation itself goes to a moderator
        self.admin(NURSE, "<item nick='Mercutio' role='none'><reason>out</reason></item>")
        s("kick")
        self.join(BENVOLIO, "Benvolio")
        s("join-benvolio")
        self.admin(ROMEO, "<item affiliation='outcast' jid='%s'><reason>bye</reason></item>" % bare(BENVOLIO))
        s("ban-occupant")
        self.admin(NURSE, "<item affiliation='outcast' jid='%s'><reason>never</reason></item>" % bare(TYBALT))
        s("ban-absent")
        self.send(ROSALINE, "<message to='%s/Juliet' type='error'><body>x</body>"
                            "<error type='cancel'><gone xmlns='%s'/></error></message>" % (ROOM, ns.XMPP_STANZAS))
        s("error-kick")
        self.join(ROSALINE, "Rosaline")
        self.join(MERCUTIO, "Mercutio")
        s("rejoin")
        self.send(ROSALINE, "<presence to='%s/Rosaline' type='unavailable'><status>bye</status></presence>" % ROOM)
        s("leave")
        self.join(ROSALINE, "Rosaline")
        s("rejoin-2")
        self.join(ROSALINE, "Rosaline", "<history maxstanzas='5'/>")
        s("resync")
        self.join(ROSALINE, "Rosa")
        s("nick-change-with-muc-x")
        self.send(ROMEO, "<iq id='x' to='%s' type='set'><query xmlns='%s'><destroy jid='elsewhere@%s'>"
                         "<reason>moving</reason></destroy></query></iq>" % (ROOM, ns.MUC_OWNER, DOMAIN))
        s("destroy")


class SemiAnonymousScenarioTests(unittest.TestCase):
    def test_noRealJIDToNonModerators(self):
        """
        Nothing a non-moderator receives in a semi-anonymous room contains
        another occupant's real JID.
        """
        scenario = Scenario(self, "moderators")
        scenario.run()
        self.assertEqual([leak[:3] for leak in scenario.leaks], [], "\n".join(l[3] for l in scenario.leaks))
        # the scan saw what it should: the scenario reached non-moderators
        for step in ("join-rosaline", "resync", "nick-change-with-muc-x", "private-messages", "occupant-iq-answer", "occupant-iq-error", "mam",
                     "kick", "ban-occupant", "destroy"):
            self.assertTrue(any(r == bare(ROSALINE) for r, _ in scenario.visible.get(step, [])), step)

    def test_noRealJIDToNonModeratorsAsText(self):
        """
        The same over the fan-out fast path (serialized once per variant):
        no variant meant for moderators reaches anyone else.
        """
        scenario = Scenario(self, "moderators", textSessions=True)
        scenario.run()
        self.assertEqual([leak[:3] for leak in scenario.leaks], [], "\n".join(l[3] for l in scenario.leaks))
        self.assertTrue(any(r == bare(ROSALINE) for r, _ in scenario.visible["join-rosaline"]))

    def test_moderatorsSeeRealJIDs(self):
        """
        Moderators of the same semi-anonymous room do see them (so that the
        scan above is not vacuous).
        """
        scenario = Scenario(self, "moderators")
        scenario.moderators = set()  # record everything
        scenario.run()
        self.assertTrue(scenario.sawAny("join-rosaline", NURSE, ROSALINE))
        self.assertTrue(scenario.sawAny("voice-request", ROMEO, MERCUTIO))
        self.assertTrue(scenario.sawAny("member-grant-absent", ROMEO, "someone@localhost"))
        self.assertTrue(scenario.sawAny("ban-absent", NURSE, TYBALT))


class NonAnonymousScenarioTests(unittest.TestCase):
    def setUp(self):
        self.scenario = Scenario(self, "anyone")
        self.scenario.moderators = set()  # record everything
        self.scenario.run()

    def test_jidsVisibleToParticipants(self):
        """
        XEP-0045 7.2.4: in a non-anonymous room everyone sees full JIDs in
        presence (joins, updates, nick changes, leaving, kicks, bans), the
        actor's JID, notices about affiliations of absent JIDs, and MAM
        results carry the sender's real JID.
        """
        s = self.scenario
        for step, recipient, jid in [
                ("join-rosaline", ROSALINE, JULIET),   # occupant list
                ("join-rosaline", JULIET, ROSALINE),   # the join broadcast
                ("presence-update", ROSALINE, JULIET),
                ("nick-change", ROSALINE, JULIET),
                ("mam", ROSALINE, JULIET),
                ("member-grant-occupant", ROSALINE, JULIET),
                ("member-grant-occupant", ROSALINE, ROMEO),  # actor
                ("member-grant-absent", ROSALINE, "someone@localhost"),
                ("kick", ROSALINE, MERCUTIO),
                ("kick", ROSALINE, NURSE),  # actor
                ("ban-occupant", ROSALINE, BENVOLIO),
                ("ban-absent", ROSALINE, TYBALT),
                ("leave", JULIET, ROSALINE),
                ("join-visitor", MERCUTIO, ROMEO)]:
            self.assertTrue(s.sawAny(step, recipient, jid), (step, recipient, jid))

    def test_status100(self):
        """
        Joiners of a non-anonymous room get status 100.
        """
        texts = [t for r, t in self.scenario.visible["join-rosaline"] if r == bare(ROSALINE)]
        self.assertTrue(any("code='100'" in t or 'code="100"' in t for t in texts))

    def test_memberListForParticipantsStillForbidden(self):
        """
        Lists stay for admins and owners (Prosody 0.12 lets others read the
        member list only of a non-anonymous room; the others stay refused).
        """
        texts = [t for r, t in self.scenario.visible["lists-by-participant"] if r == bare(ROSALINE)]
        self.assertEqual(len(texts), 7)
        for text in texts:
            if "l-member" in text:
                continue
            self.assertIn("type='error'", text.replace('"', "'"))


class InvitationMaskingTests(unittest.TestCase):
    """
    Prosody's whois.lib.lua: in a semi-anonymous room a mediated
    invitation names the inviter by its room JID, unless the invitee
    would be a moderator (an admin or owner of the room), who may see real
    JIDs anyway.
    """

    def setUp(self):
        self.h = MUCHarness()
        self.romeo = self.h.client(ROMEO)
        self.romeo.join("room", "Romeo")
        self.romeo.send(OWNER_SUBMIT % ("c", ROOM, field("muc#roomconfig_allowinvites", "1")))
        self.romeo.send("<iq id='a' to='%s' type='set'><query xmlns='%s'><item affiliation='admin' jid='%s'/></query></iq>"
                        % (ROOM, ADMIN, bare(NURSE)))
        self.juliet = self.h.client(JULIET)
        self.juliet.join("room", "Juliet")

    def inviterSeenBy(self, invitee):
        self.juliet.send("<message to='%s'><x xmlns='%s'><invite to='%s'/></x></message>" % (ROOM, ns.MUC_USER, invitee))
        [message] = [s for s in self.h.delivered if s.getAttribute("to") == invitee][-1:]
        return inviteSenders(message)

    def test_unaffiliatedInviteeSeesRoomJID(self):
        self.assertEqual(self.inviterSeenBy(bare(TYBALT)), {ROOM})
        [message] = [s for s in self.h.delivered if s.getAttribute("to") == bare(TYBALT)]
        self.assertNotIn(bare(JULIET), message.toXml())

    def test_adminInviteeSeesRealJID(self):
        self.assertEqual(self.inviterSeenBy(bare(NURSE)), {bare(JULIET)})
