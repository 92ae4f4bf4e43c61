"""
The federation scenarios that are the same against any real peer server
(Prosody, ejabberd...): its users in xmuc's rooms, xmuc's users in its
rooms, one-to-one traffic across the two servers, C{xmucctl check s2s}.

A test module brings the harness and mixes these in: its L{FederationPeer}
subclass's C{setUp} starts the peer and an xmuc federated with it
(setting C{self.xmuc} and C{self.peer}), and it says what the scenarios
need to know of the peer:

    - C{peerDomain}, C{peerMucDomain}: the peer's client and MUC domains;
    - C{peerSoftware}: the name its C{jabber:iq:version} answers;
    - C{wait}: seconds to wait for a stanza that crosses servers;
    - L{FederationPeer.peerRoom}, when Bob joining a new room of the
      peer's MUC is not enough to make it (ejabberd's instant rooms).

C{self.peer} has C{connectClient(testCase, user, resource)} (a user
logged in on the peer, available), C{stop()} (orderly) and C{kill()}
(SIGKILL), each of the last two returning a Deferred firing once the
process has ended.

xmuc's side is C{xmuc.test} with its MUC at C{rooms.xmuc.test}
(L{XMUC_DOMAIN}, L{XMUC_MUC}); users log in to xmuc with any password.
"""

from twisted.internet import defer, reactor

from tests.support.client import connectTestClient
from tests.support.pki import TestCA, selfSigned
from xmuc.s2s.check import checkS2S
from xmuc.xmpp import ns

#: xmuc's side of a test federation: its domain and MUC domain.
XMUC_DOMAIN = "xmuc.test"
XMUC_MUC = "rooms.xmuc.test"
#: The room of xmuc the scenarios meet in.
ROOM = "lobby@" + XMUC_MUC



def statusCodes(stanza):
    """
    @return: the sorted C{muc#user} status codes of C{stanza}.
    """
    return sorted(
        status["code"]
        for x in stanza.elements(ns.MUC_USER, "x")
        for status in x.elements(ns.MUC_USER, "status")
    )


def errorConditionOf(stanza):
    """
    @return: the defined condition of C{stanza}'s error, or L{None}.
    """
    for error in stanza.elements():
        if error.name == "error":
            for child in error.elements(ns.XMPP_STANZAS):
                if child.name != "text":
                    return child.name
    return None


