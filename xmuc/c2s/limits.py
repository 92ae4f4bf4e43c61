"""
What one client may cost: connection caps, the read rate, the bound on
what waits to be written to a client, and failed-login throttling.

These are the limits operators know from ejabberd's shapers and
C{mod_fail2ban} and Prosody's C{mod_limits}, all in C{[c2s]}:

  - L{ConnectionLimits.admit}: at most C{max_connections_per_ip}
    connections from one address (one IPv6 /64), refused with a
    C{policy-violation} stream error; at most C{max_unauthenticated}
    connections that have not authenticated yet, in total: when a new one
    comes the I{oldest} unauthenticated one is closed (C{policy-violation}),
    so that idle connections piling up never lock logins out (a real
    client authenticates within a second or two of connecting; the oldest
    one is almost always an idle one).
  - L{ReadRate}: each connection is read at most C{read_rate} bytes per
    second after a burst of C{read_burst} bytes; beyond it the transport
    is paused (TCP then slows the sender), nothing is dropped.
  - L{OutputMonitor}: Twisted's producer/consumer on each transport says
    when a connection's write buffer is full (the client is not reading as
    fast as it is written to).  Whoever sends to such a connection, once
    L{HOLD_AFTER} bytes wait beyond that buffer, is paused (its input is
    not read) until the buffer drains, for
    L{OVERLOAD_GRACE} seconds at most: a sender into a room of slow
    readers is slowed, not buffered.  Past that the congested client is a
    slow reader: senders go on, and what waits for it grows to its bound.
    A connection whose
    unsent data grows past C{max_send_backlog} bytes beyond the socket
    buffers gets a C{policy-violation} stream error (RFC 6120 4.9.3.18:
    "the entity has violated some local service policy": the server's
    buffering policy), one whose buffer stays full for C{send_timeout}
    seconds a C{connection-timeout} (4.9.3.4: "one party is closing the
    stream because it has reason to believe that the other party has
    permanently lost the ability to communicate over the stream": it has
    taken none of our traffic for that long); it is then aborted at once,
    since it does not read the error either, and its session ends
    normally (rooms see it leave).
  - The server as a whole: when the connections that are being written
    to faster than they read hold more than C{max_total_backlog} bytes
    beyond their buffers in total (a join storm: every join is written to
    every occupant, N x N stanzas from N different senders), the server
    stops reading I{every} connection (what a connection had already sent
    waits, unparsed) until half of that is written out.  Every client still
    gets every stanza; the storm is served at the speed the clients read.
    A connection counts towards the total for its first L{OVERLOAD_GRACE}
    seconds of congestion only, so that a few clients that never read do
    not stop the whole server.
  - L{LoginThrottle}: failed logins are counted per address and per
    account over C{failed_login_window} seconds; each failure is answered
    C{failed_login_delay} seconds late times the failures so far; beyond
    C{max_failed_logins_per_ip} an address's logins are refused with a
    C{policy-violation} stream error, beyond
    C{max_failed_logins_per_account} the account's logins are answered
    C{temporary-auth-failure} whatever the password, until the window has
    passed.  Refusals are logged as failed logins
    (L{xmuc.c2s.connectionlog.failedLogin}, at C{warn}, with the peer
    address and the account).

An L{InputGate} keeps the reasons why a connection is not read (the
negotiation waits for storage, the read rate, a congested recipient), so
that one reason ending does not resume reading another one still holds.

The same mechanisms guard the other listeners, with numbers of their own:
server streams (L{xmuc.s2s}, C{[s2s]}: connection caps, read rate, output
bounds) and component streams (L{xmuc.component.accept}, C{[components]}:
connection caps, read rate).  What they need of a stream: C{transport},
C{closing}, the state of L{LimitedStream}, and an C{authenticator} with
C{streamError(condition, text)}.
"""

import collections
import ipaddress

from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from zope.interface import implementer

from xmuc.c2s.connectionlog import failedLogin
from xmuc.xmpp.tokenbucket import TokenBucket

log = Logger()

#: Why a connection's input is held (L{InputGate} reasons).
NEGOTIATION = "negotiation"
READ_RATE = "read-rate"
BACKPRESSURE = "backpressure"
OVERLOAD = "overload"

