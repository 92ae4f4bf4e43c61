"""
Plays fuzz rounds against a real in-process server: a pool of logged-in
connections, kept for the whole run, replays a seed script's sends up to
one of them, sends the mutated stanza in its place, and checks what the
server owes every client (RFC 6120):

 - every iq of type C{get} or C{set} (or of no known type) with an id gets
   a reply of type C{result} or C{error} with that id, or the stream ends
   with a stream error;
 - nothing ends in C{internal-server-error} (a stanza error or a stream
   error): that is the server's answer to its own failures;
 - no error is logged (a traceback is a crash, even when answered);
 - a connection never just closes: a stream error comes first;
 - a well-behaved client that takes no part (the sentinel, joined to a room
   of its own) still gets its ping answered and its groupchat echoed.

The pool's clients answer iqs addressed to them with
C{service-unavailable}, as clients must; everything else they receive is
dropped once it has been checked.  What outlives a round in an account and
would silence later rounds (a blocklist) is emptied after it.
"""

from twisted.internet import defer, endpoints, reactor
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.words.xish import domish

from tests.fuzz.seeds import (
    CONNECT,
    DISCONNECT,
    MUC_DOMAIN,
    roomsOfRound,
    slotBare,
    slotResource,
)
from tests.support.client import NS_CLIENT, NS_STREAMS, XMPPTestClient, errorCondition

#: Seconds a reply may take before the round fails (a wait, not a
#: measure: replies take milliseconds).
REPLY_TIMEOUT = 10.0

NS_PING = "urn:xmpp:ping"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_BLOCKING = "urn:xmpp:blocking"

SENTINEL_ROOM = "fuzz-sentinel@" + MUC_DOMAIN
SENTINEL = "sentinel"

#: iq types that are answers: everything else asks for one.
RESPONSE_TYPES = ("result", "error")


class RoundFailure(AssertionError):
    """
    The server broke one of its promises during a round.
    """


class ConnectionEnded(Exception):
    """
    The connection ended while a reply was awaited.

    @ivar condition: the stream error condition received before, or
        L{None} when the connection closed without one.
    """

    def __init__(self, condition):
        Exception.__init__(self, "stream ended (stream error: %s)" % (condition,))
        self.condition = condition


class PoolClient(XMPPTestClient):
    """
    A test client that, once logged in, answers iqs addressed to it, keeps
    nothing, and lets callers wait for a matching stanza.

    @ivar problems: what this client saw that the server must not send
        (C{internal-server-error}s), as text.
    @ivar streamErrorCondition: the condition of the stream error
        received, if any.
    @ivar ending: set when this side closes the stream, so that the end is
        not taken for the server's.
    """

    def __init__(self, domain="localhost"):
        XMPPTestClient.__init__(self, domain)
        self.live = False
        self.waiters = []
        self.problems = []
        self.streamErrorCondition = None
        self.ending = False
        self.replyTimeout = REPLY_TIMEOUT

    def _elementReceived(self, element):
        if not self.live:
            XMPPTestClient._elementReceived(self, element)
            return
        if element.uri == NS_STREAMS and element.name == "error":
            self.streamErrorCondition = errorCondition(element)
            if self.streamErrorCondition == "internal-server-error":
                self.problems.append("stream error: " + element.toXml())
            return
        if element.getAttribute("type") == "error" and errorCondition(element) == "internal-server-error":
            self.problems.append("%s received %s" % (self.jid, element.toXml(defaultUri=NS_CLIENT)))
        if element.name == "iq" and element.getAttribute("type") not in RESPONSE_TYPES:
            self._refuse(element)
        for waiter in self.waiters:
            predicate, d = waiter
            if predicate(element):
                self.waiters.remove(waiter)
                d.callback(element)
                break

    def _refuse(self, iq):
        # RFC 6120 8.2.3: an entity receiving an iq get or set MUST reply.
        sender = iq.getAttribute("from")
        if sender is None or iq.getAttribute("id") is None:
            return
        reply = domish.Element((NS_CLIENT, "iq"))
        reply["type"] = "error"
        reply["to"] = sender
        reply["id"] = iq["id"]
        error = reply.addElement("error")
        error["type"] = "cancel"
        error.addElement((NS_STANZAS, "service-unavailable"))
        self.send(reply)

    def connectionLost(self, reason):
        XMPPTestClient.connectionLost(self, reason)
        waiters, self.waiters = self.waiters, []
        for _, d in waiters:
            d.errback(ConnectionEnded(self.streamErrorCondition))

    def waitFor(self, predicate, timeout=None):
        """
        @return: a Deferred firing with the next stanza received matching
            C{predicate}, failing with L{ConnectionEnded} or a timeout.
        """
        if timeout is None:
            timeout = self.replyTimeout
        d = defer.Deferred()
        if self.closed.called:
            d.errback(ConnectionEnded(self.streamErrorCondition))
            return d
        waiter = (predicate, d)
        self.waiters.append(waiter)

        def cancelled(result):
            if waiter in self.waiters:
                self.waiters.remove(waiter)
            return result

        d.addTimeout(timeout, reactor)
        d.addErrback(cancelled)
        return d

    def waitReply(self, id):
        """
        @return: a Deferred firing with the iq answering C{id}.
        """
        return self.waitFor(
            lambda e: e.name == "iq"
            and e.getAttribute("type") in RESPONSE_TYPES
            and e.getAttribute("id") == id
        )

    def isAlive(self):
        return self.live and not self.closed.called


