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
from tests.interop.prosodys2s import C2S_PORT, S2S_PORT, XMUC_DOMAIN, XMUC_MUC, loopbackAddresses, xmucSections
from tests.support.client import connectTestClient, startServerWith
from tests.support.pki import TestCA, selfSigned
from xmuc.s2s.check import checkS2S

EJABBERD_DOMAIN = "ejabberd.test"
EJABBERD_MUC = "conference." + EJABBERD_DOMAIN
MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
ROSTER = "jabber:iq:roster"
VERSION = "jabber:iq:version"
PING = "urn:xmpp:ping"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
MAM = "urn:xmpp:mam:2"
DELAY = "urn:xmpp:delay"
FORWARD = "urn:xmpp:forward:0"
ROOM = "lobby@" + XMUC_MUC
#: Where xmuc accepts TLS from the first byte, when a test wants it.
DIRECT_TLS_PORT = 5270

#: Seconds to wait for something that crosses servers (a first stanza
#: to a domain waits for its stream: TLS, then dialback or SASL).
WAIT = 30


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


class EjabberdFederationMixin:
    """
    ejabberd serving C{ejabberd.test} (MUC C{conference.ejabberd.test})
    and xmuc serving C{xmuc.test} (MUC C{rooms.xmuc.test}), federated.

    @cvar ca: whether both servers have certificates from a test CA they
        both trust, and accept no less (SASL EXTERNAL, XEP-0178; ejabberd
        without its dialback module); else self-signed certificates and
        dialback.
    """

    timeout = 180
    ca = False

    #: More C{[s2s]} keys of xmuc.
    s2sExtra = {}

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
        s2s = dict(self.s2sExtra)
        options = {}
        if self.ca:
            authority = TestCA(directory)
            certificate = authority.issue([XMUC_DOMAIN, XMUC_MUC])
            s2s.update(secure_auth="true", ca_certificates=authority.certificatePath)
            options = {
                "ca": authority.certificatePath,
                "certificate": authority.issue([EJABBERD_DOMAIN, EJABBERD_MUC]),
            }
        else:
            certificate = selfSigned(directory, [XMUC_DOMAIN, XMUC_MUC])
        # In the test's directory: its configuration and log stay in
        # _trial_temp/ after a failure.
        if self.directTLSPort:
            # ejabberd finds only xmuc's _xmpps-server records.
            s2s["direct_tls_listen"] = "tcp:%d:interface=%s" % (self.directTLSPort, xmucAddress)
            xmucTarget = (xmucAddress, self.directTLSPort)
        else:
            xmucTarget = xmucAddress
        self.ejabberd = FederatingEjabberd(
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

    def ejabberdUser(self, user, resource="r"):
        """
        @return: Deferred firing with a client logged in to ejabberd as
            C{user@ejabberd.test} (registered first), available.
        """
        return self.ejabberd.connectClient(self, user, resource)

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

    @defer.inlineCallbacks
    def pingBothWays(self):
        """
        A user of each server pings the other server: a stream each way.
        """
        pingers = [(yield self.xmucUser("pinger")), (yield self.ejabberdUser("pinger"))]
        for client, server in zip(pingers, (EJABBERD_DOMAIN, XMUC_DOMAIN)):
            reply = yield client.iq(
                "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), server, PING),
                timeout=WAIT,
            )
            self.assertEqual((reply["type"], reply["from"]), ("result", server))

    @defer.inlineCallbacks
    def logged(self, text):
        """
        Wait until ejabberd's log holds C{text} (Erlang's logger writes its
        file a moment after the event).

        @return: Deferred firing with the whole log.
        """
        for _ in range(WAIT * 10):
            log = self.ejabberd.log()
            if text in log:
                return log
            yield task.deferLater(reactor, 0.1, lambda: None)
        self.fail("ejabberd never logged %r" % (text,))

    def admin(self, client, room, items):
        """
        C{client} sends a muc#admin set with C{items} (XML) to C{room}.

        @return: Deferred firing with the reply.
        """
        return client.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
            % (client.nextID(), room, MUC_ADMIN, items),
            timeout=WAIT,
        )


