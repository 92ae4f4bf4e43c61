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

from twisted.internet import defer, reactor
from twisted.trial import unittest

from tests.interop.prosody import requireProsody
from tests.interop.prosodys2s import (
    XMUC_DOMAIN,
    XMUC_MUC,
    FederatingProsody,
    HostsFile,
    loopbackAddresses,
    xmucSections,
)
from tests.support.client import connectTestClient, startServerWith
from tests.support.pki import TestCA, selfSigned
from xmuc.s2s.check import checkS2S

PROSODY_DOMAIN = "prosody.test"
MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
ROSTER = "jabber:iq:roster"
VERSION = "jabber:iq:version"
PING = "urn:xmpp:ping"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
MAM = "urn:xmpp:mam:2"
DELAY = "urn:xmpp:delay"
FORWARD = "urn:xmpp:forward:0"
ROOM = "lobby@" + XMUC_MUC
#: A domain xmuc has a route for, where no server listens.
NOWHERE = "nowhere.test"

#: Seconds to wait for something that crosses servers (a first stanza
#: to a domain waits for its stream: TLS, dialback both ways).
WAIT = 20


def statusCodes(stanza):
    return sorted(
        status["code"]
        for x in stanza.elements(MUC_USER, "x")
        for status in x.elements(MUC_USER, "status")
    )


def errorConditionOf(stanza):
    for error in stanza.elements():
        if error.name == "error":
            for child in error.elements(STANZAS):
                if child.name != "text":
                    return child.name
    return None


class ProsodyFederationMixin:
    """
    Prosody serving C{prosody.test} (MUC C{conference.prosody.test}) and
    xmuc serving C{xmuc.test} (MUC C{rooms.xmuc.test}), federated.

    @cvar ca: whether both servers have certificates from a test CA they
        both trust, and accept no less (SASL EXTERNAL, XEP-0178); else
        self-signed certificates and dialback.
    """

    timeout = 120
    ca = False

    #: More C{[s2s]} keys of xmuc.
    s2sExtra = {}

    @defer.inlineCallbacks
    def setUp(self):
        requireProsody()
        xmucAddress, prosodyAddress = loopbackAddresses(2)
        directory = os.path.abspath(self.mktemp())
        hosts = HostsFile(directory)
        hosts.add(xmucAddress, XMUC_DOMAIN, XMUC_MUC)
        s2s = dict(self.s2sExtra)
        prosodyOptions = {}
        if self.ca:
            authority = TestCA(directory)
            certificate = authority.issue([XMUC_DOMAIN, XMUC_MUC])
            s2s.update(secure_auth="true", ca_certificates=authority.certificatePath)
            prosodyOptions = {
                "secureAuth": True,
                "ca": authority.certificatePath,
                "certificate": authority.issue([PROSODY_DOMAIN, "conference." + PROSODY_DOMAIN]),
            }
        else:
            certificate = selfSigned(directory, [XMUC_DOMAIN, XMUC_MUC])
        # In the test's directory: its configuration and debug log stay in
        # _trial_temp/ after a failure.
        self.prosody = FederatingProsody(
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

    @defer.inlineCallbacks
    def xmucUser(self, user, resource="r"):
        """
        @return: Deferred firing with a client logged in to xmuc as
            C{user@xmuc.test}, available.
        """
        client = yield connectTestClient(self, self.xmuc, XMUC_DOMAIN)
        yield client.login(user, "pw", resource)
        client.send("<presence/>")
        yield self.until(client, lambda e: e.name == "presence")
        return client

    def prosodyUser(self, user, resource="r"):
        """
        @return: Deferred firing with a client logged in to Prosody as
            C{user@prosody.test}, available.
        """
        return self.prosody.connectClient(self, user, resource)

    @defer.inlineCallbacks
    def until(self, client, predicate, timeout=WAIT):
        """
        @return: Deferred firing with the next element C{client} receives
            for which C{predicate} is true (the others are skipped).
        """
        while True:
            element = yield client.receive(timeout)
            if predicate(element):
                return element

    @defer.inlineCallbacks
    def assertServed(self, client):
        """
        What C{client} sent before crossed to xmuc and was handled: a ping
        to xmuc's MUC service, sent after it over the same streams, is
        answered.
        """
        reply = yield client.iq(
            "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), XMUC_MUC, PING),
            timeout=WAIT,
        )
        self.assertEqual(reply["type"], "result")

    def join(self, client, room, nick):
        """
        Join C{room} as C{nick}.

        @return: Deferred firing with the room's subject message (the
            last stanza of a join), or the error presence.
        """
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (room, nick, MUC))
        return self.until(
            client,
            lambda e: (e.name == "message" and e.subject is not None and e.getAttribute("from") == room)
            or (e.name == "presence" and e.getAttribute("type") == "error"),
        )

    def presenceFrom(self, client, jid, kind=None):
        """
        @return: Deferred firing with the next presence from C{jid} of
            type C{kind} (L{None}: available).
        """
        return self.until(
            client,
            lambda e: e.name == "presence" and e.getAttribute("from") == jid and e.getAttribute("type") == kind,
        )

    def messageFrom(self, client, jid):
        """
        @return: Deferred firing with the next message from C{jid} that
            has a body.
        """
        return self.until(
            client, lambda e: e.name == "message" and e.getAttribute("from") == jid and e.body is not None
        )


