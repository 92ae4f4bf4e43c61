"""
Graceful shutdown, with the real server as a process and real clients:
on SIGTERM every MUC occupant gets its own unavailable presence with status
332 and sees the others leave, every client session gets a
C{<system-shutdown/>} stream error and a closed stream, and the process
exits with status 0 within the configured bound.  The listeners close
first: while a stuck session holds the stop up, new connections are
refused.  SIGINT stops the server the same way.
"""

import time

from twisted.internet import defer, endpoints, error, protocol, reactor
from twisted.trial import unittest

from tests.support.client import (
    collectUntilClosed,
    connectClient,
    connectStuckClient,
    streamErrorConditions,
)
from tests.support.twistd import openRegistrationConfig, startTwistd, stopCleanly, tapConfig

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_XMPP_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"

ROOM = "lobby@conference.localhost"
SHUTDOWN_TIMEOUT = 2


def config(**sections):
    """
    @param sections: changes for L{tapConfig} on top of these tests' own.
    @return: a tap.conf text: memory storage, rooms open at once, stopping
        within C{SHUTDOWN_TIMEOUT} seconds, logging at info.
    """
    return tapConfig(
        {
            "server": {"shutdown_timeout": SHUTDOWN_TIMEOUT},
            # A stuck client (connectStuckClient) is read at full speed.
            "c2s": {"read_rate": "0"},
            "muc": {"lock_new_rooms": "false"},
            "log": {"level": "info"},
        },
        sections,
    )


CONFIG = config()


def _missing():
    """
    @return: why the server cannot run this test yet, or L{None}.
    """
    try:
        import tests.support.client  # noqa: F401
        import xmuc.c2s.stream  # noqa: F401
        import xmuc.muc.service  # noqa: F401
        import xmuc.session.manager  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


def statusCodes(presence):
    """
    @return: the set of muc#user status codes of a presence.
    """
    codes = set()
    for x in presence.elements(NS_MUC_USER, "x"):
        for status in x.elements(NS_MUC_USER, "status"):
            codes.add(status.getAttribute("code"))
    return codes


@defer.inlineCallbacks
def waitForPresence(client, nick, code=None):
    """
    Skip what arrives until a presence from C{nick} in the room (with
    status C{code}, when given).

    @return: Deferred firing with that presence.
    """
    while True:
        element = yield client.receive(10)
        if (
            element.name == "presence"
            and element.getAttribute("from") == "%s/%s" % (ROOM, nick)
            and (code is None or code in statusCodes(element))
        ):
            return element


class Occupant:
    """
    A logged-in client in the room, recording what arrives at shutdown.
    """

    def __init__(self, client, nick):
        self.client = client
        self.nick = nick
        self.documentEnded = False

    def watchStreamEnd(self):
        parser = self.client._parser
        original = parser.DocumentEndEvent

        def ended():
            self.documentEnded = True
            original()

        parser.DocumentEndEvent = ended

    @defer.inlineCallbacks
    def collectUntilClosed(self, timeout):
        """
        @return: Deferred firing with every element received until the
            stream ended.
        """
        from tests.support.client import StreamClosed

        elements = []
        while True:
            try:
                element = yield self.client.receive(timeout)
            except StreamClosed:
                break
            elements.append(element)
        yield self.client.waitClosed(timeout)
        return elements


