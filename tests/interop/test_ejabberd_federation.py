"""
xmuc federating with a real ejabberd 23.01: each on its own loopback
address with port 5269, ejabberd finding xmuc through the inetrc the test
writes (Erlang's resolver, see L{tests.interop.ejabberds2s}), xmuc
finding ejabberd through C{[s2s] routes}; server streams over TLS, with
self-signed certificates and dialback on both sides, or with
certificates of a test CA that both trust and SASL EXTERNAL.

Users of each server use the other's rooms (join, chat, private
messages, kicks), talk to each other, subscribe to each other's presence
and query each other's servers.

Where ejabberd is not installed every test here skips, unless
C{XMUC_REQUIRE_EJABBERD=1} (CI): then they fail.
"""

import os

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.interop.ejabberd import requireEjabberd
from tests.interop.ejabberds2s import FederatingEjabberd
from tests.interop.prosodys2s import C2S_PORT, S2S_PORT, loopbackAddresses, xmucSections
from tests.support.client import startServerWith
from tests.support import federationpeer
from tests.support.federationpeer import ROOM, XMUC_DOMAIN, XMUC_MUC, errorConditionOf, statusCodes
from xmuc.xmpp import ns

EJABBERD_DOMAIN = "ejabberd.test"
EJABBERD_MUC = "conference." + EJABBERD_DOMAIN
#: Where xmuc accepts TLS from the first byte, when a test wants it.
DIRECT_TLS_PORT = 5270


class EjabberdFederationMixin(federationpeer.FederationPeer):
    """
    ejabberd serving C{ejabberd.test} (ns.MUC C{conference.ejabberd.test})
    and xmuc serving C{xmuc.test} (ns.MUC C{rooms.xmuc.test}), federated.

    With C{ca}, ejabberd runs without its dialback module.
    """

    timeout = 180
    #: Seconds to wait for something that crosses servers (a first
    #: stanza to a domain waits for its stream: TLS, then dialback or
    #: SASL).
    wait = 30
    peerDomain = EJABBERD_DOMAIN
    peerMucDomain = EJABBERD_MUC
    peerSoftware = "ejabberd"

    #: When set, xmuc also listens for TLS from the first byte on this
    #: port (XEP-0368), and ejabberd's DNS has only xmuc's
    #: C{_xmpps-server} records, pointing there.
    directTLSPort = None

    @defer.inlineCallbacks
    def setUp(self):
        requireEjabberd()
        xmucAddress, ejabberdAddress = loopbackAddresses(2, first=40, ports=(C2S_PORT, S2S_PORT, DIRECT_TLS_PORT))
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, s2s, options = self.certificates(directory)
        # In the test's directory: its configuration and log stay in
        # _trial_temp/ after a failure.
        if self.directTLSPort:
            # ejabberd finds only xmuc's _xmpps-server records.
            s2s["direct_tls_listen"] = "tcp:%d:interface=%s" % (self.directTLSPort, xmucAddress)
            xmucTarget = (xmucAddress, self.directTLSPort)
        else:
            xmucTarget = xmucAddress
        self.peer = self.ejabberd = FederatingEjabberd(
            EJABBERD_DOMAIN,
            ejabberdAddress,
            {XMUC_DOMAIN: xmucTarget, XMUC_MUC: xmucTarget},
            os.path.join(directory, "ejabberd"),
            **options,
        )
        yield self.ejabberd.start()
        self.addCleanup(self.ejabberd.stop)
        routes = {EJABBERD_DOMAIN: ejabberdAddress, EJABBERD_MUC: ejabberdAddress}
        self.xmuc = yield startServerWith(self, xmucSections(xmucAddress, routes, certificate, **s2s))

    @defer.inlineCallbacks
    def pingBothWays(self):
        """
        A user of each server pings the other server: a stream each way.
        """
        pingers = [(yield self.xmucUser("pinger")), (yield self.peerUser("pinger"))]
        for client, server in zip(pingers, (EJABBERD_DOMAIN, XMUC_DOMAIN)):
            yield self.assertServed(client, server)

    @defer.inlineCallbacks
    def logged(self, text):
        """
        Wait until ejabberd's log holds C{text} (Erlang's logger writes its
        file a moment after the event).

        @return: Deferred firing with the whole log.
        """
        for _ in range(self.wait * 10):
            log = self.ejabberd.log()
            if text in log:
                return log
            yield task.deferLater(reactor, 0.1, lambda: None)
        self.fail("ejabberd never logged %r" % (text,))

    @defer.inlineCallbacks
    def peerRoom(self, name="hall"):
        """
        Bob of ejabberd creates C{name} on ejabberd's MUC and makes it an
        instant room (XEP-0045 10.1.2), open to others.

        @return: Deferred firing with C{(bob, roomJID)}.
        """
        room = "%s@%s" % (name, EJABBERD_MUC)
        bob = yield self.peerUser("bob")
        bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (room, ns.MUC))
        own = yield self.presenceFrom(bob, room + "/Bob")
        if "201" in statusCodes(own):
            reply = yield bob.iq(
                "<iq type='set' id='instant' to='%s'><query xmlns='%s'>"
                "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (room, ns.MUC_OWNER),
                timeout=self.wait,
            )
            self.assertEqual(reply["type"], "result", reply.toXml())
        return bob, room


