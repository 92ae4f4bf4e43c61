"""
What one client may cost, over real connections: connections per address,
unauthenticated connections in total, the negotiation timeout, the read
rate, slow readers (backpressure on their senders, then the end of their
session), the Stream Management queue in bytes, and failed logins.

Per-address tests connect from several loopback addresses (127.0.0.2...).
"""

from twisted.internet import defer, reactor, task
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial import unittest

from tests.support.client import (
    AuthenticationFailed,
    StreamClosed,
    connectTestClient,
    startTestServer,
)
from twisted.internet.address import IPv4Address, IPv6Address

from xmuc.c2s.limits import (
    BACKPRESSURE,
    HOLD_AFTER,
    OVERLOAD,
    OVERLOAD_GRACE,
    READ_RATE,
    ConnectionLimits,
    LoginThrottle,
    OutputMonitor,
    ReadRate,
    addressKey,
)

#: Seconds a condition polled by L{waitUntil} may take to become true.
WAIT = 10.0

NS_PING = "urn:xmpp:ping"
NS_SM = "urn:xmpp:sm:3"


@defer.inlineCallbacks
def waitUntil(predicate, timeout=WAIT):
    """
    Poll C{predicate} until it is true.

    @raise AssertionError: when it is still false after C{timeout} seconds.
    """
    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError("condition not reached: %r" % (predicate,))
        yield task.deferLater(reactor, 0.01, lambda: None)


def serverStreamOf(running, jid):
    """
    @return: the server's L{xmuc.c2s.stream.ClientXmlStream} of the session
        bound to C{jid}.
    """
    for stream in running.server.c2sFactory.streams:
        session = stream.authenticator.session
        if session is not None and session._full == jid:
            return stream
    raise LookupError(jid)


def collectLog(testCase):
    """
    @return: a list that receives the text of every log event from now on
        to the end of the test.
    """
    collected = []

    def observer(event):
        if event.get("log_format"):
            collected.append((event.get("log_level"), formatEvent(event)))

    globalLogPublisher.addObserver(observer)
    testCase.addCleanup(globalLogPublisher.removeObserver, observer)
    return collected


