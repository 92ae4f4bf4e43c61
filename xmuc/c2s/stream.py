"""
Client-to-server XML streams (RFC 6120) on Twisted Words' L{XmlStream}.

L{ClientStreamFactory} is what the listeners use.  Each connection gets a
L{ClientXmlStream} (parsing, size limits, writing) and a
L{ClientAuthenticator} (the negotiation: header checks, STARTTLS, SASL,
pre-authentication registration, resource binding).  Once a resource is
bound the stream hands every stanza straight to its L{ClientSession}, which
checks C{from} and gives it to the session manager: the per-stanza path
has no XPath observers and no logging above debug.
"""

import base64
import binascii
import os

from twisted.internet import defer, ssl
from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid as jidmod, xmlstream
from twisted.words.protocols.jabber.xmpp_stringprep import nameprep
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.c2s import sasl
from xmuc.c2s.streammanagement import (
    NS_SM,
    ResumptionRegistry,
    StreamManagement,
    failed as smFailed,
    parseH,
    smElement,
)
from xmuc.interfaces import ISession
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.xml import RestrictedXML, TooDeep, UnsafeNamespace, hardenParser

log = Logger()

#: Seconds a closing stream may take before the TCP connection is aborted
#: (a peer that does not read would otherwise keep it open forever).
CLOSE_TIMEOUT = 10.0

#: Seconds a client has, from connecting, to bind a resource; idle
#: half-open negotiations would otherwise hold resources forever.
NEGOTIATION_TIMEOUT = 60.0

_STANZAS = frozenset(("message", "presence", "iq"))


#: The TLS 1.2 suites offered: Mozilla's "intermediate" profile, forward
#: secret (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305) only.
#: TLS 1.3 suites are OpenSSL's, all of which already are both.
TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
])


