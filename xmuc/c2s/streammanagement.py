"""
Stream Management (XEP-0198, C{urn:xmpp:sm:3}) for client streams.

A L{ClientSession} gets a L{StreamManagement} when its client sends
C{<enable/>} after binding.  From then on every stanza it receives is
counted (the client's C{h}), and every stanza it is sent goes through
L{StreamManagement.send}: kept serialized in a bounded queue until the
client acknowledges it, and written when a connection is attached.

With C{resume='true'} the session can outlive its connection: when the
connection drops without a closing stream tag the session hibernates (it
stays bound: same JID, presence, MUC occupancy; stanzas routed to it are
queued) for C{[c2s] resumption_timeout} seconds.  A new stream
authenticated as the same user sends C{<resume previd h/>} instead of
binding; the L{ResumptionRegistry} decides whether it may take the session
over (L{ResumptionRegistry.resume}): the session moves to the new stream
and gets the unacknowledged stanzas again.  When hibernation times out,
the session ends like any other (unavailable presence, rooms left), and
the session manager decides what becomes of the stanzas never
acknowledged (L{xmuc.interfaces.ISessionManager.undelivered}).

Behaviour follows Prosody 0.12's mod_smacks where the XEP leaves choices:
the hibernation default (600 s), the queue bound (500 stanzas; xmuc also
bounds it in characters, C{[c2s] max_unacked_bytes}, so that a few large
stanzas cannot hold megabytes for the whole hibernation), C{undefined-condition}
for an impossible C{h}, C{resource-constraint} when the queue overflows,
C{<enable/>} before binding refused, C{<r/>} and C{<a/>} before
C{<enable/>} ignored.
"""

import collections
import time

from twisted.logger import Logger
from twisted.words.xish import domish

from xmuc.c2s.connectionlog import describePeer
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import withDelay
from xmuc.xmpp.stanza import parseElement
from xmuc.xmpp.stream import newStreamID
from xmuc.xmpp.xml import toText

log = Logger()


#: C{h} counts modulo 2^32 (XEP-0198 section 4).
_MODULUS = 2**32

#: Seconds without an answer to our C{<r/>} after which the connection is
#: considered dead and aborted (the session then hibernates): on mobile
#: networks TCP notices a vanished peer only after many minutes.
ACK_TIMEOUT = 60.0

#: How many forgotten resumption ids are remembered, so that a late
#: C{<resume/>} gets C{<failed h=.../>} with the final count.
EXPIRED_MEMORY = 1000

_STREAM_PREFIXES = {ns.STREAMS: "stream"}


def serialize(element):
    """
    Serialize a top-level element as the client stream would.

    @param element: a L{domish.Element}.
    @return: the XML text.
    """
    return toText(
        element,
        prefixes=_STREAM_PREFIXES,
        defaultUri=ns.CLIENT,
        prefixesInScope=["stream"],
    )


def smElement(name, **attributes):
    """
    @return: a C{urn:xmpp:sm:3} element with string attributes.
    """
    element = domish.Element((ns.STREAM_MANAGEMENT, name))
    for key, value in attributes.items():
        if value is not None:
            element[key] = str(value)
    return element


def failed(condition, h=None, text=None):
    """
    @return: a C{<failed/>} element with an RFC 6120 stanza error condition.
    """
    element = smElement("failed", h=h)
    element.addElement((ns.XMPP_STANZAS, condition))
    if text:
        element.addElement((ns.XMPP_STANZAS, "text"), content=text)
    return element


def parseH(text):
    """
    @return: the integer value of an C{h} attribute, or L{None} when it is
        missing or not an unsigned 32-bit integer.
    """
    if text is None or not text.isdigit():
        return None
    value = int(text)
    return value if value < _MODULUS else None


def _nameOf(data):
    """
    @return: the element name of a serialized stanza.
    """
    for name in ("message", "presence", "iq"):
        if data.startswith(name, 1):
            return name
    return ""


def _withDelay(data, name, when, sender):
    """
    Add a XEP-0203 delay to a serialized message or presence that has none
    (what Prosody does to queued stanzas): the client learns they are old.
    """
    if name == "iq" or "'%s'" % (ns.DELAY,) in data:
        return data
    return withDelay(data, name, sender, when)


