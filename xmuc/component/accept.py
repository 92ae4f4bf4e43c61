"""
External components attached to xmuc: the accepting end of the Jabber
Component Protocol (XEP-0114), C{[components]} in the configuration.

Each domain of C{[components] secrets} is an L{ExternalComponent} in the
router from the start: while its component is connected, every stanza for
the domain goes down the component's stream; while it is not, the sender
gets the error Prosody 0.12 answers (mod_component: "Component not
connected, bouncing error": C{<remote-server-timeout/>} of type C{wait},
"Component unavailable"), nothing is queued (unless the link enabled
Stream Management and waits to be resumed: L{xmuc.component.resumption}).
Fan-out text (L{xmuc.xmpp.serialized}) is written down the stream as it
is (L{ExternalComponent.receiveSerialized}).  What the component sends is
routed like any local entity's stanzas, once its C{from} is checked to be
in its domain.

The handshake is Twisted Words' L{component.ListenComponentAuthenticator}
(the SHA-1 of stream id and secret, L{xmlstream.hashPassword}) with what
it lacks for a server serving several domains to untrusted peers: the
secret looked up by the domain of the stream header (C{host-unknown} for
an unknown one), the token compared in constant time, input before the
handshake refused with C{not-authorized}, and no XPath observer on the
per-stanza path (elements go straight to L{ComponentAuthenticator}).

The rules where XEP-0114 says nothing follow Prosody's mod_component: a
stanza without C{from} gets the component's domain, one without C{to} a
C{bad-request} error, a C{from} outside the domain ends the stream with
C{invalid-from}; a second connection for a connected domain is refused
(C{kick_new}, Prosody's default) or replaces the first (C{kick_old}),
with C{conflict} either way.

Stanzas of a component stream are in C{jabber:component:accept}; inside
the server they take C{jabber:client} (L{stanzaToClient}), the
namespace every other part expects, and going out they are written
without a default namespace, which the receiving stream's provides (as
the serialize-once fan-out text already is).
"""

import hmac

from twisted.application import service
from twisted.internet import defer, endpoints, interfaces
from twisted.logger import Logger
from twisted.words.protocols.jabber import component, error, jid as jidmod, xmlstream
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.c2s.limits import ConnectionLimits, LimitedStream
from xmuc.component import resumption
from xmuc.interfaces import IComponent
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply, isError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stream import CLOSE_TIMEOUT, GuardedXmlStream, newStreamID
from xmuc.xmpp.xml import STANZA_NAMES, stanzaToClient, toText

log = Logger()

#: Stanzas come in the stream's namespace, or in jabber:client from
#: libraries that write that one (slixmpp's use_jc_ns), which Prosody
#: takes too.
_STANZA_NAMESPACES = frozenset((ns.COMPONENT, ns.CLIENT))

#: Seconds a component has, from connecting, to complete its handshake.
HANDSHAKE_TIMEOUT = 30.0

#: The prefixes of what xmuc writes on a component stream.
_PREFIXES = {ns.STREAMS: "stream"}


def serialize(element):
    """
    @param element: a stanza (L{domish.Element}) in C{jabber:client} or
        without namespace.
    @return: its XML text with no default namespace declared on it: the
        component stream's applies.
    """
    return toText(element, prefixes=_PREFIXES, defaultUri=ns.CLIENT, prefixesInScope=["stream"])


def unavailable(stanza):
    """
    @return: the error Prosody answers for a configured component that is
        not connected, or L{None} for a stanza that must not be answered:
        an error or a result (RFC 6120 section 8.3.1), and, unlike
        Prosody, an unavailable presence (its sender is leaving: the
        answer would only tell it what it already ends, and a room that
        removes an occupant for the error presence would be told again).
    """
    kind = stanza.getAttribute("type")
    if kind in ("error", "result") or not stanza.getAttribute("from"):
        return None
    if kind == "unavailable" and stanza.name == "presence":
        return None
    return errorReply(stanza, "remote-server-timeout", text="Component unavailable", type="wait", payload=False)