class FederationPeer:
    """
    Helpers of every federation scenario: certificates, users of both
    servers, waiting for what crosses, joining rooms, muc#admin.

    @cvar ca: whether both servers have certificates from a test CA they
        both trust, and accept no less (SASL EXTERNAL, XEP-0178); else
        self-signed certificates and dialback.
    @cvar s2sExtra: more C{[s2s]} keys of xmuc.
    """

    ca = False
    s2sExtra = {}
    wait = 20

    def certificates(self, directory):
        """
        Certificates for both servers in C{directory}, as C{ca} says.

        @return: C{(certificate, s2s, peerOptions)}: xmuc's
            C{(certificatePath, keyPath)}, its C{[s2s]} keys
            (C{s2sExtra} and, with C{ca}, C{secure_auth} and the
            authority), and for the peer's harness C{{"ca": path,
            "certificate": (certificatePath, keyPath)}} with C{ca}, else
            nothing (the peer makes its own self-signed one).
        """
        s2s = dict(self.s2sExtra)
        if not self.ca:
            return selfSigned(directory, [XMUC_DOMAIN, XMUC_MUC]), s2s, {}
        authority = TestCA(directory)
        s2s.update(secure_auth="true", ca_certificates=authority.certificatePath)
        peerOptions = {
            "ca": authority.certificatePath,
            "certificate": authority.issue([self.peerDomain, self.peerMucDomain]),
        }
        return authority.issue([XMUC_DOMAIN, XMUC_MUC]), s2s, peerOptions

    def peerUser(self, user, resource="r"):
        """
        @return: Deferred firing with a client logged in to the peer as
            C{user@peerDomain}, available.
        """
        return self.peer.connectClient(self, user, resource)

    @defer.inlineCallbacks
    def peerRoom(self, name="hall"):
        """
        Bob of the peer makes C{name} on the peer's MUC, open to others.

        @return: Deferred firing with C{(bob, roomJID)}.
        """
        room = "%s@%s" % (name, self.peerMucDomain)
        bob = yield self.peerUser("bob")
        yield self.join(bob, room, "Bob")
        return bob, room

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

    @defer.inlineCallbacks
    def until(self, client, predicate, timeout=None):
        """
        @param timeout: seconds, default C{self.wait}.
        @return: Deferred firing with the next element C{client} receives
            for which C{predicate} is true (the others are skipped).
        """
        while True:
            element = yield client.receive(self.wait if timeout is None else timeout)
            if predicate(element):
                return element

    def join(self, client, room, nick):
        """
        Join C{room} as C{nick}.

        @return: Deferred firing with the room's subject message (the
            last stanza of a join), or the error presence.
        """
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (room, nick, ns.MUC))
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

    def admin(self, client, room, items):
        """
        C{client} sends a muc#admin set with C{items} (XML) to C{room}.

        @return: Deferred firing with the reply.
        """
        return client.iq(
            "<iq type='set' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
            % (client.nextID(), room, ns.MUC_ADMIN, items),
            timeout=self.wait,
        )

    @defer.inlineCallbacks
    def assertServed(self, client, to=XMUC_MUC):
        """
        What C{client} sent before crossed to C{to} and was handled: a
        ping to it, sent after over the same streams, is answered by
        C{to}.
        """
        reply = yield client.iq(
            "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), to, ns.PING),
            timeout=self.wait,
        )
        self.assertEqual((reply["type"], reply["from"]), ("result", to))