class EjabberdUsersInXmucRoomsMixin(EjabberdFederationMixin):
    """
    Users of ejabberd in a room of xmuc.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield EjabberdFederationMixin.setUp(self)
        self.alice = yield self.xmucUser("alice")
        subject = yield self.join(self.alice, ROOM, "Alice")
        self.assertEqual(subject.name, "message")
        self.bob = yield self.ejabberdUser("bob")

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Bob of ejabberd joins: he gets Alice's presence, his own (110),
        the subject; Alice sees him come; groupchat goes both ways, each
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

        self.bob.send("<message to='%s' type='groupchat' id='g1'><body>hello from ejabberd</body></message>" % (ROOM,))
        for client in (self.alice, self.bob):
            message = yield self.messageFrom(client, ROOM + "/Bob")
            self.assertEqual((message["type"], str(message.body)), ("groupchat", "hello from ejabberd"))
        self.alice.send("<message to='%s' type='groupchat' id='g2'><body>hello from xmuc</body></message>" % (ROOM,))
        for client in (self.bob, self.alice):
            message = yield self.messageFrom(client, ROOM + "/Alice")
            self.assertEqual(str(message.body), "hello from xmuc")

    @defer.inlineCallbacks
    def test_severalUsersOfEjabberd(self):
        """
        Bob and Carol of ejabberd in the room: a message goes to both over
        the one stream to their domain (serialized once, addressed to
        each), a nick change and a private message between them cross
        twice.
        """
        carol = yield self.ejabberdUser("carol")
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
                   % (ROOM, MUC_USER))
        message = yield self.messageFrom(self.bob, ROOM + "/Caroline")
        self.assertEqual(str(message.body), "psst")

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
        reply = yield self.admin(self.alice, ROOM, "<item nick='Bob' role='none'><reason>enough</reason></item>")
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(self.bob, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "307"])
        seen = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(seen), ["307"])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_banByBareJID(self):
        """
        Bob banned by his bare JID (outcast) leaves with 301 and cannot
        come back: C{forbidden}.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        reply = yield self.admin(self.alice, ROOM, "<item affiliation='outcast' jid='bob@%s'/>" % (EJABBERD_DOMAIN,))
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(self.bob, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "301"])
        refused = yield self.join(self.bob, ROOM, "Bob")
        self.assertEqual((refused.name, errorConditionOf(refused)), ("presence", "forbidden"))

    @defer.inlineCallbacks
    def test_invitation(self):
        """
        Alice invites Bob through the room: ejabberd delivers the
        invitation from the room, naming Alice by her occupant JID (the
        room is semi-anonymous), with her reason.
        """
        self.alice.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='bob@%s'><reason>come</reason></invite></x></message>"
            % (ROOM, MUC_USER, EJABBERD_DOMAIN)
        )
        invitation = yield self.until(self.bob, lambda e: e.name == "message" and e.getAttribute("from") == ROOM)
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
            results.extend(element.elements(MAM, "result"))
        self.assertEqual(element["type"], "result")
        bodies = [
            str(message.body)
            for result in results
            for forwarded in result.elements(FORWARD, "forwarded")
            for message in forwarded.elements()
            if message.name == "message"
        ]
        self.assertEqual(bodies, ["before bob"])

    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Bob's connection to ejabberd drops: ejabberd sends the room his
        unavailable presence, and he leaves as usual.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        self.bob.transport.abortConnection()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(gone["type"], "unavailable")
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_lostServerLeavesWith333(self):
        """
        ejabberd dies with Bob in the room: the stream to it is lost
        without being closed, and Bob leaves the room with status 333
        instead of staying as a ghost.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        yield self.ejabberd.kill()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["333"])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_stoppedServerUsersLeave(self):
        """
        ejabberd stopped in order (SIGTERM) with Bob in the room: Bob
        leaves, nobody stays behind.  ejabberd ends Bob's session and
        drops the stream xmuc opened (no closing tag) at the same moment:
        whichever xmuc sees first decides how Bob leaves, a plain
        unavailable presence (his server said so) or 333 (the stream to
        his server was lost).
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")
        yield self.ejabberd.stop()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertIn(statusCodes(gone), ([], ["333"]), gone.toXml())
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])