class ProsodyUsersInXmucRoomsTests(ProsodyFederationMixin, unittest.TestCase):
    """
    Users of Prosody in a room of xmuc.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield ProsodyFederationMixin.setUp(self)
        self.alice = yield self.xmucUser("alice")
        subject = yield self.join(self.alice, ROOM, "Alice")
        self.assertEqual(subject.name, "message")
        self.bob = yield self.prosodyUser("bob")

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Bob of Prosody joins: he gets Alice's presence, his own (110), the
        subject; Alice sees him come; groupchat goes both ways, each
        message to everyone.
        """
        self.bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (ROOM, MUC))
        alicePresence = yield self.presenceFrom(self.bob, ROOM + "/Alice")
        self.assertEqual(statusCodes(alicePresence), [])
        own = yield self.presenceFrom(self.bob, ROOM + "/Bob")
        self.assertIn("110", statusCodes(own))
        yield self.until(self.bob, lambda e: e.name == "message" and e.subject is not None)
        seen = yield self.presenceFrom(self.alice, ROOM + "/Bob")
        self.assertNotIn("110", statusCodes(seen))

        self.bob.send("<message to='%s' type='groupchat' id='g1'><body>hello from prosody</body></message>" % (ROOM,))
        for client in (self.alice, self.bob):
            message = yield self.messageFrom(client, ROOM + "/Bob")
            self.assertEqual((message["type"], str(message.body)), ("groupchat", "hello from prosody"))
        self.alice.send("<message to='%s' type='groupchat' id='g2'><body>hello from xmuc</body></message>" % (ROOM,))
        for client in (self.bob, self.alice):
            message = yield self.messageFrom(client, ROOM + "/Alice")
            self.assertEqual(str(message.body), "hello from xmuc")

    @defer.inlineCallbacks
    def test_privateMessages(self):
        """
        Private messages through the room, both ways, from the sender's
        occupant JID.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        self.alice.send("<message to='%s/Bob' type='chat' id='p1'><body>psst bob</body>"
                        "<x xmlns='%s'/></message>" % (ROOM, MUC_USER))
        message = yield self.messageFrom(self.bob, ROOM + "/Alice")
        self.assertEqual((message["type"], str(message.body)), ("chat", "psst bob"))
        self.bob.send("<message to='%s/Alice' type='chat' id='p2'><body>psst alice</body>"
                      "<x xmlns='%s'/></message>" % (ROOM, MUC_USER))
        message = yield self.messageFrom(self.alice, ROOM + "/Bob")
        self.assertEqual(str(message.body), "psst alice")

    @defer.inlineCallbacks
    def test_kick(self):
        """
        The owner kicks Bob: he gets his unavailable presence with 307 and
        110, Alice sees 307; Bob is out of the room.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        reply = yield self.alice.iq(
            "<iq type='set' id='k1' to='%s'><query xmlns='%s'><item nick='Bob' role='none'>"
            "<reason>enough</reason></item></query></iq>" % (ROOM, MUC_ADMIN),
            timeout=WAIT,
        )
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(self.bob, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "307"])
        seen = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(seen), ["307"])
        room = self.xmuc.server.muc.rooms[ROOM]
        self.assertEqual(sorted(room.occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Bob's connection to Prosody drops: Prosody sends the room his
        unavailable presence (he had sent it directed presence), and he
        leaves as usual.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        self.bob.transport.abortConnection()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), [])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_deliveryErrorRemovesOccupant(self):
        """
        A delivery error for a stanza the room sent Bob, coming back from
        his side over the federation (XEP-0045 "Ghost Users":
        C{recipient-unavailable}), removes him with 333; an error that
        says nothing about delivery (C{not-acceptable}) does not.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        bounce = (
            "<message to='%s' type='error' id='%s'><error type='%s'><%s xmlns='%s'/></error></message>"
        )
        self.bob.send(bounce % (ROOM, "e1", "modify", "not-acceptable", STANZAS))
        yield self.assertServed(self.bob)
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice", "Bob"])
        self.bob.send(bounce % (ROOM, "e2", "wait", "recipient-unavailable", STANZAS))
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["333"])

    @defer.inlineCallbacks
    def test_lostServerLeavesWith333(self):
        """
        Prosody dies with Bob in the room: the stream to it is lost
        without being closed, and Bob leaves the room with status 333
        instead of staying as a ghost, without waiting for the next
        broadcast to bounce.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        yield self.prosody.kill()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["333"])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_stoppedServerUsersLeave(self):
        """
        Prosody shut down cleanly with Bob in the room: it says Bob left
        (a plain unavailable presence), nobody stays behind.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        yield self.prosody.stop()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), [])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])


class RemoteAffiliationsTests(ProsodyFederationMixin, unittest.TestCase):
    """
    The rest of the room for Prosody's users: bans and affiliations by
    their bare JIDs, invitations, the room archive, self-ping.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield ProsodyFederationMixin.setUp(self)
        self.alice = yield self.xmucUser("alice")
        yield self.join(self.alice, ROOM, "Alice")
        self.bob = yield self.prosodyUser("bob")

    def admin(self, items):
        """
        Alice sends a muc#admin set with C{items} (XML).

        @return: Deferred firing with the reply.
        """
        return self.alice.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
            % (self.alice.nextID(), ROOM, MUC_ADMIN, items),
            timeout=WAIT,
        )

    @defer.inlineCallbacks
    def test_banByBareJID(self):
        """
        Bob banned by his bare JID (outcast) leaves with 301 and cannot
        come back: C{forbidden}.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        reply = yield self.admin("<item affiliation='outcast' jid='bob@%s'/>" % (PROSODY_DOMAIN,))
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(self.bob, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "301"])
        refused = yield self.join(self.bob, ROOM, "Bob")
        self.assertEqual((refused.name, errorConditionOf(refused)), ("presence", "forbidden"))

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
            "<iq type='set' id='cfg' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>%s</query></iq>"
            % (ROOM, form),
            timeout=WAIT,
        )
        self.assertEqual(reply["type"], "result")
        reply = yield self.admin("<item affiliation='member' jid='bob@%s'/>" % (PROSODY_DOMAIN,))
        self.assertEqual(reply["type"], "result")
        subject = yield self.join(self.bob, ROOM, "Bob")
        self.assertEqual(subject.name, "message")
        carol = yield self.prosodyUser("carol")
        refused = yield self.join(carol, ROOM, "Carol")
        self.assertEqual(errorConditionOf(refused), "registration-required")

    @defer.inlineCallbacks
    def test_invitation(self):
        """
        Alice invites Bob through the room: Bob's server delivers the
        invitation from the room, naming Alice by her occupant JID (the
        room is semi-anonymous), with her reason.
        """
        self.alice.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='bob@%s'><reason>come</reason></invite></x></message>"
            % (ROOM, MUC_USER, PROSODY_DOMAIN)
        )
        invitation = yield self.until(
            self.bob, lambda e: e.name == "message" and e.getAttribute("from") == ROOM
        )
        [x] = list(invitation.elements(MUC_USER, "x"))
        [invite] = list(x.elements(MUC_USER, "invite"))
        self.assertEqual(invite["from"], ROOM + "/Alice")
        self.assertEqual([str(reason) for reason in invite.elements(MUC_USER, "reason")], ["come"])

    @defer.inlineCallbacks
    def test_roomArchiveAndSelfPing(self):
        """
        Bob asks the room's archive (XEP-0313) for what was said before he
        came, and pings himself in the room (XEP-0410): answered through
        the federation, as for a local user.
        """
        self.alice.send("<message to='%s' type='groupchat' id='g1'><body>before bob</body></message>" % (ROOM,))
        yield self.messageFrom(self.alice, ROOM + "/Alice")
        yield self.join(self.bob, ROOM, "Bob")
        reply = yield self.bob.iq(
            "<iq type='get' id='self' to='%s/Bob'><ping xmlns='%s'/></iq>" % (ROOM, PING), timeout=WAIT
        )
        self.assertEqual(reply["type"], "result")
        reply = yield self.bob.iq(
            "<iq type='get' id='other' to='%s/Nobody'><ping xmlns='%s'/></iq>" % (ROOM, PING), timeout=WAIT
        )
        self.assertEqual(reply["type"], "error")
        self.bob.send("<iq type='set' id='mam' to='%s'><query xmlns='%s' queryid='q1'/></iq>" % (ROOM, MAM))
        results = []
        while True:
            element = yield self.bob.receive(WAIT)
            if element.name == "iq" and element.getAttribute("id") == "mam":
                break
            for result in element.elements(MAM, "result"):
                results.append(result)
        self.assertEqual(element["type"], "result")
        bodies = [
            str(message.body)
            for result in results
            for forwarded in result.elements(FORWARD, "forwarded")
            for message in forwarded.elements()
            if message.name == "message"
        ]
        self.assertEqual(bodies, ["before bob"])


class XmucUsersInProsodyRoomsTests(ProsodyFederationMixin, unittest.TestCase):
    """
    A user of xmuc in a room of Prosody's MUC.
    """

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Bob creates a room on Prosody; Alice of xmuc joins, sees Bob, gets
        her own presence (110); groupchat goes both ways.
        """
        room = "hall@" + self.prosody.mucDomain
        bob = yield self.prosodyUser("bob")
        yield self.join(bob, room, "Bob")
        alice = yield self.xmucUser("alice")
        alice.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (room, MUC))
        yield self.presenceFrom(alice, room + "/Bob")
        own = yield self.presenceFrom(alice, room + "/Alice")
        self.assertIn("110", statusCodes(own))
        yield self.presenceFrom(bob, room + "/Alice")
        alice.send("<message to='%s' type='groupchat' id='g1'><body>hi prosody room</body></message>" % (room,))
        message = yield self.messageFrom(bob, room + "/Alice")
        self.assertEqual(str(message.body), "hi prosody room")
        echo = yield self.messageFrom(alice, room + "/Alice")
        self.assertEqual(str(echo.body), "hi prosody room")
        bob.send("<message to='%s' type='groupchat' id='g2'><body>welcome</body></message>" % (room,))
        message = yield self.messageFrom(alice, room + "/Bob")
        self.assertEqual(str(message.body), "welcome")


    @defer.inlineCallbacks
    def test_privateMessagesAndKick(self):
        """
        In Bob's room on Prosody, private messages go both ways between
        Alice of xmuc and Bob; then Bob, the owner, kicks Alice: she gets
        her unavailable presence with 307 and 110.
        """
        room = "hall@" + self.prosody.mucDomain
        bob = yield self.prosodyUser("bob")
        yield self.join(bob, room, "Bob")
        alice = yield self.xmucUser("alice")
        yield self.join(alice, room, "Alice")
        yield self.presenceFrom(bob, room + "/Alice")
        bob.send("<message to='%s/Alice' type='chat' id='p1'><body>psst alice</body>"
                 "<x xmlns='%s'/></message>" % (room, MUC_USER))
        message = yield self.messageFrom(alice, room + "/Bob")
        self.assertEqual(str(message.body), "psst alice")
        alice.send("<message to='%s/Bob' type='chat' id='p2'><body>psst bob</body>"
                   "<x xmlns='%s'/></message>" % (room, MUC_USER))
        message = yield self.messageFrom(bob, room + "/Alice")
        self.assertEqual(str(message.body), "psst bob")
        reply = yield bob.iq(
            "<iq type='set' id='k1' to='%s'><query xmlns='%s'><item nick='Alice' role='none'/></query></iq>"
            % (room, MUC_ADMIN),
            timeout=WAIT,
        )
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(alice, room + "/Alice", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "307"])


    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Alice's connection to xmuc drops while she is in Bob's room on
        Prosody: xmuc sends the room her unavailable presence, and Bob
        sees her leave.
        """
        room = "hall@" + self.prosody.mucDomain
        bob = yield self.prosodyUser("bob")
        yield self.join(bob, room, "Bob")
        alice = yield self.xmucUser("alice")
        yield self.join(alice, room, "Alice")
        yield self.presenceFrom(bob, room + "/Alice")
        alice.transport.abortConnection()
        gone = yield self.presenceFrom(bob, room + "/Alice", "unavailable")
        self.assertEqual(gone["type"], "unavailable")


class UsersAcrossServersTests(ProsodyFederationMixin, unittest.TestCase):
    """
    One-to-one: messages, subscriptions, iqs between the two servers.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield ProsodyFederationMixin.setUp(self)
        self.alice = yield self.xmucUser("alice")
        self.bob = yield self.prosodyUser("bob")

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        Chat messages reach the other server's user from the sender's full
        JID, both ways.
        """
        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>hi bob</body></message>" % (PROSODY_DOMAIN,))
        message = yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "hi bob")
        self.bob.send("<message to='alice@%s' type='chat' id='c2'><body>hi alice</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(self.alice, "bob@%s/r" % (PROSODY_DOMAIN,))
        self.assertEqual(str(message.body), "hi alice")

    @defer.inlineCallbacks
    def test_offlineMessagesBothWays(self):
        """
        A chat message to a user who is offline on the other server is
        kept there and delivered, with a delay stamp, at the next login.
        """
        yield self.alice.close()
        yield self.bob.close()
        carol = yield self.xmucUser("carol")
        dave = yield self.prosodyUser("dave")
        carol.send("<message to='bob@%s' type='chat' id='o1'><body>for later, bob</body></message>" % (PROSODY_DOMAIN,))
        dave.send("<message to='alice@%s' type='chat' id='o2'><body>for later, alice</body></message>" % (XMUC_DOMAIN,))
        # What each sent crossed and was handled before the next login: an
        # iq to the other server, sent after it, is answered.
        for client, server in ((carol, PROSODY_DOMAIN), (dave, XMUC_DOMAIN)):
            reply = yield client.iq(
                "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), server, PING),
                timeout=WAIT,
            )
            self.assertEqual(reply["type"], "result")
        for login, sender in ((self.prosodyUser("bob"), "carol@" + XMUC_DOMAIN),
                              (self.xmucUser("alice"), "dave@" + PROSODY_DOMAIN)):
            client = yield login
            message = yield self.until(
                client, lambda e: e.name == "message" and (e.getAttribute("from") or "").startswith(sender)
            )
            self.assertIn("for later", str(message.body))
            self.assertEqual([child.name for child in message.elements(DELAY, "delay")], ["delay"])

    @defer.inlineCallbacks
    def subscribe(self, subscriber, subscriberJID, contact, contactJID):
        """
        C{subscriber} asks for C{contact}'s presence, C{contact} approves:
        the subscriber gets the contact's presence (Prosody 0.12 does not
        pass the C{subscribed} itself on to its user's clients, only the
        roster push).
        """
        subscriber.send("<presence to='%s' type='subscribe'/>" % (contactJID,))
        request = yield self.until(
            contact, lambda e: e.name == "presence" and e.getAttribute("type") == "subscribe"
        )
        self.assertEqual(request["from"], subscriberJID)
        contact.send("<presence to='%s' type='subscribed'/>" % (subscriberJID,))
        available = yield self.presenceFrom(subscriber, contactJID + "/r")
        return available

    @defer.inlineCallbacks
    def roster(self, client):
        """
        @return: Deferred firing with C{client}'s roster as C{{JID:
            subscription}}.
        """
        reply = yield client.iq(
            "<iq type='get' id='%s'><query xmlns='%s'/></iq>" % (client.nextID(), ROSTER), timeout=WAIT
        )
        return {item["jid"]: item["subscription"] for item in reply.query.elements(ROSTER, "item")}

    @defer.inlineCallbacks
    def test_subscriptionsBothWays(self):
        """
        Alice subscribes to Bob and Bob to Alice, each approving: both get
        the other's presence, and when Bob goes offline Alice learns it.
        """
        aliceJID = "alice@" + XMUC_DOMAIN
        bobJID = "bob@" + PROSODY_DOMAIN
        yield self.subscribe(self.alice, aliceJID, self.bob, bobJID)
        yield self.subscribe(self.bob, bobJID, self.alice, aliceJID)
        self.assertEqual((yield self.roster(self.alice)), {bobJID: "both"})
        self.assertEqual((yield self.roster(self.bob)), {aliceJID: "both"})
        yield self.bob.close()
        gone = yield self.presenceFrom(self.alice, bobJID + "/r", "unavailable")
        self.assertEqual(gone.getAttribute("to", "").split("/")[0], aliceJID)

    @defer.inlineCallbacks
    def test_iqBothWays(self):
        """
        Each user asks the other server its version and the other MUC
        service what it is (disco); Bob pings Alice's client.  The answers
        come back from the right JIDs.
        """
        reply = yield self.alice.iq(
            "<iq type='get' id='v1' to='%s'><query xmlns='%s'/></iq>" % (PROSODY_DOMAIN, VERSION), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("result", PROSODY_DOMAIN))
        self.assertEqual([str(c) for c in reply.query.elements(VERSION, "name")], ["Prosody"])
        reply = yield self.bob.iq(
            "<iq type='get' id='v2' to='%s'><query xmlns='%s'/></iq>" % (XMUC_DOMAIN, VERSION), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("result", XMUC_DOMAIN))
        self.assertEqual([str(c) for c in reply.query.elements(VERSION, "name")], ["xmuc"])
        for client, service in ((self.bob, XMUC_MUC), (self.alice, self.prosody.mucDomain)):
            reply = yield client.iq(
                "<iq type='get' id='d1' to='%s'><query xmlns='%s'/></iq>" % (service, DISCO_INFO), timeout=WAIT
            )
            self.assertEqual((reply["type"], reply["from"]), ("result", service))
            identities = [
                (identity["category"], identity["type"]) for identity in reply.query.elements(DISCO_INFO, "identity")
            ]
            self.assertIn(("conference", "text"), identities)
            self.assertIn(MUC, [feature["var"] for feature in reply.query.elements(DISCO_INFO, "feature")])

        # Between users: Bob pings Alice's client, which answers.
        aliceJID = "alice@%s/r" % (XMUC_DOMAIN,)
        self.bob.send("<iq type='get' id='p1' to='%s'><ping xmlns='%s'/></iq>" % (aliceJID, PING))
        ping = yield self.until(self.alice, lambda e: e.name == "iq" and e.getAttribute("id") == "p1")
        self.assertEqual((ping["type"], ping["from"]), ("get", "bob@%s/r" % (PROSODY_DOMAIN,)))
        self.alice.send("<iq type='result' id='p1' to='%s'/>" % (ping["from"],))
        reply = yield self.until(self.bob, lambda e: e.name == "iq" and e.getAttribute("id") == "p1")
        self.assertEqual((reply["type"], reply["from"]), ("result", aliceJID))

    @defer.inlineCallbacks
    def test_unreachableDomain(self):
        """
        A message to a domain whose route leads nowhere (connection
        refused) comes back as an error to the sender, not silence; so
        does an iq to Prosody's domain once Prosody is gone, after the
        streams to it were up.
        """
        self.alice.send("<message to='nobody@%s' type='chat' id='u1'><body>hello?</body></message>" % (NOWHERE,))
        error = yield self.until(self.alice, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual((error["from"], error["id"]), ("nobody@" + NOWHERE, "u1"))
        self.assertEqual(errorConditionOf(error), "remote-server-not-found", error.toXml())

        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>still there?</body></message>" % (PROSODY_DOMAIN,))
        yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        yield self.prosody.stop()
        reply = yield self.alice.iq(
            "<iq type='get' id='u2' to='%s'><ping xmlns='%s'/></iq>" % (PROSODY_DOMAIN, PING), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("error", PROSODY_DOMAIN))
        self.assertIn(errorConditionOf(reply), ("remote-server-not-found", "remote-server-timeout"), reply.toXml())


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
        bob = yield self.prosodyUser("bob")
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


class CheckAgainstProsodyMixin(ProsodyFederationMixin):
    """
    C{xmucctl check s2s prosody.test}, from xmuc's configuration.
    """

    @defer.inlineCallbacks
    def check(self):
        """
        @return: Deferred firing with C{(passed, {step: (verdict, text)})}
            (a step's first line).
        """
        lines = {}
        passed = yield checkS2S(
            self.xmuc.server.config,
            PROSODY_DOMAIN,
            lambda verdict, step, text: lines.setdefault(step, (verdict, text)),
            reactor,
        )
        return passed, lines


class CheckProsodyWithCATests(CheckAgainstProsodyMixin, unittest.TestCase):
    ca = True

    @defer.inlineCallbacks
    def test_everyStepPasses(self):
        """
        Prosody with a certificate of the authority xmuc trusts: every
        step passes, authentication is SASL EXTERNAL.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        for step in ("our certificate", "route", "connect", "tls", "certificate", "authentication"):
            self.assertEqual(lines[step][0], "OK", (step, lines[step]))
        self.assertIn("SASL EXTERNAL", lines["authentication"][1])


class CheckProsodyWithDialbackTests(CheckAgainstProsodyMixin, unittest.TestCase):
    s2sExtra = {"dialback_secret": "shared between the server and xmucctl"}

    @defer.inlineCallbacks
    def test_dialback(self):
        """
        Self-signed certificates: Prosody's is reported untrusted (a
        warning without secure_auth), and dialback works, Prosody calling
        the running xmuc back.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        self.assertEqual(lines["certificate"][0], "WARN")
        self.assertEqual(lines["authentication"], ("OK", "xmuc.test authenticated to prosody.test with dialback"))
        self.assertEqual(lines["dialback"][0], "OK")
