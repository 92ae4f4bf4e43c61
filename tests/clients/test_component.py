"""
A real third-party component library attached to xmuc: slixmpp's
C{ComponentXMPP} (C{echo_component.py}, in a child process with its own
asyncio loop) connects to the server's component port; a local user chats
with it, and it joins a room of xmuc's MUC and talks there both ways.
"""

import os
import sys

from twisted.internet import defer, error, protocol, reactor
from twisted.trial import unittest

from tests.support.components import componentPort, componentSections, secretOf
from tests.support.slixmpp import HERE
from tests.support.wire import OVERRIDES, LoggedInClients

DOMAIN = "echo.localhost"
ROOM = "lounge@conference.localhost"


class LineProcess(protocol.ProcessProtocol):
    """
    A child process whose output lines the test waits for.

    @ivar lines: every line printed so far.
    @ivar ended: Deferred firing with the exit code.
    """

    def __init__(self):
        self.lines = []
        self.errors = b""
        self.ended = defer.Deferred()
        self._buffer = b""
        self._waiting = []

    def outReceived(self, data):
        self._buffer += data
        *complete, self._buffer = self._buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            for entry in list(self._waiting):
                if entry[0](line):
                    self._waiting.remove(entry)
                    entry[1].callback(line)

    def errReceived(self, data):
        self.errors += data

    def processEnded(self, reason):
        code = reason.value.exitCode if isinstance(reason.value, error.ProcessTerminated) else 0
        for _, d in self._waiting:
            d.errback(AssertionError("the component ended (exit %s) without printing it:\n%s" % (
                code, self.errors.decode("utf-8", "replace")[-3000:])))
        self._waiting = []
        self.ended.callback(code)

    def waitLine(self, predicate, timeout=20):
        """
        @return: Deferred firing with the first line (already printed, or
            to come) for which C{predicate} is true.
        """
        for line in self.lines:
            if predicate(line):
                return defer.succeed(line)
        d = defer.Deferred()
        self._waiting.append((predicate, d))
        d.addTimeout(timeout, reactor)
        return d


class SlixmppComponentTests(LoggedInClients, unittest.TestCase):
    overrides = dict(OVERRIDES, **componentSections())

    @defer.inlineCallbacks
    def startComponent(self):
        yield self.running.server.components.listening
        child = LineProcess()
        transport = reactor.spawnProcess(
            child,
            sys.executable,
            [sys.executable, os.path.join(HERE, "echo_component.py"), str(componentPort(self.running)),
             DOMAIN, secretOf(DOMAIN)],
            env=dict(os.environ),
            path=HERE,
        )

        def stop():
            if not child.ended.called:
                transport.signalProcess("KILL")
                return child.ended

        self.addCleanup(stop)
        yield child.waitLine(lambda line: line == "READY")
        return child

    @defer.inlineCallbacks
    def test_echoAndRoom(self):
        """
        The component answers a local user's messages, joins a room, says
        hello there, hears what the user says in it, and leaves cleanly.
        """
        alice = yield self.login("alice")
        bot = yield self.startComponent()

        alice.send("<message to='echo@%s' type='chat' id='c1'><body>hello</body></message>" % (DOMAIN,))
        answer = yield self.until(alice, lambda e: e.name == "message" and e.body is not None)
        self.assertEqual((answer.getAttribute("from"), str(answer.body)), ("echo@" + DOMAIN, "echo: hello"))

        self.assertIsNone((yield self.joinRoom(alice, ROOM, "Alice")))
        alice.send("<message to='echo@%s' type='chat' id='c2'><body>join %s Gateway</body></message>" % (DOMAIN, ROOM))
        joined = yield self.until(alice, lambda e: e.name == "presence" and e.getAttribute("from") == ROOM + "/Gateway")
        self.assertIsNone(joined.getAttribute("type"))
        hello = yield self.until(alice, lambda e: e.name == "message" and e.getAttribute("type") == "groupchat")
        self.assertEqual((hello.getAttribute("from"), str(hello.body)), (ROOM + "/Gateway", "hello room"))
        yield bot.waitLine(lambda line: line == "JOINED " + ROOM)

        alice.send("<message to='%s' type='groupchat' id='g1'><body>hi gateway</body></message>" % (ROOM,))
        yield bot.waitLine(lambda line: line == "GROUPCHAT Alice hi gateway")

        alice.send("<message to='echo@%s' type='chat' id='c3'><body>quit</body></message>" % (DOMAIN,))
        bye = yield self.until(alice, lambda e: e.name == "message" and e.body is not None and e.getAttribute("type") == "chat")
        self.assertEqual(str(bye.body), "bye")
        code = yield bot.ended
        self.assertEqual(code, 0, bot.errors.decode("utf-8", "replace"))
        self.assertIn("DONE", bot.lines)
        # The component's domain is bounced again, the server serves on.
        yield self.assertServed(alice)