class GracefulShutdownTests(unittest.TestCase):
    def setUp(self):
        missing = _missing()
        if missing:
            raise unittest.SkipTest("needs c2s, sm and muc: %s" % (missing,))

    @defer.inlineCallbacks
    def join(self, server, username, nick, others):
        """
        Log in and join the room; wait until every occupant saw it.
        """
        from tests.support.client import connectClient

        client = yield connectClient(server.port)
        yield client.login(username, "pw")
        client.send(
            "<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, NS_MUC)
        )
        yield self.waitForPresence(client, nick, "110")
        for other in others:
            yield self.waitForPresence(other.client, nick)
        occupant = Occupant(client, nick)
        occupant.watchStreamEnd()
        return occupant

    def waitForPresence(self, client, nick, code=None):
        return waitForPresence(client, nick, code)

    @defer.inlineCallbacks
    def shutDown(self):
        """
        Start the server, put alice and bob in the room (and one silent
        connection), send SIGTERM.

        @return: Deferred firing with C{[(occupant, other, elements)]} for
            both occupants, in the order they joined.
        """
        from tests.support.client import connectClient
        from tests.support.twistd import startTwistd

        server = yield startTwistd(self, CONFIG)
        alice = yield self.join(server, "alice", "Alice", [])
        bob = yield self.join(server, "bob", "Bob", [alice])
        # A connection that never says anything must not hold the stop up.
        silent = yield connectClient(server.port)

        started = time.time()
        server.signal("TERM")
        received = yield defer.gatherResults(
            [o.collectUntilClosed(SHUTDOWN_TIMEOUT + 10) for o in (alice, bob)]
        )
        status = yield server.ended
        elapsed = time.time() - started
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
        self.assertLess(elapsed, SHUTDOWN_TIMEOUT + 5, output)
        yield silent.waitClosed(5)
        return [(alice, bob, received[0]), (bob, alice, received[1])]

    def leaving(self, elements):
        """
        @return: C{{from: presence}} of the unavailable presences received.
        """
        return {
            element.getAttribute("from"): element
            for element in elements
            if element.name == "presence" and element.getAttribute("type") == "unavailable"
        }

    @defer.inlineCallbacks
    def test_sigterm(self):
        """
        Each occupant gets its own unavailable presence with 332 (and 110),
        then C{<system-shutdown/>}, then the end of the stream; the last
        occupant to be removed saw the first leave; the exit status is 0.
        """
        results = yield self.shutDown()
        for occupant, other, elements in results:
            dump = (occupant.nick, [e.toXml() for e in elements])
            own = self.leaving(elements).get("%s/%s" % (ROOM, occupant.nick))
            self.assertIsNotNone(own, dump)
            self.assertEqual(statusCodes(own), {"110", "332"}, own.toXml())

            errors = [e for e in elements if e.uri == NS_STREAMS and e.name == "error"]
            self.assertEqual(len(errors), 1, dump)
            conditions = [c.name for c in errors[0].elements(NS_XMPP_STREAMS)]
            self.assertIn("system-shutdown", conditions)
            # The MUC presence came before the stream error.
            self.assertLess(elements.index(own), elements.index(errors[0]))
            self.assertTrue(occupant.documentEnded, "no </stream:stream>")
        # Whoever is removed first is seen leaving by the other.
        seenLeaving = [
            self.leaving(elements).get("%s/%s" % (ROOM, other.nick))
            for occupant, other, elements in results
        ]
        seen = [presence for presence in seenLeaving if presence is not None]
        self.assertTrue(seen, [[e.toXml() for e in r[2]] for r in results])
        for presence in seen:
            self.assertEqual(statusCodes(presence), {"332"}, presence.toXml())

    @defer.inlineCallbacks
    def test_everyoneSeesEveryoneLeave(self):
        """
        Every occupant sees every other occupant leave with status 332, also
        those removed after it.
        """
        results = yield self.shutDown()
        for occupant, other, elements in results:
            seen = self.leaving(elements).get("%s/%s" % (ROOM, other.nick))
            self.assertIsNotNone(seen, (occupant.nick, [e.toXml() for e in elements]))
            self.assertEqual(statusCodes(seen), {"332"}, seen.toXml())