@implementer(IComponent)
class ExternalComponent:
    """
    The router's entry for one configured component domain.

    @ivar domain: the domain.
    @ivar secret: the shared secret of its handshake.
    @ivar link: the L{LinkSession} carrying the domain's stanzas (connected,
        or waiting for a resumption), or L{None}.
    """

    def __init__(self, domain, secret, router):
        self.domain = domain
        self.secret = secret
        self.router = router
        self.link = None

    def __repr__(self):
        return "<ExternalComponent %s>" % (self.domain,)

    def receive(self, stanza):
        """
        A stanza for the component's domain: down its link, or bounced.
        """
        link = self.link
        if link is not None:
            link.send(stanza)
            return
        self.bounce(stanza)

    def receiveSerialized(self, data, build):
        """
        The router's fan-out path: a stanza serialized once for many
        recipients (L{xmuc.xmpp.serialized}), written down the link as it
        is; C{build} makes the element only to bounce it.
        """
        link = self.link
        if link is not None:
            link.send(data)
            return
        self.bounce(build())

    def bounce(self, stanza):
        """
        Answer C{stanza} as for a component that is not connected.
        """
        reply = unavailable(stanza)
        if reply is not None:
            self.router.route(reply)


class LinkSession:
    """
    One authenticated link of a component: what the router's entry sends
    to, across the streams that carry it (one, or more when Stream
    Management resumes it on a new connection).

    @ivar entry: the L{ExternalComponent}.
    @ivar bare: its domain (what a resumption must authenticate as).
    @ivar connected: whether a stream carries it now.
    @ivar streamManagement: the L{resumption.LinkStreamManagement} once the
        component enabled XEP-0198, else L{None}.
    """

    streamManagement = None

    def __init__(self, authenticator, entry):
        self.entry = entry
        self.bare = entry.domain
        self._authenticator = authenticator
        self._stream = authenticator.xmlstream
        self.connected = True
        self._over = False

    def __repr__(self):
        return "<component link %s>" % (self.bare,)

    def send(self, stanza):
        """
        Send a stanza (element or serialized text) to the component.
        """
        smState = self.streamManagement
        if smState is not None:
            smState.send(stanza)
        elif self.connected:
            self._stream.send(stanza)

    def resumable(self):
        """
        @return: whether a new stream may take this link over.
        """
        smState = self.streamManagement
        return smState is not None and smState.resumptionID is not None and not self._over

    def hibernating(self):
        smState = self.streamManagement
        return smState is not None and smState.hibernating

    def attach(self, authenticator):
        """
        Move the link to the stream of C{authenticator} (a resumption).
        """
        self._authenticator = authenticator
        self._stream = authenticator.xmlstream
        self.connected = True

    def disconnect(self, condition=None, text=None):
        """
        End the link: its stream with C{condition}, or its wait.
        """
        smState = self.streamManagement
        if smState is not None and smState.hibernating:
            smState.endHibernation()
        elif condition is not None:
            self._authenticator.streamError(condition, text)
        else:
            self._authenticator.close()

    def _ended(self):
        # StreamManagement: the wait for a resumption is over.
        self.end()

    def end(self):
        """
        The link is over: the domain's stanzas are bounced from now on,
        and so are those it was given and never acknowledged.
        """
        if self._over:
            return
        self._over = True
        self.connected = False
        entry = self.entry
        if entry.link is self:
            entry.link = None
        smState = self.streamManagement
        if smState is not None:
            for stanza in smState.end():
                entry.bounce(stanza)


@implementer(interfaces.IPushProducer)
class SendBacklog:
    """
    Registered as the streaming producer of a component connection's
    transport, which pauses it while its write buffer is full: what is
    written meanwhile is counted, and past C{limit} bytes the component,
    which does not read what it is sent, is cut off (its stanzas would
    otherwise pile up in the server's memory without end).

    @ivar full: whether the transport's buffer is full.
    @ivar backlog: bytes written since it is.
    """

    full = False
    backlog = 0

    def __init__(self, stream, limit):
        self.stream = stream
        self.limit = limit

    def pauseProducing(self):
        # Called again on every write while the buffer is full.
        if not self.full:
            self.full = True
            self.backlog = 0

    def resumeProducing(self):
        self.full = False

    def stopProducing(self):
        self.full = False

    aborted = False

    def written(self, size):
        self.backlog += size
        if self.backlog > self.limit and not self.aborted:
            # Nothing more can reach it: no stream error, the connection
            # goes (a link with Stream Management then waits for a
            # resumption, as after any cut).
            self.aborted = True
            self.stream.authenticator.endBecause(
                "the component did not read %d bytes it was sent: connection aborted" % (self.backlog,)
            )
            self.stream.transport.abortConnection()