def loadTLSOptions(config):
    """
    Build the server TLS context from C{[c2s] tls_certificate} and
    C{tls_key}.

    @param config: the L{xmuc.config.Config}.
    @return: an L{ssl.CertificateOptions} accepting TLS 1.2 (with the
        L{TLS12_CIPHERS} suites only) and TLS 1.3, or L{None} when no
        certificate is configured.
    @raise xmuc.config.ConfigError: for unreadable or mismatched files, or
        when encryption is required and no certificate is configured.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

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
    keyPath = keyPath or certPath
    try:
        with open(certPath, "rb") as f:
            certData = f.read()
    except OSError as e:
        raise config.error("c2s", "tls_certificate", "cannot read %s (%s)" % (certPath, e.strerror))
    try:
        with open(keyPath, "rb") as f:
            keyData = f.read()
    except OSError as e:
        raise config.error("c2s", "tls_key", "cannot read %s (%s)" % (keyPath, e.strerror))
    try:
        certificates = x509.load_pem_x509_certificates(certData)
    except ValueError:
        raise config.error("c2s", "tls_certificate", "no PEM certificate in %s" % (certPath,))
    try:
        key = serialization.load_pem_private_key(keyData, password=None)
    except (ValueError, TypeError):
        raise config.error(
            "c2s", "tls_key", "no unencrypted PEM private key in %s" % (keyPath,)
        )
    publicFormat = (
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    if certificates[0].public_key().public_bytes(*publicFormat) != key.public_key().public_bytes(*publicFormat):
        raise config.error("c2s", "tls_key", "the key does not match the certificate")
    return ssl.CertificateOptions(
        privateKey=key,
        certificate=certificates[0],
        extraCertChain=certificates[1:] or None,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2,
        acceptableCiphers=ssl.AcceptableCiphers.fromOpenSSLCipherString(TLS12_CIPHERS),
    )


class ClientXmlStream(xmlstream.XmlStream):
    """
    One client connection.

    @ivar tls: whether TLS is active.
    @ivar closing: set once the stream is being closed; input is ignored.
    """

    tls = False
    closing = False

    def __init__(self, authenticator):
        xmlstream.XmlStream.__init__(self, authenticator)
        self.maxStanzaSize = authenticator.factory.maxStanzaSize
        self._handler = authenticator.elementReceived

    def _initializeStream(self):
        xmlstream.XmlStream._initializeStream(self)
        # Stanza size accounting, in bytes given to this parser: where the
        # last top-level element ended, and how much was received.  A
        # stanza is everything between two ends; checking costs two integer
        # operations per stanza and per read.
        self._received = 0
        self._lastEnd = 0
        self.stream.maxStanzaSize = self.maxStanzaSize
        hardenParser(self.stream.parser)

    def setDispatchFn(self, fn):
        """
        Send every top-level element to C{fn} (after the size check).
        """
        self._handler = fn

    def resetDispatchFn(self):
        self._handler = self.authenticator.elementReceived

    def detachParser(self):
        """
        Make the current parser inert: after STARTTLS or SASL success the
        rest of an already received buffer must not be acted upon (a
        plaintext injection would otherwise pass as protected data).
        """
        stream = self.stream
        if stream is not None:
            ignore = lambda *args: None
            stream.DocumentStartEvent = ignore
            stream.ElementEvent = ignore
            stream.DocumentEndEvent = ignore

    def dataReceived(self, data):
        if self.closing:
            return
        stream = self.stream
        try:
            stream.parse(data)
        except domish.ParserError:
            if stream.stanzaSize > stream.maxStanzaSize:
                self.authenticator.streamError("policy-violation", "stanza too large")
            else:
                self.authenticator.streamError("not-well-formed")
            return
        except RestrictedXML:
            self.authenticator.streamError("restricted-xml")
            return
        except TooDeep:
            self.authenticator.streamError("policy-violation", "elements nested too deeply")
            return
        except UnsafeNamespace:
            self.authenticator.streamError(
                "policy-violation", "namespace names must not contain quotes, '<', '>' or '&'"
            )
            return
        if stream is self.stream and not self.closing:
            self._received += len(data)
            if self._received - self._lastEnd > self.maxStanzaSize:
                self.authenticator.streamError("policy-violation", "stanza too large")

    def onDocumentStart(self, rootElement):
        self._lastEnd = self.stream.parser.CurrentByteIndex
        self.authenticator.streamStarted(rootElement)

    def onElement(self, element):
        if self.closing:
            return
        end = self.stream.parser.CurrentByteIndex
        size = end - self._lastEnd
        self._lastEnd = end
        if size > self.maxStanzaSize:
            self.authenticator.streamError("policy-violation", "stanza too large")
            return
        self._handler(element)

    def onDocumentEnd(self):
        self.authenticator.streamEnded()

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
    @ivar connected: false once the connection is gone (sending is a no-op).
    @ivar encrypted: whether the stream is protected by TLS.
    @ivar streamManagement: the L{StreamManagement} state once the client
        enabled XEP-0198, else L{None}.
    """

    streamManagement = None

    def __init__(self, authenticator, username, host):
        self._authenticator = authenticator
        self._stream = authenticator.xmlstream
        self._sm = authenticator.factory.server.sm
        self.username = username
        self.host = host
        self.bare = "%s@%s" % (username, host)
        # The session manager reads the authenticated bare JID here when
        # binding, and replaces it with the full JID.
        self.jid = jidmod.internJID(self.bare)
        self._full = None
        self.priority = 0
        self.presence = None
        self.interestedInRoster = False
        self.directedPresence = set()
        self.connected = True
        self.encrypted = self._stream.tls

    def __repr__(self):
        return "<ClientSession %s>" % (self._full or self.bare,)

    def send(self, stanza):
        """
        Send a stanza (L{domish.Element}) or serialized XML (L{str}).
        """
        smState = self.streamManagement
        if smState is not None:
            # Counted and kept until acknowledged (and queued while the
            # session hibernates).
            smState.send(stanza)
            return
        if not self.connected:
            return
        if isinstance(stanza, str):
            self._stream.transport.write(stanza.encode("utf-8"))
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

    def setBound(self, full):
        """
        Record the bound full JID.
        """
        if isinstance(full, str):
            full = jidmod.internJID(full)
        self.jid = full
        self._full = full.full()

    def received(self, element):
        """
        A top-level element from the bound client.
        """
        if element.uri != ns.CLIENT or element.name not in _STANZAS:
            self._authenticator.nonStanzaReceived(element)
            return
        smState = self.streamManagement
        if smState is not None:
            smState.handled = (smState.handled + 1) & 0xFFFFFFFF
        sender = element.getAttribute("from")
        if sender is not None and sender != self._full and sender != self.bare:
            try:
                parsed = jidmod.internJID(sender)
            except (jidmod.InvalidFormat, UnicodeError, ValueError, RuntimeError):
                # RuntimeError: Twisted's JID refuses an empty string so.
                parsed = None
            if parsed is None or parsed.full() not in (self._full, self.bare):
                self._authenticator.streamError("invalid-from")
                return
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
    @ivar failures: failed SASL attempts so far.
    @ivar registered: whether an account was registered on this stream.
    """

    namespace = ns.CLIENT

    def __init__(self, factory):
        xmlstream.ListenAuthenticator.__init__(self)
        self.factory = factory
        self.host = None
        self.username = None
        self.session = None
        self.bound = False
        self.failures = 0
        self.registered = False
        self._mechanism = None
        self._pending = False
        self._queued = []
        self._closed = defer.Deferred()
        self._closeTimer = None
        self._negotiationTimer = None
        self._unbound = False

    # --- connection life cycle

    def connectionMade(self):
        from twisted.internet import reactor

        self.factory.streams.add(self.xmlstream)
        # Twisted already gathers what is written in one reactor turn into
        # one send; Nagle on top holds the next stanza back until the
        # client's (delayed, up to 40 ms) ACK of the previous one.
        setNoDelay = getattr(self.xmlstream.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        self._negotiationTimer = reactor.callLater(
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
        # Nothing more may be sent or scheduled for this stream.
        self.xmlstream.closing = True
        self.factory.streams.discard(self.xmlstream)
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
                else:
                    self.endSession()
        log.debug("client stream closed ({session!r})", session=session)
        if not self._closed.called:
            self._closed.callback(None)

    def endSession(self):
        """
        The bound session is over: the session manager forgets it (and
        broadcasts its unavailable presence), then the stanzas sent to it
        and never acknowledged are dealt with: chat and normal messages
        are handed to offline storage once the session is unbound, which
        delivers them to another available resource of the account if
        there is one and else stores them (bouncing only what storage
        refuses), as Prosody's mod_smacks with mod_offline; the others
        are bounced.  Only the first call counts.
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
                smState.end(
                    sm.bounce,
                    keep=lambda message: sm.offline.keep(message, jidmod.internJID(session.bare), None),
                    archivedBy=session.bare if getattr(session, "mamRequested", False) else None,
                )
            except Exception:
                log.failure("bouncing the unacknowledged stanzas of {session!r} failed", session=session)

    def streamError(self, condition, text=None):
        """
        Send a stream error and close the connection.
        """
        xs = self.xmlstream
        if xs.closing:
            return
        self._closing()
        log.debug("stream error {condition}", condition=condition)
        if xs.thisEntity is None:
            xs.sid = xs.sid or _newStreamID()
        xs.sendStreamError(error.StreamError(condition, text))
        self._abortLater()

    def close(self, condition=None, text=None):
        """
        Close the stream, with a stream error when C{condition} is given.

        @return: a Deferred firing once the connection is closed.
        """
        xs = self.xmlstream
        if condition is not None:
            self.streamError(condition, text)
        elif not xs.closing:
            self._closing()
            if xs._headerSent:
                xs.sendFooter()
            xs.transport.loseConnection()
            self._abortLater()
        return self.whenClosed()

    def _closing(self):
        # Nothing may follow our closing tag: stanzas routed to the session
        # from now on are dropped.
        self.xmlstream.closing = True
        if self.session is not None:
            self.session.connected = False

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
        from twisted.internet import reactor

        if self._closeTimer is None and not self._closed.called:
            self._closeTimer = reactor.callLater(
                CLOSE_TIMEOUT, self.xmlstream.transport.abortConnection
            )

    def streamEnded(self):
        """
        The client closed its stream: close ours.
        """
        self.close()

    # --- stream header

    def streamStarted(self, rootElement):
        xs = self.xmlstream
        xs.namespace = ns.CLIENT
        xs.version = (1, 0)
        xs.sid = _newStreamID()
        host = _prepareDomain(rootElement.getAttribute("to"))
        if host in self.factory.hosts:
            xs.thisEntity = jidmod.internJID(host)
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
        xs.sendHeader()
        xs.send(self._features())

    def _saslAllowed(self):
        return self.xmlstream.tls or not self.factory.requireEncryption

    def _mechanisms(self):
        offered = self.factory.server.auth.mechanisms(self.xmlstream.tls)
        return [name for name in offered if name in sasl.SUPPORTED]

    def _features(self):
        features = domish.Element((ns.STREAMS, "features"))
        if self.username is None:
            xs = self.xmlstream
            if self.factory.tlsOptions is not None and not xs.tls:
                starttls = features.addElement((ns.TLS, "starttls"))
                if self.factory.requireEncryption:
                    starttls.addElement("required")
            if self._saslAllowed():
                mechanisms = features.addElement((ns.SASL, "mechanisms"))
                for name in self._mechanisms():
                    mechanisms.addElement("mechanism", content=name)
                if self.factory.allowRegistration:
                    features.addElement((ns.REGISTER_FEATURE, "register"))
        else:
            features.addElement((ns.BIND, "bind"))
            features.addElement((ns.SESSION, "session")).addElement("optional")
            features.addElement((NS_SM, "sm"))
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
            return self._sasl(element)
        if uri == NS_SM and self.username is not None:
            return self._streamManagementBeforeBind(element)
        if uri == ns.TLS and element.name == "starttls":
            return self._startTLS()
        if uri == ns.STREAMS and element.name == "error":
            return self.close()
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
            self.close()
        elif element.uri == NS_SM:
            smState = self.session.streamManagement
            if smState is not None:
                smState.received(element)
            elif element.name == "enable":
                self._enableStreamManagement(element)
            elif element.name == "resume":
                self.xmlstream.send(smFailed("unexpected-request", text="a resource is bound"))
            # <r/> and <a/> before <enable/> are ignored, like Prosody does.
        else:
            self.streamError("unsupported-stanza-type")

    # --- stream management (XEP-0198)

    def _enableStreamManagement(self, element):
        registry = self.factory.resumption
        resumable = element.getAttribute("resume") in ("true", "1") and registry.timeout > 0
        smState = StreamManagement(self.session, registry, resumable)
        self.session.streamManagement = smState
        if resumable:
            enabled = smElement(
                "enabled",
                id=smState.resumptionID,
                resume="true",
                max=int(registry.timeout),
            )
        else:
            enabled = smElement("enabled")
        self.xmlstream.send(enabled)

    def _streamManagementBeforeBind(self, element):
        name = element.name
        if name == "resume":
            return self._resumeSession(element)
        if name == "enable":
            self.xmlstream.send(
                smFailed("unexpected-request", text="bind a resource before enabling stream management")
            )
        elif name not in ("r", "a"):
            self.streamError("unsupported-stanza-type")

    def _resumeSession(self, element):
        """
        C{<resume previd h/>} on an authenticated stream: take over the
        session it names (hibernating, or still on a connection that is
        closed with C{conflict}).
        """
        xs = self.xmlstream
        registry = self.factory.resumption
        previd = element.getAttribute("previd")
        h = parseH(element.getAttribute("h"))
        if not previd or h is None:
            xs.send(smFailed("bad-request", text="'previd' and 'h' are required"))
            return
        session, lastHandled = registry.find(previd, self.session.bare)
        if session is None:
            xs.send(smFailed("item-not-found", h=lastHandled))
            return
        smState = session.streamManagement
        if not smState.acknowledge(h):
            xs.send(smFailed("undefined-condition", h=smState.handled))
            smState.forgetResumption()
            session.disconnect("undefined-condition", "acknowledged more stanzas than were sent")
            return
        old = session._authenticator
        # The old stream must not end the session when it closes.
        old.session = None
        if not smState.hibernating:
            old.streamError("conflict", "resumed on another connection")
        session._authenticator = self
        session._stream = xs
        session.connected = True
        session.encrypted = xs.tls
        self.session = session
        self.bound = True
        if self._negotiationTimer is not None and self._negotiationTimer.active():
            self._negotiationTimer.cancel()
        self._negotiationTimer = None
        log.debug("{session!r} resumed", session=session)
        xs.send(smElement("resumed", previd=previd, h=smState.handled))
        smState.resumed()
        xs.setDispatchFn(session.received)

    def _firstChild(self, element):
        for child in element.elements():
            return child
        return None

    def _unauthenticatedIQ(self, iq):
        query = self._firstChild(iq)
        if query is not None and query.uri == ns.REGISTER and query.name == "query":
            if not self._saslAllowed():
                return self.streamError("not-authorized", "start TLS first")
            if not self.factory.allowRegistration:
                return self.xmlstream.send(errorReply(iq, "service-unavailable", payload=False))
            from xmuc.c2s.register import handleUnauthenticatedRegisterIQ

            d = handleUnauthenticatedRegisterIQ(self.factory.server, self, iq)
            d.addErrback(lambda f: log.failure("registration failed", f))
            return self._waitFor(d)
        self.streamError("not-authorized")

    def _authenticatedIQ(self, iq):
        query = self._firstChild(iq)
        if query is not None and iq.getAttribute("type") == "set":
            if query.uri == ns.BIND and query.name == "bind":
                return self._bind(iq, query)
            if query.uri == ns.SESSION and query.name == "session":
                return self.xmlstream.send(xmlstream.toResponse(iq, "result"))
        self.streamError("not-authorized", "bind a resource first")

    def _waitFor(self, d):
        """
        Hold further input until C{d} (an asynchronous step of the
        negotiation: storage, session manager) has fired; elements already
        parsed meanwhile are queued and handled afterwards, in order.
        """
        if d.called:
            return
        self._pending = True
        self.xmlstream.transport.pauseProducing()
        d.addBoth(self._resume)

    def _resume(self, result=None):
        self._pending = False
        xs = self.xmlstream
        while self._queued and not self._pending and not xs.closing:
            element = self._queued.pop(0)
            if self.bound:
                self.session.received(element)
            else:
                self.elementReceived(element)
        if not self._pending and xs.transport is not None:
            # Even when closing: a TLS shutdown needs to read the peer's
            # close_notify (input is ignored anyway).
            xs.transport.resumeProducing()

    # --- STARTTLS

    def _startTLS(self):
        xs = self.xmlstream
        if xs.tls or self.username is not None or self.factory.tlsOptions is None:
            xs.send(domish.Element((ns.TLS, "failure")))
            return self.close()
        xs.send(domish.Element((ns.TLS, "proceed")))
        xs.transport.startTLS(self.factory.tlsOptions)
        xs.tls = True
        self._restart()

    # --- SASL

    def _saslFailure(self, condition):
        failure = domish.Element((ns.SASL, "failure"))
        failure.addElement(condition)
        self.xmlstream.send(failure)

    def _sasl(self, element):
        name = element.name
        if self.username is not None:
            return self.streamError("not-authorized", "already authenticated")
        if not self._saslAllowed():
            self._saslFailure("encryption-required")
            return self.close()
        if name == "abort":
            self._mechanism = None
            return self._saslFailure("aborted")
        if name == "auth":
            mechanismName = element.getAttribute("mechanism")
            if mechanismName not in self._mechanisms():
                self._mechanism = None
                return self._saslFailed("invalid-mechanism")
            self._mechanism = sasl.createMechanism(
                mechanismName,
                self.factory.server.auth,
                self.host,
                self.factory.scramSecret,
            )
            text = str(element).strip()
            if not text:
                data = None
            elif text == "=":
                data = b""
            else:
                data = _b64decode(text)
        elif name == "response":
            if self._mechanism is None:
                return self._saslFailed("malformed-request")
            data = _b64decode(str(element).strip())
        else:
            return self._saslFailed("malformed-request")
        if data is _INVALID:
            self._mechanism = None
            return self._saslFailed("incorrect-encoding")

        mechanism = self._mechanism
        d = mechanism.step(data)
        d.addCallbacks(self._saslStepDone, self._saslStepFailed, (mechanism,), None, (mechanism,))
        d.addErrback(lambda f: log.failure("SASL step failed", f))
        self._waitFor(d)

    def _saslStepDone(self, result, mechanism):
        if mechanism is not self._mechanism or self.xmlstream.closing:
            return
        xs = self.xmlstream
        if isinstance(result, sasl.Challenge):
            challenge = domish.Element((ns.SASL, "challenge"))
            if result.data:
                challenge.addContent(base64.b64encode(result.data).decode("ascii"))
            xs.send(challenge)
            return
        self._mechanism = None
        self.username = result.username
        success = domish.Element((ns.SASL, "success"))
        if result.data:
            success.addContent(base64.b64encode(result.data).decode("ascii"))
        xs.send(success)
        self.session = ClientSession(self, self.username, self.host)
        log.info(
            "{user}@{host} authenticated with {mechanism}",
            user=self.username,
            host=self.host,
            mechanism=mechanism.name,
            encrypted=xs.tls,
        )
        self._restart()

    def _saslStepFailed(self, failure, mechanism):
        if mechanism is not self._mechanism or self.xmlstream.closing:
            return
        self._mechanism = None
        if failure.check(sasl.SASLFailure):
            condition = failure.value.condition
        else:
            log.failure("authentication backend failed", failure)
            condition = "temporary-auth-failure"
        self._saslFailed(condition)

    def _saslFailed(self, condition):
        self._saslFailure(condition)
        self.failures += 1
        if self.failures >= self.factory.maxAuthFailures:
            self.streamError("policy-violation", "too many authentication failures")

    # --- resource binding

    def _bind(self, iq, bind):
        resource = None
        for child in bind.elements():
            if child.name == "resource" and child.uri == ns.BIND:
                resource = str(child).strip() or None
        d = defer.maybeDeferred(self.factory.server.sm.bind, self.session, resource)
        d.addCallbacks(self._bound, self._bindFailed, (iq,), None, (iq,))
        d.addErrback(lambda f: log.failure("binding failed", f))
        self._waitFor(d)

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
        self.bound = True
        if self._negotiationTimer is not None and self._negotiationTimer.active():
            self._negotiationTimer.cancel()
        self._negotiationTimer = None
        result = xmlstream.toResponse(iq, "result")
        result.addElement((ns.BIND, "bind")).addElement("jid", content=session.jid.full())
        xs.send(result)
        # From now on the parser calls the session directly.
        xs.setDispatchFn(session.received)

    def _bindFailed(self, failure, iq):
        if self.xmlstream.closing:
            return
        if failure.check(StanzaError):
            self.xmlstream.send(errorReply(iq, failure.value, payload=False))
        else:
            log.failure("session manager failed to bind", failure)
            self.xmlstream.send(errorReply(iq, "internal-server-error", payload=False))