class XmucUsersInEjabberdRoomsMixin(EjabberdFederationMixin):
    """
    A user of xmuc in a room of ejabberd's MUC.
    """

    @defer.inlineCallbacks
    def ejabberdRoom(self, name="hall"):
        """
        Bob of ejabberd creates C{name} on ejabberd's MUC and makes it an
        instant room (XEP-0045 10.1.2), open to others.

        @return: Deferred firing with C{(bob, roomJID)}.
        """
        room = "%s@%s" % (name, EJABBERD_MUC)
        bob = yield self.ejabberdUser("bob")
        bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (room, MUC))
        own = yield self.presenceFrom(bob, room + "/Bob")
        if "201" in statusCodes(own):
            reply = yield bob.iq(
                "<iq type='set' id='instant' to='%s'><query xmlns='%s'>"
                "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (room, MUC_OWNER),
                timeout=WAIT,
            )
            self.assertEqual(reply["type"], "result", reply.toXml())
        return bob, room

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Alice of xmuc joins Bob's room on ejabberd, sees Bob, gets her own
        presence (110); groupchat goes both ways.
        """
        bob, room = yield self.ejabberdRoom()
        alice = yield self.xmucUser("alice")
        alice.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (room, MUC))
        yield self.presenceFrom(alice, room + "/Bob")
        own = yield self.presenceFrom(alice, room + "/Alice")
        self.assertIn("110", statusCodes(own))
        yield self.presenceFrom(bob, room + "/Alice")
        alice.send("<message to='%s' type='groupchat' id='g1'><body>hi ejabberd room</body></message>" % (room,))
        message = yield self.messageFrom(bob, room + "/Alice")
        self.assertEqual(str(message.body), "hi ejabberd room")
        echo = yield self.messageFrom(alice, room + "/Alice")
        self.assertEqual(str(echo.body), "hi ejabberd room")
        bob.send("<message to='%s' type='groupchat' id='g2'><body>welcome</body></message>" % (room,))
        message = yield self.messageFrom(alice, room + "/Bob")
        self.assertEqual(str(message.body), "welcome")

    @defer.inlineCallbacks
    def test_privateMessagesAndKick(self):
        """
        In Bob's room on ejabberd, private messages go both ways between
        Alice of xmuc and Bob; then Bob, the owner, kicks Alice: she gets
        her unavailable presence with 307 and 110.
        """
        bob, room = yield self.ejabberdRoom()
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
        reply = yield self.admin(bob, room, "<item nick='Alice' role='none'/>")
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(alice, room + "/Alice", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "307"])

    @defer.inlineCallbacks
    def test_invitation(self):
        """
        Bob invites Alice of xmuc through his room on ejabberd: she gets
        the invitation from the room, with Bob's reason.
        """
        bob, room = yield self.ejabberdRoom()
        alice = yield self.xmucUser("alice")
        bob.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='alice@%s'><reason>join us</reason></invite></x></message>"
            % (room, MUC_USER, XMUC_DOMAIN)
        )
        invitation = yield self.until(alice, lambda e: e.name == "message" and e.getAttribute("from") == room)
        [x] = list(invitation.elements(MUC_USER, "x"))
        [invite] = list(x.elements(MUC_USER, "invite"))
        self.assertEqual(invite["from"].split("/")[0], "bob@" + EJABBERD_DOMAIN)
        self.assertEqual([str(reason) for reason in invite.elements(MUC_USER, "reason")], ["join us"])

    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Alice's connection to xmuc drops while she is in Bob's room on
        ejabberd: xmuc sends the room her unavailable presence, and Bob
        sees her leave.
        """
        bob, room = yield self.ejabberdRoom()
        alice = yield self.xmucUser("alice")
        yield self.join(alice, room, "Alice")
        yield self.presenceFrom(bob, room + "/Alice")
        alice.transport.abortConnection()
        gone = yield self.presenceFrom(bob, room + "/Alice", "unavailable")
        self.assertEqual(gone["type"], "unavailable")