class EjabberdUsersInXmucRoomsMixin(federationpeer.PeerUsersInXmucRoomsScenarios, EjabberdFederationMixin):
    """
    Users of ejabberd in a room of xmuc.
    """

    #: ejabberd stopped in order (SIGTERM) ends Bob's session and drops
    #: the stream xmuc opened (no closing tag) at the same moment:
    #: whichever xmuc sees first decides how Bob leaves, a plain
    #: unavailable presence (his server said so) or 333 (the stream to
    #: his server was lost).
    stoppedServerLeaveCodes = ([], ["333"])

    @defer.inlineCallbacks
    def test_severalUsersOfEjabberd(self):
        """
        Bob and Carol of ejabberd in the room: a message goes to both over
        the one stream to their domain (serialized once, addressed to
        each), a nick change and a private message between them cross
        twice.
        """
        carol = yield self.peerUser("carol")
        yield self.join(self.bob, ROOM, "Bob")
        yield self.join(carol, ROOM, "Carol")
        yield self.presenceFrom(self.bob, ROOM + "/Carol")
        self.alice.send("<message to='%s' type='groupchat' id='g1'><body>to you both</body></message>" % (ROOM,))
        for client in (self.bob, carol):
            message = yield self.messageFrom(client, ROOM + "/Alice")
            self.assertEqual(str(message.body), "to you both")
        carol.send("<presence to='%s/Caroline'/>" % (ROOM,))
        changed = yield self.presenceFrom(self.bob, ROOM + "/Carol", "unavailable")
        self.assertEqual(statusCodes(changed), ["303"])
        yield self.presenceFrom(self.bob, ROOM + "/Caroline")
        carol.send("<message to='%s/Bob' type='chat' id='p1'><body>psst</body><x xmlns='%s'/></message>"
                   % (ROOM, ns.MUC_USER))
        message = yield self.messageFrom(self.bob, ROOM + "/Caroline")
        self.assertEqual(str(message.body), "psst")


class XmucUsersInEjabberdRoomsMixin(federationpeer.XmucUsersInPeerRoomsScenarios, EjabberdFederationMixin):
    """
    A user of xmuc in a room of ejabberd's MUC.
    """

    @defer.inlineCallbacks
    def test_invitation(self):
        """
        Bob invites Alice of xmuc through his room on ejabberd: she gets
        the invitation from the room, with Bob's reason.
        """
        bob, room = yield self.peerRoom()
        alice = yield self.xmucUser("alice")
        bob.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='alice@%s'><reason>join us</reason></invite></x></message>"
            % (room, ns.MUC_USER, XMUC_DOMAIN)
        )
        invitation = yield self.until(alice, lambda e: e.name == "message" and e.getAttribute("from") == room)
        [x] = list(invitation.elements(ns.MUC_USER, "x"))
        [invite] = list(x.elements(ns.MUC_USER, "invite"))
        self.assertEqual(invite["from"].split("/")[0], "bob@" + EJABBERD_DOMAIN)
        self.assertEqual([str(reason) for reason in invite.elements(ns.MUC_USER, "reason")], ["join us"])