def expectsReply(stanza):
    """
    @return: whether C{stanza} as sent asks for an iq reply the server
        owes (an iq with an id and a type other than C{result}/C{error}).
    """
    return (
        stanza.name == "iq"
        and stanza.uri == NS_CLIENT
        and stanza.getAttribute("id") is not None
        and stanza.getAttribute("type") not in RESPONSE_TYPES
    )


def parseStanza(xml):
    """
    @param xml: one serialized stanza, in the C{jabber:client} namespace.
    @return: the element as an XML parser reads it, or L{None} when
        C{xml} is not well-formed.
    """
    found = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    try:
        stream.parse(("<r xmlns='%s'>%s</r>" % (NS_CLIENT, xml)).encode("utf-8"))
    except domish.ParserError:
        return None
    return found[0] if len(found) == 1 else None


class LoggedErrors:
    """
    Collects the errors logged while it is started (failures, and events
    at level error or critical).
    """

    def __init__(self):
        self.events = []

    def __call__(self, event):
        if "log_failure" in event or event.get("log_level") in (LogLevel.error, LogLevel.critical):
            self.events.append(event)

    def start(self):
        globalLogPublisher.addObserver(self)

    def stop(self):
        globalLogPublisher.removeObserver(self)

    def take(self):
        """
        @return: the text of the errors logged since the last call (with
            their tracebacks).
        """
        events, self.events = self.events, []
        texts = []
        for event in events:
            text = formatEvent(event)
            failure = event.get("log_failure")
            if failure is not None:
                text += "\n" + failure.getTraceback()
            texts.append(text)
        return texts


