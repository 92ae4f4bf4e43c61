"""
Presence broadcast by role (muc#roomconfig_presencebroadcast) and the
presence of offline members sent to joiners.
"""

from tests.support.muc import (
    MUCTestCase,
    ROOM,
    adminSet,
    affItem,
    codes,
    configure,
    field,
    item,
    layout,
    roleItem,
)

BROADCAST = "muc#roomconfig_presencebroadcast"


def presences(stanzas):
    return [s for s in stanzas if s.name == "presence"]


class PresenceBroadcastTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.romeo.received()

    def test_defaultBroadcastsEveryRole(self):
        """
        By default moderators, participants and visitors are broadcast.
        """
        self.assertEqual(self.room().config.presenceBroadcast, ["moderator", "participant", "visitor"])
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        self.juliet.join("room", "Juliet")
        [seen] = presences(self.romeo.received())
        self.assertEqual(item(seen)["role"], "visitor")

    def test_hiddenRole(self):
        """
        Without 'visitor' in the list, a visitor's join, presence updates
        and leave are not broadcast; it still sees itself and the others.
        """
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1") + field(BROADCAST, "moderator", "participant"))
        self.romeo.received()
        received = self.juliet.join("room", "Juliet")
        self.assertEqual([s["from"] for s in presences(received)], [ROOM + "/Romeo", ROOM + "/Juliet"])
        self.assertEqual(codes(presences(received)[1]), ["110"])
        self.assertEqual(self.romeo.received(), [])
        self.juliet.send("<presence to='%s/Juliet'><show>away</show></presence>" % (ROOM,))
        self.assertEqual(self.romeo.received(), [])
        self.assertEqual(len(self.juliet.received()), 1)
        received = self.rosaline.join("room", "Rosaline")
        self.assertEqual([s["from"] for s in presences(received)], [ROOM + "/Romeo", ROOM + "/Rosaline"])
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        self.assertEqual(self.romeo.received(), [])
        self.assertEqual(self.rosaline.received(), [])
        [own] = self.juliet.received()
        self.assertEqual(own["type"], "unavailable")

    def test_leaveBroadcastWithoutNone(self):
        """
        'none' is not needed in the list for the others to see someone
        leave: the role it had counts.
        """
        self.juliet.join("room", "Juliet")
        self.romeo.received()
        self.juliet.send("<presence to='%s/Juliet' type='unavailable'/>" % (ROOM,))
        [gone] = self.romeo.received()
        self.assertEqual((gone["from"], gone["type"]), (ROOM + "/Juliet", "unavailable"))
        self.assertEqual(item(gone)["role"], "none")

    def test_kickOfHiddenRoleNotBroadcast(self):
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1") + field(BROADCAST, "moderator", "participant"))
        self.juliet.join("room", "Juliet")
        self.rosaline.join("room", "Rosaline")
        self.rosaline.received()
        received = adminSet(self.romeo, roleItem("Juliet", "none"))
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(self.rosaline.received(), [])
        [own] = self.juliet.received()[-1:]
        self.assertEqual(codes(own), ["307", "110"])

    def test_roleChangeHidesAndShows(self):
        """
        Losing voice when visitors are not broadcast: the others see the
        occupant leave; getting voice back announces it again.
        """
        configure(self.romeo, field(BROADCAST, "moderator", "participant"))
        self.juliet.join("room", "Juliet")
        self.rosaline.join("room", "Rosaline")
        self.rosaline.received()
        self.juliet.received()
        adminSet(self.romeo, roleItem("Juliet", "visitor"))
        [gone] = self.rosaline.received()
        self.assertEqual((gone["from"], gone["type"]), (ROOM + "/Juliet", "unavailable"))
        self.assertEqual(item(gone)["role"], "visitor")
        [own] = self.juliet.received()
        self.assertIsNone(own.getAttribute("type"))
        self.assertEqual(item(own)["role"], "visitor")
        adminSet(self.romeo, roleItem("Juliet", "participant"), id="a2")
        [back] = self.rosaline.received()
        self.assertIsNone(back.getAttribute("type"))
        self.assertEqual(item(back)["role"], "participant")

    def test_changingTheList(self):
        """
        Removing a role from the list: the others see its occupants leave
        (not themselves); putting it back announces them; both are config
        changes (104).
        """
        self.juliet.join("room", "Juliet")
        self.rosaline.join("room", "Rosaline")
        for client in (self.romeo, self.juliet, self.rosaline):
            client.received()
        toRomeo = configure(self.romeo, field(BROADCAST, "moderator"))
        received = self.juliet.received()
        gone = presences(received)
        self.assertEqual(sorted((s["from"], s["type"]) for s in gone), [(ROOM + "/Rosaline", "unavailable")])
        [notice] = [s for s in received if s.name == "message"]
        self.assertEqual(codes(notice), ["104"])
        self.assertEqual(sorted((s["from"], s["type"]) for s in presences(toRomeo)),
                         [(ROOM + "/Juliet", "unavailable"), (ROOM + "/Rosaline", "unavailable")])
        configure(self.romeo, field(BROADCAST, "moderator", "participant"))
        back = presences(self.juliet.received())
        self.assertEqual([(s["from"], s.getAttribute("type")) for s in back], [(ROOM + "/Rosaline", None)])
        self.assertEqual(item(back[0])["role"], "participant")


class OfflineMemberTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        configure(self.romeo, field(BROADCAST, "none", "moderator", "participant"))
        adminSet(self.romeo, affItem("user2@localhost", "member", nick="Juliet") + affItem("user4@localhost", "admin")
                 + affItem("user5@localhost", "outcast", nick="Bad"))
        self.romeo.received()

    def test_joinerGetsOfflineMembers(self):
        """
        A joiner who may not see real JIDs gets, after the occupants and
        before its own presence, an unavailable presence for each member
        with a reserved nick who is not in the room: nick, affiliation,
        role none, no JID.
        """
        received = presences(self.rosaline.join("room", "Rosaline"))
        self.assertEqual([(s["from"], s.getAttribute("type")) for s in received],
                         [(ROOM + "/Romeo", None), (ROOM + "/Juliet", "unavailable"), (ROOM + "/Rosaline", None)])
        offline = received[1]
        self.assertEqual(layout(offline), ["item"])
        self.assertEqual(item(offline), {"affiliation": "member", "role": "none", "nick": "Juliet"})

    def test_moderatorSeesJIDsAndMembersWithoutNick(self):
        """
        A joiner who may see real JIDs gets the JIDs, and members without a
        reserved nick (from the room's JID).
        """
        other = self.harness.client("user@localhost/phone")
        received = presences(other.join("room", "Romeo2"))
        offline = [s for s in received if s.getAttribute("type") == "unavailable"]
        self.assertEqual([(s["from"], item(s)) for s in offline], [
            (ROOM + "/Juliet", {"affiliation": "member", "role": "none", "nick": "Juliet", "jid": "user2@localhost"}),
            (ROOM, {"affiliation": "admin", "role": "none", "jid": "user4@localhost"}),
        ])

    def test_presentMembersAreNotOffline(self):
        self.juliet.join("room", "Juliet")
        received = presences(self.rosaline.join("room", "Rosaline"))
        juliet = [s for s in received if s["from"] == ROOM + "/Juliet"]
        self.assertEqual([s.getAttribute("type") for s in juliet], [None])

    def test_notWithoutNone(self):
        configure(self.romeo, field(BROADCAST, "moderator", "participant"))
        received = presences(self.rosaline.join("room", "Rosaline"))
        self.assertEqual([s["from"] for s in received], [ROOM + "/Romeo", ROOM + "/Rosaline"])