class ComponentXmlStream(LimitedStream, GuardedXmlStream):
    """
    One component connection: parsing with the limits of client streams
    (C{[server] max_stanza_size}, C{max_stanza_elements}, the parser
    guards of L{xmuc.xmpp.xml}), elements straight to the authenticator.
    """

    # The limits' state is that of xmuc.c2s.limits ([components] keys);
    # the output is bounded by the SendBacklog.
    sendBacklog = None
    # Stanzas are handled as jabber:client (stanzaToClient): their
    # payloads are built so.
    parserNamespace = ns.COMPONENT

    def __init__(self, authenticator):
        GuardedXmlStream.__init__(self, authenticator)
        self.maxStanzaSize = authenticator.factory.maxStanzaSize
        self.maxStanzaElements = authenticator.factory.maxStanzaElements
        self.prefixes = dict(_PREFIXES)

    def dataReceived(self, data):
        if self.closing:
            return
        self._parse(self.stream, data)
        if self.readRate is not None and not self.closing:
            self.readRate.consumed(len(data))

    def write(self, data):
        """
        Write serialized bytes (counted while the transport's buffer is
        full, see L{SendBacklog}).
        """
        self.transport.write(data)
        backlog = self.sendBacklog
        if backlog is not None and backlog.full:
            backlog.written(len(data))

    def send(self, obj):
        """
        Send an element (see L{serialize}) or XML text.
        """
        if domish.IElement.providedBy(obj):
            obj = serialize(obj)
        if isinstance(obj, str):
            obj = obj.encode("utf-8")
        self.write(obj)

    def connectionLost(self, reason):
        xmlstream.XmlStream.connectionLost(self, reason)
        self.authenticator.connectionLost(reason)


