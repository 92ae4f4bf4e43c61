"""
The connecting end of a component link (XEP-0114): xmuc as an external
component of another server (the host: Prosody, ejabberd, Openfire, xmuc).

L{ComponentLink} connects to the host with Twisted Words'
L{ConnectComponentAuthenticator} (the C{<handshake/>} of XEP-0114 section
3), keeps the link up (reconnecting with exponential backoff and jitter,
each state change logged once), and is the router of the component's
services: L{ComponentLink.route} and L{ComponentLink.routeSerialized} write
on the link, stanzas the host sends go to the L{IComponent} in
L{ComponentLink.receiver}.  Nothing that happens on the link takes the
process down.
"""

import random

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber import component, error, xmlstream
from twisted.words.xish import domish

from xmuc.component.resumption import ConnectingState, announces
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply, isError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.xml import (
    MAX_ELEMENTS,
    STANZA_NAMES,
    ParserGuard,
    hardenParser,
    stanzaToClient,
    toText,
)

log = Logger()


class ComponentLinkStream(xmlstream.XmlStream):
    """
    The XML stream of the link, with xmuc's parser guards
    (L{hardenParser}): markup XMPP forbids, or beyond the limits, ends the
    stream with the stream error RFC 6120 section 4.9.3 names.
    """

    maxStanzaElements = MAX_ELEMENTS

    #: Whether the host's stream header announced Stream Management (an
    #: xmuc host: L{xmuc.component.resumption}).
    offersStreamManagement = False

    def onDocumentStart(self, rootElement):
        self.offersStreamManagement = announces(rootElement)
        xmlstream.XmlStream.onDocumentStart(self, rootElement)

    def write(self, data):
        """
        Write serialized bytes (Stream Management's queue writes them).
        """
        self.transport.write(data)

    def _initializeStream(self):
        xmlstream.XmlStream._initializeStream(self)
        # Stanzas are handled as jabber:client (stanzaToClient): their
        # payloads are built so.
        hardenParser(self.stream.parser, maxElements=self.maxStanzaElements, rename=ns.COMPONENT)

    def dataReceived(self, data):
        try:
            self.stream.parse(data)
        except domish.ParserError:
            self.refuse("not-well-formed")
        except ParserGuard as e:
            self.refuse(e.condition, e.text)

    def refuse(self, condition, text=None):
        """
        End the stream with a stream error (and stop parsing what follows).

        @param condition: the RFC 6120 condition (C{'not-well-formed'}...).
        @param text: optional explanation.
        """
        if self.stream is not None:
            ignore = lambda *args: None
            self.stream.DocumentStartEvent = ignore
            self.stream.ElementEvent = ignore
            self.stream.DocumentEndEvent = ignore
        log.warn(
            "component link: the host sent what we refuse ({condition}{text}): closing the stream",
            condition=condition,
            text=": " + text if text else "",
        )
        self.sendStreamError(error.StreamError(condition, text=text))

    def sendStanza(self, obj):
        """
        Send a stanza: an element, or text serialized without a namespace
        on the stanza (L{xmuc.xmpp.serialized.Serialized}), which then is
        in the stream's default namespace.

        An element of C{jabber:client} is written without its namespace
        too, so that the host reads it in C{jabber:component:accept}.
        """
        if domish.IElement.providedBy(obj):
            obj = toText(
                obj,
                prefixes=self.prefixes,
                defaultUri=ns.CLIENT,
                prefixesInScope=list(self.prefixes.values()),
            )
        if isinstance(obj, str):
            obj = obj.encode("utf-8")
        self.transport.write(obj)