class PeerUsersInXmucRoomsScenarios(FederationPeer):
    """
    Users of the peer (Bob, Carol) in a room of xmuc owned by Alice.

    @cvar stoppedServerLeaveCodes: the status codes Bob may leave with
        when his server stops in order.
    """

    stoppedServerLeaveCodes = ([],)

    @defer.inlineCallbacks
    def setUp(self):
        yield super().setUp()
        self.alice = yield self.xmucUser("alice")
        subject = yield self.join(self.alice, ROOM, "Alice")
        self.assertEqual(subject.name, "message")
        self.bob = yield self.peerUser("bob")

    @defer.inlineCallbacks
    def bobJoined(self):
        """
        Bob joins the room; Alice sees him come.
        """
        yield self.join(self.bob, ROOM, "Bob")
        yield self.presenceFrom(self.alice, ROOM + "/Bob")

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Bob of the peer joins: he gets Alice's presence, his own (110),
        the subject; Alice sees him come; groupchat goes both ways, each
        message to everyone.
        """
        self.bob.send("<presence to='%s/Bob'><x xmlns='%s'/></presence>" % (ROOM, ns.MUC))
        alicePresence = yield self.presenceFrom(self.bob, ROOM + "/Alice")
        self.assertEqual(statusCodes(alicePresence), [])
        own = yield self.presenceFrom(self.bob, ROOM + "/Bob")
        self.assertIn("110", statusCodes(own))
        yield self.until(self.bob, lambda e: e.name == "message" and e.subject is not None)
        seen = yield self.presenceFrom(self.alice, ROOM + "/Bob")
        self.assertNotIn("110", statusCodes(seen))

        text = "hello from " + self.peerSoftware.lower()
        self.bob.send("<message to='%s' type='groupchat' id='g1'><body>%s</body></message>" % (ROOM, text))
        for client in (self.alice, self.bob):
            message = yield self.messageFrom(client, ROOM + "/Bob")
            self.assertEqual((message["type"], str(message.body)), ("groupchat", text))
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
        yield self.bobJoined()
        self.alice.send("<message to='%s/Bob' type='chat' id='p1'><body>psst bob</body>"
                        "<x xmlns='%s'/></message>" % (ROOM, ns.MUC_USER))
        message = yield self.messageFrom(self.bob, ROOM + "/Alice")
        self.assertEqual((message["type"], str(message.body)), ("chat", "psst bob"))
        self.bob.send("<message to='%s/Alice' type='chat' id='p2'><body>psst alice</body>"
                      "<x xmlns='%s'/></message>" % (ROOM, ns.MUC_USER))
        message = yield self.messageFrom(self.alice, ROOM + "/Bob")
        self.assertEqual(str(message.body), "psst alice")

    @defer.inlineCallbacks
    def test_kick(self):
        """
        The owner kicks Bob: he gets his unavailable presence with 307 and
        110, Alice sees 307; Bob is out of the room.
        """
        yield self.bobJoined()
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
        yield self.bobJoined()
        reply = yield self.admin(self.alice, ROOM, "<item affiliation='outcast' jid='bob@%s'/>" % (self.peerDomain,))
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(self.bob, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "301"])
        refused = yield self.join(self.bob, ROOM, "Bob")
        self.assertEqual((refused.name, errorConditionOf(refused)), ("presence", "forbidden"))

    @defer.inlineCallbacks
    def test_invitation(self):
        """
        Alice invites Bob through the room: Bob's server delivers the
        invitation from the room, naming Alice by her occupant JID (the
        room is semi-anonymous), with her reason.
        """
        self.alice.send(
            "<message to='%s' id='inv'><x xmlns='%s'><invite to='bob@%s'><reason>come</reason></invite></x></message>"
            % (ROOM, ns.MUC_USER, self.peerDomain)
        )
        invitation = yield self.until(self.bob, lambda e: e.name == "message" and e.getAttribute("from") == ROOM)
        [x] = list(invitation.elements(ns.MUC_USER, "x"))
        [invite] = list(x.elements(ns.MUC_USER, "invite"))
        self.assertEqual(invite["from"], ROOM + "/Alice")
        self.assertEqual([str(reason) for reason in invite.elements(ns.MUC_USER, "reason")], ["come"])

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
            "<iq type='get' id='self' to='%s/Bob'><ping xmlns='%s'/></iq>" % (ROOM, ns.PING), timeout=self.wait
        )
        self.assertEqual(reply["type"], "result")
        reply = yield self.bob.iq(
            "<iq type='get' id='other' to='%s/Nobody'><ping xmlns='%s'/></iq>" % (ROOM, ns.PING), timeout=self.wait
        )
        self.assertEqual(reply["type"], "error")
        self.bob.send("<iq type='set' id='mam' to='%s'><query xmlns='%s' queryid='q1'/></iq>" % (ROOM, ns.MAM))
        results = []
        while True:
            element = yield self.bob.receive(self.wait)
            if element.name == "iq" and element.getAttribute("id") == "mam":
                break
            results.extend(element.elements(ns.MAM, "result"))
        self.assertEqual(element["type"], "result")
        bodies = [
            str(message.body)
            for result in results
            for forwarded in result.elements(ns.FORWARD, "forwarded")
            for message in forwarded.elements()
            if message.name == "message"
        ]
        self.assertEqual(bodies, ["before bob"])

    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Bob's connection to his server drops: it sends the room his
        unavailable presence (he had sent it directed presence), and he
        leaves as usual.
        """
        yield self.bobJoined()
        self.bob.transport.abortConnection()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), [])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_lostServerLeavesWith333(self):
        """
        The peer dies with Bob in the room: the stream to it is lost
        without being closed, and Bob leaves the room with status 333
        instead of staying as a ghost, without waiting for the next
        broadcast to bounce.
        """
        yield self.bobJoined()
        yield self.peer.kill()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertEqual(statusCodes(gone), ["333"])
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])

    @defer.inlineCallbacks
    def test_stoppedServerUsersLeave(self):
        """
        The peer shut down in order with Bob in the room: Bob leaves
        (with one of C{stoppedServerLeaveCodes}), nobody stays behind.
        """
        yield self.bobJoined()
        yield self.peer.stop()
        gone = yield self.presenceFrom(self.alice, ROOM + "/Bob", "unavailable")
        self.assertIn(statusCodes(gone), self.stoppedServerLeaveCodes, gone.toXml())
        self.assertEqual(sorted(self.xmuc.server.muc.rooms[ROOM].occupants), ["Alice"])


