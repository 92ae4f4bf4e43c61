"""
Multi-session occupants at the component level (as Prosody): sessions of
one account joining under one nick share the occupant.
"""

from twisted.trial import unittest

from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized

from tests.support.muc import codes, condition, configure, mucX

ROOM = "room@" + DOMAIN
BOB = ROOM + "/bob"


def itemJIDs(stanza):
    """
    @return: the C{jid} of every item of the muc#user x (L{None} if absent).
    """
    return [item.getAttribute("jid") for item in mucX(stanza).elements(ns.MUC_USER, "item")]


def presencesFrom(stanzas, sender):
    return [s for s in stanzas if s.name == "presence" and s.getAttribute("from") == sender]


def bodies(stanzas):
    return [str(s.body) for s in stanzas if s.name == "message" and s.body is not None]


class MultiSessionTests(unittest.TestCase):
    """
    Alice owns the room (moderator: sees real JIDs); Carol is a plain
    participant (semi-anonymous room: sees none); Bob joins from a phone
    and a laptop under the nick C{bob}.
    """

    def setUp(self):
        self.harness = MUCHarness()
        self.alice = self.harness.client("alice@localhost/a")
        self.carol = self.harness.client("carol@localhost/c")
        self.phone = self.harness.client("bob@localhost/phone")
        self.laptop = self.harness.client("bob@localhost/laptop")
        self.alice.join("room", "alice")
        configure(self.alice)
        self.carol.join("room", "carol")
        self.alice.send("<message to='%s' type='groupchat'><body>before</body></message>" % (ROOM,))
        self.phone.join("room", "bob")
        for client in (self.alice, self.carol, self.phone):
            client.received()
        self.room = self.harness.muc.rooms[ROOM]

    def joinLaptop(self, drain=True):
        """
        The second session joins.

        @param drain: forget what the other clients received meanwhile.
        @return: what the laptop received.
        """
        received = self.laptop.join("room", "bob", "<history maxstanzas='5'/>")
        if drain:
            for client in (self.alice, self.carol, self.phone):
                client.received()
        return received

    def test_secondSessionJoins(self):
        """
        No conflict: the new session gets the others' presence, its own
        (both real JIDs, 110), history and subject; the other session sees
        the same self-presence; moderators see one occupant listing both
        real JIDs, others one anonymous item.  The room still has one
        occupant for Bob.
        """
        received = self.joinLaptop(drain=False)
        self.assertEqual([s.getAttribute("type") for s in received if s.getAttribute("type") == "error"], [])
        own = presencesFrom(received, BOB)
        self.assertEqual(len(own), 1)
        self.assertIn("110", codes(own[0]))
        self.assertEqual(itemJIDs(own[0]), ["bob@localhost/phone", "bob@localhost/laptop"])
        self.assertEqual(len(presencesFrom(received, ROOM + "/alice")), 1)
        self.assertEqual(len(presencesFrom(received, ROOM + "/carol")), 1)
        self.assertEqual(bodies(received), ["before"])
        self.assertTrue([s for s in received if s.name == "message" and s.subject is not None])
        phoneSees = presencesFrom(self.phone.received(), BOB)
        self.assertEqual([codes(p) for p in phoneSees], [["110"]])
        self.assertEqual(itemJIDs(phoneSees[0]), ["bob@localhost/phone", "bob@localhost/laptop"])
        [aliceSees] = presencesFrom(self.alice.received(), BOB)
        self.assertEqual(itemJIDs(aliceSees), ["bob@localhost/phone", "bob@localhost/laptop"])
        self.assertNotIn("110", codes(aliceSees))
        [carolSees] = presencesFrom(self.carol.received(), BOB)
        self.assertEqual(itemJIDs(carolSees), [None])
        self.assertEqual(list(self.room.occupants), ["alice", "carol", "bob"])
        self.assertIs(self.room.occupantsByJID["bob@localhost/laptop"], self.room.occupants["bob"])

    def test_otherAccountConflict(self):
        """
        Another account asking for the nick still gets C{conflict}.
        """
        mallory = self.harness.client("mallory@localhost/m")
        [error] = mallory.join("room", "bob")
        self.assertEqual(condition(error)[0], "conflict")
        self.assertEqual(self.room.occupants["bob"].sessions.keys(), {"bob@localhost/phone"})

    def test_messagesToEverySession(self):
        """
        Groupchat and private messages reach both sessions (a second session
        costs no serialization); either session speaks as the shared nick.
        """
        before = Serialized.made
        self.alice.send("<message to='%s' type='groupchat'><body>one session</body></message>" % (ROOM,))
        oneSession = Serialized.made - before
        self.phone.received()
        self.joinLaptop()
        before = Serialized.made
        self.alice.send("<message to='%s' type='groupchat'><body>hi both</body></message>" % (ROOM,))
        self.assertEqual(Serialized.made - before, oneSession)
        before = Serialized.made
        self.carol.send("<message to='%s' type='chat'><body>psst</body></message>" % (BOB,))
        self.assertEqual(Serialized.made - before, 1)
        for session in (self.phone, self.laptop):
            self.assertEqual(bodies(session.received()), ["hi both", "psst"])
        self.carol.received()
        self.laptop.send("<message to='%s' type='groupchat'><body>from laptop</body></message>" % (ROOM,))
        [message] = [s for s in self.carol.received() if s.name == "message"]
        self.assertEqual(message["from"], BOB)
        self.assertEqual(bodies(self.phone.received()), ["from laptop"])

    def test_oneSessionLeaves(self):
        """
        One session leaving: it gets its unavailable presence (110); the
        occupant stays, the others see no unavailable presence but its
        presence without that real JID; the remaining session still gets
        messages and the leaving one does not.
        """
        self.joinLaptop()
        self.phone.send("<presence to='%s' type='unavailable'><status>bye phone</status></presence>" % (BOB,))
        [gone] = self.phone.received()
        self.assertEqual(gone["type"], "unavailable")
        self.assertIn("110", codes(gone))
        self.assertEqual(itemJIDs(gone), ["bob@localhost/phone"])
        aliceSees = presencesFrom(self.alice.received(), BOB)
        self.assertEqual([p.getAttribute("type") for p in aliceSees], [None])
        self.assertEqual(itemJIDs(aliceSees[0]), ["bob@localhost/laptop"])
        self.assertEqual([p.getAttribute("type") for p in presencesFrom(self.carol.received(), BOB)], [None])
        self.assertIn("bob", self.room.occupants)
        self.assertNotIn("bob@localhost/phone", self.room.occupantsByJID)
        self.assertEqual(self.room.occupants["bob"].realJID, "bob@localhost/laptop")
        self.alice.send("<message to='%s' type='groupchat'><body>still?</body></message>" % (ROOM,))
        self.assertEqual(bodies(self.laptop.received()), ["still?"])
        self.assertEqual(self.phone.received(), [])

    def test_lastSessionLeaves(self):
        """
        The last session leaving takes the occupant out: everyone sees it
        leave.
        """
        self.joinLaptop()
        self.phone.send("<presence to='%s' type='unavailable'/>" % (BOB,))
        self.alice.received()
        self.laptop.received()
        self.laptop.send("<presence to='%s' type='unavailable'/>" % (BOB,))
        [gone] = self.laptop.received()
        self.assertEqual((gone["type"], codes(gone)), ("unavailable", ["110"]))
        [aliceSees] = presencesFrom(self.alice.received(), BOB)
        self.assertEqual(aliceSees["type"], "unavailable")
        self.assertNotIn("bob", self.room.occupants)
        self.assertFalse([jid for jid in self.room.occupantsByJID if jid.startswith("bob@")])

    def test_disconnectOfOneSession(self):
        """
        A session whose client is gone (an error bounced to the room) leaves
        alone, without status 333 for the others: the occupant stays.
        """
        self.joinLaptop()
        self.laptop.send("<message to='%s' type='error'><error type='cancel'>"
                         "<recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>" % (ROOM,))
        [gone] = self.laptop.received()
        self.assertEqual(gone["type"], "unavailable")
        self.assertNotIn("333", codes(gone))
        self.assertEqual([p.getAttribute("type") for p in presencesFrom(self.alice.received(), BOB)], [None])
        self.assertEqual(list(self.room.occupants["bob"].sessions), ["bob@localhost/phone"])

    def test_kickRemovesEverySession(self):
        """
        A kick takes the occupant out with all its sessions: each gets the
        unavailable presence with 307 and 110.
        """
        self.joinLaptop()
        self.alice.send("<iq id='k' to='%s' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                        "<item nick='bob' role='none'/></query></iq>" % (ROOM,))
        for session in (self.phone, self.laptop):
            [gone] = presencesFrom(session.received(), BOB)
            self.assertEqual(gone["type"], "unavailable")
            self.assertEqual(codes(gone), ["307", "110"])
        self.assertNotIn("bob", self.room.occupants)
        self.assertFalse([jid for jid in self.room.occupantsByJID if jid.startswith("bob@")])
        self.alice.send("<message to='%s' type='groupchat'><body>gone</body></message>" % (ROOM,))
        self.assertEqual(self.phone.received() + self.laptop.received(), [])

    def test_iqGoesToPrimarySession(self):
        """
        An iq to the occupant goes to its primary (first) session only.
        """
        self.joinLaptop()
        self.carol.send("<iq id='v' to='%s' type='get'><query xmlns='jabber:iq:version'/></iq>" % (BOB,))
        self.assertEqual([s.name for s in self.phone.received()], ["iq"])
        self.assertEqual(self.laptop.received(), [])

    def test_nickChangeMovesOneSession(self):
        """
        One session changing nick moves alone: it sees its old nick go as a
        nick change (303); the old occupant stays with the other session;
        the new nick is a new occupant.
        """
        self.joinLaptop()
        self.laptop.send("<presence to='%s/bobby'/>" % (ROOM,))
        received = self.laptop.received()
        old, stays = presencesFrom(received, BOB)
        self.assertEqual((old["type"], codes(old)), ("unavailable", ["303", "110"]))
        self.assertEqual(itemJIDs(old), ["bob@localhost/laptop"])
        self.assertEqual((stays.getAttribute("type"), itemJIDs(stays)), (None, ["bob@localhost/phone"]))
        [new] = presencesFrom(received, ROOM + "/bobby")
        self.assertIn("110", codes(new))
        self.assertEqual(list(self.room.occupants["bob"].sessions), ["bob@localhost/phone"])
        self.assertEqual(list(self.room.occupants["bobby"].sessions), ["bob@localhost/laptop"])
        carolSees = self.carol.received()
        self.assertEqual([p.getAttribute("type") for p in presencesFrom(carolSees, BOB)], [None])
        self.assertEqual([p.getAttribute("type") for p in presencesFrom(carolSees, ROOM + "/bobby")], [None])
