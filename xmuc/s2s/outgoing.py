"""
Streams we open to other servers (we are the initiating server): the
header, STARTTLS, the peer's certificate check, then authentication of our
domain with SASL EXTERNAL (XEP-0178) when the peer offers it, else Server
Dialback (XEP-0220).  The same stream carries the dialback verification
requests (C{db:verify}) we send as receiving server.
"""

import base64

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.xish import domish

from xmuc.s2s import dialback
from xmuc.s2s.certificates import peerConnection
from xmuc.s2s.stream import firstChild
from xmuc.xmpp import ns
from xmuc.xmpp.stream import streamErrorCondition

log = Logger()


class NegotiationFailed(Exception):
    """
    An outgoing stream could not be set up.

    @ivar reason: what went wrong, in words.
    """

    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


class OutgoingNegotiator:
    """
    One connection we opened to a remote server, for one local domain.

    @ivar link: the L{xmuc.s2s.link.OutgoingLink} it serves.
    @ivar ready: Deferred firing with this negotiator once our domain is
        authenticated, failing with L{NegotiationFailed}.
    @ivar canVerify: whether C{db:verify} may be sent (TLS done as
        required, features received).
    @ivar authenticated: whether stanzas may be sent.
    @ivar sid: the stream id the peer gave.
    @ivar certificateProblem: what is wrong with the peer's certificate
        (L{None}: valid for its domain; C{'not checked'} before TLS).
    @ivar method: how our domain was authenticated, once it is.
    @ivar dialbackOffered: whether the peer offers dialback.
    @ivar allowDialback: whether to try dialback (else SASL EXTERNAL only).
    """

    allowDialback = True

    def __init__(self, link, target):
        self.link = link
        self.manager = link.manager
        self.local = link.local
        self.remote = link.remote
        self.target = target
        self.ready = defer.Deferred()
        self.canVerify = False
        self.authenticated = False
        self.sid = None
        self.xmlstream = None
        self.dialbackOffered = False
        self.certificateProblem = "not checked"
        self.method = None
        self._certificateChecked = False
        self._saslSucceeded = False
        self._saslTried = False
        self._verifies = {}
        self._failure = None

    def associateWithStream(self, xs):
        self.xmlstream = xs
        xs.tls = self.target.directTLS

    def headerAddresses(self):
        return (self.local, self.remote, None)

    # --- life cycle

    def connectionMade(self):
        # Not counted against [s2s] max_connections_per_ip (we opened it),
        # but read at the [s2s] read_rate and its output bounded.
        self.manager.limits.watch(self.xmlstream)
        setNoDelay = getattr(self.xmlstream.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        self.xmlstream.sendHeader(self.local, self.remote)

    def _giveUp(self, reason):
        if self._failure is None:
            self._failure = reason
        if not self.ready.called:
            self.ready.errback(NegotiationFailed(reason))

    def fail(self, reason):
        """
        Give up on this connection: C{ready} fails, the stream closes.
        """
        self._giveUp(reason)
        xs = self.xmlstream
        if xs is not None and xs.transport is not None:
            xs.close()

    def abort(self, reason):
        """
        Drop the connection now (the set-up timed out).
        """
        self.fail(reason)
        if self.xmlstream.transport is not None:
            self.xmlstream.transport.abortConnection()

    def streamError(self, condition, text=None):
        """
        Close the stream with a stream error (what the limits call).
        """
        self.xmlstream.streamError(condition, text)

    def failing(self, condition, text):
        # We are sending a stream error.
        self._giveUp("we sent stream error %s%s" % (condition, ": %s" % (text,) if text else ""))

    def streamEnded(self):
        self.xmlstream.close()

    def connectionLost(self, reason):
        for waiting in self._verifies.values():
            for d in waiting:
                d.callback(False)
        self._verifies = {}
        if not self.ready.called:
            self.ready.errback(NegotiationFailed(self._failure or "connection lost (%s)" % (reason.getErrorMessage(),)))
            return
        self.link.streamLost(self, clean=self._failure is None and self.xmlstream.closedCleanly)

    # --- header and features

    def streamStarted(self, root):
        xs = self.xmlstream
        if root.uri != ns.STREAMS or root.name != "stream" or root.defaultUri != ns.SERVER:
            return xs.streamError("invalid-namespace")
        if root.getAttribute("version") != "1.0":
            return xs.streamError("unsupported-version", "version 1.0 is required")
        self.sid = root.getAttribute("id")
        if not self.sid:
            return self.fail("the peer's stream header has no id")
        if ns.DIALBACK in root.localPrefixes.values():
            self.dialbackOffered = True
        if xs.tls and not self._certificateChecked:
            self._certificateChecked = True
            connection = peerConnection(xs.transport)
            problem = self.manager.trust.problem(connection, self.remote) if connection else "no TLS"
            self.certificateProblem = problem
            if problem is not None:
                if self.manager.secureAuth:
                    return self._refuse(
                        "%s's %s, and [s2s] secure_auth is true" % (self.remote, problem),
                        "certificate not acceptable",
                    )
                log.info("{remote}: {problem} ([s2s] secure_auth is false: dialback)", remote=self.remote, problem=problem)

    def _refuse(self, reason, text):
        self._giveUp(reason)
        # Tell the peer why we go.
        self.xmlstream.streamError("policy-violation", text)

    def elementReceived(self, element):
        try:
            self._dispatch(element)
        except Exception:
            log.failure("error handling an element on an outgoing server stream")
            self.xmlstream.streamError("internal-server-error")

    def _dispatch(self, element):
        xs = self.xmlstream
        uri, name = element.uri, element.name
        if uri == ns.STREAMS and name == "features":
            return self._features(element)
        if uri == ns.TLS and name == "proceed":
            xs.transport.startTLS(self.manager.tls.forDomain(self.remote))
            xs.tls = True
            xs.restart()
            return xs.sendHeader(self.local, self.remote)
        if uri == ns.TLS and name == "failure":
            return self.fail("STARTTLS failed")
        if uri == ns.SASL and name == "success":
            self._saslSucceeded = True
            xs.restart()
            return xs.sendHeader(self.local, self.remote)
        if uri == ns.SASL and name == "failure":
            if self.dialbackOffered and self.allowDialback:
                return self._dialback()
            return self.fail("SASL EXTERNAL refused (and no dialback)")
        if uri == ns.DIALBACK and name == "result":
            return self._dialbackResult(element)
        if uri == ns.DIALBACK and name == "verify":
            return self._verifyAnswer(element)
        if uri == ns.STREAMS and name == "error":
            return self.fail("%s sent stream error %s" % (self.remote, streamErrorCondition(element)))
        xs.streamError("unsupported-stanza-type")

    def _features(self, features):
        xs = self.xmlstream
        if self._saslSucceeded:
            return self._authenticated("SASL EXTERNAL")
        if not xs.tls:
            if firstChild(features, ns.TLS, "starttls") is not None and self.manager.tls is not None:
                return xs.send(domish.Element((ns.TLS, "starttls")))
            if self.manager.requireEncryption:
                return self._refuse(
                    "%s offers no STARTTLS, and [s2s] require_encryption is true" % (self.remote,),
                    "encryption required",
                )
        if firstChild(features, ns.DIALBACK_FEATURE, "dialback") is not None:
            self.dialbackOffered = True
        self.canVerify = True
        self.link.streamCanVerify(self)
        if self.authenticated:
            return
        mechanisms = firstChild(features, ns.SASL, "mechanisms")
        offered = [str(m).strip() for m in mechanisms.elements()] if mechanisms is not None else []
        if "EXTERNAL" in offered and self.manager.tls.hasCertificate and xs.tls and not self._saslTried:
            self._saslTried = True
            auth = domish.Element((ns.SASL, "auth"))
            auth["mechanism"] = "EXTERNAL"
            auth.addContent(base64.b64encode(self.local.encode("utf-8")).decode("ascii"))
            return xs.send(auth)
        if self.dialbackOffered and self.allowDialback:
            return self._dialback()
        self.fail("%s offers no way to authenticate %s" % (self.remote, self.local))

    # --- dialback, originating side

    def _dialback(self):
        key = self.manager.keys.key(self.remote, self.local, self.sid)
        self.xmlstream.send(dialback.result(self.local, self.remote, key))

    def _dialbackResult(self, element):
        if element.getAttribute("from") != self.remote or element.getAttribute("to") != self.local:
            return
        kind = element.getAttribute("type")
        if kind == "valid":
            return self._authenticated("dialback")
        self.fail("%s refused our dialback (%s)" % (self.remote, kind))

    def _authenticated(self, how):
        if self.authenticated:
            return
        self.authenticated = True
        self.method = how
        log.info(
            "{local} authenticated to {remote} with {how} (outgoing stream to {host}:{port})",
            local=self.local,
            remote=self.remote,
            how=how,
            host=self.target.host,
            port=self.target.port,
        )
        self.ready.callback(self)

    # --- dialback, receiving side's questions

    def sendVerify(self, streamID, key, d):
        """
        Ask the peer (authoritative for its domain) whether it made C{key}
        for our stream C{streamID}.

        @param d: Deferred fired with whether it says so.
        """
        self._verifies.setdefault(streamID, []).append(d)
        self.xmlstream.send(dialback.verify(self.local, self.remote, streamID, key))

    def _verifyAnswer(self, element):
        waiting = self._verifies.pop(element.getAttribute("id"), None)
        if not waiting:
            return
        valid = (
            element.getAttribute("type") == "valid"
            and element.getAttribute("from") == self.remote
            and element.getAttribute("to") == self.local
        )
        for d in waiting:
            d.callback(valid)