class XmucUsersInPeerRoomsScenarios(FederationPeer):
    """
    A user of xmuc (Alice) in a room of the peer's MUC, made by Bob.
    """

    @defer.inlineCallbacks
    def test_joinAndChat(self):
        """
        Alice of xmuc joins Bob's room on the peer, sees Bob, gets her own
        presence (110); groupchat goes both ways.
        """
        bob, room = yield self.peerRoom()
        alice = yield self.xmucUser("alice")
        alice.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (room, ns.MUC))
        yield self.presenceFrom(alice, room + "/Bob")
        own = yield self.presenceFrom(alice, room + "/Alice")
        self.assertIn("110", statusCodes(own))
        yield self.presenceFrom(bob, room + "/Alice")
        text = "hi %s room" % (self.peerSoftware.lower(),)
        alice.send("<message to='%s' type='groupchat' id='g1'><body>%s</body></message>" % (room, text))
        message = yield self.messageFrom(bob, room + "/Alice")
        self.assertEqual(str(message.body), text)
        echo = yield self.messageFrom(alice, room + "/Alice")
        self.assertEqual(str(echo.body), text)
        bob.send("<message to='%s' type='groupchat' id='g2'><body>welcome</body></message>" % (room,))
        message = yield self.messageFrom(alice, room + "/Bob")
        self.assertEqual(str(message.body), "welcome")

    @defer.inlineCallbacks
    def test_privateMessagesAndKick(self):
        """
        In Bob's room on the peer, private messages go both ways between
        Alice of xmuc and Bob; then Bob, the owner, kicks Alice: she gets
        her unavailable presence with 307 and 110.
        """
        bob, room = yield self.peerRoom()
        alice = yield self.xmucUser("alice")
        yield self.join(alice, room, "Alice")
        yield self.presenceFrom(bob, room + "/Alice")
        bob.send("<message to='%s/Alice' type='chat' id='p1'><body>psst alice</body>"
                 "<x xmlns='%s'/></message>" % (room, ns.MUC_USER))
        message = yield self.messageFrom(alice, room + "/Bob")
        self.assertEqual(str(message.body), "psst alice")
        alice.send("<message to='%s/Bob' type='chat' id='p2'><body>psst bob</body>"
                   "<x xmlns='%s'/></message>" % (room, ns.MUC_USER))
        message = yield self.messageFrom(bob, room + "/Alice")
        self.assertEqual(str(message.body), "psst bob")
        reply = yield self.admin(bob, room, "<item nick='Alice' role='none'/>")
        self.assertEqual(reply["type"], "result")
        gone = yield self.presenceFrom(alice, room + "/Alice", "unavailable")
        self.assertEqual(statusCodes(gone), ["110", "307"])

    @defer.inlineCallbacks
    def test_disconnectedClientLeaves(self):
        """
        Alice's connection to xmuc drops while she is in Bob's room on the
        peer: xmuc sends the room her unavailable presence, and Bob sees
        her leave.
        """
        bob, room = yield self.peerRoom()
        alice = yield self.xmucUser("alice")
        yield self.join(alice, room, "Alice")
        yield self.presenceFrom(bob, room + "/Alice")
        alice.transport.abortConnection()
        gone = yield self.presenceFrom(bob, room + "/Alice", "unavailable")
        self.assertEqual(gone["type"], "unavailable")


