"""
The way from one local domain to one remote domain: an outgoing stream
opened on demand, the stanzas waiting while it is set up, and what happens
when it cannot be (RFC 6120 section 8.3.3: the waiting stanzas bounce).
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.s2s.outgoing import NegotiationFailed, OutgoingNegotiator

log = Logger()

NOT_FOUND = "remote-server-not-found"
TIMEOUT = "remote-server-timeout"
FULL = "resource-constraint"


class OutgoingLink:
    """
    @ivar manager: the L{xmuc.s2s.manager.S2SManager}.
    @ivar local: the local domain the stanzas come from.
    @ivar remote: the remote domain they go to.
    @ivar stream: the authenticated L{OutgoingNegotiator}, or L{None}.
    @ivar queue: serialized stanzas waiting for the stream.
    @ivar queuedBytes: their size.
    @ivar maxQueuedBytes: how much may wait (C{[s2s] max_send_backlog},
        the bound of what may wait for a stream that is up); more bounces at
        once with C{resource-constraint}: a domain that takes long to
        answer must not hold unbounded memory.  A count of stanzas would
        not do: a room that remote users join while the stream to their
        server is set up sends thousands of small presences at once.
    """

    #: The bound when C{[s2s] max_send_backlog} is 0 (no bound on a
    #: stream that is up; what waits for one is still bounded).
    DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024

    def __init__(self, manager, local, remote):
        self.manager = manager
        self.local = local
        self.remote = remote
        self.stream = None
        self.queue = []
        self.queuedBytes = 0
        self.maxQueuedBytes = manager.limits.maxSendBacklog or self.DEFAULT_MAX_QUEUED_BYTES
        self._verifies = []
        self._attempt = None
        self._negotiator = None
        self._timedOut = False
        self._idleTimer = None
        self._connecting = None
        self._deadline = None

    def __repr__(self):
        return "<OutgoingLink %s -> %s>" % (self.local, self.remote)

    # --- sending

    def send(self, text):
        """
        Write a serialized stanza, or keep it until the stream is ready.
        """
        stream = self.stream
        if stream is not None:
            xs = stream.xmlstream
            if not xs.closing:
                xs.writeText(text)
                return
            self.stream = None
        if self.queuedBytes + len(text) > self.maxQueuedBytes:
            self.manager.bounce(text, FULL)
            return
        self.queue.append(text)
        self.queuedBytes += len(text)
        self.connect()

    def verify(self, streamID, key):
        """
        Ask the remote domain's server whether it made a dialback C{key}
        for our incoming stream C{streamID} (we are the receiving server).

        @return: Deferred firing with whether it did (C{False} when it
            cannot be asked).
        """
        d = defer.Deferred()
        for negotiator in (self.stream, self._negotiator):
            if negotiator is not None and negotiator.canVerify and not negotiator.xmlstream.closing:
                negotiator.sendVerify(streamID, key, d)
                return d
        self._verifies.append((streamID, key, d))
        self.connect()
        return d

    def streamCanVerify(self, negotiator):
        """
        C{negotiator}'s stream may carry C{db:verify} now: send the waiting
        questions.
        """
        waiting, self._verifies = self._verifies, []
        for streamID, key, d in waiting:
            negotiator.sendVerify(streamID, key, d)

    # --- setting up

    def connect(self):
        """
        Open the stream unless it is being opened.
        """
        if self._attempt is not None or self.stream is not None:
            return
        if not self.manager.running:
            # Stopping: nothing new is opened.
            return self.failed(NOT_FOUND, "the server is stopping")
        self._timedOut = False
        clock = self.manager.clock
        self._deadline = deadline = clock.callLater(self.manager.connectTimeout, self._timeout)
        self._attempt = self._connect()
        self._attempt.addBoth(self._attemptDone, deadline)

    @defer.inlineCallbacks
    def _connect(self):
        reason = "no address to connect to"
        try:
            targets = yield self.manager.resolver.targets(self.remote)
        except Exception as e:
            return None, "DNS look-up of %s failed (%s)" % (self.remote, e)
        for target in targets:
            if self._timedOut:
                break
            negotiator = OutgoingNegotiator(self, target)
            self._negotiator = negotiator
            try:
                connecting = self.manager.connect(target, negotiator)
                self._connecting = connecting
                yield connecting
                self._connecting = None
                yield negotiator.ready
            except NegotiationFailed as e:
                reason = "%s:%d: %s" % (target.host, target.port, e.reason)
            except defer.CancelledError:
                reason = "%s:%d: timed out" % (target.host, target.port)
            except Exception as e:
                reason = "%s:%d: cannot connect (%s)" % (target.host, target.port, e)
            else:
                return negotiator, None
            finally:
                self._connecting = None
            log.info("{link!r}: {reason}", link=self, reason=reason)
        return None, reason

    def _timeout(self):
        self._timedOut = True
        connecting = self._connecting
        if connecting is not None:
            connecting.cancel()
        negotiator = self._negotiator
        if negotiator is not None and negotiator.xmlstream is not None and not negotiator.ready.called:
            negotiator.abort("no stream within %d s" % (self.manager.connectTimeout,))

    def _attemptDone(self, result, deadline):
        self._attempt = None
        self._negotiator = None
        self._deadline = None
        if deadline.active():
            deadline.cancel()
        if not isinstance(result, tuple):
            # A bug: the failure is logged, the stanzas bounce.
            log.failure("setting up {link!r} failed", result, link=self)
            result = (None, "internal error")
        negotiator, reason = result
        if negotiator is not None:
            self.stream = negotiator
            queued, self.queue = self.queue, []
            self.queuedBytes = 0
            xs = negotiator.xmlstream
            for text in queued:
                xs.writeText(text)
            self.streamCanVerify(negotiator)
            self._armIdle()
            return
        self.failed(TIMEOUT if self._timedOut else NOT_FOUND, reason)

    def failed(self, condition, reason):
        """
        The domain cannot be reached: the waiting stanzas bounce with
        C{condition} and the waiting questions get "no".
        """
        queued, self.queue = self.queue, []
        self.queuedBytes = 0
        verifies, self._verifies = self._verifies, []
        log.info(
            "cannot reach {remote} from {local}: {reason}; {count} stanza(s) bounced with {condition}",
            remote=self.remote,
            local=self.local,
            reason=reason,
            count=len(queued),
            condition=condition,
        )
        for _, _, d in verifies:
            d.callback(False)
        for text in queued:
            self.manager.bounce(text, condition)
        self.manager.domainFailed(self.remote, condition, reason)
        self._forgetWhenUnused()

    # --- established stream

    def streamLost(self, negotiator, clean):
        """
        The authenticated stream C{negotiator} is gone.

        @param clean: whether it was closed by either side (idle, shutdown)
            rather than lost.
        """
        if self.stream is negotiator:
            self.stream = None
            log.info(
                "stream {link!r} ended{how}",
                link=self,
                how="" if clean else " (connection lost)",
            )
        if self._idleTimer is not None and self._idleTimer.active():
            self._idleTimer.cancel()
        self._idleTimer = None
        if not clean:
            self.manager.domainFailed(self.remote, NOT_FOUND, "stream to %s lost" % (self.remote,))
        if self.queue and self._attempt is None:
            self.connect()
        self._forgetWhenUnused()

    def _forgetWhenUnused(self):
        if self.stream is None and self._attempt is None and not self.queue and not self._verifies:
            self.manager.forget(self)

    def _armIdle(self, delay=None):
        clock = self.manager.clock
        self._idleTimer = clock.callLater(
            self.manager.idleTimeout if delay is None else delay, self._idleCheck
        )

    def _idleCheck(self):
        self._idleTimer = None
        stream = self.stream
        if stream is None:
            return
        xs = stream.xmlstream
        idle = self.manager.clock.seconds() - xs.lastActive
        if idle >= self.manager.idleTimeout:
            log.debug("closing idle stream {link!r}", link=self)
            self.stream = None
            xs.close()
            return
        self._armIdle(self.manager.idleTimeout - idle)

    def close(self):
        """
        Close the stream (server shutdown); what waits bounces.
        """
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.xmlstream.close()
        if self._attempt is not None:
            # A stream being set up is given up (its stanzas bounce).
            self._deadline.cancel()
            self._timeout()
        if self._idleTimer is not None and self._idleTimer.active():
            self._idleTimer.cancel()
        self._idleTimer = None