class ComponentLink(service.Service):
    """
    The component's link to its host, and the router of the component's
    services (C{route}, C{routeSerialized}).

    While the link is down, outgoing stanzas are dropped (logged at debug):
    their recipients are occupants of rooms whose presence is checked again
    once the link is back (see L{xmuc.muc.linkcheck}).

    @ivar domain: the component's domain (str).
    @ivar receiver: the L{xmuc.interfaces.IComponent} getting the stanzas
        the host sends.
    @ivar xmlstream: the authenticated L{ComponentLinkStream}, or L{None}
        while the link is down.
    @ivar restored: callables called with no argument each time the link
        is up (the first time too).
    @ivar dropped: how many stanzas were dropped while the link was down.
    @ivar failures: failed attempts since the link was last up.
    """

    def __init__(
        self,
        reactor,
        endpoint,
        domain,
        secret,
        description=None,
        initialDelay=1.0,
        maxDelay=60.0,
        factor=2.0,
        jitter=0.25,
        maxStanzaElements=MAX_ELEMENTS,
        random=random.random,
        ready=None,
        handshakeTimeout=30.0,
    ):
        """
        @param reactor: the reactor to time retries with.
        @param endpoint: the L{IStreamClientEndpoint} of the host's
            component port.
        @param domain: the domain the component authenticates as.
        @param secret: the shared secret.
        @param description: the endpoint description, for the log.
        @param initialDelay: seconds before the first retry.
        @param maxDelay: the longest wait between two attempts.
        @param factor: each failed attempt multiplies the wait by it.
        @param jitter: fraction of each wait taken off at random, so that
            components of a restarted host do not all come back at once.
        @param random: a function returning a float in [0, 1).
        @param ready: a Deferred to wait for before connecting (the
            services behind the link loaded), or L{None}.
        @param handshakeTimeout: seconds a connection has, from the TCP
            connection, to complete the handshake before it is dropped
            (a host that accepts and then says nothing).
        """
        self.reactor = reactor
        self.endpoint = endpoint
        self.domain = domain
        self.secret = secret
        self.description = description or str(endpoint)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.factor = factor
        self.jitter = jitter
        self.maxStanzaElements = maxStanzaElements
        self.random = random
        self.ready = ready
        self.handshakeTimeout = handshakeTimeout
        self._handshakeCall = None
        self.receiver = None
        self.xmlstream = None
        self.resumption = ConnectingState(domain, reactor, self._runRestored)
        self.restored = []
        self.dropped = 0
        self.failures = 0
        self._everUp = False
        self._downReason = None
        self._attempt = None
        self._retry = None
        self._connection = None
        self._lost = None
        self._waitingUp = []
        self._waitingDown = []

    # -- Connecting ------------------------------------------------------------

    def startService(self):
        service.Service.startService(self)
        if self.ready is None:
            self._start()
        else:
            self.ready.addCallback(lambda result: (self._start(), result)[1])

    def _start(self):
        if not self.running:
            return
        log.info(
            "component link: connecting to {endpoint} as {domain}",
            endpoint=self.description,
            domain=self.domain,
        )
        self._connect()

    def _factory(self):
        authenticator = component.ConnectComponentAuthenticator(self.domain, self.secret)
        factory = xmlstream.XmlStreamFactory(authenticator)
        factory.noisy = False
        factory.protocol = ComponentLinkStream
        factory.addBootstrap(xmlstream.STREAM_CONNECTED_EVENT, self._connected)
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self._authenticated)
        factory.addBootstrap(xmlstream.INIT_FAILED_EVENT, self._initFailed)
        factory.addBootstrap(xmlstream.STREAM_ERROR_EVENT, self._streamError)
        factory.addBootstrap(xmlstream.STREAM_END_EVENT, self._streamEnded)
        return factory

    def _connect(self):
        self._retry = None
        if not self.running:
            return
        self._attempt = self.endpoint.connect(self._factory())
        self._attempt.addErrback(self._connectFailed)

    def _connectFailed(self, failure):
        self._attempt = None
        if failure.check(defer.CancelledError) or not self.running:
            return
        self._wentDown("cannot connect: %s" % (failure.getErrorMessage(),))

    def _connected(self, xs):
        self._attempt = None
        xs.maxStanzaElements = self.maxStanzaElements
        self._connection = xs
        self._lost = defer.Deferred()
        if hasattr(xs.transport, "setTcpKeepAlive"):
            # A host gone without closing (a cut cable, a crashed VM) is
            # found by the kernel instead of never.
            xs.transport.setTcpKeepAlive(1)
            # Nagle off, as on client streams: a stanza is not held back
            # until the host acknowledges the previous one.
            xs.transport.setTcpNoDelay(1)
        self._handshakeCall = self.reactor.callLater(self.handshakeTimeout, self._handshakeTooLong, xs)

    def _handshakeTooLong(self, xs):
        self._handshakeCall = None
        if xs.transport is not None and self.xmlstream is not xs:
            self._reason = "no handshake within %g s" % (self.handshakeTimeout,)
            xs.transport.abortConnection()

    def _cancelHandshakeTimeout(self):
        call, self._handshakeCall = self._handshakeCall, None
        if call is not None and call.active():
            call.cancel()

    def _authenticated(self, xs):
        self._cancelHandshakeTimeout()
        self.xmlstream = xs
        self.failures = 0
        self._downReason = None
        xs.addObserver("/*", self._received)
        # A link that resumes lost nothing: the link-up handlers run only
        # if the host refuses the resumption.
        fresh = self.resumption.authenticated(xs, xs.offersStreamManagement)
        log.info(
            "component link {state}: {domain} on {endpoint}",
            state="restored" if self._everUp else "up",
            domain=self.domain,
            endpoint=self.description,
        )
        self._everUp = True
        # The link-up handlers first: whoever waits for the link finds
        # their work started (the occupants' check).
        if fresh:
            self._runRestored()
        waiting, self._waitingUp = self._waitingUp, []
        for d in waiting:
            d.callback(self)

    def _runRestored(self):
        for callback in list(self.restored):
            try:
                callback()
            except Exception:
                log.failure("component link: a link-up handler failed")

    def _initFailed(self, failure):
        self._reason = failure.getErrorMessage()
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.loseConnection()

    def _streamError(self, failure):
        if failure.check(error.StreamError):
            self._reason = "the host refused the stream: %s" % (failure.value.condition,)
        else:
            self._reason = "stream error: %s" % (failure.getErrorMessage(),)

    _reason = None

    def _streamEnded(self, reason):
        self._cancelHandshakeTimeout()
        xs, self._connection = self._connection, None
        wasUp = self.xmlstream is not None
        self.xmlstream = None
        self.resumption.lost()
        lost, self._lost = self._lost, None
        why = self._reason or reason.getErrorMessage()
        self._reason = None
        if lost is not None:
            lost.callback(None)
        if wasUp:
            waiting, self._waitingDown = self._waitingDown, []
            for d in waiting:
                d.callback(self)
        if not self.running:
            self.resumption.reset()
            log.info("component link closed: {domain}", domain=self.domain)
            return
        if wasUp:
            self.failures = 0
        self._wentDown(("link lost: " if wasUp else "") + why)

    def _wentDown(self, reason):
        """
        An attempt failed or the link was lost: log it once (the same
        reason again only at debug level) and try again later.
        """
        delay = self.nextDelay()
        self.failures += 1
        if reason != self._downReason:
            self._downReason = reason
            log.warn(
                "component link down: {domain} to {endpoint}: {reason}; "
                "retrying with backoff (next in {delay:.1f} s)",
                domain=self.domain,
                endpoint=self.description,
                reason=reason,
                delay=delay,
            )
        else:
            log.debug(
                "component link still down ({reason}); next attempt in {delay:.1f} s",
                reason=reason,
                delay=delay,
            )
        self._retry = self.reactor.callLater(delay, self._connect)

    def nextDelay(self):
        """
        @return: seconds to wait before the next attempt: C{initialDelay}
            times C{factor} per failure so far, at most C{maxDelay}, less a
            random fraction (up to C{jitter}) of it.
        """
        delay = min(self.maxDelay, self.initialDelay * self.factor ** min(self.failures, 64))
        return delay * (1 - self.jitter * self.random())

    def whenUp(self):
        """
        @return: a Deferred firing with this link when it is (next) up.
        """
        if self.xmlstream is not None:
            return defer.succeed(self)
        d = defer.Deferred()
        self._waitingUp.append(d)
        return d

    def whenDown(self):
        """
        @return: a Deferred firing with this link when it is (next) lost
            after having been up.
        """
        if self.xmlstream is None:
            return defer.succeed(self)
        d = defer.Deferred()
        self._waitingDown.append(d)
        return d

    def stopService(self):
        """
        Stop connecting; close the stream (its footer first).

        @return: a Deferred firing once the connection is closed.
        """
        service.Service.stopService(self)
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        if self._attempt is not None:
            self._attempt.cancel()
            self._attempt = None
        xs = self._connection
        if xs is None or xs.transport is None:
            return defer.succeed(None)
        lost = self._lost
        try:
            if self.xmlstream is xs:
                self.resumption.closing(xs)
            xs.sendFooter()
        finally:
            xs.transport.loseConnection()
        return lost

    # -- Stanzas from the host ---------------------------------------------------

    def _received(self, element):
        """
        A top-level element from the host, once authenticated.
        """
        xs = self.xmlstream
        if xs is None or element.uri == ns.STREAMS:
            # Stream errors are Twisted's (onStreamError).
            return
        if element.uri == ns.STREAM_MANAGEMENT:
            self.resumption.received(xs, element)
            return
        if element.uri != ns.COMPONENT or element.name not in STANZA_NAMES:
            # RFC 6120 4.9.3.23.
            xs.refuse("unsupported-stanza-type")
            return
        self.resumption.counted()
        # A stanza from the host comes in the component stream's
        # namespace; the services handle, store and forward stanzas of
        # jabber:client (a <body/> kept in a room's history goes to client
        # streams later).
        stanzaToClient(element, ns.COMPONENT)
        to = parseJID(element.getAttribute("to", ""))
        sender = parseJID(element.getAttribute("from", ""))
        if to is None or sender is None:
            # RFC 6120 4.9.3.14: between servers a stanza without a valid
            # 'to' or 'from' is improperly addressed.
            xs.refuse("improper-addressing")
            return
        if to.host != self.domain:
            # Not ours: the host routed it here by mistake.
            if not isError(element):
                self.route(
                    errorReply(
                        element,
                        "item-not-found",
                        text="this component serves %s only" % (self.domain,),
                        payload=False,
                    )
                )
            return
        try:
            self.receiver.receive(element)
        except Exception:
            log.failure("component {domain} failed on a stanza", domain=self.domain)
            if not isError(element):
                self.route(errorReply(element, "internal-server-error"))

    # -- Router ------------------------------------------------------------------

    def route(self, stanza):
        """
        Send C{stanza} to the host (its C{from} in our domain), or drop it
        while the link is down (unless Stream Management keeps it for the
        next stream).
        """
        if self.resumption.send(stanza):
            return
        xs = self.xmlstream
        if xs is None:
            self.dropped += 1
            log.debug("component link down: dropped a {name}", name=stanza.name)
            return
        xs.sendStanza(stanza)

    def routeSerialized(self, to, data, build):
        """
        Fan-out: write the already serialized stanza straight to the link
        (no element is built).

        @param to: the recipient's full JID (str).
        @param data: the serialized stanza, C{to} set, no namespace of its
            own.
        @param build: unused (the host routes every recipient).
        """
        if self.resumption.send(data):
            return
        xs = self.xmlstream
        if xs is None:
            self.dropped += 1
            return
        xs.sendStanza(data)