#: Seconds a congested connection slows its senders and counts towards
#: the server's total (L{ConnectionLimits.maxTotalBacklog}).  A client that
#: stays congested longer is a slow reader, left to its own bounds
#: (C{max_send_backlog}, C{send_timeout}): what is written to it piles up
#: to its bound and it is closed, rather than one client that never reads
#: stopping a room (or the whole server) for C{send_timeout}.
OVERLOAD_GRACE = 5.0

#: Bytes a congested connection may have waiting beyond its full buffer
#: before its senders are held: a client that lags for a moment (a burst
#: near saturation) should not stall everyone who writes to it.
HOLD_AFTER = 262144

#: Failure counters kept at most (addresses and accounts each): the oldest
#: are forgotten first, so that many addresses cannot grow memory forever.
MAX_TRACKED = 100000

#: Failed logins that each add one L{LoginThrottle.delay} step at most.
MAX_DELAY_STEPS = 5


class LimitedStream:
    """
    What the limits keep on each stream they guard (client, server and
    component streams derive from it), as it is before they admit it.

    @ivar outputCongested: whether the transport's write buffer is full
        (set by its L{OutputMonitor}).
    @ivar congestedRecipients: how many congested connections this one's
        input waits for.
    @ivar inputGate: the L{InputGate} of this connection (L{None} when it
        was refused).
    @ivar readRate: its L{ReadRate}, or L{None}.
    @ivar output: its L{OutputMonitor}, or L{None}.
    @ivar addressKey: the peer address as the limits count it.
    @ivar admitted: whether the limits counted this connection.
    """

    outputCongested = False
    congestedRecipients = 0
    inputGate = None
    readRate = None
    output = None
    addressKey = None
    admitted = False


def addressKey(address):
    """
    The key a peer address is counted under: the IPv4 address itself, the
    /64 network of an IPv6 address (one subscriber usually has a whole
    /64, so counting single addresses would not limit anyone).

    @param address: an L{twisted.internet.interfaces.IAddress} (or
        anything with a C{host}).
    @return: a str, or L{None} for addresses without a host (UNIX sockets).
    """
    host = getattr(address, "host", None)
    if not host:
        return None
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        return host
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network((parsed, 64), strict=False))
    return host


class InputGate:
    """
    Pauses and resumes reading from a connection for several independent
    reasons: it is read only when no reason holds it.

    @ivar reasons: the reasons holding it now.
    """

    def __init__(self, stream):
        """
        @param stream: the L{xmuc.c2s.stream.ClientXmlStream}.
        """
        self._stream = stream
        self.reasons = set()

    def hold(self, reason):
        """
        Stop reading because of C{reason} (idempotent).
        """
        if not self.reasons:
            transport = self._stream.transport
            if transport is not None:
                transport.pauseProducing()
        self.reasons.add(reason)

    def release(self, reason):
        """
        C{reason} no longer holds the input; read when no other one does.
        """
        if reason not in self.reasons:
            return
        self.reasons.discard(reason)
        if not self.reasons:
            transport = self._stream.transport
            if transport is not None:
                transport.resumeProducing()

    def releaseAll(self):
        """
        Read again whatever held the input (a closing stream must read the
        peer's TLS close_notify; what it reads is ignored).
        """
        if self.reasons:
            self.reasons.clear()
            transport = self._stream.transport
            if transport is not None:
                transport.resumeProducing()


