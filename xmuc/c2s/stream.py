"""
Client-to-server XML streams (RFC 6120) on Twisted Words' L{XmlStream}.

L{ClientStreamFactory} is what the listeners use.  Each connection gets a
L{ClientXmlStream} (parsing, size limits, writing) and a
L{ClientAuthenticator} (the negotiation: header checks, STARTTLS, resource
binding; the SASL exchange is L{xmuc.c2s.sasl.SASLNegotiation}'s, in-band
registration L{xmuc.accounts.inband}'s and Stream Management
L{xmuc.c2s.streammanagement}'s).  Once a resource is
bound the stream hands every stanza straight to its L{ClientSession}, which
stamps C{from} and gives it to the session manager: the per-stanza path
has no XPath observers and no logging above debug.
"""

import os

from OpenSSL import SSL
from twisted.internet import defer
from twisted.internet.interfaces import IProtocolNegotiationFactory, ISSLTransport
from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid as jidmod, xmlstream
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.accounts import inband
from xmuc.c2s import sasl
from xmuc.c2s.certificates import ALPN_CLIENT, CertificateError, certificateOptions, readCertificatePair, selectALPN
from xmuc.c2s.connectionlog import connectionEnded, describePeer
from xmuc.c2s.limits import NEGOTIATION, ConnectionLimits, LimitedStream
from xmuc.c2s.streammanagement import ResumptionRegistry
from xmuc.interfaces import ISession
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.stream import CLOSE_TIMEOUT, GuardedXmlStream, newStreamID, prepareDomain, streamErrorCondition
from xmuc.xmpp.xml import STANZA_NAMES, toText

log = Logger()



def loadCertificate(config):
    """
    Read the certificate and key named by C{[c2s] tls_certificate} and
    C{tls_key}.

    @param config: the L{xmuc.config.Config}.
    @return: a L{CertificatePair}, or L{None} when no certificate is
        configured.
    @raise xmuc.config.ConfigError: for unreadable or mismatched files, or
        when encryption is required and no certificate is configured.
    """
    certPath = config.resolvePath(config.get("c2s", "tls_certificate"))
    keyPath = config.resolvePath(config.get("c2s", "tls_key"))
    if not certPath:
        if config.get("c2s", "require_encryption"):
            raise config.error(
                "c2s",
                "tls_certificate",
                "a certificate is needed when require_encryption is true",
            )
        return None
    try:
        return readCertificatePair(certPath, keyPath or None)
    except CertificateError as e:
        key = "tls_key" if e.which == "key" else "tls_certificate"
        raise config.error("c2s", key, e.message)


def tlsOptionsFor(pair):
    """
    @param pair: a L{CertificatePair}.
    @return: the server TLS context factory (L{twisted.internet.ssl.CertificateOptions}):
        as L{certificateOptions}; ALPN C{xmpp-client} chosen when offered, else not
        used (L{selectALPN}).
    """
    options = certificateOptions(pair)
    # The context is made once and kept by the options: every STARTTLS
    # uses this ALPN choice.
    options.getContext().set_alpn_select_callback(selectALPN(ALPN_CLIENT))
    return options


def loadTLSOptions(config):
    """
    Build the server TLS context from C{[c2s] tls_certificate} and
    C{tls_key} (L{loadCertificate}).

    @return: an L{twisted.internet.ssl.CertificateOptions}, or L{None} when no certificate
        is configured.
    @raise xmuc.config.ConfigError: as L{loadCertificate}.
    """
    pair = loadCertificate(config)
    return None if pair is None else tlsOptionsFor(pair)


