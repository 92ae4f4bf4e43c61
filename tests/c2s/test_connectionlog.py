"""
What the log says about client connections, over real sockets: why each
connection ended (client closed, stream error sent with its condition, TLS
handshake failed, timeout, hibernated, resumed) and who tried to log in and
failed, from which address, never with the password.
"""

import base64

from twisted.internet import defer, reactor, ssl
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial import unittest

from tests.support.client import connectTestClient, startTestServer
from tests.support.streammanagement import NS_SM, authenticateOnly, enable, receiveSkippingRequests

PASSWORD = "Not-Logged-9731"


class LogWatch:
    """
    The log events at C{info} and above while a test runs, and a way to
    wait for one.
    """

    def __init__(self, testCase):
        self.lines = []
        self._waiting = []
        globalLogPublisher.addObserver(self)
        testCase.addCleanup(globalLogPublisher.removeObserver, self)

    def __call__(self, event):
        if event.get("log_level", LogLevel.info) < LogLevel.info:
            return
        line = formatEvent(event)
        self.lines.append(line)
        waiting, self._waiting = self._waiting, []
        for text, d in waiting:
            if text in line:
                d.callback(line)
            else:
                self._waiting.append((text, d))

    def waitFor(self, text, timeout=10):
        """
        @return: Deferred firing with the first line containing C{text}
            (already logged or to come).
        """
        for line in self.lines:
            if text in line:
                return defer.succeed(line)
        d = defer.Deferred()
        self._waiting.append((text, d))
        return d.addTimeout(timeout, reactor)


class ConnectionEndTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(
            self, {"c2s": {"resumption_timeout": "30"}, "log": {"level": "info"}}
        )
        yield self.running.server.accounts.register("alice", "localhost", PASSWORD)
        self.log = LogWatch(self)

    @defer.inlineCallbacks
    def connect(self):
        client = yield connectTestClient(self, self.running)
        # The server's view of this client, while the connection is open.
        client.peer = "from 127.0.0.1 port %d" % (client.transport.getHost().port,)
        return client

    def peer(self, client):
        return client.peer

    @defer.inlineCallbacks
    def test_clientClosed(self):
        client = yield self.connect()
        yield client.login("alice", PASSWORD, "phone")
        yield client.close()
        line = yield self.log.waitFor("ended")
        self.assertEqual(
            line,
            "client connection %s (alice@localhost/phone) ended: client closed the stream"
            % (self.peer(client),),
        )

    @defer.inlineCallbacks
    def test_streamErrorSent(self):
        client = yield self.connect()
        yield client.openStream()
        client.send("<message><unclosed></message>")
        yield client.waitClosed()
        line = yield self.log.waitFor("ended")
        self.assertEqual(
            line,
            "client connection %s (not authenticated) ended: stream error not-well-formed sent"
            % (self.peer(client),),
        )

    @defer.inlineCallbacks
    def test_tlsHandshakeFailed(self):
        client = yield self.connect()
        yield client.openStream()
        client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        proceed = yield client.receive()
        self.assertEqual(proceed.name, "proceed")
        # Not a TLS ClientHello.
        client.transport.write(b"GET / HTTP/1.0\r\n\r\n")
        yield client.closed
        line = yield self.log.waitFor("ended")
        self.assertIn("(not authenticated) ended: TLS handshake failed (", line)

    @defer.inlineCallbacks
    def test_certificateRefusedByClient(self):
        """
        A client that does not trust the (self-signed) certificate, as Dino
        and poezio by default: the line says so with OpenSSL's words for
        the client's alert.
        """
        client = yield self.connect()
        yield client.openStream()
        client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        proceed = yield client.receive()
        self.assertEqual(proceed.name, "proceed")
        # Verifies against the system's CAs, as those clients do.
        client.transport.startTLS(ssl.optionsForClientTLS("localhost"))
        client.send("<?xml version='1.0'?>")
        yield client.closed
        line = yield self.log.waitFor("ended")
        self.assertIn("(not authenticated) ended: TLS handshake failed (", line)
        self.assertIn("unknown ca", line)

    @defer.inlineCallbacks
    def test_negotiationTimeout(self):
        self.running.server.c2sFactory.negotiationTimeout = 0.01
        client = yield self.connect()
        yield client.closed
        line = yield self.log.waitFor("ended")
        self.assertIn(
            "ended: stream error connection-timeout sent: too slow to log in", line
        )

    @defer.inlineCallbacks
    def test_hibernatedAndResumed(self):
        """
        A resumable session whose connection drops: the end line says it
        hibernates; its resumption is logged with the new peer; the old
        connection, still open when a session is resumed elsewhere, ends
        with C{conflict}.
        """
        client = yield self.connect()
        yield client.login("alice", PASSWORD, "phone")
        enabled, _ = yield enable(client)
        previd = enabled.getAttribute("id")
        client.transport.abortConnection()
        line = yield self.log.waitFor("ended")
        self.assertIn(
            "(alice@localhost/phone) ended: connection lost (", line
        )
        self.assertTrue(line.endswith("; session hibernating, resumable for 30 s"), line)

        second = yield self.connect()
        yield authenticateOnly(second, "alice", PASSWORD)
        second.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, previd))
        resumed = yield receiveSkippingRequests(second)
        self.assertEqual(resumed.name, "resumed")
        line = yield self.log.waitFor("resumed from")
        self.assertIn("alice@localhost/phone> resumed %s" % (self.peer(second),), line)

        third = yield self.connect()
        yield authenticateOnly(third, "alice", PASSWORD)
        third.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, previd))
        resumed = yield receiveSkippingRequests(third)
        self.assertEqual(resumed.name, "resumed")
        yield second.closed
        line = yield self.log.waitFor(self.peer(second) + " (alice@localhost) ended")
        self.assertIn(
            "ended: stream error conflict sent: resumed on another connection", line
        )

    @defer.inlineCallbacks
    def test_notResumedInTime(self):
        self.running.server.c2sFactory.resumption.timeout = 0.01
        client = yield self.connect()
        yield client.login("alice", PASSWORD, "phone")
        yield enable(client)
        client.transport.abortConnection()
        line = yield self.log.waitFor("not resumed")
        self.assertEqual(
            line, "<ClientSession alice@localhost/phone> was not resumed in time: session ended"
        )


