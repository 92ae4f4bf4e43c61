"""
Streams other servers open to us (we are the receiving server, and the
authoritative server when asked to verify a dialback key).

RFC 6120 section 13.7.1.2 steps: the peer's header names the local domain
it connects to; STARTTLS (required by default); the peer authenticates
each domain it sends from, with SASL EXTERNAL (its certificate, XEP-0178)
or Server Dialback (XEP-0220).  Only then are its stanzas accepted, and
only from the domains it authenticated, to domains served here.
"""

import base64
import binascii

from twisted.logger import Logger
from twisted.words.xish import domish

from xmuc.s2s import dialback
from xmuc.s2s.certificates import peerConnection
from xmuc.xmpp import ns
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stream import newStreamID, prepareDomain, streamErrorCondition
from xmuc.xmpp.xml import STANZA_NAMES
from xmuc.xmpp.xml import stanzaToClient

log = Logger()

#: Dialback requests one stream may have waiting for the callback: each
#: makes us connect to the domain it names.
MAX_PENDING_DIALBACKS = 10


class IncomingNegotiator:
    """
    One stream a peer opened.

    @ivar manager: the L{xmuc.s2s.manager.S2SManager}.
    @ivar localDomain: the local domain its header asked for.
    @ivar peerDomain: the domain its header came from (may be L{None}).
    @ivar authenticated: the domains it may send from, each with how it
        was authenticated (C{'SASL EXTERNAL'}, C{'dialback'}...).
    @ivar sid: the stream id we gave (dialback keys depend on it).
    """

    def __init__(self, manager):
        self.manager = manager
        self.localDomain = None
        self.peerDomain = None
        self.authenticated = {}
        self.sid = None
        self.xmlstream = None
        self._certificateProblem = "no TLS"
        self._saslDone = False
        self._timer = None
        self._verifying = 0

    def associateWithStream(self, xs):
        self.xmlstream = xs

    def headerAddresses(self):
        return (self.localDomain, self.peerDomain, self.sid or newStreamID())

    # --- life cycle

    def connectionMade(self):
        self.manager.incoming.add(self)
        refused = self.manager.limits.admit(self.xmlstream)
        if refused is not None:
            return self.xmlstream.streamError(*refused)
        setNoDelay = getattr(self.xmlstream.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        # A peer must speak (its header) within connect_timeout, then
        # keep the stream in use within idle_timeout.
        self._timer = self.xmlstream.clock.callLater(self.manager.connectTimeout, self._timedOut)

    def _timedOut(self):
        self._timer = None
        xs = self.xmlstream
        if xs.closing:
            return
        if self.sid is None:
            return xs.streamError("connection-timeout", "no stream header")
        idle = xs.clock.seconds() - xs.lastActive
        if idle >= self.manager.idleTimeout:
            log.debug("closing idle incoming stream from {peer}", peer=self.peerDomain)
            return xs.close()
        self._timer = xs.clock.callLater(self.manager.idleTimeout - idle, self._timedOut)

    def connectionLost(self, reason):
        self.manager.incoming.discard(self)
        if self.authenticated:
            log.info(
                "incoming stream from {domains} ended{how}",
                domains=", ".join(sorted(self.authenticated)),
                how="" if self.xmlstream.closedCleanly else " (connection lost: %s)" % (reason.getErrorMessage(),),
            )
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def streamError(self, condition, text=None):
        """
        Close the stream with a stream error (what the limits call).
        """
        self.xmlstream.streamError(condition, text)

    def failing(self, condition, text):
        log.info(
            "incoming stream from {peer} closed with stream error {condition}{text}",
            peer=self.peerDomain or self.xmlstream.transport.getPeer(),
            condition=condition,
            text=": %s" % (text,) if text else "",
        )

    def streamEnded(self):
        self.xmlstream.close()

    # --- header and features

    def streamStarted(self, root):
        xs = self.xmlstream
        if root.uri != ns.STREAMS or root.name != "stream" or root.defaultUri != ns.SERVER:
            return xs.streamError("invalid-namespace")
        to = prepareDomain(root.getAttribute("to"))
        if self.localDomain is not None and to != self.localDomain:
            # A restarted stream is for the same domain.
            return xs.streamError("host-unknown")
        if not self.manager.isLocal(to):
            self.localDomain = to if to else None
            return xs.streamError("host-unknown", "not served here")
        self.localDomain = to
        sender = prepareDomain(root.getAttribute("from"))
        if sender is not None:
            self.peerDomain = sender
        if root.getAttribute("version") != "1.0":
            return xs.streamError("unsupported-version", "version 1.0 is required")
        self.sid = newStreamID()
        xs.sendHeader(self.localDomain, self.peerDomain, self.sid)
        if xs.tls and self.peerDomain is not None:
            connection = peerConnection(xs.transport)
            self._certificateProblem = (
                self.manager.trust.problem(connection, self.peerDomain) if connection is not None else "no TLS"
            )
        xs.send(self._features())

    def _encryptedEnough(self):
        return self.xmlstream.tls or not self.manager.requireEncryption

    def _features(self):
        features = domish.Element((ns.STREAMS, "features"))
        xs = self.xmlstream
        if not xs.tls and self.manager.tls.hasCertificate:
            starttls = features.addElement((ns.TLS, "starttls"))
            if self.manager.requireEncryption:
                starttls.addElement("required")
        if not self._encryptedEnough():
            return features
        if not self._saslDone and self._certificateProblem is None:
            mechanisms = features.addElement((ns.SASL, "mechanisms"))
            mechanisms.addElement("mechanism", content="EXTERNAL")
        features.addElement((ns.DIALBACK_FEATURE, "dialback")).addElement("errors")
        return features

    # --- elements

    def elementReceived(self, element):
        try:
            self._dispatch(element)
        except Exception:
            log.failure("error handling an element on an incoming server stream")
            self.xmlstream.streamError("internal-server-error")

    def _dispatch(self, element):
        xs = self.xmlstream
        uri = element.uri
        if uri == ns.SERVER and element.name in STANZA_NAMES:
            return self._stanza(element)
        if uri == ns.TLS and element.name == "starttls":
            return self._startTLS()
        if uri == ns.STREAMS and element.name == "error":
            log.info(
                "{peer} sent stream error {condition}",
                peer=self.peerDomain,
                condition=streamErrorCondition(element),
            )
            return xs.close()
        if not self._encryptedEnough():
            return xs.streamError("not-authorized", "start TLS first")
        if uri == ns.SASL and element.name == "auth":
            return self._saslExternal(element)
        if uri == ns.DIALBACK and element.name == "result":
            return self._dialbackResult(element)
        if uri == ns.DIALBACK and element.name == "verify":
            return self._dialbackVerify(element)
        if not self.authenticated:
            return xs.streamError("not-authorized")
        xs.streamError("unsupported-stanza-type")

    def _stanza(self, stanza):
        xs = self.xmlstream
        if not self.authenticated:
            # RFC 6120 4.9.3.12: stanzas before authentication.
            return xs.streamError("not-authorized", "authenticate first")
        sender = parseJID(stanza.getAttribute("from"))
        if sender is None or sender.host not in self.authenticated:
            # RFC 6120 4.9.3.10: a 'from' the stream did not authenticate.
            return xs.streamError(
                "invalid-from", "%s is not authenticated on this stream" % (stanza.getAttribute("from"),)
            )
        recipient = parseJID(stanza.getAttribute("to"))
        if recipient is None:
            return xs.streamError("improper-addressing", "a stanza between servers needs a valid 'to'")
        if not self.manager.isLocal(recipient.host):
            return xs.streamError("host-unknown", "%s is not served here" % (recipient.host,))
        self.manager.received(stanzaToClient(stanza, ns.SERVER))

    def _startTLS(self):
        xs = self.xmlstream
        if xs.tls or not self.manager.tls.hasCertificate or self.authenticated:
            xs.send(domish.Element((ns.TLS, "failure")))
            return xs.close()
        xs.send(domish.Element((ns.TLS, "proceed")))
        xs.transport.startTLS(self.manager.tls)
        xs.tls = True
        xs.restart()

    # --- SASL EXTERNAL (XEP-0178 section 2)

    def _saslExternal(self, auth):
        xs = self.xmlstream
        if auth.getAttribute("mechanism") != "EXTERNAL" or self._saslDone:
            return self._saslFailure("invalid-mechanism")
        text = str(auth).strip()
        claimed = self.peerDomain
        if text and text != "=":
            try:
                claimed = prepareDomain(base64.b64decode(text, validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeError, ValueError):
                return self._saslFailure("incorrect-encoding")
        if (
            claimed is None
            or claimed != self.peerDomain
            or self._certificateProblem is not None
            or self.manager.isLocal(claimed)
        ):
            return self._saslFailure("not-authorized")
        self._saslDone = True
        xs.send(domish.Element((ns.SASL, "success")))
        self._authenticate(claimed, "SASL EXTERNAL")
        xs.restart()

    def _saslFailure(self, condition):
        failure = domish.Element((ns.SASL, "failure"))
        failure.addElement(condition)
        self.xmlstream.send(failure)

    # --- Server Dialback (XEP-0220)

    def _authenticate(self, domain, how):
        self.authenticated[domain] = how
        # No longer among the unauthenticated connections ([s2s]
        # max_unauthenticated).
        self.manager.limits.authenticated(self.xmlstream)
        log.info(
            "{domain} authenticated to {local} with {how} (incoming stream)",
            domain=domain,
            local=self.localDomain,
            how=how,
        )

    def _dialbackResult(self, element):
        """
        Receiving server role: the peer wants to send as C{from}.
        """
        xs = self.xmlstream
        local = prepareDomain(element.getAttribute("to"))
        remote = prepareDomain(element.getAttribute("from"))
        key = str(element).strip()
        if element.getAttribute("type") is not None or not key:
            return xs.streamError("bad-format", "a dialback request carries a key")
        if not self.manager.isLocal(local):
            return xs.streamError("host-unknown")
        if remote is None or self.manager.isLocal(remote):
            # Nobody else sends as a domain of ours.
            return xs.streamError("invalid-from")
        if remote in self.authenticated:
            xs.send(dialback.result(local, remote, type="valid"))
            return
        connection = peerConnection(xs.transport)
        problem = self.manager.trust.problem(connection, remote) if connection is not None else "no TLS"
        if problem is None:
            # XEP-0344 section 2.4: a certificate valid for the domain
            # already proves what the callback would.
            return self._dialbackAnswered(True, local, remote, "dialback (certificate valid)")
        if self.manager.secureAuth:
            log.info(
                "dialback from {remote} refused: {problem}, and [s2s] secure_auth is true",
                remote=remote,
                problem=problem,
            )
            xs.send(dialback.result(local, remote, type="invalid"))
            return xs.streamError("not-authorized", problem)
        if self._verifying >= MAX_PENDING_DIALBACKS:
            return xs.streamError("policy-violation", "too many dialback requests at once")
        self._verifying += 1
        d = self.manager.verifyKey(local, remote, self.sid, key)
        d.addBoth(self._verified)
        d.addCallback(self._dialbackAnswered, local, remote, "dialback")
        d.addErrback(lambda f: log.failure("dialback verification failed", f))

    def _verified(self, result):
        self._verifying -= 1
        return result

    def _dialbackAnswered(self, valid, local, remote, how):
        xs = self.xmlstream
        if xs.closing:
            return
        xs.send(dialback.result(local, remote, type="valid" if valid else "invalid"))
        if valid:
            self._authenticate(remote, how)
        else:
            xs.streamError("not-authorized", "dialback key for %s did not verify" % (remote,))

    def _dialbackVerify(self, element):
        """
        Authoritative server role: did we make this key?
        """
        xs = self.xmlstream
        local = prepareDomain(element.getAttribute("to"))
        remote = prepareDomain(element.getAttribute("from"))
        streamID = element.getAttribute("id")
        if not self.manager.isLocal(local):
            return xs.streamError("host-unknown")
        if remote is None or not streamID:
            return xs.streamError("bad-format", "db:verify needs from and id")
        valid = self.manager.keys.check(remote, local, streamID, str(element).strip())
        xs.send(dialback.verify(local, remote, streamID, type="valid" if valid else "invalid"))