class ClientXmlStream(LimitedStream, GuardedXmlStream):
    """
    One client connection.

    @ivar tls: whether TLS is active.
    @ivar closing: set once the stream is being closed; input is ignored.
    @ivar startTLSAllowed: whether STARTTLS may be offered (not over a
        WebSocket, whose TLS is the connection's own).
    """

    tls = False
    startTLSAllowed = True

    def __init__(self, authenticator):
        GuardedXmlStream.__init__(self, authenticator)
        self.maxStanzaSize = authenticator.factory.maxStanzaSize
        self.maxStanzaElements = authenticator.factory.maxStanzaElements

    def setDispatchFn(self, fn):
        """
        Send every top-level element to C{fn} (after the size check).
        """
        self._handler = fn

    def write(self, data):
        """
        Write serialized bytes; past a full buffer they count against the
        connection's backlog (one flag check otherwise).
        """
        self.transport.write(data)
        if self.outputCongested:
            self.output.written(len(data))

    def send(self, obj):
        """
        Send an element or XML text (L{str} or L{bytes}) through L{write};
        an element is serialized as L{xmlstream.XmlStream.send} does (a
        child of the stream root: its prefixes, its default namespace).
        """
        if obj.__class__ is str:
            obj = obj.encode("utf-8")
        elif obj.__class__ is domish.Element or domish.IElement.providedBy(obj):
            obj = toText(
                obj,
                defaultUri=self.namespace,
                prefixes=self.prefixes,
                prefixesInScope=list(self.prefixes.values()),
            ).encode("utf-8")
        elif isinstance(obj, str):
            obj = obj.encode("utf-8")
        if self.rawDataOutFn:
            self.rawDataOutFn(obj)
        self.write(obj)

    def dataReceived(self, data):
        if self.closing:
            return
        stream = self.stream
        limits = self.authenticator.factory.limits
        if limits.overloaded:
            limits.postpone(self, data)
            return
        # What this input makes the server write is what backpressure
        # holds this connection's input for.
        limits.reading = self
        try:
            self._parse(stream, data)
        finally:
            limits.reading = None
        if self.readRate is not None and not self.closing:
            self.readRate.consumed(len(data))

    def sendHeader(self):
        """
        Our stream header: always C{jabber:client}, version 1.0.
        """
        host = self.thisEntity.host if self.thisEntity else None
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s'%s"
            " id='%s' version='1.0' xml:lang='en'>"
            % (
                ns.CLIENT,
                ns.STREAMS,
                " from='%s'" % (host,) if host else "",
                self.sid,
            )
        )
        self._headerSent = True

    def connectionLost(self, reason):
        xmlstream.XmlStream.connectionLost(self, reason)
        self.authenticator.connectionLost(reason)