class ReadRate:
    """
    A L{TokenBucket} on the bytes read from one connection: C{rate} bytes
    per second, C{burst} bytes at once.  Past it the input is held (the
    kernel's receive buffer fills and TCP slows the sender) until the
    debt is paid.

    @ivar holds: how many times the input was held so far.
    """

    holds = 0

    def __init__(self, gate, rate, burst, clock):
        self._gate = gate
        self._bucket = TokenBucket(rate, burst, clock)
        self._clock = clock
        self._timer = None

    def consumed(self, size):
        """
        C{size} bytes were read.
        """
        wait = self._bucket.consume(size)
        if wait and self._timer is None:
            self.holds += 1
            self._gate.hold(READ_RATE)
            self._timer = self._clock.callLater(wait, self._refilled)

    def _refilled(self):
        self._timer = None
        wait = self._bucket.consume(0)
        if wait:
            self._timer = self._clock.callLater(wait, self._refilled)
        else:
            self._gate.release(READ_RATE)

    def stop(self):
        """
        The connection is gone: no timer stays behind.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


@implementer(IPushProducer)
class OutputMonitor:
    """
    Registered as the streaming producer of a client connection's
    transport: the transport pauses it when its write buffer is full and
    resumes it once the buffer is written out.  The stream's
    C{outputCongested} flag is the one check the write path makes.

    @ivar backlog: bytes written while congested (beyond the transport's
        buffer size).
    @ivar blocked: the streams whose input is held until this one drains.
    """

    def __init__(self, stream, limits):
        """
        @param stream: the L{xmuc.c2s.stream.ClientXmlStream} written to.
        @param limits: the L{ConnectionLimits} of its factory.
        """
        self._stream = stream
        self._limits = limits
        self.backlog = 0
        self.blocked = set()
        self._timer = None
        self._counted = False
        self._graceTimer = None
        self.slow = False

    def pauseProducing(self):
        # Called again on every write while the buffer is full.
        if self._stream.outputCongested:
            return
        self._stream.outputCongested = True
        self.backlog = 0
        limits = self._limits
        if self._timer is None and limits.sendTimeout:
            self._timer = limits.clock.callLater(limits.sendTimeout, self._timedOut)
        self.slow = False
        self._counted = bool(limits.maxTotalBacklog)
        self._graceTimer = limits.clock.callLater(OVERLOAD_GRACE, self._graceOver)

    def _graceOver(self):
        self._graceTimer = None
        self.slow = True
        self._uncount()
        self._releaseSenders()

    def _uncount(self):
        if self._counted:
            self._counted = False
            self._limits.backlogWritten(-self.backlog)

    def resumeProducing(self):
        self._stream.outputCongested = False
        self._drained()

    def stopProducing(self):
        self._stream.outputCongested = False
        self._drained()

    def _drained(self):
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._graceTimer is not None and self._graceTimer.active():
            self._graceTimer.cancel()
        self._graceTimer = None
        self.slow = False
        self._uncount()
        self._releaseSenders()

    def _releaseSenders(self):
        blocked, self.blocked = self.blocked, set()
        for sender in blocked:
            sender.congestedRecipients -= 1
            if sender.congestedRecipients == 0:
                sender.inputGate.release(BACKPRESSURE)

    def written(self, size):
        """
        C{size} more bytes were written while the buffer is full: hold the
        input of whoever caused the write, or end the connection when it
        holds too much.
        """
        stream = self._stream
        if stream.closing:
            return
        self.backlog += size
        if self._counted:
            self._limits.backlogWritten(size)
        limit = self._limits.maxSendBacklog
        if limit and self.backlog > limit:
            self._giveUp("policy-violation", "not reading fast enough")
            return
        sender = self._limits.reading
        if self.slow or sender is None or self.backlog <= HOLD_AFTER:
            return
        if sender not in self.blocked and not sender.closing:
            self.blocked.add(sender)
            sender.congestedRecipients += 1
            sender.inputGate.hold(BACKPRESSURE)

    def _timedOut(self):
        self._timer = None
        if self._stream.outputCongested and not self._stream.closing:
            self._giveUp("connection-timeout", "not reading")

    def _giveUp(self, condition, text):
        stream = self._stream
        authenticator = stream.authenticator
        log.info(
            "closing a connection that does not read ({condition}, {peer}, {session!r})",
            condition=condition,
            peer=_peerHost(stream),
            session=getattr(authenticator, "session", None) or authenticator,
        )
        stream.authenticator.streamError(condition, text)
        # The client does not read: neither will it read the error, and
        # waiting for it would keep its buffers.
        stream.transport.abortConnection()
        self._drained()


def _peerHost(stream):
    transport = stream.transport
    if transport is None:
        return None
    return getattr(transport.getPeer(), "host", None)


class _Counter:
    """
    Failures counted over a fixed window.
    """

    __slots__ = ("count", "start")

    def __init__(self, start):
        self.count = 0
        self.start = start


class LoginThrottle:
    """
    Failed logins per address and per account over a window.
    """

    def __init__(self, clock, window, delay, maxPerAddress, maxPerAccount):
        self.clock = clock
        self.window = window
        self.delay = delay
        self.maxPerAddress = maxPerAddress
        self.maxPerAccount = maxPerAccount
        self._addresses = collections.OrderedDict()
        self._accounts = collections.OrderedDict()

    def _current(self, table, key, create=False):
        if key is None:
            return None
        now = self.clock.seconds()
        counter = table.get(key)
        if counter is not None and now - counter.start >= self.window:
            del table[key]
            counter = None
        if counter is None and create:
            counter = table[key] = _Counter(now)
            if len(table) > MAX_TRACKED:
                table.popitem(last=False)
        return counter

    def _count(self, table, key):
        counter = self._current(table, key)
        return counter.count if counter is not None else 0

    def addressRefused(self, address):
        """
        @return: whether logins from C{address} (an L{addressKey}) are
            refused now.
        """
        return bool(self.maxPerAddress) and self._count(self._addresses, address) >= self.maxPerAddress

    def accountRefused(self, account):
        """
        @return: whether logins to C{account} (a bare JID str) are refused
            now.
        """
        return bool(self.maxPerAccount) and self._count(self._accounts, account) >= self.maxPerAccount

    def refusalDelay(self):
        """
        @return: the seconds a refused login is answered late (as late as
            the longest failure delay).
        """
        return self.delay * MAX_DELAY_STEPS

    def failed(self, address, account):
        """
        Count a failed login.

        @param address: the L{addressKey} of the peer, or L{None}.
        @param account: the bare JID tried, or L{None} when the client did
            not get as far as naming one.
        @return: the seconds the answer is to be delayed.
        """
        steps = 0
        for table, key in ((self._addresses, address), (self._accounts, account)):
            counter = self._current(table, key, create=True)
            if counter is not None:
                counter.count += 1
                steps = max(steps, counter.count)
        return self.delay * min(steps, MAX_DELAY_STEPS)


class ConnectionLimits:
    """
    The limits of one client stream factory (every key in C{[c2s]}).

    @ivar reading: the stream whose input is being parsed right now (what
        it causes to be written is what backpressure slows), or L{None}.
    @ivar clock: the L{IReactorTime} of every limit timer.
    @ivar logins: the L{LoginThrottle}.
    """

    def __init__(self, clock, maxPerAddress=0, maxUnauthenticated=0, readRate=0,
                 readBurst=0, maxSendBacklog=0, sendTimeout=0, maxTotalBacklog=0, logins=None,
                 watchOutput=True):
        """
        @param watchOutput: whether L{watch} registers an L{OutputMonitor}
            as the producer of each transport (false for streams whose
            output is bounded another way).
        """
        self.clock = clock
        self.watchOutput = watchOutput
        self.maxPerAddress = maxPerAddress
        self.maxUnauthenticated = maxUnauthenticated
        self.readRate = readRate
        self.readBurst = readBurst
        self.maxSendBacklog = maxSendBacklog
        self.sendTimeout = sendTimeout
        self.maxTotalBacklog = maxTotalBacklog
        self.totalBacklog = 0
        self.overloaded = False
        self._waiting = collections.OrderedDict()
        self._resumeCall = None
        self.logins = logins if logins is not None else LoginThrottle(clock, 1, 0, 0, 0)
        self.reading = None
        self._perAddress = collections.Counter()
        self._unauthenticated = collections.OrderedDict()

    @classmethod
    def fromConfig(cls, config, clock):
        """
        @param config: the L{xmuc.config.Config}.
        @return: the limits its C{[c2s]} section sets.
        """
        c2s = config["c2s"]
        return cls(
            clock,
            maxPerAddress=c2s["max_connections_per_ip"],
            maxUnauthenticated=c2s["max_unauthenticated"],
            readRate=c2s["read_rate"],
            readBurst=c2s["read_burst"],
            maxSendBacklog=c2s["max_send_backlog"],
            sendTimeout=c2s["send_timeout"],
            maxTotalBacklog=c2s["max_total_backlog"],
            logins=LoginThrottle(
                clock,
                c2s["failed_login_window"],
                c2s["failed_login_delay"],
                c2s["max_failed_logins_per_ip"],
                c2s["max_failed_logins_per_account"],
            ),
        )

    def backlogWritten(self, size):
        """
        C{size} bytes more (or less, when negative) wait beyond the buffers
        of congested connections: start or end the overload.
        """
        self.totalBacklog += size
        if not self.overloaded:
            if self.totalBacklog > self.maxTotalBacklog:
                self.overloaded = True
                log.info(
                    "{total} bytes wait for clients that read slower than they are written to: "
                    "reading no connection until half of it is written",
                    total=self.totalBacklog,
                )
        elif self.totalBacklog <= self.maxTotalBacklog // 2 and self._resumeCall is None:
            # Not from inside the transport's write callback.
            self._resumeCall = self.clock.callLater(0, self._endOverload)

    def _endOverload(self):
        self._resumeCall = None
        if self.totalBacklog > self.maxTotalBacklog // 2:
            return
        self.overloaded = False
        while self._waiting and not self.overloaded:
            stream, chunks = self._waiting.popitem(last=False)
            stream.inputGate.release(OVERLOAD)
            if not stream.closing:
                stream.dataReceived(b"".join(chunks))

    def postpone(self, stream, data):
        """
        The server is overloaded: keep what C{stream} sent, unparsed, and
        read no more from it until the overload ends.
        """
        chunks = self._waiting.get(stream)
        if chunks is None:
            chunks = self._waiting[stream] = []
            stream.inputGate.hold(OVERLOAD)
        chunks.append(data)

    def admit(self, stream):
        """
        A new connection: count it, or say why it is refused.

        @param stream: the L{xmuc.c2s.stream.ClientXmlStream}, connected.
        @return: L{None} when admitted, else C{(condition, text)} for the
            stream error refusing it.
        """
        key = addressKey(stream.transport.getPeer())
        stream.addressKey = key
        if key is not None:
            if self.logins.addressRefused(key):
                failedLogin(
                    stream.transport.getPeer(), None, "policy-violation, too many failed logins from this address"
                )
                return ("policy-violation", "too many failed logins from your address")
            if self.maxPerAddress and self._perAddress[key] >= self.maxPerAddress:
                log.info("refusing a connection from {peer}: too many connections", peer=key)
                return ("policy-violation", "too many connections from your address")
            self._perAddress[key] += 1
        stream.admitted = True
        unauthenticated = self._unauthenticated
        if self.maxUnauthenticated and len(unauthenticated) >= self.maxUnauthenticated:
            oldest, _ = unauthenticated.popitem(last=False)
            log.info(
                "closing the oldest unauthenticated connection ({peer}): too many",
                peer=oldest.addressKey,
            )
            oldest.authenticator.streamError("policy-violation", "too many unauthenticated connections")
        unauthenticated[stream] = None
        self.watch(stream)
        return None

    def watch(self, stream):
        """
        Apply the read rate and the output bounds to C{stream}, without
        counting it (L{admit} does both; a connection the server opened
        itself, to another server, is only watched).
        """
        stream.inputGate = InputGate(stream)
        if self.readRate:
            stream.readRate = ReadRate(stream.inputGate, self.readRate, self.readBurst, self.clock)
        if self.watchOutput:
            stream.output = OutputMonitor(stream, self)
            stream.transport.registerProducer(stream.output, True)

    def authenticated(self, stream):
        """
        C{stream} authenticated: it no longer counts as unauthenticated.
        """
        self._unauthenticated.pop(stream, None)

    def closing(self, stream):
        """
        C{stream} is being closed: nothing more is written to it but its
        closing, so its output is no longer watched (a TLS transport waits
        for its producer to go before it shuts down), and whatever held
        its input lets go (it reads the peer's closing tag and TLS
        close_notify, and ignores the rest).
        """
        if stream.output is not None and stream.transport is not None:
            stream.transport.unregisterProducer()
            stream.output.stopProducing()
        if stream.inputGate is not None:
            stream.inputGate.releaseAll()

    def gone(self, stream):
        """
        C{stream}'s connection is lost: forget it, stop its timers and
        release whoever waits for it to drain.
        """
        self._unauthenticated.pop(stream, None)
        self._waiting.pop(stream, None)
        if stream.admitted:
            stream.admitted = False
            key = stream.addressKey
            if key is not None:
                left = self._perAddress[key] - 1
                if left > 0:
                    self._perAddress[key] = left
                else:
                    del self._perAddress[key]
        if stream.readRate is not None:
            stream.readRate.stop()
        if stream.output is not None:
            stream.output.stopProducing()

    def connectionsFrom(self, key):
        """
        @return: the connections counted for address key C{key}.
        """
        return self._perAddress.get(key, 0)

    def unauthenticatedCount(self):
        """
        @return: how many connections have not authenticated yet.
        """
        return len(self._unauthenticated)