class UsersAcrossServersScenarios(FederationPeer):
    """
    One-to-one between Alice of xmuc and Bob of the peer: messages,
    subscriptions, iqs.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield super().setUp()
        self.alice = yield self.xmucUser("alice")
        self.bob = yield self.peerUser("bob")

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        Chat messages reach the other server's user from the sender's full
        JID, both ways.
        """
        self.alice.send("<message to='bob@%s/r' type='chat' id='c1'><body>hi bob</body></message>" % (self.peerDomain,))
        message = yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        self.assertEqual(str(message.body), "hi bob")
        self.bob.send("<message to='alice@%s' type='chat' id='c2'><body>hi alice</body></message>" % (XMUC_DOMAIN,))
        message = yield self.messageFrom(self.alice, "bob@%s/r" % (self.peerDomain,))
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
        dave = yield self.peerUser("dave")
        carol.send("<message to='bob@%s' type='chat' id='o1'><body>for later, bob</body></message>" % (self.peerDomain,))
        dave.send("<message to='alice@%s' type='chat' id='o2'><body>for later, alice</body></message>" % (XMUC_DOMAIN,))
        # What each sent crossed and was handled before the next login: an
        # iq to the other server, sent after it over the same stream, is
        # answered.
        yield self.assertServed(carol, self.peerDomain)
        yield self.assertServed(dave, XMUC_DOMAIN)
        for login, sender in ((self.peerUser("bob"), "carol@" + XMUC_DOMAIN),
                              (self.xmucUser("alice"), "dave@" + self.peerDomain)):
            client = yield login
            message = yield self.until(
                client, lambda e: e.name == "message" and (e.getAttribute("from") or "").startswith(sender)
            )
            self.assertIn("for later", str(message.body))
            self.assertEqual([child.name for child in message.elements(ns.DELAY, "delay")], ["delay"])

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
    def subscribedBothWays(self):
        """
        Alice subscribes to Bob and Bob to Alice, each approving.

        @return: Deferred firing with C{(aliceJID, bobJID)}, bare.
        """
        aliceJID = "alice@" + XMUC_DOMAIN
        bobJID = "bob@" + self.peerDomain
        yield self.subscribe(self.alice, aliceJID, self.bob, bobJID)
        yield self.subscribe(self.bob, bobJID, self.alice, aliceJID)
        return aliceJID, bobJID

    @defer.inlineCallbacks
    def roster(self, client):
        """
        @return: Deferred firing with C{client}'s roster as C{{JID:
            subscription}}.
        """
        reply = yield client.iq(
            "<iq type='get' id='%s'><query xmlns='%s'/></iq>" % (client.nextID(), ns.ROSTER), timeout=self.wait
        )
        return {item["jid"]: item["subscription"] for item in reply.query.elements(ns.ROSTER, "item")}

    @defer.inlineCallbacks
    def test_subscriptionsBothWays(self):
        """
        Alice subscribes to Bob and Bob to Alice, each approving: both get
        the other's presence, both rosters say C{both}, and when Bob goes
        offline Alice learns it.
        """
        aliceJID, bobJID = yield self.subscribedBothWays()
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
        for client, server, software in ((self.alice, self.peerDomain, self.peerSoftware),
                                         (self.bob, XMUC_DOMAIN, "xmuc")):
            reply = yield client.iq(
                "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (client.nextID(), server, ns.VERSION),
                timeout=self.wait,
            )
            self.assertEqual((reply["type"], reply["from"]), ("result", server))
            self.assertEqual([str(c) for c in reply.query.elements(ns.VERSION, "name")], [software])
        for client, service in ((self.bob, XMUC_MUC), (self.alice, self.peerMucDomain)):
            reply = yield client.iq(
                "<iq type='get' id='d1' to='%s'><query xmlns='%s'/></iq>" % (service, ns.DISCO_INFO), timeout=self.wait
            )
            self.assertEqual((reply["type"], reply["from"]), ("result", service))
            identities = [
                (identity["category"], identity["type"]) for identity in reply.query.elements(ns.DISCO_INFO, "identity")
            ]
            self.assertIn(("conference", "text"), identities)
            self.assertIn(ns.MUC, [feature["var"] for feature in reply.query.elements(ns.DISCO_INFO, "feature")])

        # Between users: Bob pings Alice's client, which answers.
        aliceJID = "alice@%s/r" % (XMUC_DOMAIN,)
        self.bob.send("<iq type='get' id='p1' to='%s'><ping xmlns='%s'/></iq>" % (aliceJID, ns.PING))
        ping = yield self.until(self.alice, lambda e: e.name == "iq" and e.getAttribute("id") == "p1")
        self.assertEqual((ping["type"], ping["from"]), ("get", "bob@%s/r" % (self.peerDomain,)))
        self.alice.send("<iq type='result' id='p1' to='%s'/>" % (ping["from"],))
        reply = yield self.until(self.bob, lambda e: e.name == "iq" and e.getAttribute("id") == "p1")
        self.assertEqual((reply["type"], reply["from"]), ("result", aliceJID))

    @defer.inlineCallbacks
    def assertUnreachable(self, to):
        """
        A ping from Alice to C{to} comes back as an error from C{to}:
        the server for it cannot be found, or did not answer in time.
        """
        reply = yield self.alice.iq(
            "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (self.alice.nextID(), to, ns.PING),
            timeout=self.wait,
        )
        self.assertEqual((reply["type"], reply["from"]), ("error", to))
        self.assertIn(errorConditionOf(reply), ("remote-server-not-found", "remote-server-timeout"), reply.toXml())

    @defer.inlineCallbacks
    def test_stoppedServer(self):
        """
        The peer stops after a chat crossed: an iq to its domain comes
        back to Alice as an error from that domain, not silence.
        """
        self.alice.send(
            "<message to='bob@%s/r' type='chat' id='c1'><body>still there?</body></message>" % (self.peerDomain,)
        )
        yield self.messageFrom(self.bob, "alice@%s/r" % (XMUC_DOMAIN,))
        yield self.peer.stop()
        yield self.assertUnreachable(self.peerDomain)