class ComponentAuthenticator(component.ListenComponentAuthenticator):
    """
    Negotiates one component stream (header, handshake, conflicts) and
    then carries its link's stanzas both ways.

    @ivar factory: the L{ComponentStreamFactory}.
    @ivar entry: the L{ExternalComponent} of the domain asked for, once
        the header named a configured one.
    @ivar session: the L{LinkSession} once the handshake succeeded.
    @ivar authenticated: whether the stream carries a link.
    """

    entry = None
    session = None
    authenticated = False

    def __init__(self, factory):
        component.ListenComponentAuthenticator.__init__(self, None)
        self.factory = factory
        self._timer = None
        self._closeTimer = None
        self._why = None
        # The link of the domain when this stream completed its handshake,
        # if that one may still be resumed: the first element decides.
        self._previous = None

    def __repr__(self):
        return "<component stream %s>" % (self.entry.domain if self.entry else "?",)

    # --- connection life cycle

    def connectionMade(self):
        xs = self.xmlstream
        xs.namespace = ns.COMPONENT
        self.factory.streams.add(xs)
        refused = self.factory.limits.admit(xs)
        if refused is not None:
            return self.streamError(*refused)
        setNoDelay = getattr(xs.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        if self.factory.maxSendBacklog:
            xs.sendBacklog = SendBacklog(xs, self.factory.maxSendBacklog)
            xs.transport.registerProducer(xs.sendBacklog, True)
        self._timer = self.factory.clock.callLater(
            HANDSHAKE_TIMEOUT, self.streamError, "connection-timeout", "no handshake in time"
        )

    def connectionLost(self, reason):
        xs = self.xmlstream
        abrupt = not xs.closing
        xs.closing = True
        self.factory.streams.discard(xs)
        self.factory.limits.gone(xs)
        for timer in (self._timer, self._closeTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._timer = self._closeTimer = None
        if self.authenticated:
            why = self._why or ("connection lost (%s)" % (reason.getErrorMessage(),) if abrupt else "closed")
            self._detach(abrupt, why)

    def _detach(self, abrupt, why):
        """
        The stream no longer carries its link.

        @param abrupt: whether the connection was lost without a closing
            stream tag (a resumable link then waits for its component).
        """
        self.authenticated = False
        session, self.session = self.session, None
        if session is None:
            return
        session.connected = False
        smState = session.streamManagement
        if abrupt and session.resumable():
            smState.hibernate(self.factory.resumption.timeout)
            why += "; resumable for %d s" % (self.factory.resumption.timeout,)
        else:
            session.end()
        log.info("component {domain} disconnected: {why}", domain=session.bare, why=why)

    def endBecause(self, why):
        """
        Record why the connection ends (the first reason counts).
        """
        if self._why is None:
            self._why = why

    def streamError(self, condition, text=None):
        """
        Send a stream error and close the connection.
        """
        xs = self.xmlstream
        if xs.closing:
            return
        self._closing("stream error %s sent%s" % (condition, ": %s" % (text,) if text else ""))
        if not xs.sid:
            xs.sid = newStreamID(12)
        xs.sendStreamError(error.StreamError(condition, text))
        self._abortLater()

    def close(self, why="closed by the server"):
        """
        Close the stream without error.

        @return: a Deferred firing once the connection is gone.
        """
        xs = self.xmlstream
        closed = self.factory.whenGone(xs)
        if not xs.closing:
            self._closing(why)
            if xs._headerSent:
                xs.sendFooter()
            xs.transport.loseConnection()
            self._abortLater()
        return closed

    def _closing(self, why):
        if self.authenticated and self.session is not None:
            self.factory.resumption.acknowledgeBeforeClosing(self.session)
        self.xmlstream.closing = True
        # Whatever held the input lets go (what is read now is ignored).
        self.factory.limits.closing(self.xmlstream)
        self.endBecause(why)
        if self.authenticated:
            # Nothing may follow our closing tag: the link ends now.
            self._detach(False, self._why)

    def _abortLater(self):
        if self._closeTimer is None:
            self._closeTimer = self.factory.clock.callLater(
                CLOSE_TIMEOUT, self.xmlstream.transport.abortConnection
            )

    def streamEnded(self):
        self.close("the component closed the stream")

    # --- negotiation

    def streamStarted(self, rootElement):
        """
        The component's stream header: C{jabber:component:accept}, addressed
        to a configured component domain.
        """
        xs = self.xmlstream
        xs.sid = newStreamID(12)
        if rootElement.uri != ns.STREAMS or rootElement.name != "stream":
            return self.streamError("invalid-namespace")
        if rootElement.defaultUri != ns.COMPONENT:
            return self.streamError("invalid-namespace")
        to = rootElement.getAttribute("to")
        if not to:
            return self.streamError("improper-addressing", "a 'to' attribute is required on stream headers")
        parsed = parseJID(to)
        entry = self.factory.components.get(parsed.host) if parsed is not None and not parsed.user else None
        if entry is None:
            return self.streamError("host-unknown", "no external component is configured for this domain")
        self.entry = entry
        self.secret = entry.secret
        xs.thisEntity = jidmod.JID(entry.domain)
        # Announces Stream Management (see xmuc.component.resumption).
        xs.prefixes = dict(_PREFIXES)
        xs.prefixes[ns.STREAM_MANAGEMENT] = "sm"
        xs.sendHeader()
        xs.prefixes = dict(_PREFIXES)

    def elementReceived(self, element):
        if self.authenticated:
            if self._previous is not None:
                return self._settle(element)
            if element.uri in _STANZA_NAMESPACES and element.name in STANZA_NAMES:
                return self.stanzaReceived(element)
            return self._nonStanza(element)
        if self.entry is None or self.xmlstream.closing:
            return self.streamError("not-authorized")
        if element.uri == ns.COMPONENT and element.name == "handshake" and not list(element.elements()):
            return self.onHandshake(str(element))
        self.streamError("not-authorized")

    def onHandshake(self, handshake):
        """
        Compare the token with the expected one (in constant time), then
        apply the C{[components] conflict} rule.
        """
        xs = self.xmlstream
        expected = xmlstream.hashPassword(xs.sid, self.secret)
        if not hmac.compare_digest(handshake.strip().lower().encode("utf-8"), expected.encode("ascii")):
            log.info(
                "component handshake for {domain} failed from {peer}",
                domain=self.entry.domain,
                peer=_describe(xs.transport.getPeer()),
            )
            return self.streamError("not-authorized", "given token does not match calculated token")
        entry = self.entry
        previous = entry.link
        if previous is not None and not previous.resumable():
            if not self._resolveConflict(previous):
                return
            previous = None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self.authenticated = True
        self.factory.limits.authenticated(xs)
        self.session = LinkSession(self, entry)
        if previous is None:
            entry.link = self.session
        else:
            self._previous = previous
        xs.send("<handshake/>")
        log.info(
            "component {domain} connected from {peer}",
            domain=entry.domain,
            peer=_describe(xs.transport.getPeer()),
        )

    def _resolveConflict(self, previous):
        """
        A link of the domain exists: C{[components] conflict} says which
        stream goes, with C{conflict}.

        @return: whether this stream stays.
        """
        if previous.hibernating():
            previous.end()
            return True
        if self.factory.conflict == "kick_new":
            self.streamError("conflict", "component already connected")
            return False
        previous.disconnect("conflict", "replaced by a new connection")
        return True

    def _settle(self, element):
        """
        The first element after the handshake of a stream whose domain has
        a resumable link: a C{<resume/>} takes it over; anything else
        starts a new link, as a second connection of the domain.
        """
        previous, self._previous = self._previous, None
        resuming = element.uri == ns.STREAM_MANAGEMENT and element.name == "resume"
        if resuming:
            self.factory.resumption.resume(self, element)
            if self.session is previous or self.xmlstream.closing:
                return
        if previous.entry.link is previous and not self._resolveConflict(previous):
            return
        self.entry.link = self.session
        if not resuming:
            self.elementReceived(element)

    def resumed(self, session):
        """
        C{session} moved to this stream (XEP-0198 resumption).
        """
        session.attach(self)
        self.session = session
        session.entry.link = session

    # --- stanzas

    def stanzaReceived(self, stanza):
        """
        A stanza from the component: checked, then routed.
        """
        session = self.session
        smState = session.streamManagement
        if smState is not None:
            smState.handled = (smState.handled + 1) & 0xFFFFFFFF
        domain = session.bare
        sender = stanza.getAttribute("from")
        if sender is None:
            # Prosody's COMPAT: a stanza without 'from' is the domain's.
            stanza["from"] = domain
        else:
            parsed = parseJID(sender)
            if parsed is None or parsed.host != domain:
                # XEP-0114 section 3: the component sends "from" its domain.
                return self.streamError("invalid-from", "'from' must be in %s" % (domain,))
        stanzaToClient(stanza, ns.COMPONENT)
        if not stanza.getAttribute("to"):
            if not isError(stanza):
                session.send(
                    errorReply(stanza, "bad-request", text="Components MUST specify a 'to' address on stanzas", payload=False)
                )
            return
        try:
            self.factory.router.route(stanza)
        except Exception:
            log.failure("routing a stanza from component {domain} failed", domain=domain)

    def _nonStanza(self, element):
        if element.uri == ns.STREAM_MANAGEMENT:
            return self.factory.resumption.received(self, element)
        if element.uri == ns.STREAMS and element.name == "error":
            return self.close("the component sent a stream error")
        self.streamError("unsupported-stanza-type")


def _describe(address):
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    return "%s port %s" % (host, port) if host is not None else str(address)


class ComponentStreamFactory(xmlstream.XmlStreamServerFactory):
    """
    Builds the component streams of the C{[components]} listeners.

    @ivar components: C{{domain: L{ExternalComponent}}}.
    @ivar conflict: C{'kick_old'} or C{'kick_new'}.
    @ivar streams: the open L{ComponentXmlStream}s.
    @ivar resumption: the L{resumption.LinkRegistry} of resumable links.
    @ivar maxSendBacklog: C{[components] max_send_backlog} (0: no limit).
    @ivar limits: the L{ConnectionLimits} of the connections: per address,
        before the handshake (C{[components] max_connections_per_ip},
        C{max_unauthenticated}), the read rate (C{read_rate},
        C{read_burst}).
    """

    protocol = ComponentXmlStream
    noisy = False

    def __init__(
        self,
        router,
        components,
        conflict,
        maxStanzaSize,
        maxStanzaElements,
        clock,
        resumptionTimeout=600.0,
        maxSendBacklog=0,
        limits=None,
    ):
        """
        @param limits: the L{ConnectionLimits} of the connections (per
            address, before the handshake, read rate); default: none.
        """
        xmlstream.XmlStreamServerFactory.__init__(self, lambda: ComponentAuthenticator(self))
        self.limits = limits if limits is not None else ConnectionLimits(clock, watchOutput=False)
        self.router = router
        self.components = components
        self.conflict = conflict
        self.maxStanzaSize = maxStanzaSize
        self.maxStanzaElements = maxStanzaElements
        self.maxSendBacklog = maxSendBacklog
        self.clock = clock
        self.streams = set()
        self._gone = {}
        self.resumption = resumption.LinkRegistry(resumptionTimeout, clock)

    def whenGone(self, xs):
        """
        @return: a Deferred firing once the connection of C{xs} is lost.
        """
        d = defer.Deferred()
        if xs not in self.streams:
            d.callback(None)
        else:
            self._gone.setdefault(xs, []).append(d)
        return d

    def buildProtocol(self, addr):
        xs = xmlstream.XmlStreamServerFactory.buildProtocol(self, addr)
        lost = xs.connectionLost

        def connectionLost(reason):
            lost(reason)
            for d in self._gone.pop(xs, []):
                d.callback(None)

        xs.connectionLost = connectionLost
        return xs

    def disconnectAll(self, condition="system-shutdown"):
        """
        Close every component stream with C{condition}, and end the links
        waiting for a resumption.

        @return: a Deferred firing when the connections are gone.
        """
        waits = []
        for xs in list(self.streams):
            waits.append(self.whenGone(xs))
            xs.authenticator.streamError(condition)
        self.resumption.endAll()
        return defer.gatherResults(waits).addCallback(lambda _: None)


class ComponentService(service.Service):
    """
    The C{[components]} part of the server: one L{ExternalComponent} in the
    router per configured domain, and the listeners.

    @ivar factory: the L{ComponentStreamFactory}.
    @ivar ports: the listening ports once listening.
    @ivar listening: Deferred firing with the list of ports.
    """

    def __init__(self, server, reactor):
        """
        @param server: the L{xmuc.server.XmucServer}.
        @raise xmuc.config.ConfigError: for a component domain the server
            already serves, or listeners without any component domain.
        """
        config = server.config
        if not config.get("components", "secrets"):
            raise config.error("components", "listen", "no component domain in [components] secrets")
        self.reactor = reactor
        self.ready = server.ready
        taken = set(server.hosts)
        if config.get("muc", "enabled"):
            taken.add(config.get("muc", "domain"))
        components = {}
        for domain, secret in config.get("components", "secrets").items():
            if domain in taken:
                raise config.error("components", "secrets", "%s is served by xmuc itself" % (domain,))
            components[domain] = ExternalComponent(domain, secret, server.router)
            server.router.addComponent(domain, components[domain])
        self.factory = ComponentStreamFactory(
            server.router,
            components,
            config.get("components", "conflict"),
            config.get("server", "max_stanza_size"),
            config.get("server", "max_stanza_elements"),
            reactor,
            config.get("components", "resumption_timeout"),
            config.get("components", "max_send_backlog"),
            ConnectionLimits(
                reactor,
                maxPerAddress=config.get("components", "max_connections_per_ip"),
                maxUnauthenticated=config.get("components", "max_unauthenticated"),
                readRate=config.get("components", "read_rate"),
                readBurst=config.get("components", "read_burst"),
                watchOutput=False,
            ),
        )
        self.descriptions = config.get("components", "listen")
        self.ports = []
        self.listening = defer.Deferred()

    def startService(self):
        service.Service.startService(self)
        self.ready.addCallback(lambda _: self._listen())

    @defer.inlineCallbacks
    def _listen(self):
        try:
            for description in self.descriptions:
                port = yield endpoints.serverFromString(self.reactor, description).listen(self.factory)
                self.ports.append(port)
                where = port.getHost()
                log.info(
                    "listening for components ({domains}) on {address}",
                    domains=", ".join(sorted(self.factory.components)),
                    address=_describe(where),
                )
        except Exception:
            log.failure("cannot listen for components")
            self.listening.errback()
            self.reactor.stop()
            return
        self.listening.callback(self.ports)

    @defer.inlineCallbacks
    def stopService(self):
        service.Service.stopService(self)
        ports, self.ports = self.ports, []
        for port in ports:
            yield port.stopListening()
        yield self.factory.disconnectAll()