class FailedLoginTests(unittest.TestCase):
    """
    Each failed login is one C{warn} line naming the peer address first,
    then the account tried; the password never appears.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self)
        yield self.running.server.accounts.register("alice", "localhost", PASSWORD)
        self.log = LogWatch(self)

    @defer.inlineCallbacks
    def failedWith(self, mechanism, username, password):
        client = yield connectTestClient(self, self.running)
        yield client.openStream()
        yield client.startTLS()
        try:
            yield client.authenticate(username, password, mechanism)
        except Exception:
            pass
        else:
            self.fail("authentication succeeded")
        line = yield self.log.waitFor("failed login")
        return client, line

    @defer.inlineCallbacks
    def test_wrongPassword(self):
        for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"):
            self.log.lines = []
            client, line = yield self.failedWith(mechanism, "Alice", "wrong-" + PASSWORD)
            self.assertEqual(
                line,
                "failed login from 127.0.0.1 port %d: account alice@localhost "
                "(not-authorized, %s)" % (client.transport.getHost().port, mechanism),
            )

    @defer.inlineCallbacks
    def test_unknownAccount(self):
        client, line = yield self.failedWith("SCRAM-SHA-256", "nobody", PASSWORD)
        self.assertIn(": account nobody@localhost (not-authorized, SCRAM-SHA-256)", line)

    @defer.inlineCallbacks
    def test_accountNameCannotForgeTheAddress(self):
        """
        A name the client chose stays one word after the address: no space
        nor line break of it reaches the log.
        """
        client, line = yield self.failedWith("PLAIN", "x from 10.0.0.1\nfailed login from 10.9.9.9", "pw")
        self.assertTrue(line.startswith("failed login from 127.0.0.1 port "), line)
        self.assertNotIn("\n", line)
        self.assertNotIn(" from 10.0.0.1", line)

    @defer.inlineCallbacks
    def test_badMechanism(self):
        client = yield connectTestClient(self, self.running)
        yield client.openStream()
        yield client.startTLS()
        client.send(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NONE'>%s</auth>"
            % (base64.b64encode(PASSWORD.encode()).decode(),)
        )
        failure = yield client.receive()
        self.assertEqual(failure.name, "failure")
        line = yield self.log.waitFor("failed login")
        self.assertIn(": account unknown (invalid-mechanism)", line)
        self.assertNotIn(PASSWORD, "\n".join(self.log.lines))