class UsersAcrossServersMixin(federationpeer.UsersAcrossServersScenarios, EjabberdFederationMixin):
    """
    One-to-one between the two servers, and what only ejabberd is asked
    about.
    """

    @defer.inlineCallbacks
    def test_presenceAtLogin(self):
        """
        Once subscribed both ways, Alice logs in again: xmuc probes Bob's
        presence at ejabberd, which answers with it, and Bob gets Alice's
        new presence.
        """
        aliceJID, bobJID = yield self.subscribedBothWays()
        yield self.alice.close()
        yield self.presenceFrom(self.bob, aliceJID + "/r", "unavailable")
        alice = yield self.xmucUser("alice", "again")
        probed = yield self.presenceFrom(alice, bobJID + "/r")
        self.assertEqual(probed.getAttribute("to"), aliceJID + "/again")
        yield self.presenceFrom(self.bob, aliceJID + "/again")

    @defer.inlineCallbacks
    def test_errorsBothWays(self):
        """
        An iq to an account that does not exist on the other server comes
        back as an error from that account, both ways; so does a message
        to an account of ejabberd that does not exist, and to a room of
        xmuc's service that Bob is not in.
        """
        for client, target in ((self.alice, "nobody@" + EJABBERD_DOMAIN), (self.bob, "nobody@" + XMUC_DOMAIN)):
            reply = yield client.iq(
                "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (client.nextID(), target, ns.VERSION),
                timeout=self.wait,
            )
            self.assertEqual((reply["type"], reply["from"]), ("error", target))
            self.assertEqual(errorConditionOf(reply), "service-unavailable", reply.toXml())
        self.alice.send("<message to='nobody@%s' type='chat' id='e1'><body>hello?</body></message>" % (EJABBERD_DOMAIN,))
        error = yield self.until(self.alice, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual((error["from"], error["id"]), ("nobody@" + EJABBERD_DOMAIN, "e1"))
        self.assertEqual(errorConditionOf(error), "service-unavailable", error.toXml())
        self.bob.send("<message to='%s' type='groupchat' id='e2'><body>let me in</body></message>" % (ROOM,))
        error = yield self.until(self.bob, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual((error["from"], error["id"]), (ROOM, "e2"))
        self.assertIsNotNone(errorConditionOf(error), error.toXml())

    @defer.inlineCallbacks
    def test_restartedServer(self):
        """
        ejabberd restarts after a chat crossed (it closes its streams with
        C{system-shutdown}): the next messages open new streams, both
        ways.
        """
        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>before</body></message>" % (EJABBERD_DOMAIN,))
        yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        yield self.ejabberd.stop()
        yield self.ejabberd.start()
        bob = yield self.peerUser("bob")
        self.alice.send("<message to='bob@%s/r' type='chat' id='c2'><body>after</body></message>" % (EJABBERD_DOMAIN,))
        message = yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "after")
        bob.send("<message to='alice@%s/r' type='chat' id='c3'><body>back</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(self.alice, "bob@%s/r" % (EJABBERD_DOMAIN,))
        self.assertEqual(str(message.body), "back")


class DialbackMixin:
    """
    Self-signed certificates: every stream, both ways and for each
    domain, authenticates with dialback.
    """

    ca = False

    @defer.inlineCallbacks
    def test_authenticatedWithDialback(self):
        """
        Pings both ways: ejabberd's log says both streams authenticated
        with dialback, and none with SASL EXTERNAL.
        """
        yield self.pingBothWays()
        yield self.logged("Accepted inbound s2s dialback authentication %s -> %s" % (XMUC_DOMAIN, EJABBERD_DOMAIN))
        log = yield self.logged("Accepted outbound s2s dialback authentication %s -> %s" % (EJABBERD_DOMAIN, XMUC_DOMAIN))
        self.assertNotIn("Accepted inbound s2s EXTERNAL", log)
        self.assertNotIn("Accepted outbound s2s EXTERNAL", log)


class CertificatesMixin:
    """
    Both trust a test CA and ejabberd has no dialback module: every
    stream authenticates with SASL EXTERNAL (XEP-0178).
    """

    ca = True

    @defer.inlineCallbacks
    def test_authenticatedWithCertificates(self):
        """
        Pings both ways: ejabberd's log says both streams authenticated
        with SASL EXTERNAL, and none with dialback.
        """
        yield self.pingBothWays()
        yield self.logged("Accepted inbound s2s EXTERNAL authentication %s -> %s" % (XMUC_DOMAIN, EJABBERD_DOMAIN))
        log = yield self.logged("Accepted outbound s2s EXTERNAL authentication %s -> %s" % (EJABBERD_DOMAIN, XMUC_DOMAIN))
        self.assertNotIn("dialback authentication", log)


class EjabberdUsersInXmucRoomsWithDialbackTests(DialbackMixin, EjabberdUsersInXmucRoomsMixin, unittest.TestCase):
    pass


class EjabberdUsersInXmucRoomsWithCertificatesTests(
    CertificatesMixin, EjabberdUsersInXmucRoomsMixin, unittest.TestCase
):
    pass


class XmucUsersInEjabberdRoomsWithDialbackTests(DialbackMixin, XmucUsersInEjabberdRoomsMixin, unittest.TestCase):
    pass


class XmucUsersInEjabberdRoomsWithCertificatesTests(
    CertificatesMixin, XmucUsersInEjabberdRoomsMixin, unittest.TestCase
):
    pass


class UsersAcrossServersWithDialbackTests(DialbackMixin, UsersAcrossServersMixin, unittest.TestCase):
    pass


class UsersAcrossServersWithCertificatesTests(CertificatesMixin, UsersAcrossServersMixin, unittest.TestCase):
    pass


class IdleStreamTests(EjabberdFederationMixin, unittest.TestCase):
    """
    xmuc closes its idle stream to ejabberd (C{[s2s] idle_timeout}), and
    opens a new one for the next stanza.
    """

    s2sExtra = {"idle_timeout": "1"}

    @defer.inlineCallbacks
    def test_reopened(self):
        """
        A chat message crosses; the stream falls idle and xmuc closes it
        (ejabberd logs the close); the next message opens a new stream,
        and ejabberd's user answers.
        """
        alice = yield self.xmucUser("alice")
        bob = yield self.peerUser("bob")
        alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>first</body></message>" % (EJABBERD_DOMAIN,))
        yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        yield self.logged("Closing inbound s2s connection %s -> %s" % (XMUC_DOMAIN, EJABBERD_DOMAIN))
        alice.send("<message to='bob@%s/r' type='chat' id='c2'><body>second</body></message>" % (EJABBERD_DOMAIN,))
        message = yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "second")
        bob.send("<message to='alice@%s/r' type='chat' id='c3'><body>answer</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(alice, "bob@%s/r" % (EJABBERD_DOMAIN,))
        self.assertEqual(str(message.body), "answer")


class DirectTLSTests(EjabberdFederationMixin, unittest.TestCase):
    """
    ejabberd reaching xmuc with TLS from the first byte (XEP-0368): the
    only records it finds for xmuc's domains are C{_xmpps-server} ones.
    """

    directTLSPort = DIRECT_TLS_PORT

    @defer.inlineCallbacks
    def test_chatAndRoom(self):
        """
        Bob's chat message and his groupchat in an xmuc room reach Alice
        over ejabberd's direct TLS streams to xmuc.test and
        rooms.xmuc.test; Alice's answer crosses the other way (STARTTLS).
        """
        alice = yield self.xmucUser("alice")
        bob = yield self.peerUser("bob")
        bob.send("<message to='alice@%s/r' type='chat' id='c1'><body>direct</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(alice, "bob@%s/r" % (EJABBERD_DOMAIN,))
        self.assertEqual(str(message.body), "direct")
        alice.send("<message to='bob@%s/r' type='chat' id='c2'><body>back</body></message>" % (EJABBERD_DOMAIN,))
        message = yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "back")
        yield self.join(alice, ROOM, "Alice")
        subject = yield self.join(bob, ROOM, "Bob")
        self.assertEqual(subject.name, "message")
        bob.send("<message to='%s' type='groupchat' id='g1'><body>direct room</body></message>" % (ROOM,))
        message = yield self.messageFrom(alice, ROOM + "/Bob")
        self.assertEqual(str(message.body), "direct room")


class CheckEjabberdWithCATests(federationpeer.CheckWithCAScenarios, EjabberdFederationMixin, unittest.TestCase):
    """
    C{xmucctl check s2s ejabberd.test}, both trusting a test CA.
    """


class CheckEjabberdWithDialbackTests(
    federationpeer.CheckWithDialbackScenarios, EjabberdFederationMixin, unittest.TestCase
):
    """
    C{xmucctl check s2s ejabberd.test}, self-signed certificates.
    """