class StreamManagement:
    """
    The XEP-0198 state of one session.

    @ivar session: the L{xmuc.c2s.stream.ClientSession}.
    @ivar handled: stanzas received from the client (its C{h}), mod 2^32.
    @ivar acked: stanzas the client acknowledged so far, mod 2^32.
    @ivar queue: C{(name, serialized, time queued)} of the stanzas sent
        and not acknowledged yet, oldest first.
    @ivar queuedSize: the characters of serialized XML in C{queue}.
    @ivar resumptionID: the C{id} given in C{<enabled/>}, or L{None} when
        the session is not resumable (any more).
    @ivar hibernating: whether the session waits for a resumption.
    @ivar ended: set once the session is over: nothing is queued any more.
    """

    def __init__(self, session, registry, resumable):
        """
        @param session: the L{xmuc.c2s.stream.ClientSession}.
        @param registry: the L{ResumptionRegistry}.
        @param resumable: whether the client asked for resumption (and the
            server allows it).
        """
        self.session = session
        self.registry = registry
        self.handled = 0
        self.acked = 0
        self.queue = collections.deque()
        self.queuedSize = 0
        self.maxUnacked = registry.maxUnacked
        self.maxUnackedSize = registry.maxUnackedSize
        self.resumptionID = registry.register(session) if resumable else None
        self.hibernating = False
        self.ended = False
        self._awaitingAck = False
        self._requestedAt = None
        self._requestCall = None
        self._ackTimer = None
        self._hibernationTimer = None

    # --- outgoing stanzas

    def send(self, stanza):
        """
        Queue a stanza until acknowledged, and write it when connected.

        @param stanza: a L{domish.Element} or serialized L{str} (only
            message, presence and iq are given to sessions).
        """
        if self.ended:
            return
        if isinstance(stanza, str):
            data = stanza
            name = _nameOf(data)
        else:
            data = serialize(stanza)
            name = stanza.name
        queue = self.queue
        queue.append((name, data, time.time()))
        self.queuedSize += len(data)
        if len(queue) > self.maxUnacked or self.queuedSize > self.maxUnackedSize:
            self._overflow()
            return
        session = self.session
        if session.connected:
            session._stream.write(data.encode("utf-8"))
            if not self._awaitingAck and self._requestCall is None:
                # One request per burst of stanzas (a MUC fan-out sends
                # many in one reactor turn).
                self._requestCall = self.registry.clock.callLater(0, self._requestAck)

    def _overflow(self):
        log.info(
            "{session!r}: {count} stanzas ({size} characters) not acknowledged, ending the session",
            session=self.session,
            count=len(self.queue),
            size=self.queuedSize,
        )
        _, data, _ = self.queue.pop()
        self.queuedSize -= len(data)
        self.forgetResumption()
        if self.hibernating:
            self.endHibernation()
        else:
            self.ended = True
            self.session._authenticator.streamError(
                "resource-constraint", "too many unacknowledged stanzas"
            )

    def _requestAck(self):
        self._requestCall = None
        session = self.session
        if self._awaitingAck or not session.connected or not self.queue:
            return
        self._awaitingAck = True
        self._requestedAt = (self.acked + len(self.queue)) % _MODULUS
        session._stream.write(b"<r xmlns='urn:xmpp:sm:3'/>")
        if self._ackTimer is None:
            self._ackTimer = self.registry.clock.callLater(
                self.registry.ackTimeout, self._ackTimedOut
            )

    def _ackTimedOut(self):
        self._ackTimer = None
        session = self.session
        if session.connected:
            session._authenticator.endBecause(
                "timeout: no acknowledgement within %d s" % (self.registry.ackTimeout,)
            )
            session._stream.transport.abortConnection()

    def _cancelAckTimers(self):
        for call in (self._requestCall, self._ackTimer):
            if call is not None and call.active():
                call.cancel()
        self._requestCall = self._ackTimer = None

    # --- elements from the client

    def received(self, element):
        """
        A C{urn:xmpp:sm:3} element on the stream of the bound session.
        """
        name = element.name
        if name == "r":
            self.session._stream.send(smElement("a", h=self.handled))
        elif name == "a":
            self._ackReceived(element)
        elif name in ("enable", "resume"):
            self.session._stream.send(
                failed("unexpected-request", text="stream management is already enabled")
            )
        else:
            self.session._authenticator.streamError("unsupported-stanza-type")

    def _ackReceived(self, element):
        h = parseH(element.getAttribute("h"))
        authenticator = self.session._authenticator
        if h is None:
            authenticator.streamError("invalid-xml", "missing or invalid 'h'")
            return
        if not self.acknowledge(h):
            authenticator.streamError(
                "undefined-condition", "acknowledged more stanzas than were sent"
            )
            return
        if self._awaitingAck:
            self._awaitingAck = False
            if self._ackTimer is not None:
                if self._ackTimer.active():
                    self._ackTimer.cancel()
                self._ackTimer = None
            if self.queue and (self.acked + len(self.queue)) % _MODULUS != self._requestedAt:
                # Stanzas were sent after our last request.
                self._requestAck()

    def acknowledge(self, h):
        """
        The client handled C{h} stanzas in total: forget those.

        @return: whether C{h} is possible (not more than were sent, not less
            than already acknowledged).
        """
        count = (h - self.acked) % _MODULUS
        queue = self.queue
        if count > len(queue):
            return False
        for _ in range(count):
            self.queuedSize -= len(queue.popleft()[1])
        self.acked = h
        return True

    # --- hibernation and resumption

    def hibernate(self, timeout):
        """
        The connection is gone: wait C{timeout} seconds for a resumption.
        """
        self.hibernating = True
        self._cancelAckTimers()
        self._awaitingAck = False
        self._hibernationTimer = self.registry.clock.callLater(timeout, self._hibernationOver)
        log.debug("{session!r} hibernating", session=self.session)

    def _hibernationOver(self):
        self._hibernationTimer = None
        log.info("{session!r} was not resumed in time: session ended", session=self.session)
        self.endHibernation()

    def endHibernation(self):
        """
        End a hibernating session now: unbind it and bounce what it was
        never given.
        """
        if not self.hibernating:
            return
        self._wake()
        self.forgetResumption()
        self.session._ended()

    def _wake(self):
        """
        Not hibernating (any more): stop the hibernation timer.
        """
        self.hibernating = False
        if self._hibernationTimer is not None and self._hibernationTimer.active():
            self._hibernationTimer.cancel()
        self._hibernationTimer = None

    def forgetResumption(self):
        """
        The session can no longer be resumed.
        """
        if self.resumptionID is not None:
            self.registry.forget(self.resumptionID, self.handled)
            self.resumptionID = None

    def resumed(self):
        """
        The session is attached to a new connection: send again what the
        client has not acknowledged (with their original delay), then ask
        for an acknowledgement.
        """
        self._wake()
        self._cancelAckTimers()
        self._awaitingAck = False
        if self.queue:
            self._sendAgain()
            self._requestAck()

    def _sendAgain(self):
        """
        Write again every unacknowledged stanza, with a XEP-0203 delay of
        when it was first sent.
        """
        sender = self.session.bare
        # One write per stanza, as everywhere else: a WebSocket stream
        # sends each write as one message (RFC 7395: one element each).
        # The transport still sends them together.
        write = self.session._stream.write
        for name, data, stamp in self.queue:
            write(_withDelay(data, name, stamp, sender).encode("utf-8"))

    def end(self):
        """
        The session is over: stop the timers, forget the resumption, and
        give back the stanzas never acknowledged.

        @return: the unacknowledged stanzas (L{domish.Element}s), oldest
            first.
        """
        self.ended = True
        self._wake()
        self._cancelAckTimers()
        self.forgetResumption()
        queue, self.queue = self.queue, collections.deque()
        self.queuedSize = 0
        unacknowledged = []
        for _, data, _ in queue:
            try:
                unacknowledged.append(parseElement(data))
            except ValueError:
                continue
        return unacknowledged


