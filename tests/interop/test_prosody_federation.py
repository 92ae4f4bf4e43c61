"""
xmuc federating with a real Prosody 0.12: each on its own loopback
address with port 5269, Prosody finding xmuc through the test's hosts
file (libunbound), xmuc finding Prosody through C{[s2s] routes}; server
streams over TLS with self-signed certificates and dialback on both
sides (C{secure_auth = false}, C{s2s_secure_auth = false}).

Users of each server use the other's rooms (join, chat, private
messages, kicks), talk to each other, subscribe to each other's presence
and query each other's servers; a domain that cannot be reached gets an
error, and occupants whose server went away leave the room with 333.

Where Prosody is not installed every test here skips, unless
C{XMUC_REQUIRE_PROSODY=1} (CI): then they fail.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.interop.prosody import requireProsody
from tests.interop.prosodys2s import FederatingProsody, HostsFile, loopbackAddresses, xmucSections
from tests.support.client import startServerWith
from tests.support import federationpeer
from tests.support.federationpeer import ROOM, XMUC_DOMAIN, XMUC_MUC, errorConditionOf, statusCodes
from xmuc.xmpp import ns

PROSODY_DOMAIN = "prosody.test"
#: A domain xmuc has a route for, where no server listens.
NOWHERE = "nowhere.test"


class ProsodyFederationMixin(federationpeer.FederationPeer):
    """
    Prosody serving C{prosody.test} (MUC C{conference.prosody.test}) and
    xmuc serving C{xmuc.test} (MUC C{rooms.xmuc.test}), federated.

    """

    timeout = 120
    #: Seconds to wait for something that crosses servers (a first
    #: stanza to a domain waits for its stream: TLS, dialback both ways).
    wait = 20
    peerDomain = PROSODY_DOMAIN
    peerMucDomain = "conference." + PROSODY_DOMAIN
    peerSoftware = "Prosody"

    @defer.inlineCallbacks
    def setUp(self):
        requireProsody()
        xmucAddress, prosodyAddress = loopbackAddresses(2)
        directory = os.path.abspath(self.mktemp())
        hosts = HostsFile(directory)
        hosts.add(xmucAddress, XMUC_DOMAIN, XMUC_MUC)
        certificate, s2s, prosodyOptions = self.certificates(directory)
        if self.ca:
            prosodyOptions["secureAuth"] = True
        # In the test's directory: its configuration and debug log stay in
        # _trial_temp/ after a failure.
        self.peer = self.prosody = FederatingProsody(
            PROSODY_DOMAIN, prosodyAddress, hosts, directory=os.path.join(directory, "prosody"), **prosodyOptions
        )
        yield self.prosody.start()
        self.addCleanup(self.stopProsody)
        routes = {PROSODY_DOMAIN: prosodyAddress, self.prosody.mucDomain: prosodyAddress}
        # A domain routed to an address where nothing listens.
        nowhere = loopbackAddresses(1, first=int(prosodyAddress.rsplit(".", 1)[1]) + 1)[0]
        routes[NOWHERE] = nowhere
        self.xmuc = yield startServerWith(self, xmucSections(xmucAddress, routes, certificate, **s2s))

    def stopProsody(self):
        return self.prosody.stop()


class ProsodyUsersInXmucRoomsTests(
    federationpeer.PeerUsersInXmucRoomsScenarios, ProsodyFederationMixin, unittest.TestCase
):
    """
    Users of Prosody in a room of xmuc, and what only Prosody is asked
    about.
    """

    @defer.inlineCallbacks
    def test_deliveryErrorRemovesOccupant(self):
        """
        A delivery error for a stanza the room sent Bob, coming back from
        his side over the federation (XEP-0045 "Ghost Users":
        C{recipient-unavailable}), removes him with 333; an error that
        says nothing about delivery (C{not-acceptable}) does not.
        """
        yield self.bobJoined()
        bounce = (
            "<message to='%s' type='error' id='%s'><error type='%s'><%s xmlns='%s'/></error></message>"
        )
        self.bob.send(bounce % (ROOM, "e1", "modify", "not-acceptable", ns.XMPP_STANZAS))
        yield self.assertServed(self.bob)
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice", "Bob"])
        self.bob.send(bounce % (ROOM, "e2", "wait", "recipient-unavailable", ns.XMPP_STANZAS))
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["333"])

    @defer.inlineCallbacks
    def test_membersOnly(self):
        """
        In a members-only room, Bob made a member by his bare JID gets in;
        Carol, of the same server, does not (C{registration-required}).
        """
        form = (
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
            "<field var='muc#roomconfig_membersonly'><value>1</value></field></x>"
        )
        reply = yield self.alice.iq(
            "<iq type='set' id='cfg' to='%s'><query xmlns='%s'>%s</query></iq>" % (ROOM, ns.MUC_OWNER, form),
            timeout=self.wait,
        )
        self.assertEqual(reply["type"], "result")
        reply = yield self.admin(self.alice, ROOM, "<item affiliation='member' jid='bob@%s'/>" % (PROSODY_DOMAIN,))
        self.assertEqual(reply["type"], "result")
        subject = yield self.join(self.bob, ROOM, "Bob")
        self.assertEqual(subject.name, "message")
        carol = yield self.peerUser("carol")
        refused = yield self.join(carol, ROOM, "Carol")
        self.assertEqual(errorConditionOf(refused), "registration-required")


class XmucUsersInProsodyRoomsTests(
    federationpeer.XmucUsersInPeerRoomsScenarios, ProsodyFederationMixin, unittest.TestCase
):
    """
    A user of xmuc in a room of Prosody's MUC.
    """


class UsersAcrossServersTests(federationpeer.UsersAcrossServersScenarios, ProsodyFederationMixin, unittest.TestCase):
    """
    One-to-one between the two servers, and a domain that cannot be
    reached.
    """

    @defer.inlineCallbacks
    def test_unreachableDomain(self):
        """
        A message to a domain whose route leads nowhere (connection
        refused) comes back as an error to the sender, not silence.
        """
        self.alice.send("<message to='nobody@%s' type='chat' id='u1'><body>hello?</body></message>" % (NOWHERE,))
        error = yield self.until(self.alice, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual((error["from"], error["id"]), ("nobody@" + NOWHERE, "u1"))
        self.assertEqual(errorConditionOf(error), "remote-server-not-found", error.toXml())


class CertificateAuthenticationTests(ProsodyFederationMixin, unittest.TestCase):
    """
    Both servers trust a test CA and require valid certificates: the
    streams authenticate with SASL EXTERNAL, no dialback.
    """

    ca = True

    @defer.inlineCallbacks
    def test_chatAndRoomBothWays(self):
        """
        A chat message each way, and Bob of Prosody talking in a room of
        xmuc.
        """
        alice = yield self.xmucUser("alice")
        bob = yield self.peerUser("bob")
        alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>hi bob</body></message>" % (PROSODY_DOMAIN,))
        message = yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "hi bob")
        bob.send("<message to='alice@%s/r' type='chat' id='c2'><body>hi alice</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(alice, "bob@%s/r" % (PROSODY_DOMAIN,))
        self.assertEqual(str(message.body), "hi alice")
        yield self.join(alice, ROOM, "Alice")
        yield self.join(bob, ROOM, "Bob")
        bob.send("<message to='%s' type='groupchat' id='g1'><body>secure</body></message>" % (ROOM,))
        message = yield self.messageFrom(alice, ROOM + "/Bob")
        self.assertEqual(str(message.body), "secure")
        # Prosody's debug log tells how each stream authenticated.
        with open(self.prosody.logPath, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("mechanism='EXTERNAL'", log)
        self.assertNotIn("xmlns='jabber:server:dialback'", log)


class CheckProsodyWithCATests(federationpeer.CheckWithCAScenarios, ProsodyFederationMixin, unittest.TestCase):
    """
    C{xmucctl check s2s prosody.test}, both trusting a test CA.
    """


class CheckProsodyWithDialbackTests(
    federationpeer.CheckWithDialbackScenarios, ProsodyFederationMixin, unittest.TestCase
):
    """
    C{xmucctl check s2s prosody.test}, self-signed certificates.
    """