class Player:
    """
    The pool of connections and the rounds played with it.

    @ivar port: the c2s port of the server.
    @ivar connections: C{{slot or SENTINEL: PoolClient}}.
    @ivar round: the number of the round being played.
    """

    def __init__(self, port, errors, replyTimeout=REPLY_TIMEOUT):
        self.port = port
        self.replyTimeout = replyTimeout
        self.errors = errors
        self.connections = {}
        self.round = 0
        self.blockers = set()
        self.pings = 0

    @defer.inlineCallbacks
    def connection(self, slot):
        """
        @return: the live connection of C{slot}, logging in again if it
            ended.
        """
        client = self.connections.get(slot)
        if client is not None and client.isAlive():
            return client
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.port, timeout=REPLY_TIMEOUT)
        client = yield endpoints.connectProtocol(endpoint, PoolClient())
        client.replyTimeout = self.replyTimeout
        if slot == SENTINEL:
            username, resource = SENTINEL, "r"
        else:
            username, resource = slotBare(slot[0]).split("@")[0], slotResource(slot[1])
        yield client.login(username, "pw", resource)
        client.live = True
        self.connections[slot] = client
        return client

    @defer.inlineCallbacks
    def startSentinel(self):
        """
        Log the sentinel in and have it create its room.
        """
        sentinel = yield self.connection(SENTINEL)
        sentinel.send(
            "<presence to='%s/watch'><x xmlns='%s'/></presence>" % (SENTINEL_ROOM, NS_MUC)
        )
        reply = yield self._ask(
            sentinel,
            "<iq type='set' id='instant' to='%s'><query xmlns='%s'>"
            "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (SENTINEL_ROOM, NS_MUC_OWNER),
            "instant",
        )
        if reply.getAttribute("type") != "result":
            raise RoundFailure("the sentinel room was not created: " + reply.toXml())

    def _ask(self, client, xml, id):
        d = client.waitReply(id)
        client.send(xml)
        return d

    @defer.inlineCallbacks
    def ping(self, client):
        """
        Ping the server from C{client}: its answer comes after every stanza
        C{client} sent before was handled.
        """
        self.pings += 1
        id = "fuzz-ping-%d" % (self.pings,)
        reply = yield self._ask(
            client, "<iq type='get' id='%s' to='localhost'><ping xmlns='%s'/></iq>" % (id, NS_PING), id
        )
        if reply.getAttribute("type") != "result":
            raise RoundFailure("ping answered with " + reply.toXml())

    @defer.inlineCallbacks
    def checkSentinel(self):
        """
        The sentinel gets a ping answered and its groupchat message
        echoed by its room.
        """
        sentinel = self.connections[SENTINEL]
        if not sentinel.isAlive():
            raise RoundFailure("the sentinel's stream ended (%s)" % (sentinel.streamErrorCondition,))
        yield self.ping(sentinel)
        body = "alive %d" % (self.pings,)
        echo = sentinel.waitFor(
            lambda e: e.name == "message"
            and e.getAttribute("type") == "groupchat"
            and e.body is not None
            and str(e.body) == body
        )
        sentinel.send(
            "<message type='groupchat' to='%s'><body>%s</body></message>" % (SENTINEL_ROOM, body)
        )
        yield echo

    @defer.inlineCallbacks
    def send(self, slot, stanza, checks):
        """
        Send C{stanza} from C{slot} (rooms renamed for the round), then
        wait until the server answered it or handled it.

        @param checks: a list receiving the text of each broken promise.
        """
        client = yield self.connection(slot)
        xml = roomsOfRound(stanza.toXml(defaultUri=NS_CLIENT), self.round)
        if NS_BLOCKING in xml:
            self.blockers.add(slot)
        # What the server reads (attribute values normalized, RFC 6120
        # answers that), or None when it is not even XML.
        parsed = parseStanza(xml)
        try:
            if parsed is not None and expectsReply(parsed):
                id = parsed.getAttribute("id")
                yield self._ask(client, xml, id)
            else:
                client.send(xml)
            if client.isAlive():
                # Answered after the stanza was handled: a crash is logged
                # by then, and the next client's stanza comes after.
                yield self.ping(client)
        except ConnectionEnded as e:
            if client.ending:
                return
            # A stream error is a legal answer to some input (and
            # internal-server-error was noted when received).
            if e.condition is None:
                checks.append("the connection of %s closed without a stream error after %s" % (
                    client.jid, xml))
        except defer.TimeoutError:
            checks.append("no answer from the server to %s sent by %s" % (xml, client.jid))

    @defer.inlineCallbacks
    def unblockAll(self, checks):
        """
        Empty the blocklists (XEP-0191) of the accounts that may have
        blocked someone this round: a blocklist outlives the round, and
        would silence what later rounds send.
        """
        for slot in sorted(self.blockers):
            unblock = domish.Element((NS_CLIENT, "iq"))
            unblock["type"], unblock["id"] = "set", "fuzz-unblock"
            unblock.addElement((NS_BLOCKING, "unblock"))
            yield self.send(slot, unblock, checks)
        self.blockers = set()

    @defer.inlineCallbacks
    def disconnect(self, slot):
        client = self.connections.get(slot)
        if client is not None and client.isAlive():
            client.ending = True
            yield client.close()

    @defer.inlineCallbacks
    def play(self, steps):
        """
        One round: play C{steps} (L{tests.fuzz.seeds.Step}s: a seed's, some
        of their stanzas mutated) in rooms of the round's own, then check
        every promise.

        @raise RoundFailure: a broken promise, with what was sent.
        """
        self.round += 1
        checks = []
        for step in steps:
            if step.kind == CONNECT:
                yield self.connection(step.slot)
            elif step.kind == DISCONNECT:
                yield self.disconnect(step.slot)
            else:
                yield self.send(step.slot, step.stanza, checks)
        yield self.unblockAll(checks)
        try:
            yield self.checkSentinel()
        except (ConnectionEnded, defer.TimeoutError, RoundFailure) as e:
            checks.append("the sentinel got no answer: %r" % (e,))
        for client in self.connections.values():
            checks.extend(client.problems)
            del client.problems[:]
        checks.extend(self.errors.take())
        if checks:
            raise RoundFailure("\n".join(checks))

    @defer.inlineCallbacks
    def close(self):
        for slot in list(self.connections):
            yield self.disconnect(slot)