@implementer(ISession)
class ClientSession:
    """
    An authenticated client stream, as the session manager sees it.

    @ivar jid: the full L{jidmod.JID} once bound, the bare one before.
    @ivar username: the node part.
    @ivar host: the virtual host.
    @ivar bare: C{'user@host'}.
    @ivar priority: priority of the last available presence.
    @ivar presence: last broadcast available presence or L{None}.
    @ivar interestedInRoster: whether the client requested the roster.
    @ivar directedPresence: JID strings sent directed available presence.
    @ivar wantCarbons: whether the client enabled Message Carbons.
    @ivar mamRequested: whether the client queried its archive.
    @ivar connected: false once the connection is gone (sending is a no-op).
    @ivar encrypted: whether the stream is protected by TLS.
    @ivar streamManagement: the
        L{xmuc.c2s.streammanagement.StreamManagement} state once the client
        enabled XEP-0198, else L{None}.
    @ivar outgoing: see L{xmuc.session.csi}.
    """

    streamManagement = None

    #: While set, a callable deciding whether each stanza sent goes now
    #: (C{True}) or is kept by it (Client State Indication).
    outgoing = None

    def __init__(self, authenticator, username, host):
        self._authenticator = authenticator
        self._stream = authenticator.xmlstream
        self._sm = authenticator.factory.server.sm
        self.username = username
        self.host = host
        self.bare = "%s@%s" % (username, host)
        # The session manager reads the authenticated bare JID here when
        # binding, and replaces it with the full JID.
        self.jid = jidmod.JID(self.bare)
        self._full = None
        self.priority = 0
        self.presence = None
        self.interestedInRoster = False
        self.directedPresence = set()
        self.wantCarbons = False
        self.mamRequested = False
        self.connected = True
        self.encrypted = self._stream.tls
        self._authenticatedAt = authenticator.clock.seconds()

    def __repr__(self):
        return "<ClientSession %s>" % (self._full or self.bare,)

    def send(self, stanza):
        """
        Send a stanza (L{domish.Element}) or serialized XML (L{str}).
        """
        if self.outgoing is not None and not self.outgoing(stanza):
            return
        smState = self.streamManagement
        if smState is not None:
            # Counted and kept until acknowledged (and queued while the
            # session hibernates).
            smState.send(stanza)
            return
        if not self.connected:
            return
        if isinstance(stanza, str):
            # The fan-out path: ClientXmlStream.write, inlined.
            stream = self._stream
            data = stanza.encode("utf-8")
            stream.transport.write(data)
            if stream.outputCongested:
                stream.output.written(len(data))
        else:
            self._stream.send(stanza)

    def disconnect(self, condition=None, text=None):
        """
        Close the stream, with a stream error when C{condition} is given.

        @return: a Deferred firing once the connection is closed.
        """
        smState = self.streamManagement
        if smState is not None and smState.hibernating:
            # No connection to close: the session ends now.
            smState.endHibernation()
            return defer.succeed(None)
        return self._authenticator.close(condition, text)

    def _ended(self):
        """
        A hibernating session was not resumed: it leaves.
        """
        self._authenticator.endSession()

    def attach(self, authenticator):
        """
        Move the session to the stream of C{authenticator} (a resumption).
        """
        # The new stream authenticated (SASL) just before resuming.
        self._authenticatedAt = authenticator.session._authenticatedAt
        self._authenticator = authenticator
        self._stream = authenticator.xmlstream
        self.connected = True
        self.encrypted = self._stream.tls

    def authenticationAge(self):
        """
        @return: seconds since the client last proved the account's
            password: SASL on this session's stream, or on the stream that
            resumed it.
        """
        return self._authenticator.clock.seconds() - self._authenticatedAt

    def wrongPassword(self):
        """
        The client gave a wrong password on this session (the old password
        of a password change): it counts as a failed SASL attempt, and the
        stream is closed with C{policy-violation} at C{[c2s]
        max_auth_failures}.
        """
        self._authenticator.sasl.countFailure()

    def setBound(self, full):
        """
        Record the bound full JID.
        """
        if isinstance(full, str):
            full = jidmod.JID(full)
        self.jid = full
        self._full = full.full()

    def received(self, element):
        """
        A top-level element from the bound client.
        """
        if element.uri != ns.CLIENT or element.name not in STANZA_NAMES:
            self._authenticator.nonStanzaReceived(element)
            return
        smState = self.streamManagement
        if smState is not None:
            smState.handled = (smState.handled + 1) & 0xFFFFFFFF
        # RFC 6120 8.1.2.1: the server "MUST add a 'from' attribute to the
        # stanza or override the 'from' attribute specified by the client"
        # with the full JID it bound, as Prosody does: whatever a client
        # wrote there (poezio writes the occupant JID on private messages)
        # is replaced, never a reason to end the session.
        element["from"] = self._full
        if element.name == "iq" and self._isSessionRequest(element):
            self.send(xmlstream.toResponse(element, "result"))
            return
        try:
            self._sm.fromClient(self, element)
        except Exception:
            log.failure("session manager failed on a stanza from {jid}", jid=self._full)
            if element.name == "iq" and element.getAttribute("type") in ("get", "set"):
                self.send(errorReply(element, "internal-server-error", payload=False))

    @staticmethod
    def _isSessionRequest(iq):
        if iq.getAttribute("type") != "set":
            return False
        for child in iq.elements():
            return child.uri == ns.SESSION and child.name == "session"
        return False