@defer.inlineCallbacks
def ping(client):
    """
    An iq ping answered: the session still works.
    """
    answer = yield client.iq("<iq type='get' id='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), NS_PING))
    return answer


class ConnectionCapTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_connectionsPerAddress(self):
        """
        The connection beyond C{max_connections_per_ip} from one address
        gets a C{policy-violation} stream error and is closed; other
        addresses are not affected, and a closed connection frees its
        place.
        """
        running = yield startTestServer(self, {"c2s": {"max_connections_per_ip": "2"}})
        first = yield connectTestClient(self, running, source="127.0.0.2")
        yield first.openStream()
        second = yield connectTestClient(self, running, source="127.0.0.2")
        yield second.openStream()
        third = yield connectTestClient(self, running, source="127.0.0.2")
        condition = yield third.streamError()
        self.assertEqual(condition, "policy-violation")
        yield third.waitClosed()
        other = yield connectTestClient(self, running, source="127.0.0.3")
        yield other.openStream()
        first.transport.loseConnection()
        yield first.closed
        yield waitUntil(lambda: running.server.c2sFactory.limits.connectionsFrom("127.0.0.2") == 1)
        again = yield connectTestClient(self, running, source="127.0.0.2")
        yield again.openStream()

    @defer.inlineCallbacks
    def test_unauthenticatedOldestClosed(self):
        """
        Past C{max_unauthenticated} connections that have not logged in,
        the oldest of them is closed with C{policy-violation}: the new
        connection is served and logs in, and an authenticated session is
        not affected.
        """
        running = yield startTestServer(
            self, {"c2s": {"max_unauthenticated": "2", "max_connections_per_ip": "0"}}
        )
        yield running.server.accounts.register("alice", "localhost", "secret")
        yield running.server.accounts.register("bob", "localhost", "secret")
        alice = yield connectTestClient(self, running)
        yield alice.login("alice", "secret")
        idle1 = yield connectTestClient(self, running)
        yield idle1.openStream()
        idle2 = yield connectTestClient(self, running)
        yield idle2.openStream()
        bob = yield connectTestClient(self, running)
        condition = yield idle1.streamError()
        self.assertEqual(condition, "policy-violation")
        yield bob.login("bob", "secret")
        yield ping(alice)
        # idle2 is now the oldest unauthenticated connection, and still open.
        self.assertFalse(idle2.closed.called)
        self.assertEqual(running.server.c2sFactory.limits.unauthenticatedCount(), 1)

    @defer.inlineCallbacks
    def test_negotiationTimeout(self):
        """
        A connection that has not logged in C{negotiation_timeout} seconds
        after connecting gets C{connection-timeout}.
        """
        running = yield startTestServer(self, {"c2s": {"negotiation_timeout": "1"}})
        client = yield connectTestClient(self, running)
        yield client.openStream()
        condition = yield client.streamError(timeout=WAIT)
        self.assertEqual(condition, "connection-timeout")


class ReadRateTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_fastSenderPausedNotDropped(self):
        """
        A connection sending faster than C{read_rate} after C{read_burst}
        is no longer read for a while; what it sent is handled anyway.
        """
        running = yield startTestServer(self, {"c2s": {"read_rate": "20000", "read_burst": "1024"}})
        yield running.server.accounts.register("alice", "localhost", "secret")
        client = yield connectTestClient(self, running)
        jid = yield client.login("alice", "secret")
        stream = serverStreamOf(running, jid)
        body = "x" * 1000
        for number in range(20):
            client.send("<message to='%s' type='chat' id='m%d'><body>%s</body></message>" % (jid, number, body))
        yield waitUntil(lambda: READ_RATE in stream.inputGate.reasons)
        for number in range(20):
            message = yield client.receive(timeout=WAIT)
            self.assertEqual(message.getAttribute("id"), "m%d" % (number,))
        yield ping(client)
        yield waitUntil(lambda: READ_RATE not in stream.inputGate.reasons)


class SlowReaderMixin:
    """
    A server where one client ("reader") stopped reading and another
    ("sender") writes to it.
    """

    @defer.inlineCallbacks
    def setUpServer(self, **c2s):
        c2s.setdefault("read_rate", "0")
        running = yield startTestServer(self, {"c2s": c2s})
        for name in ("reader", "sender", "other"):
            yield running.server.accounts.register(name, "localhost", "secret")
        reader = yield connectTestClient(self, running)
        readerJID = yield reader.login("reader", "secret")
        sender = yield connectTestClient(self, running)
        senderJID = yield sender.login("sender", "secret")
        # The reader stops reading: what is written to it piles up.
        reader.transport.pauseProducing()
        return running, reader, serverStreamOf(running, readerJID), sender, serverStreamOf(running, senderJID)

    @defer.inlineCallbacks
    def congest(self, reader, readerStream, sender, senderStream, held=True):
        """
        Have C{sender} write to the reader until the reader's connection is
        congested and (when C{held}) the sender's input is held for it.
        """
        body = "x" * 60000
        number = 0
        while not readerStream.outputCongested:
            for _ in range(20):
                number += 1
                sender.send(
                    "<message to='%s' type='chat' id='s%d'><body>%s</body></message>"
                    % (readerStream.authenticator.session._full, number, body)
                )
            yield task.deferLater(reactor, 0.05, lambda: None)
        if held:
            yield waitUntil(lambda: BACKPRESSURE in senderStream.inputGate.reasons)

    @defer.inlineCallbacks
    def readerClosed(self, reader, readerStream):
        """
        Wait until the server has dropped the reader's connection; the
        reader then reads again and sees its connection gone.
        """
        yield readerStream.authenticator.whenClosed()
        reader.transport.resumeProducing()
        yield reader.closed

    def assertSessionEnded(self, running, stream):
        self.assertNotIn(stream.authenticator.session._full, running.server.router.sessions)



class SlowReaderTests(SlowReaderMixin, unittest.TestCase):
    """
    A client that does not read: its senders are slowed, then it is closed
    and its session ends.
    """

    @defer.inlineCallbacks
    def test_backlogBound(self):
        """
        The sender to a client that does not read is paused (its input is
        held), not buffered; when more than C{max_send_backlog} bytes wait
        for the reader beyond its full buffers, the reader is closed with
        C{policy-violation} and its session ends; the sender then goes on.
        """
        running, reader, readerStream, sender, senderStream = yield self.setUpServer(
            max_send_backlog="400000", send_timeout="0"
        )
        log = collectLog(self)
        yield self.congest(reader, readerStream, sender, senderStream)
        self.assertLessEqual(readerStream.output.backlog, 400000)
        # Someone else writes to the congested reader: stanzas each below
        # the bound, together above it.
        other = yield connectTestClient(self, running)
        yield other.login("other", "secret")
        for number in range(8):
            other.send(
                "<message to='%s' type='chat' id='o%d'><body>%s</body></message>"
                % (readerStream.authenticator.session._full, number, "y" * 60000)
            )
        yield self.readerClosed(reader, readerStream)
        self.assertSessionEnded(running, readerStream)
        self.assertTrue(any("policy-violation" in text for _, text in log), log)
        yield waitUntil(lambda: not senderStream.inputGate.reasons)
        yield ping(other)
        # The sender's input is read again: what it sent meanwhile is
        # handled, up to a ping answered.
        answer = yield sender.iq(
            "<iq type='get' id='after'><ping xmlns='%s'/></iq>" % (NS_PING,), timeout=WAIT * 3
        )
        self.assertEqual(answer.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_sendTimeout(self):
        """
        A client whose buffers stay full C{send_timeout} seconds is closed
        (C{connection-timeout}) and its session ends; its senders are
        released.
        """
        running, reader, readerStream, sender, senderStream = yield self.setUpServer(
            max_send_backlog="0", send_timeout="1"
        )
        log = collectLog(self)
        yield self.congest(reader, readerStream, sender, senderStream)
        yield self.readerClosed(reader, readerStream)
        self.assertSessionEnded(running, readerStream)
        self.assertTrue(any("connection-timeout" in text for _, text in log), log)
        yield waitUntil(lambda: not senderStream.inputGate.reasons)
        answer = yield sender.iq(
            "<iq type='get' id='after'><ping xmlns='%s'/></iq>" % (NS_PING,), timeout=WAIT * 3
        )
        self.assertEqual(answer.getAttribute("type"), "result")


class OverloadTests(SlowReaderMixin, unittest.TestCase):
    """
    Too much waiting for congested connections in total: the server reads
    no connection until it is written out.
    """

    @defer.inlineCallbacks
    def test_inputPostponedThenHandled(self):
        """
        Past C{max_total_backlog}, what a connection sends is not read (nor
        lost): once the congested client reads again, it is handled.
        """
        running, reader, readerStream, sender, senderStream = yield self.setUpServer(
            max_total_backlog="1", max_send_backlog="0", send_timeout="0"
        )
        other = yield connectTestClient(self, running)
        otherJID = yield other.login("other", "secret")
        otherStream = serverStreamOf(running, otherJID)
        limits = running.server.c2sFactory.limits
        yield self.congest(reader, readerStream, sender, senderStream, held=False)
        yield waitUntil(lambda: limits.overloaded)
        other.send("<iq type='get' id='held'><ping xmlns='%s'/></iq>" % (NS_PING,))
        yield waitUntil(lambda: OVERLOAD in otherStream.inputGate.reasons)
        reader.transport.resumeProducing()
        answer = yield other.receive(timeout=WAIT)
        self.assertEqual((answer.getAttribute("id"), answer.getAttribute("type")), ("held", "result"))
        self.assertFalse(limits.overloaded)


class StreamManagementSizeTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_unackedBytes(self):
        """
        A Stream Management session with more than C{max_unacked_bytes}
        characters unacknowledged ends with C{resource-constraint}, however
        few stanzas that is.
        """
        running = yield startTestServer(self, {"c2s": {"max_unacked_bytes": "4096"}})
        yield running.server.accounts.register("alice", "localhost", "secret")
        client = yield connectTestClient(self, running)
        jid = yield client.login("alice", "secret")
        client.send("<enable xmlns='%s'/>" % (NS_SM,))
        enabled = yield client.receive()
        self.assertEqual(enabled.name, "enabled")
        for number in range(3):
            client.send(
                "<message to='%s' type='chat' id='m%d'><body>%s</body></message>" % (jid, number, "x" * 1500)
            )
        conditions = []
        while True:
            try:
                element = yield client.receive()
            except StreamClosed:
                break
            if element.name == "error":
                conditions.extend(child.name for child in element.elements() if child.name != "text")
        self.assertEqual(conditions, ["resource-constraint"])


class FailedLoginTests(unittest.TestCase):
    @defer.inlineCallbacks
    def failLogin(self, running, source, username="alice", password="wrong"):
        client = yield connectTestClient(self, running, source=source)
        yield client.openStream()
        yield client.startTLS()
        try:
            yield client.authenticate(username, password, "PLAIN")
        except AuthenticationFailed as e:
            return client, e.condition
        self.fail("logged in with %r" % (password,))

    @defer.inlineCallbacks
    def test_perAddress(self):
        """
        After C{max_failed_logins_per_ip} failed logins from one address,
        its connections are refused with C{policy-violation}, logged at
        warn with the address; other addresses still log in.
        """
        running = yield startTestServer(
            self,
            {"c2s": {"max_failed_logins_per_ip": "2", "failed_login_delay": "0.01"}},
        )
        yield running.server.accounts.register("alice", "localhost", "secret")
        log = collectLog(self)
        for _ in range(2):
            _, condition = yield self.failLogin(running, "127.0.0.4")
            self.assertEqual(condition, "not-authorized")
        refused = yield connectTestClient(self, running, source="127.0.0.4")
        condition = yield refused.streamError()
        self.assertEqual(condition, "policy-violation")
        self.assertTrue(
            any(
                level == LogLevel.warn
                and text.startswith("failed login from 127.0.0.4 port ")
                and text.endswith(": account unknown (policy-violation, too many failed logins from this address)")
                for level, text in log
            ),
            log,
        )
        fine = yield connectTestClient(self, running, source="127.0.0.5")
        yield fine.login("alice", "secret")

    @defer.inlineCallbacks
    def test_perAccount(self):
        """
        After C{max_failed_logins_per_account} failed logins to one
        account, from any addresses, its logins are answered
        C{temporary-auth-failure} even with the right password, logged at
        warn with the account and the address; other accounts log in.
        """
        running = yield startTestServer(
            self,
            {
                "c2s": {
                    "max_failed_logins_per_ip": "0",
                    "max_failed_logins_per_account": "2",
                    "failed_login_delay": "0.01",
                }
            },
        )
        yield running.server.accounts.register("alice", "localhost", "secret")
        yield running.server.accounts.register("bob", "localhost", "secret")
        log = collectLog(self)
        for source in ("127.0.0.6", "127.0.0.7"):
            _, condition = yield self.failLogin(running, source)
            self.assertEqual(condition, "not-authorized")
        _, condition = yield self.failLogin(running, "127.0.0.8", password="secret")
        self.assertEqual(condition, "temporary-auth-failure")
        self.assertTrue(
            any(
                level == LogLevel.warn
                and text.startswith("failed login from 127.0.0.8 port ")
                and text.endswith(
                    ": account alice@localhost (temporary-auth-failure, too many failed logins to this account)"
                )
                for level, text in log
            ),
            log,
        )
        bob = yield connectTestClient(self, running, source="127.0.0.8")
        yield bob.login("bob", "secret")


class _Gate:
    def __init__(self):
        self.reasons = set()

    def hold(self, reason):
        self.reasons.add(reason)

    def release(self, reason):
        self.reasons.discard(reason)


class ReadRateScheduleTests(unittest.TestCase):
    """
    The token bucket's arithmetic, on a fake clock.
    """

    def test_burstThenRate(self):
        """
        Up to C{burst} bytes pass; beyond, the input is held until the
        deficit is refilled at C{rate} bytes per second.
        """
        clock = task.Clock()
        gate = _Gate()
        rate = ReadRate(gate, 1000, 4000, clock)
        rate.consumed(4000)
        self.assertEqual(gate.reasons, set())
        rate.consumed(2000)
        self.assertEqual(gate.reasons, {READ_RATE})
        clock.advance(1.999)
        self.assertEqual(gate.reasons, {READ_RATE})
        clock.advance(0.001)
        self.assertEqual(gate.reasons, set())
        # The bucket refills up to the burst, not beyond.
        clock.advance(100)
        rate.consumed(4001)
        self.assertEqual(gate.reasons, {READ_RATE})


class LoginThrottleTests(unittest.TestCase):
    def test_delayGrowsThenCaps(self):
        """
        Each failure is answered C{delay} times the failures so far (of its
        address or account, whichever has more), at most 5 times C{delay}.
        """
        throttle = LoginThrottle(task.Clock(), 600, 2, 0, 0)
        delays = [throttle.failed("192.0.2.1", "alice@localhost") for _ in range(7)]
        self.assertEqual(delays, [2, 4, 6, 8, 10, 10, 10])
        self.assertEqual(throttle.failed("192.0.2.2", "alice@localhost"), 10)
        self.assertEqual(throttle.failed("192.0.2.2", None), 4)

    def test_refusedForTheWindow(self):
        """
        An address (an account) is refused after its maximum of failures
        until the window that started at its first failure has passed.
        """
        clock = task.Clock()
        throttle = LoginThrottle(clock, 600, 0, 2, 3)
        for _ in range(2):
            self.assertFalse(throttle.addressRefused("192.0.2.1"))
            throttle.failed("192.0.2.1", "alice@localhost")
        self.assertTrue(throttle.addressRefused("192.0.2.1"))
        self.assertFalse(throttle.accountRefused("alice@localhost"))
        throttle.failed("192.0.2.9", "alice@localhost")
        self.assertTrue(throttle.accountRefused("alice@localhost"))
        clock.advance(599)
        self.assertTrue(throttle.addressRefused("192.0.2.1"))
        clock.advance(1)
        self.assertFalse(throttle.addressRefused("192.0.2.1"))
        self.assertFalse(throttle.accountRefused("alice@localhost"))


class AddressKeyTests(unittest.TestCase):
    def test_keys(self):
        """
        IPv4 addresses count alone, IPv6 ones by /64, IPv4-mapped IPv6
        addresses as their IPv4 address.
        """
        self.assertEqual(addressKey(IPv4Address("TCP", "192.0.2.7", 1)), "192.0.2.7")
        self.assertEqual(
            addressKey(IPv6Address("TCP", "2001:db8:1:2:3:4:5:6", 1)), "2001:db8:1:2::/64"
        )
        self.assertEqual(addressKey(IPv6Address("TCP", "::ffff:192.0.2.7", 1)), "192.0.2.7")


class _Authenticator:
    session = None

    def __init__(self, stream):
        self.stream = stream
        self.errors = []

    def streamError(self, condition, text=None):
        self.errors.append(condition)
        self.stream.closing = True


class _Transport:
    aborted = False

    def abortConnection(self):
        self.aborted = True

    def getPeer(self):
        return IPv4Address("TCP", "192.0.2.7", 1)


class _Stream:
    outputCongested = False
    closing = False

    def __init__(self):
        self.authenticator = _Authenticator(self)
        self.transport = _Transport()


class OutputMonitorTests(unittest.TestCase):
    """
    The accounting of one congested connection (Twisted pauses its
    producer again on every write while the buffer is full).
    """

    def test_backlogAccumulatesAcrossPauses(self):
        """
        Writes while congested add up, however often the transport says
        pause; past the bound the connection gets C{policy-violation} and
        is aborted.
        """
        limits = ConnectionLimits(task.Clock(), maxSendBacklog=100000)
        stream = _Stream()
        monitor = OutputMonitor(stream, limits)
        for _ in range(2):
            monitor.pauseProducing()
            monitor.written(60000)
        self.assertEqual(stream.authenticator.errors, ["policy-violation"])
        self.assertTrue(stream.transport.aborted)

    def test_totalBacklogOverload(self):
        """
        Congested connections count towards the server's total: past
        C{max_total_backlog} the server is overloaded, and once they drain
        (or after L{OVERLOAD_GRACE} seconds of congestion) it is not.
        """
        clock = task.Clock()
        limits = ConnectionLimits(clock, maxTotalBacklog=100000)
        first, second = _Stream(), _Stream()
        firstMonitor = OutputMonitor(first, limits)
        secondMonitor = OutputMonitor(second, limits)
        for monitor in (firstMonitor, secondMonitor):
            monitor.pauseProducing()
            monitor.written(30000)
            monitor.pauseProducing()
            monitor.written(30000)
        self.assertTrue(limits.overloaded)
        firstMonitor.resumeProducing()
        clock.advance(0)
        self.assertEqual(limits.totalBacklog, 60000)
        self.assertTrue(limits.overloaded)
        clock.advance(OVERLOAD_GRACE)
        self.assertEqual(limits.totalBacklog, 0)
        self.assertFalse(limits.overloaded)

    def test_sendersHeldAtMostGrace(self):
        """
        Whoever writes to a congested connection with more than
        L{HOLD_AFTER} bytes waiting is held until it drains, for
        L{OVERLOAD_GRACE} seconds at most: then the congested client is a
        slow reader, no longer slowing anyone.
        """
        clock = task.Clock()
        limits = ConnectionLimits(clock)
        reader, sender = _Stream(), _Stream()
        sender.inputGate = _Gate()
        sender.congestedRecipients = 0
        monitor = OutputMonitor(reader, limits)
        monitor.pauseProducing()
        limits.reading = sender
        monitor.written(HOLD_AFTER)
        self.assertEqual(sender.inputGate.reasons, set())
        monitor.written(1)
        self.assertEqual(sender.inputGate.reasons, {BACKPRESSURE})
        clock.advance(OVERLOAD_GRACE)
        self.assertEqual(sender.inputGate.reasons, set())
        monitor.written(1000)
        self.assertEqual(sender.inputGate.reasons, set())
        self.assertEqual(monitor.backlog, HOLD_AFTER + 1001)