_INVALID = object()


def _b64decode(text):
    """
    @return: the decoded bytes, or L{_INVALID}.
    """
    if text == "=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return _INVALID


def _newStreamID():
    return binascii.hexlify(os.urandom(8)).decode("ascii")


def _prepareDomain(text):
    """
    @return: the nameprep'ed domain, or L{None}.
    """
    if not text:
        return None
    try:
        return nameprep.prepare(text)
    except (UnicodeError, ValueError, IndexError):
        return None


def _parseVersion(text):
    if not text:
        return (0, 0)
    try:
        major, minor = text.split(".")
        return (int(major), int(minor))
    except ValueError:
        return (0, 0)


class ClientStreamFactory(xmlstream.XmlStreamServerFactory):
    """
    Builds client streams for the listeners.

    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar hosts: the local virtual hosts.
    @ivar tlsOptions: the TLS context factory, or L{None} without TLS.
    @ivar streams: the open L{ClientXmlStream}s.
    """

    protocol = ClientXmlStream

    def __init__(self, server):
        xmlstream.XmlStreamServerFactory.__init__(
            self, lambda: ClientAuthenticator(self)
        )
        config = server.config
        self.server = server
        self.hosts = frozenset(server.hosts)
        self.requireEncryption = config.get("c2s", "require_encryption")
        self.allowRegistration = config.get("c2s", "allow_registration")
        self.maxAuthFailures = config.get("c2s", "max_auth_failures")
        self.maxStanzaSize = config.get("server", "max_stanza_size")
        self.tlsOptions = loadTLSOptions(config)
        self.scramSecret = os.urandom(32)
        self.negotiationTimeout = NEGOTIATION_TIMEOUT
        self.streams = set()
        self.resumption = ResumptionRegistry(
            config.get("c2s", "resumption_timeout"), config.get("c2s", "max_unacked")
        )

    def disconnectAll(self, condition="system-shutdown"):
        """
        Close every open client stream (authenticated or not).

        @return: a Deferred firing when they are all closed.
        """
        return defer.gatherResults(
            [xs.authenticator.close(condition) for xs in list(self.streams)]
        ).addCallback(lambda _: None)