class ClientAuthenticator(xmlstream.ListenAuthenticator):
    """
    Negotiates one client stream, up to resource binding.

    @ivar factory: the L{ClientStreamFactory}.
    @ivar host: the virtual host asked for in the stream header.
    @ivar username: the authenticated node part, or L{None}.
    @ivar session: the L{ClientSession} after authentication.
    @ivar bound: whether a resource is bound (or a session resumed).
    @ivar sasl: the L{sasl.SASLNegotiation} of this stream.
    @ivar registered: whether an account was registered on this stream.
    @ivar clock: the L{IReactorTime} of the stream's timers.
    @ivar endReason: why the connection is ending, once known (for the log
        line of its end), else L{None}.
    """

    namespace = ns.CLIENT
    endReason = None

    def __init__(self, factory, clock):
        xmlstream.ListenAuthenticator.__init__(self)
        self.factory = factory
        self.clock = clock
        self.host = None
        self.username = None
        self.session = None
        self.bound = False
        self.sasl = sasl.SASLNegotiation(self)
        self.registered = False
        self._pending = False
        self._queued = []
        self._closed = defer.Deferred()
        self._closeTimer = None
        self._negotiationTimer = None
        self._unbound = False
        self._tlsEstablished = False
        self._aborted = False

    # --- connection life cycle

    def endBecause(self, why):
        """
        Record why the connection ends; the first reason given is the one
        logged when it is gone.

        @param why: e.g. C{'client closed the stream'}.
        """
        if self.endReason is None:
            self.endReason = why

    def _who(self):
        """
        @return: the session's JID, or what is known of the client, for the
            log.
        """
        if self.session is not None:
            return str(self.session.jid.full())
        if self.username is not None:
            return "%s@%s" % (self.username, self.host)
        return "not authenticated"

    def _whyEnded(self, reason, abrupt):
        """
        @param reason: the L{Failure} given to C{connectionLost}.
        @param abrupt: whether neither side closed the stream first.
        @return: why the connection ended, in words.
        """
        why = self.endReason
        if why is None and reason.check(SSL.Error):
            # A failed handshake ends the connection before the client's
            # first stream header over TLS.
            stage = "TLS error" if self._tlsEstablished else "TLS handshake failed"
            why = "%s (%s)" % (stage, _describeSSLError(reason.value))
        elif why is None:
            why = "connection lost (%s)" % (reason.getErrorMessage(),) if abrupt else "closed"
        if self._aborted:
            why += "; the client did not close within %d s, connection aborted" % (CLOSE_TIMEOUT,)
        return why

    def connectionMade(self):
        refused = self.factory.limits.admit(self.xmlstream)
        if refused is not None:
            self.streamError(*refused)
            return
        self.factory.streams.add(self.xmlstream)
        if ISSLTransport.providedBy(self.xmlstream.transport):
            # A direct TLS listener (ssl:): encrypted from the first byte.
            self.xmlstream.tls = True
        # Twisted already gathers what is written in one reactor turn into
        # one send; Nagle on top holds the next stanza back until the
        # client's (delayed, up to 40 ms) ACK of the previous one.
        setNoDelay = getattr(self.xmlstream.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        self._negotiationTimer = self.clock.callLater(
            self.factory.negotiationTimeout,
            self.streamError,
            "connection-timeout",
            "too slow to log in",
        )
        log.debug("client connected from {peer}", peer=self.xmlstream.transport.getPeer())

    def connectionLost(self, reason):
        # A connection lost before either side closed the stream is what
        # a resumable session survives (XEP-0198 hibernation).
        abrupt = not self.xmlstream.closing
        why = self._whyEnded(reason, abrupt)
        who = self._who()
        # Nothing more may be sent or scheduled for this stream.
        self.xmlstream.closing = True
        self.factory.streams.discard(self.xmlstream)
        self.factory.limits.gone(self.xmlstream)
        for timer in (self._closeTimer, self._negotiationTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._closeTimer = self._negotiationTimer = None
        session = self.session
        if session is not None:
            session.connected = False
            if self.bound and not self._unbound:
                smState = session.streamManagement
                if abrupt and smState is not None and smState.resumptionID is not None:
                    smState.hibernate(self.factory.resumption.timeout)
                    why += "; session hibernating, resumable for %d s" % (
                        self.factory.resumption.timeout,
                    )
                else:
                    self.endSession()
        connectionEnded(self.xmlstream.transport.getPeer(), who, why)
        if not self._closed.called:
            self._closed.callback(None)

    def endSession(self):
        """
        The bound session is over: the session manager forgets it (and
        broadcasts its unavailable presence), then it decides what becomes
        of the stanzas sent to the session and never acknowledged
        (L{xmuc.interfaces.ISessionManager.undelivered}).  Only the first
        call counts.
        """
        if self._unbound:
            return
        self._unbound = True
        session = self.session
        sm = self.factory.server.sm
        try:
            sm.unbind(session)
        except Exception:
            log.failure("unbinding {session!r} failed", session=session)
        smState = session.streamManagement
        if smState is not None:
            try:
                sm.undelivered(session, smState.end())
            except Exception:
                log.failure("handling the unacknowledged stanzas of {session!r} failed", session=session)

    def streamError(self, condition, text=None):
        """
        Send a stream error and close the connection.
        """
        xs = self.xmlstream
        if xs.closing:
            return
        self._closing()
        self.endBecause(
            "stream error %s sent%s" % (condition, ": %s" % (text,) if text else "")
        )
        if xs.thisEntity is None:
            xs.sid = xs.sid or newStreamID(8)
        xs.sendStreamError(error.StreamError(condition, text))
        self._abortLater()

    def close(self, condition=None, text=None, why="closed by the server"):
        """
        Close the stream, with a stream error when C{condition} is given.

        @param why: without C{condition}, why it is closed (for the log).
        @return: a Deferred firing once the connection is closed.
        """
        xs = self.xmlstream
        if condition is not None:
            self.streamError(condition, text)
        elif not xs.closing:
            self.endBecause(why)
            self._closing()
            if xs._headerSent:
                xs.sendFooter()
            xs.transport.loseConnection()
            self._abortLater()
        return self.whenClosed()

    def _closing(self):
        # Nothing may follow our closing tag, so the session ends now, not
        # when the connection is gone (up to CLOSE_TIMEOUT later, waiting
        # for a TLS close_notify or a peer that does not read): what is
        # sent to the account from now on goes to its other resources,
        # offline storage or back to the sender, and its contacts and
        # rooms see it leave.
        xs = self.xmlstream
        xs.closing = True
        self.factory.limits.closing(xs)
        session = self.session
        if session is not None:
            session.connected = False
            if self.bound:
                self.endSession()

    def whenClosed(self):
        """
        @return: a Deferred firing when the connection is gone.
        """
        d = defer.Deferred()
        if self._closed.called:
            d.callback(None)
        else:
            self._closed.addBoth(lambda result: d.callback(None) or result)
        return d

    def _abortLater(self):
        if self._closeTimer is None and not self._closed.called:
            self._closeTimer = self.clock.callLater(CLOSE_TIMEOUT, self._abort)

    def _abort(self):
        self._closeTimer = None
        self._aborted = True
        self.xmlstream.transport.abortConnection()

    def streamEnded(self):
        """
        The client closed its stream: close ours.
        """
        self.close(why="client closed the stream")

    # --- stream header

    def streamStarted(self, rootElement):
        xs = self.xmlstream
        xs.namespace = ns.CLIENT
        xs.version = (1, 0)
        xs.sid = newStreamID(8)
        host = prepareDomain(rootElement.getAttribute("to"))
        if host in self.factory.hosts:
            xs.thisEntity = jidmod.JID(host)
        if rootElement.uri != ns.STREAMS or rootElement.name != "stream":
            return self.streamError("invalid-namespace")
        if rootElement.defaultUri != ns.CLIENT:
            return self.streamError("invalid-namespace")
        if xs.thisEntity is None:
            return self.streamError("host-unknown")
        if self.host is not None and host != self.host:
            # A restarted stream must be for the same host.
            return self.streamError("host-unknown")
        if _parseVersion(rootElement.getAttribute("version")) < (1, 0):
            return self.streamError("unsupported-version")
        self.host = host
        self._tlsEstablished = xs.tls
        xs.sendHeader()
        xs.send(self._features())

    def saslAllowed(self):
        """
        @return: whether the client may authenticate (or register) now:
            the stream is encrypted, or encryption is not required.
        """
        return self.xmlstream.tls or not self.factory.requireEncryption

    def _features(self):
        features = domish.Element((ns.STREAMS, "features"))
        if self.username is None:
            xs = self.xmlstream
            if self.factory.tlsOptions is not None and not xs.tls and xs.startTLSAllowed:
                starttls = features.addElement((ns.TLS, "starttls"))
                if self.factory.requireEncryption:
                    starttls.addElement("required")
            if self.saslAllowed():
                mechanisms = features.addElement((ns.SASL, "mechanisms"))
                for name in self.sasl.offered():
                    mechanisms.addElement("mechanism", content=name)
                if self.factory.allowRegistration:
                    features.addElement((ns.REGISTER_FEATURE, "register"))
        else:
            features.addElement((ns.BIND, "bind"))
            features.addElement((ns.SESSION, "session")).addElement("optional")
            features.addElement((ns.STREAM_MANAGEMENT, "sm"))
            for qname in self.factory.server.sm.streamFeatures:
                features.addElement(qname)
        return features

    def _restart(self):
        """
        Forget the parser state: the client sends a new stream header
        (after TLS or SASL success).
        """
        xs = self.xmlstream
        xs.detachParser()
        xs.reset()
        self._queued = []

    # --- elements before binding

    def elementReceived(self, element):
        try:
            self._dispatch(element)
        except Exception:
            log.failure("error handling an element on a client stream")
            self.streamError("internal-server-error")

    def _dispatch(self, element):
        uri = element.uri
        if self._pending:
            self._queued.append(element)
            return
        if uri == ns.SASL:
            return self.sasl.received(element)
        if uri == ns.STREAM_MANAGEMENT and self.username is not None:
            return self.factory.resumption.beforeBind(self, element)
        if uri == ns.TLS and element.name == "starttls":
            return self._startTLS()
        if uri == ns.STREAMS and element.name == "error":
            return self.close(why=_clientStreamError(element))
        if uri == ns.CLIENT and element.name == "iq":
            if self.username is None:
                return self._unauthenticatedIQ(element)
            return self._authenticatedIQ(element)
        self.streamError("not-authorized")

    def nonStanzaReceived(self, element):
        """
        After binding: something that is not a stanza.
        """
        if element.uri == ns.STREAMS and element.name == "error":
            self.close(why=_clientStreamError(element))
        elif element.uri == ns.STREAM_MANAGEMENT:
            self.factory.resumption.afterBind(self, element)
        else:
            # Top-level elements of session manager features (XEP-0352).
            handler = self.factory.server.sm.streamElements.get(element.uri)
            if handler is None or not handler(self.session, element):
                self.streamError("unsupported-stanza-type")

    def _firstChild(self, element):
        for child in element.elements():
            return child
        return None

    def _unauthenticatedIQ(self, iq):
        query = self._firstChild(iq)
        if query is not None and query.uri == ns.REGISTER and query.name == "query":
            if not self.saslAllowed():
                return self.streamError("not-authorized", "start TLS first")
            if not self.factory.allowRegistration:
                return self.xmlstream.send(errorReply(iq, "service-unavailable", payload=False))
            d = inband.handleUnauthenticatedRegisterIQ(self.factory.server, self, iq)
            d.addErrback(lambda f: log.failure("registration failed", f))
            return self.waitFor(d)
        self.streamError("not-authorized")

    def _authenticatedIQ(self, iq):
        query = self._firstChild(iq)
        if query is not None and iq.getAttribute("type") == "set":
            if query.uri == ns.BIND and query.name == "bind":
                return self._bind(iq, query)
            if query.uri == ns.SESSION and query.name == "session":
                return self.xmlstream.send(xmlstream.toResponse(iq, "result"))
        self.streamError("not-authorized", "bind a resource first")

    def waitFor(self, d):
        """
        Hold further input until C{d} (an asynchronous step of the
        negotiation: storage, session manager) has fired; elements already
        parsed meanwhile are queued and handled afterwards, in order.
        """
        if d.called:
            return
        self._pending = True
        self.xmlstream.inputGate.hold(NEGOTIATION)
        d.addBoth(self._resumeInput)

    def _resumeInput(self, result=None):
        self._pending = False
        xs = self.xmlstream
        while self._queued and not self._pending and not xs.closing:
            element = self._queued.pop(0)
            if self.bound:
                self.session.received(element)
            else:
                self.elementReceived(element)
        if not self._pending:
            if xs.closing:
                # A TLS shutdown needs to read the peer's close_notify
                # (input is ignored anyway).
                xs.inputGate.releaseAll()
            else:
                xs.inputGate.release(NEGOTIATION)

    # --- STARTTLS

    def _startTLS(self):
        xs = self.xmlstream
        if xs.tls or self.username is not None or self.factory.tlsOptions is None or not xs.startTLSAllowed:
            xs.send(domish.Element((ns.TLS, "failure")))
            return self.close(why="STARTTLS refused")
        xs.send(domish.Element((ns.TLS, "proceed")))
        xs.transport.startTLS(self.factory.tlsOptions)
        xs.tls = True
        self._restart()

    # --- authentication, resumption and resource binding

    def authenticated(self, username, mechanismName):
        """
        The SASL exchange succeeded (its C{<success/>} is sent): the
        client restarts the stream as C{username}.
        """
        self.username = username
        self.session = ClientSession(self, username, self.host)
        self.factory.limits.authenticated(self.xmlstream)
        log.info(
            "{user}@{host} authenticated with {mechanism} from {peer}",
            user=username,
            host=self.host,
            mechanism=mechanismName,
            peer=describePeer(self.xmlstream.transport.getPeer()),
            encrypted=self.xmlstream.tls,
        )
        self._restart()

    def _negotiated(self, session):
        """
        The stream carries C{session} from now on: the negotiation is over
        and the parser calls the session directly.
        """
        self.session = session
        self.bound = True
        if self._negotiationTimer is not None and self._negotiationTimer.active():
            self._negotiationTimer.cancel()
        self._negotiationTimer = None
        self.xmlstream.setDispatchFn(session.received)

    def resumed(self, session):
        """
        C{session} moved to this stream (XEP-0198 resumption).
        """
        session.attach(self)
        self._negotiated(session)

    def _bind(self, iq, bind):
        resource = None
        for child in bind.elements():
            if child.name == "resource" and child.uri == ns.BIND:
                resource = str(child).strip() or None
        d = defer.maybeDeferred(self.factory.server.sm.bind, self.session, resource)
        d.addCallbacks(self._bound, self._bindFailed, (iq,), None, (iq,))
        d.addErrback(lambda f: log.failure("binding failed", f))
        self.waitFor(d)

    def _bound(self, full, iq):
        xs = self.xmlstream
        if xs.closing:
            # The connection went away meanwhile: the session manager
            # still knows the session and must forget it.
            self.bound = True
            self.endSession()
            return
        session = self.session
        session.setBound(full if full is not None else session.jid)
        result = xmlstream.toResponse(iq, "result")
        result.addElement((ns.BIND, "bind")).addElement("jid", content=session.jid.full())
        xs.send(result)
        self._negotiated(session)

    def _bindFailed(self, failure, iq):
        if self.xmlstream.closing:
            return
        if failure.check(StanzaError):
            self.xmlstream.send(errorReply(iq, failure.value, payload=False))
        else:
            log.failure("session manager failed to bind", failure)
            self.xmlstream.send(errorReply(iq, "internal-server-error", payload=False))


def _clientStreamError(element):
    """
    @param element: a C{<stream:error/>} the client sent.
    @return: why the connection ends, in words, with the condition.
    """
    condition = streamErrorCondition(element, None)
    if condition is None:
        return "client sent a stream error"
    return "client sent stream error %s" % (condition,)


def _describeSSLError(error):
    """
    @param error: an L{SSL.Error}.
    @return: OpenSSL's reason, e.g. C{'wrong version number'}.
    """
    reasons = [entry[-1] for entry in (error.args[0] if error.args else []) if isinstance(entry, tuple)]
    return ", ".join(reasons) or str(error) or error.__class__.__name__


def _parseVersion(text):
    if not text:
        return (0, 0)
    try:
        major, minor = text.split(".")
        return (int(major), int(minor))
    except ValueError:
        return (0, 0)


@implementer(IProtocolNegotiationFactory)
class ClientStreamFactory(xmlstream.XmlStreamServerFactory):
    """
    Builds client streams for the listeners.

    On a direct TLS listener (C{ssl:} in C{[c2s] listen}, XEP-0368), whose
    TLS context is Twisted's, the factory names the ALPN protocol it
    speaks (L{acceptableProtocols}): a client offering C{xmpp-client}
    gets it, where Twisted would otherwise fail the handshake.

    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar hosts: the local virtual hosts.
    @ivar certificate: the L{CertificatePair} in use, or L{None} without
        TLS.
    @ivar tlsOptions: the TLS context factory, or L{None} without TLS.
    @ivar streams: the open L{ClientXmlStream}s.
    @ivar clock: the L{IReactorTime} of the streams' timers.
    """

    protocol = ClientXmlStream
    # The listeners log where they listen; "Starting factory" says nothing.
    noisy = False

    def __init__(self, server, clock=None):
        """
        @param clock: the L{IReactorTime} of every stream timer (default:
            the reactor, imported only here so that importing this module
            installs no reactor).
        """
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        xmlstream.XmlStreamServerFactory.__init__(
            self, lambda: ClientAuthenticator(self, clock)
        )
        config = server.config
        self.server = server
        self.hosts = frozenset(server.hosts)
        self.requireEncryption = config.get("c2s", "require_encryption")
        self.allowRegistration = config.get("c2s", "allow_registration")
        self.maxAuthFailures = config.get("c2s", "max_auth_failures")
        self.limits = ConnectionLimits.fromConfig(config, clock)
        self.maxStanzaSize = config.get("server", "max_stanza_size")
        self.maxStanzaElements = config.get("server", "max_stanza_elements")
        self.config = config
        self.certificate = loadCertificate(config)
        self.tlsOptions = None if self.certificate is None else tlsOptionsFor(self.certificate)
        self.scramSecret = os.urandom(32)
        self.negotiationTimeout = config.get("c2s", "negotiation_timeout")
        self.streams = set()
        self.resumption = ResumptionRegistry(
            config.get("c2s", "resumption_timeout"),
            config.get("c2s", "max_unacked"),
            config.get("c2s", "max_unacked_bytes"),
            clock,
        )

    def acceptableProtocols(self):
        """
        @return: the ALPN protocols of client streams (XEP-0368).
        """
        return [ALPN_CLIENT]

    def reloadCertificate(self):
        """
        Read the certificate and key files again (after a renewal): new
        STARTTLS negotiations use them, established connections keep the
        session they negotiated.  When the new files cannot be used, the
        error is logged and the certificate in use stays.

        @return: whether the new certificate is in use.
        """
        if self.certificate is None:
            log.info("no TLS certificate configured: nothing to reload")
            return False
        try:
            pair = loadCertificate(self.config)
            options = tlsOptionsFor(pair)
            # Build the OpenSSL context now: a key or chain OpenSSL refuses
            # must fail here, not at the next client's STARTTLS.
            options.getContext()
        except Exception as e:
            log.error(
                "TLS certificate not reloaded, still using the one {old}: {error}",
                old=self.certificate.describe(),
                error=e,
            )
            return False
        self.certificate, self.tlsOptions = pair, options
        log.info("TLS certificate reloaded: {certificate}", certificate=pair.describe())
        return True

    def disconnectAll(self, condition="system-shutdown"):
        """
        Close every open client stream (authenticated or not).

        @return: a Deferred firing when they are all closed.
        """
        return defer.gatherResults(
            [xs.authenticator.close(condition) for xs in list(self.streams)]
        ).addCallback(lambda _: None)
