"""
Semi-anonymous rooms never show a real JID to a non-moderator, in any
stanza; moderators and non-anonymous rooms show them.
"""

from tests.support.muc import MUCTestCase, ROOM, field, item
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
