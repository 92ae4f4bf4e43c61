"""
Ghosts from other domains: occupants whose server stream failed leave
their rooms with status 333 (L{xmuc.muc.ghosts.removeDomain}), and a
delivery error bounced for a remote occupant removes it as for a local one.

Remote users are played by harness clients on extra domains the test
router delivers locally, so that what the room sends them is collected.
"""

from tests.support.muc import MUCTestCase, ROOM, codes, item
from xmuc.hooks import S2S_DOMAIN_FAILED
from xmuc.muc import ghosts
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply

OTHER_ROOM = "other@conference.localhost"


def statusText(stanza):
    return [str(child) for child in stanza.elements(ns.CLIENT, "status")]


class RemoveDomainTests(MUCTestCase):
    """
    Romeo (local) owns C{room}; Juliet and Nurse are on C{capulet.test},
    Tybalt on C{other.test}.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.harness.router.hosts.update(["capulet.test", "other.test"])
        self.juliet = self.harness.client("juliet@capulet.test/balcony")
        self.nurse = self.harness.client("nurse@capulet.test/kitchen")
        self.tybalt = self.harness.client("tybalt@other.test/street")
        self.romeo.join("room", "Romeo")
        self.juliet.join("room", "Juliet")
        self.tybalt.join("room", "Tybalt")
        self.nurse.join("other", "Nurse")
        self.romeo.join("other", "Romeo")
        for client in (self.romeo, self.juliet, self.nurse, self.tybalt):
            client.received()

    def test_occupantsOfTheDomainLeave(self):
        """
        Every occupant from the failed domain leaves every room: the
        others see an unavailable presence with 333 and the error as
        status text, its own sessions get 110 and 333.
        """
        removed = ghosts.removeDomain(self.harness.muc, "capulet.test")
        self.assertEqual(removed, 2)
        seen = self.romeo.received()
        self.assertEqual(
            sorted((s["from"], s["type"], tuple(codes(s)), tuple(statusText(s))) for s in seen),
            [
                (OTHER_ROOM + "/Nurse", "unavailable", ("333",), ("Kicked: remote server not found",)),
                (ROOM + "/Juliet", "unavailable", ("333",), ("Kicked: remote server not found",)),
            ],
        )
        [own] = self.juliet.received()
        self.assertEqual((own["type"], sorted(codes(own))), ("unavailable", ["110", "333"]))
        self.assertEqual(item(own)["role"], "none")
        self.assertEqual(sorted(self.harness.muc.rooms[ROOM].occupants), ["Romeo", "Tybalt"])
        self.assertEqual(sorted(self.harness.muc.rooms[OTHER_ROOM].occupants), ["Romeo"])

    def test_otherDomainsStay(self):
        """
        Occupants of other domains, local ones included, are untouched;
        a domain without occupants changes nothing.
        """
        self.assertEqual(ghosts.removeDomain(self.harness.muc, "montague.test"), 0)
        self.assertEqual(self.romeo.received(), [])
        ghosts.removeDomain(self.harness.muc, "capulet.test", "remote-server-timeout")
        [seen] = self.tybalt.received()
        self.assertEqual((seen["from"], statusText(seen)), (ROOM + "/Juliet", ["Kicked: remote server timeout"]))
        self.assertIn("Tybalt", self.harness.muc.rooms[ROOM].occupants)

    def test_multiSessionOccupantLeavesWhole(self):
        """
        An occupant with several sessions on the failed domain leaves
        with all of them at once (one unavailable presence, 333).
        """
        second = self.harness.client("juliet@capulet.test/phone")
        second.join("room", "Juliet")
        self.romeo.received()
        ghosts.removeDomain(self.harness.muc, "capulet.test")
        gone = [s for s in self.romeo.received() if s["from"] == ROOM + "/Juliet"]
        self.assertEqual([(s["type"], codes(s)) for s in gone], [("unavailable", ["333"])])
        self.assertNotIn("Juliet", self.harness.muc.rooms[ROOM].occupants)
        self.assertEqual(self.harness.muc.rooms[ROOM].occupantsByJID.get("juliet@capulet.test/phone"), None)


    def test_serverEvent(self):
        """
        The server event C{s2s-domain-failed} removes the domain's
        occupants, the status text naming its condition.
        """
        self.harness.hooks.fireAll(
            S2S_DOMAIN_FAILED, domain="other.test", condition="remote-server-timeout", reason="no answer"
        )
        [seen] = self.romeo.received()
        self.assertEqual(
            (seen["from"], seen["type"], codes(seen), statusText(seen)),
            (ROOM + "/Tybalt", "unavailable", ["333"], ["Kicked: remote server timeout"]),
        )
        self.assertEqual(sorted(self.harness.muc.rooms[ROOM].occupants), ["Juliet", "Romeo"])


class RemoteBounceTests(MUCTestCase):
    """
    A remote server answers a stanza the room sent to its user with a
    delivery error (XEP-0045 "Ghost Users").
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.harness.router.hosts.add("capulet.test")
        self.juliet = self.harness.client("juliet@capulet.test/balcony")
        self.romeo.join("room", "Romeo")
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def bounce(self, condition):
        self.juliet.send(
            "<message to='%s/Romeo' type='error'><body>hi</body>"
            "<error type='cancel'><%s xmlns='%s'/></error></message>" % (ROOM, condition, ns.XMPP_STANZAS)
        )

    def test_remoteServerNotFound(self):
        """
        C{remote-server-not-found} from the occupant's JID (its server
        unreachable for what we relayed) removes it with 333.
        """
        self.bounce("remote-server-not-found")
        [seen] = self.romeo.received()
        self.assertEqual((seen["from"], seen["type"], codes(seen)), (ROOM + "/Juliet", "unavailable", ["333"]))

    def test_refusalKeepsOccupant(self):
        """
        An error that is no delivery failure (a refused private message)
        leaves the occupant in.
        """
        self.bounce("not-acceptable")
        self.assertEqual(self.romeo.received(), [])
        self.assertIn("Juliet", self.harness.muc.rooms[ROOM].occupants)


class _BouncingServer:
    """
    What the router hands stanzas for other domains to: a server that
    cannot be reached, bouncing each at once.
    """

    def __init__(self, router):
        self.router = router

    def route(self, stanza):
        if stanza.getAttribute("type") != "error":
            self.router.route(errorReply(stanza, "remote-server-not-found", payload=False))

    def routeSerialized(self, to, data, build):
        self.route(build())


class UnreachableDomainTests(MUCTestCase):
    """
    Juliet and Nurse sit in the room from C{far.test}, which then cannot
    be reached: what the room sends them bounces at once.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.romeo.join("room", "Romeo")
        self.harness.router.hosts.add("far.test")
        for user, nick in (("juliet", "Juliet"), ("nurse", "Nurse")):
            self.harness.client("%s@far.test/r" % (user,)).join("room", nick)
        self.harness.router.hosts.discard("far.test")
        self.harness.router.remote = _BouncingServer(self.harness.router)
        self.romeo.received()

    def test_eachLeavesOnce(self):
        """
        Removing the domain's occupants sends presences that bounce and
        remove the next one first: each still leaves once, with 333.
        """
        ghosts.removeDomain(self.harness.muc, "far.test")
        left = [(s["from"], s["type"], codes(s)) for s in self.romeo.received() if s.name == "presence"]
        self.assertEqual(
            sorted(left),
            [(ROOM + "/Juliet", "unavailable", ["333"]), (ROOM + "/Nurse", "unavailable", ["333"])],
        )
        self.assertEqual(list(self.harness.muc.rooms[ROOM].occupants), ["Romeo"])