class UsersAcrossServersMixin(EjabberdFederationMixin):
    """
    One-to-one: messages, subscriptions, iqs between the two servers.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield EjabberdFederationMixin.setUp(self)
        self.alice = yield self.xmucUser("alice")
        self.bob = yield self.ejabberdUser("bob")

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        Chat messages reach the other server's user from the sender's full
        JID, both ways.
        """
        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>hi bob</body></message>" % (EJABBERD_DOMAIN,))
        message = yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "hi bob")
        self.bob.send("<message to='alice@%s' type='chat' id='c2'><body>hi alice</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(self.alice, "bob@%s/r" % (EJABBERD_DOMAIN,))
        self.assertEqual(str(message.body), "hi alice")

    @defer.inlineCallbacks
    def subscribe(self, subscriber, subscriberJID, contact, contactJID):
        """
        C{subscriber} asks for C{contact}'s presence, C{contact} approves:
        the subscriber gets the contact's presence.
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
        the other's presence, both rosters say C{both}, and when Bob goes
        offline Alice learns it.
        """
        aliceJID = "alice@" + XMUC_DOMAIN
        bobJID = "bob@" + EJABBERD_DOMAIN
        yield self.subscribe(self.alice, aliceJID, self.bob, bobJID)
        yield self.subscribe(self.bob, bobJID, self.alice, aliceJID)
        self.assertEqual((yield self.roster(self.alice)), {bobJID: "both"})
        self.assertEqual((yield self.roster(self.bob)), {aliceJID: "both"})
        yield self.bob.close()
        gone = yield self.presenceFrom(self.alice, bobJID + "/r", "unavailable")
        self.assertEqual(gone.getAttribute("to", "").split("/")[0], aliceJID)

    @defer.inlineCallbacks
    def test_presenceAtLogin(self):
        """
        Once subscribed both ways, Alice logs in again: xmuc probes Bob's
        presence at ejabberd, which answers with it, and Bob gets Alice's
        new presence.
        """
        aliceJID = "alice@" + XMUC_DOMAIN
        bobJID = "bob@" + EJABBERD_DOMAIN
        yield self.subscribe(self.alice, aliceJID, self.bob, bobJID)
        yield self.subscribe(self.bob, bobJID, self.alice, aliceJID)
        yield self.alice.close()
        yield self.presenceFrom(self.bob, aliceJID + "/r", "unavailable")
        alice = yield self.xmucUser("alice", "again")
        probed = yield self.presenceFrom(alice, bobJID + "/r")
        self.assertEqual(probed.getAttribute("to"), aliceJID + "/again")
        yield self.presenceFrom(self.bob, aliceJID + "/again")

    @defer.inlineCallbacks
    def test_offlineMessagesBothWays(self):
        """
        A chat message to a user who is offline on the other server is
        kept there and delivered, with a delay stamp, at the next login.
        """
        yield self.alice.close()
        yield self.bob.close()
        carol = yield self.xmucUser("carol")
        dave = yield self.ejabberdUser("dave")
        carol.send("<message to='bob@%s' type='chat' id='o1'><body>for later, bob</body></message>" % (EJABBERD_DOMAIN,))
        dave.send("<message to='alice@%s' type='chat' id='o2'><body>for later, alice</body></message>" % (XMUC_DOMAIN,))
        # What each sent crossed and was handled before the next login: an
        # iq to the other server, sent after it over the same stream, is
        # answered.
        for client, server in ((carol, EJABBERD_DOMAIN), (dave, XMUC_DOMAIN)):
            reply = yield client.iq(
                "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), server, PING),
                timeout=WAIT,
            )
            self.assertEqual(reply["type"], "result")
        for login, sender in ((self.ejabberdUser("bob"), "carol@" + XMUC_DOMAIN),
                              (self.xmucUser("alice"), "dave@" + EJABBERD_DOMAIN)):
            client = yield login
            message = yield self.until(
                client, lambda e: e.name == "message" and (e.getAttribute("from") or "").startswith(sender)
            )
            self.assertIn("for later", str(message.body))
            self.assertEqual([child.name for child in message.elements(DELAY, "delay")], ["delay"])

    @defer.inlineCallbacks
    def test_stoppedServer(self):
        """
        ejabberd stops after a chat crossed: an iq to its domain comes
        back to Alice as an error from that domain, not silence.
        """
        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>still there?</body></message>" % (EJABBERD_DOMAIN,))
        yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        yield self.ejabberd.stop()
        reply = yield self.alice.iq(
            "<iq type='get' id='u2' to='%s'><ping xmlns='%s'/></iq>" % (EJABBERD_DOMAIN, PING), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("error", EJABBERD_DOMAIN))
        self.assertIn(errorConditionOf(reply), ("remote-server-not-found", "remote-server-timeout"), reply.toXml())

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
                "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (client.nextID(), target, VERSION),
                timeout=WAIT,
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
        bob = yield self.ejabberdUser("bob")
        self.alice.send("<message to='bob@%s/r' type='chat' id='c2'><body>after</body></message>" % (EJABBERD_DOMAIN,))
        message = yield self.messageFrom(bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "after")
        bob.send("<message to='alice@%s/r' type='chat' id='c3'><body>back</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(self.alice, "bob@%s/r" % (EJABBERD_DOMAIN,))
        self.assertEqual(str(message.body), "back")

    @defer.inlineCallbacks
    def test_iqBothWays(self):
        """
        Each user asks the other server its version and the other MUC
        service what it is (disco); Bob pings Alice's client.  The answers
        come back from the right JIDs.
        """
        reply = yield self.alice.iq(
            "<iq type='get' id='v1' to='%s'><query xmlns='%s'/></iq>" % (EJABBERD_DOMAIN, VERSION), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("result", EJABBERD_DOMAIN))
        self.assertEqual([str(c) for c in reply.query.elements(VERSION, "name")], ["ejabberd"])
        reply = yield self.bob.iq(
            "<iq type='get' id='v2' to='%s'><query xmlns='%s'/></iq>" % (XMUC_DOMAIN, VERSION), timeout=WAIT
        )
        self.assertEqual((reply["type"], reply["from"]), ("result", XMUC_DOMAIN))
        self.assertEqual([str(c) for c in reply.query.elements(VERSION, "name")], ["xmuc"])
        for client, service in ((self.bob, XMUC_MUC), (self.alice, EJABBERD_MUC)):
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
        self.assertEqual((ping["type"], ping["from"]), ("get", "bob@%s/r" % (EJABBERD_DOMAIN,)))
        self.alice.send("<iq type='result' id='p1' to='%s'/>" % (ping["from"],))
        reply = yield self.until(self.bob, lambda e: e.name == "iq" and e.getAttribute("id") == "p1")
        self.assertEqual((reply["type"], reply["from"]), ("result", aliceJID))


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
        bob = yield self.ejabberdUser("bob")
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
        bob = yield self.ejabberdUser("bob")
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


class CheckAgainstEjabberdMixin(EjabberdFederationMixin):
    """
    C{xmucctl check s2s ejabberd.test}, from xmuc's configuration.
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
            EJABBERD_DOMAIN,
            lambda verdict, step, text: lines.setdefault(step, (verdict, text)),
            reactor,
        )
        return passed, lines


class CheckEjabberdWithCATests(CheckAgainstEjabberdMixin, unittest.TestCase):
    ca = True

    @defer.inlineCallbacks
    def test_everyStepPasses(self):
        """
        ejabberd with a certificate of the authority xmuc trusts: every
        step passes, authentication is SASL EXTERNAL.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        for step in ("our certificate", "route", "connect", "tls", "certificate", "authentication"):
            self.assertEqual(lines[step][0], "OK", (step, lines[step]))
        self.assertIn("SASL EXTERNAL", lines["authentication"][1])


class CheckEjabberdWithDialbackTests(CheckAgainstEjabberdMixin, unittest.TestCase):
    s2sExtra = {"dialback_secret": "shared between the server and xmucctl"}

    @defer.inlineCallbacks
    def test_dialback(self):
        """
        Self-signed certificates: ejabberd's is reported untrusted (a
        warning without secure_auth), and dialback works, ejabberd
        calling the running xmuc back.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        self.assertEqual(lines["certificate"][0], "WARN")
        self.assertEqual(lines["authentication"], ("OK", "xmuc.test authenticated to ejabberd.test with dialback"))
        self.assertEqual(lines["dialback"][0], "OK")