class PersistentDataTests(unittest.TestCase):
    """
    With SQLite storage: a persistent room's state is in the database after
    a SIGTERM, and stopping the storage last means nothing failed to save.
    """

    def setUp(self):
        missing = _missing()
        if missing:
            raise unittest.SkipTest("needs c2s, sm and muc: %s" % (missing,))

    @defer.inlineCallbacks
    def test_persistentRoomKept(self):
        import os

        from tests.support.client import connectClient
        from tests.support.twistd import startTwistd

        from xmuc import ctl
        from xmuc.config import loadConfig

        server = yield startTwistd(
            self, config(storage={"backend": "sqlite", "path": "data/xmuc.sqlite"})
        )
        client = yield connectClient(server.port)
        yield client.login("alice", "pw")
        client.send("<presence to='%s/Alice'><x xmlns='%s'/></presence>" % (ROOM, NS_MUC))
        yield waitForPresence(client, "Alice", "110")
        reply = yield client.iq(
            "<iq type='set' id='c1' to='%s'><query xmlns='%s#owner'>"
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>%s#roomconfig</value></field>"
            "<field var='muc#roomconfig_persistentroom'><value>1</value></field>"
            "</x></query></iq>" % (ROOM, NS_MUC, NS_MUC)
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        client.send(
            "<message to='%s' type='groupchat'><subject>Kept over restarts</subject></message>"
            % (ROOM,)
        )
        while True:
            element = yield client.receive(10)
            if element.name == "message" and element.getAttribute("from") == ROOM + "/Alice":
                break

        output = yield stopCleanly(self, server)
        self.assertNotIn("Traceback", output)
        self.assertNotIn("could not save", output)

        stored = loadConfig(os.path.join(server.directory, "tap.conf"))
        storage, auth = ctl.buildBackends(stored)
        yield storage.start()
        try:
            state = yield storage.rooms.get(ROOM)
        finally:
            yield storage.stop()
        self.assertIsNotNone(state)
        self.assertEqual(state.get("subject"), "Kept over restarts")


class BoundedWaitTests(unittest.TestCase):
    """
    A client that stops reading cannot hold the shutdown up longer than
    C{[server] shutdown_timeout}.
    """

    def setUp(self):
        missing = _missing()
        if missing:
            raise unittest.SkipTest("needs c2s, sm and muc: %s" % (missing,))

    @defer.inlineCallbacks
    def test_stuckClient(self):
        from tests.support.client import connectStuckClient
        from tests.support.twistd import startTwistd

        server = yield startTwistd(self, CONFIG)
        client = yield connectStuckClient(server.port, "alice")

        started = time.time()
        server.signal("TERM")
        status = yield server.ended
        elapsed = time.time() - started
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
        # It did wait for the stuck session (else this test proves nothing).
        self.assertGreater(elapsed, SHUTDOWN_TIMEOUT - 0.5, output)
        self.assertLess(elapsed, SHUTDOWN_TIMEOUT + 5, output)
        client.transport.abortConnection()


class ShutdownOrderTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_listenersCloseFirst(self):
        server = yield startTwistd(self, openRegistrationConfig(timeout=4, c2s={"read_rate": "0"}))
        polite = yield connectClient(server.port)
        yield polite.login("alice", "pw")
        stuck = yield connectStuckClient(server.port, "stuck")
        self.addCleanup(stuck.transport.abortConnection)

        started = time.time()
        server.signal("TERM")
        received = yield collectUntilClosed(polite)
        self.assertIn("system-shutdown", streamErrorConditions(received))
        # The stuck session holds the process up: it still runs, but no
        # longer accepts connections.
        self.assertIsNone(server.exitStatus, server.text())
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", server.port, timeout=2)
        yield self.assertFailure(
            endpoints.connectProtocol(endpoint, protocol.Protocol()),
            error.ConnectionRefusedError,
        )
        self.assertIsNone(server.exitStatus, "the stop was not held up: the test proves nothing")
        status = yield server.ended
        self.assertEqual(status, 0, server.text())
        self.assertLess(time.time() - started, 4 + 5)
        self.assertNotIn("Traceback", server.text())

    @defer.inlineCallbacks
    def test_sigint(self):
        server = yield startTwistd(self, openRegistrationConfig())
        client = yield connectClient(server.port)
        yield client.login("alice", "pw")
        unbound = yield connectClient(server.port)
        yield unbound.openStream()
        server.signal("INT")
        received = yield collectUntilClosed(client)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        received = yield collectUntilClosed(unbound)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertIn("SIGINT received", output)
        self.assertNotIn("Traceback", output)
