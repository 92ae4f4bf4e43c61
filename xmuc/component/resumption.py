"""
Stream Management (XEP-0198) on a component link, when xmuc is at both
ends: what crosses the link is counted and kept until acknowledged, and a
link cut in the middle of traffic resumes where it stopped, nothing lost,
nothing twice.

XEP-0114 has no stream features, and a host that does not know XEP-0198
on component streams ends the stream when it gets an C{<enable/>} (Prosody
0.12: C{unsupported-stanza-type}).  So the accepting xmuc announces it in
its stream header, by declaring the C{urn:xmpp:sm:3} namespace there
(L{announces}): a namespace declaration is something every XML parser
takes in without a word, so components that do not know it are not
affected.  The connecting xmuc sends C{<enable resume='true'/>} (or
C{<resume/>}, after a cut) right after the handshake only when the host
announced it; elsewhere the link simply runs without.

The counting, the queue of unacknowledged stanzas, C{<r/>} and C{<a/>}
and the checks of C{h} are the client streams'
(L{xmuc.c2s.streammanagement.StreamManagement}); what differs on a link:

 - the bounds: a link carries the traffic of many users (a room's fan-out
   in one turn), so it may leave far more unacknowledged
   (L{LINK_MAX_UNACKED}, L{LINK_MAX_UNACKED_BYTES});
 - what is sent again after a resumption is sent as it was: no XEP-0203
   delay (both servers are relays, the final recipient did not get it
   yet);
 - the connecting end (L{ConnectingState}) keeps its queue while the link
   is down and hands it to the next stream: resumed, or, when the host no
   longer knows the link, sent again on a fresh one minus what the host's
   C{<failed h/>} says it handled.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.c2s.streammanagement import ResumptionRegistry, StreamManagement, parseH, smElement
from xmuc.xmpp import ns

log = Logger()

#: Stanzas one link may leave unacknowledged before it is closed with
#: C{resource-constraint} (a client's default is 500: a link carries the
#: fan-out of whole rooms between two acknowledgements).
LINK_MAX_UNACKED = 200000

#: Characters of XML one link may leave unacknowledged.
LINK_MAX_UNACKED_BYTES = 256 * 1024 * 1024


def announces(rootElement):
    """
    @param rootElement: the stream header the host sent.
    @return: whether it announces Stream Management on the component link.
    """
    return ns.STREAM_MANAGEMENT in rootElement.localPrefixes.values()


class LinkStreamManagement(StreamManagement):
    """
    L{StreamManagement} of a component link: stanzas sent again after a
    resumption as they were.
    """

    def _sendAgain(self):
        # Both ends are relays: the final recipient has not got these yet,
        # so they go as they were, without a delay, in one write.
        self.session._stream.write("".join(data for _, data, _ in self.queue).encode("utf-8"))


class LinkRegistry(ResumptionRegistry):
    """
    The resumable links of the accepting end, by resumption id; the
    C{bare} of a link is its component's domain, so only a stream that
    completed the handshake for the same domain resumes it.
    """

    stateClass = LinkStreamManagement

    def __init__(self, timeout, clock):
        ResumptionRegistry.__init__(self, timeout, LINK_MAX_UNACKED, LINK_MAX_UNACKED_BYTES, clock)

    def received(self, authenticator, element):
        """
        A C{urn:xmpp:sm:3} element on an authenticated component stream.
        """
        smState = authenticator.session.streamManagement
        if smState is not None:
            smState.received(element)
        elif element.name == "enable":
            self.enable(authenticator.session, element)
        elif element.name == "resume":
            self.resume(authenticator, element)
        # <r/> and <a/> before <enable/> are ignored, as on client streams.

    def hibernatingFor(self, domain):
        """
        @return: the hibernating link of C{domain}, or L{None}.
        """
        for session in self.hibernating():
            if session.bare == domain:
                return session
        return None

    def acknowledgeBeforeClosing(self, session):
        """
        The stream of C{session} is closed by us: tell the component what
        we handled (XEP-0198 section 4 recommends an C{<a/>} before
        closing), so that it sends again, on its next link, only what we
        never got, and nothing twice.
        """
        smState = session.streamManagement
        if smState is not None and session.connected and not smState.ended:
            session._stream.send(smElement("a", h=smState.handled))

    def endAll(self):
        """
        End every link waiting for a resumption (the server stops).
        """
        for session in self.hibernating():
            session.streamManagement.endHibernation()


class _Link:
    """
    What L{StreamManagement} needs of a session, on the connecting end: the
    current stream of the L{xmuc.component.connect.ComponentLink}.
    """

    def __init__(self, state, domain):
        self._state = state
        self.bare = domain
        self._stream = None
        self._authenticator = self

    @property
    def connected(self):
        return self._stream is not None and not getattr(self._stream, "closing", False)

    # What StreamManagement calls on the "authenticator".

    def streamError(self, condition, text=None):
        log.warn(
            "component link: {condition} ({text}); the link starts again without resumption",
            condition=condition,
            text=text,
        )
        self._state.reset()
        stream = self._stream
        if stream is not None:
            stream.refuse(condition, text)

    def endBecause(self, why):
        log.info("component link: {why}", why=why)

    def _ended(self):
        self._state.reset()


class ConnectingState:
    """
    Stream Management of the connecting end, across the streams of one
    L{xmuc.component.connect.ComponentLink}.

    @ivar streamManagement: the L{LinkStreamManagement} (counts, queue)
        once the host enabled it, kept while the link is down; L{None}
        without.
    @ivar resumptionID: the host's id of the link, or L{None}.
    @ivar enabling: what was sent and not answered yet (C{'enable'},
        C{'resume'}) or L{None}.
    """

    def __init__(self, domain, clock, resumeFailed=lambda: None):
        """
        @param resumeFailed: called when the host refuses to resume the
            link (what was in flight may then be lost: the services
            check what they must).
        """
        self.resumeFailed = resumeFailed
        self.domain = domain
        self.registry = ResumptionRegistry(0, LINK_MAX_UNACKED, LINK_MAX_UNACKED_BYTES, clock)
        self.link = _Link(self, domain)
        self.streamManagement = None
        self.resumptionID = None
        self.enabling = None
        self.resumptions = 0
        self._waiting = []

    def whenEnabled(self):
        """
        @return: a Deferred firing once the host enabled (or resumed)
            Stream Management on the link.
        """
        if self.streamManagement is not None and self.enabling is None:
            return defer.succeed(self)
        d = defer.Deferred()
        self._waiting.append(d)
        return d

    def _settled(self):
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(self)

    def reset(self):
        """
        Forget the counts and the queue (the host cannot resume the link).
        """
        smState = self.streamManagement
        self.streamManagement = None
        self.resumptionID = None
        if smState is not None:
            smState._cancelAckTimers()
            smState.ended = True

    def authenticated(self, xs, offered):
        """
        The handshake on C{xs} succeeded; C{offered} says whether the host
        announced Stream Management (L{announces}).

        @return: whether the link starts afresh (C{False} while a
            C{<resume/>} is answered: stanzas are kept in the queue, and
            if the host resumes the link nothing was lost).
        """
        self.enabling = None
        if not offered:
            if self.streamManagement is not None:
                log.warn(
                    "component link: the host no longer offers stream management; "
                    "{count} unacknowledged stanza(s) sent again",
                    count=len(self.streamManagement.queue),
                )
                pending = [data for _, data, _ in self.streamManagement.queue]
                self.reset()
                self.link._stream = xs
                for data in pending:
                    xs.sendStanza(data)
            self.link._stream = xs
            return True
        if self.streamManagement is not None and self.resumptionID is not None:
            self.enabling = "resume"
            xs.send(smElement("resume", previd=self.resumptionID, h=self.streamManagement.handled))
            return False
        self._enable(xs)
        return True

    def _enable(self, xs):
        pending = []
        if self.streamManagement is not None:
            pending = [data for _, data, _ in self.streamManagement.queue]
            self.reset()
        self.enabling = "enable"
        xs.send(smElement("enable", resume="true"))
        # Counting starts with <enable/> on both sides (XEP-0198 section 4).
        self.streamManagement = LinkStreamManagement(self.link, self.registry, False)
        self.link._stream = xs
        for data in pending:
            self.streamManagement.send(data)

    def lost(self):
        """
        The stream is gone: keep the queue for the next one.
        """
        self.link._stream = None
        smState = self.streamManagement
        if smState is not None:
            # Not resumable or not: what was not acknowledged goes again
            # on the next stream (resumed, or enabled afresh).
            smState._cancelAckTimers()
            smState._awaitingAck = False

    def closing(self, xs):
        """
        We close the stream: tell the host what we handled (XEP-0198
        section 4 recommends an C{<a/>} before closing), so that it bounces
        only what we never got.
        """
        smState = self.streamManagement
        if smState is not None and self.enabling is None:
            xs.send(smElement("a", h=smState.handled))
        self.reset()

    def send(self, stanza):
        """
        Send a stanza (element or serialized text) through the queue.

        @return: whether Stream Management took it (else the caller writes
            it as usual).
        """
        smState = self.streamManagement
        if smState is None:
            return False
        smState.send(stanza)
        return True

    def received(self, xs, element):
        """
        A C{urn:xmpp:sm:3} element from the host.
        """
        name = element.name
        smState = self.streamManagement
        if name == "enabled" and self.enabling == "enable":
            self.enabling = None
            if element.getAttribute("resume") in ("true", "1"):
                self.resumptionID = element.getAttribute("id")
            log.info(
                "component link: stream management enabled{resumable}",
                resumable=" (resumable)" if self.resumptionID else "",
            )
            self._settled()
        elif name == "resumed" and self.enabling == "resume":
            self.enabling = None
            h = parseH(element.getAttribute("h"))
            if h is None or not smState.acknowledge(h):
                xs.refuse("undefined-condition", "impossible 'h' in <resumed/>")
                self.reset()
                return
            self.resumptions += 1
            self.link._stream = xs
            log.info(
                "component link resumed: {count} unacknowledged stanza(s) sent again",
                count=len(smState.queue),
            )
            smState.resumed()
            self._settled()
        elif name == "failed" and self.enabling == "resume":
            h = parseH(element.getAttribute("h"))
            if smState is not None and h is not None:
                smState.acknowledge(h)
            log.info("component link: resumption refused, sending the unacknowledged stanzas again")
            self.resumptionID = None
            self._enable(xs)
            self.resumeFailed()
        elif name == "failed" and self.enabling == "enable":
            self.enabling = None
            pending = [data for _, data, _ in smState.queue] if smState is not None else []
            self.reset()
            self.link._stream = xs
            for data in pending:
                xs.sendStanza(data)
        elif smState is not None and name in ("r", "a"):
            smState.received(element)
        else:
            xs.refuse("unsupported-stanza-type")

    def counted(self):
        """
        A stanza from the host was handled.
        """
        smState = self.streamManagement
        if smState is not None:
            smState.handled = (smState.handled + 1) & 0xFFFFFFFF