class CheckS2SScenarios(FederationPeer):
    """
    C{xmucctl check s2s PEER}, from xmuc's configuration, once with
    certificates of a CA both trust (C{ca = True}), once with self-signed
    certificates and dialback (C{s2sExtra} gives xmucctl the dialback
    secret).
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
            self.peerDomain,
            lambda verdict, step, text: lines.setdefault(step, (verdict, text)),
            reactor,
        )
        return passed, lines


class CheckWithCAScenarios(CheckS2SScenarios):
    ca = True

    @defer.inlineCallbacks
    def test_everyStepPasses(self):
        """
        The peer with a certificate of the authority xmuc trusts: every
        step passes, authentication is SASL EXTERNAL.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        for step in ("our certificate", "route", "connect", "tls", "certificate", "authentication"):
            self.assertEqual(lines[step][0], "OK", (step, lines[step]))
        self.assertIn("SASL EXTERNAL", lines["authentication"][1])


class CheckWithDialbackScenarios(CheckS2SScenarios):
    s2sExtra = {"dialback_secret": "shared between the server and xmucctl"}

    @defer.inlineCallbacks
    def test_dialback(self):
        """
        Self-signed certificates: the peer's is reported untrusted (a
        warning without secure_auth), and dialback works, the peer calling
        the running xmuc back.
        """
        passed, lines = yield self.check()
        self.assertTrue(passed, lines)
        self.assertEqual(lines["certificate"][0], "WARN")
        self.assertEqual(
            lines["authentication"], ("OK", "%s authenticated to %s with dialback" % (XMUC_DOMAIN, self.peerDomain))
        )
        self.assertEqual(lines["dialback"][0], "OK")