class ResumptionRegistry:
    """
    Stream Management for the streams of a client stream factory: the
    C{urn:xmpp:sm:3} elements before and after binding, and the resumable
    sessions by resumption id.

    @ivar timeout: C{[c2s] resumption_timeout}; 0 means no resumption.
    @ivar maxUnacked: C{[c2s] max_unacked}.
    @ivar maxUnackedSize: C{[c2s] max_unacked_bytes}.
    @ivar ackTimeout: seconds an C{<r/>} may stay unanswered.
    @ivar clock: the L{IReactorTime} for every timer.
    """

    #: The L{StreamManagement} (sub)class of the sessions that enable it.
    stateClass = StreamManagement

    def __init__(self, timeout, maxUnacked, maxUnackedSize, clock):
        self.timeout = timeout
        self.maxUnacked = maxUnacked
        self.maxUnackedSize = maxUnackedSize
        self.ackTimeout = ACK_TIMEOUT
        self.clock = clock
        self._sessions = {}
        self._expired = collections.OrderedDict()

    def register(self, session):
        """
        @return: a new resumption id for C{session}.
        """
        resumptionID = newStreamID(12)
        self._sessions[resumptionID] = session
        return resumptionID

    def forget(self, resumptionID, handled):
        """
        The session of C{resumptionID} ended or was resumed elsewhere;
        remember its final count for a late resumption attempt.
        """
        session = self._sessions.pop(resumptionID, None)
        if session is None:
            return
        self._expired[resumptionID] = (session.bare, handled)
        if len(self._expired) > EXPIRED_MEMORY:
            self._expired.popitem(last=False)

    def find(self, resumptionID, bare):
        """
        @param bare: the authenticated user (bare JID str) of the stream
            asking.
        @return: C{(session, None)} for a resumable session of C{bare},
            else C{(None, h)} with the final count of an ended one, or
            C{(None, None)}.
        """
        session = self._sessions.get(resumptionID)
        if session is not None and session.bare == bare:
            return session, None
        expired = self._expired.get(resumptionID)
        if expired is not None and expired[0] == bare:
            return None, expired[1]
        return None, None

    def hibernating(self):
        """
        @return: the sessions waiting for a resumption.
        """
        return [
            s
            for s in self._sessions.values()
            if s.streamManagement is not None and s.streamManagement.hibernating
        ]

    # --- the elements of the negotiation

    def beforeBind(self, authenticator, element):
        """
        A C{urn:xmpp:sm:3} element on an authenticated stream before a
        resource is bound: only C{<resume/>} is possible there.
        """
        name = element.name
        if name == "resume":
            return self.resume(authenticator, element)
        if name == "enable":
            authenticator.xmlstream.send(
                failed("unexpected-request", text="bind a resource before enabling stream management")
            )
        elif name not in ("r", "a"):
            authenticator.streamError("unsupported-stanza-type")

    def afterBind(self, authenticator, element):
        """
        A C{urn:xmpp:sm:3} element from a bound session.
        """
        smState = authenticator.session.streamManagement
        if smState is not None:
            smState.received(element)
        elif element.name == "enable":
            self.enable(authenticator.session, element)
        elif element.name == "resume":
            authenticator.xmlstream.send(failed("unexpected-request", text="a resource is bound"))
        # <r/> and <a/> before <enable/> are ignored, like Prosody does.

    def enable(self, session, element):
        """
        C{<enable/>} from a bound session: count and keep its stanzas from
        now on, resumable when the client asks and the server allows it.
        """
        resumable = element.getAttribute("resume") in ("true", "1") and self.timeout > 0
        smState = self.stateClass(session, self, resumable)
        session.streamManagement = smState
        if resumable:
            enabled = smElement("enabled", id=smState.resumptionID, resume="true", max=int(self.timeout))
        else:
            enabled = smElement("enabled")
        session._stream.send(enabled)

    def resume(self, authenticator, element):
        """
        C{<resume previd h/>} on an authenticated stream: the stream takes
        over the session it names if that session belongs to the same
        user and is still resumable (hibernating, or on a connection that
        is then closed with C{conflict}), and C{h} is possible; otherwise
        C{<failed/>}, with the final count of a session that ended.
        """
        xs = authenticator.xmlstream
        previd = element.getAttribute("previd")
        h = parseH(element.getAttribute("h"))
        if not previd or h is None:
            xs.send(failed("bad-request", text="'previd' and 'h' are required"))
            return
        session, lastHandled = self.find(previd, authenticator.session.bare)
        if session is None:
            xs.send(failed("item-not-found", h=lastHandled))
            return
        smState = session.streamManagement
        if not smState.acknowledge(h):
            xs.send(failed("undefined-condition", h=smState.handled))
            smState.forgetResumption()
            session.disconnect("undefined-condition", "acknowledged more stanzas than were sent")
            return
        old = session._authenticator
        # The old stream must not end the session when it closes.
        old.session = None
        if not smState.hibernating:
            old.streamError("conflict", "resumed on another connection")
        authenticator.resumed(session)
        log.info(
            "{session!r} resumed from {peer}",
            session=session,
            peer=describePeer(xs.transport.getPeer()),
        )
        xs.send(smElement("resumed", previd=previd, h=smState.handled))
        smState.resumed()
