"""
The PostgreSQL backend never leaves a request hanging: a statement kept
waiting by a lock is cancelled after C{statement_timeout}; a server that
accepts connections and never answers is given up after
C{connect_timeout}; a server that goes silent on an open connection fails
every call after C{connect_timeout + statement_timeout + 1} seconds, calls
queued behind it included; and a lock on the rooms table holds up no login,
since each storage area has a connection of its own.  Over the wire, the
client gets C{temporary-auth-failure} or C{internal-server-error} in time.

"Silent" is a TCP relay in front of the real server that, once switched,
accepts and keeps connections but forwards nothing.  Each test runs on a
PostgreSQL schema of its own; skipped when no PostgreSQL answers, unless
C{XMUC_REQUIRE_POSTGRES=1}.
"""

import os
import socket
import threading
import time

import psycopg2
import psycopg2.extensions
from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.client import (
    AuthenticationFailed,
    connectTestClient,
    errorCondition,
    startTestServer,
)
from tests.support.postgres import PostgresSchema, findPostgres, holdTableLock
from xmuc.config import ConfigError, validate
from xmuc.storage import postgresql, sql
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.storage.postgresql import PostgreSQLStorage

#: Timeouts short enough for tests.
CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 0.5
CALL_TIMEOUT = CONNECT_TIMEOUT + STATEMENT_TIMEOUT + 1

#: What a prompt answer is on a loaded 2-core machine.
PROMPT = 0.5

#: Slack on top of a timeout for the answer to come back, on a loaded machine.
SLACK = 1.5

PASSWORD = "secret"
SERVICE = "conference.localhost"
ROOM = "lounge@" + SERVICE


def dsnThrough(dsn, port):
    """
    @return: C{dsn} with its host and port replaced by C{127.0.0.1:port}.
    """
    parts = psycopg2.extensions.parse_dsn(dsn)
    parts.update(host="127.0.0.1", port=str(port))
    return " ".join("%s='%s'" % (key, value.replace("'", "\\'")) for key, value in parts.items())


@defer.inlineCallbacks
def waitForRecovery(storage, attempts=100):
    """
    Call every storage area until each answers, as clients would once the
    network is back.
    """
    for area in (sql.ACCOUNTS, sql.SESSIONS, sql.ROOMS):
        for attempt in range(attempts):
            try:
                yield storage.run(lambda tx: tx.execute("SELECT 1"), area=area)
                break
            except StorageUnavailable:
                yield task.deferLater(reactor, 0.1, lambda: None)
        else:
            raise AssertionError("storage area %d did not recover" % (area,))


class SilenceableRelay:
    """
    A TCP relay to a PostgreSQL server that can go silent, as a server
    behind a cut network does: connections stay open, nothing comes back.
    It runs in threads of its own, so it relays while the reactor's thread
    is blocked (the backend checks the server synchronously at start).

    @ivar silent: whether it swallows everything; a connection accepted
        while silent is never answered.
    @ivar port: the port it listens on (127.0.0.1).
    """

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.silent = False
        self.sockets = set()
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.start(self.accept)

    def start(self, function, *args):
        threading.Thread(target=function, args=args, daemon=True).start()

    def keep(self, sock):
        with self.lock:
            self.sockets.add(sock)

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.keep(client)
            if self.silent:
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self.keep(server)
            self.start(self.pump, client, server)
            self.start(self.pump, server, client)

    def pump(self, source, destination):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.close(destination)
                return
            if not self.silent:
                try:
                    destination.sendall(data)
                except OSError:
                    self.close(source)
                    return

    def close(self, sock):
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def dropAll(self):
        """
        Close every connection (as a network coming back resets them).
        """
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            self.close(sock)

    def stop(self):
        self.close(self.listener)
        self.dropAll()


class PostgreSQLTestCase(unittest.TestCase):
    def setUp(self):
        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)

    def relay(self):
        """
        @return: a listening L{SilenceableRelay} to the test's server,
            dropped at cleanup, and the DSN through it.
        """
        parts = psycopg2.extensions.parse_dsn(self.schema.dsn)
        relay = SilenceableRelay(parts.get("host", "127.0.0.1"), int(parts.get("port", 5432)))
        self.addCleanup(relay.stop)
        return relay, dsnThrough(self.schema.dsn, relay.port), relay.dropAll

    @defer.inlineCallbacks
    def timed(self, d):
        """
        @return: Deferred firing with C{(seconds, failure or result)}.
        """
        started = time.monotonic()
        try:
            result = yield d
        except Exception as e:
            result = e
        return time.monotonic() - started, result


class StorageTimeoutTests(PostgreSQLTestCase):
    @defer.inlineCallbacks
    def startStorage(self, dsn=None, **keywords):
        keywords.setdefault("connectTimeout", CONNECT_TIMEOUT)
        keywords.setdefault("statementTimeout", STATEMENT_TIMEOUT)
        storage = PostgreSQLStorage(dsn or self.schema.dsn, **keywords)
        self.addCleanup(storage.stop)
        yield storage.start()
        return storage

    @defer.inlineCallbacks
    def test_lockWaitCancelled(self):
        """
        A save kept waiting by a lock another connection holds fails with
        StorageUnavailable after the statement timeout, and stores nothing;
        meanwhile calls of other areas (accounts, rosters) are answered at
        once.  Once the lock is gone the same save succeeds.
        """
        storage = yield self.startStorage()
        yield storage.accounts.create("alice@example.org", {"v": 1})
        release = holdTableLock(self, self.schema.dsn, "xmuc_rooms")
        save = self.timed(storage.rooms.save("r@conference.example.org", {"v": 1}))
        for _ in range(3):
            elapsed, found = yield self.timed(storage.accounts.get("alice@example.org"))
            self.assertEqual(found, {"v": 1})
            self.assertLess(elapsed, PROMPT)
            elapsed, found = yield self.timed(storage.rosters.get("alice@example.org"))
            self.assertEqual(found, {})
            self.assertLess(elapsed, PROMPT)
        elapsed, failure = yield save
        self.assertIsInstance(failure, StorageUnavailable)
        self.assertGreaterEqual(elapsed, STATEMENT_TIMEOUT * 0.9)
        self.assertLess(elapsed, STATEMENT_TIMEOUT + SLACK)
        release()
        self.assertIsNone((yield storage.rooms.get("r@conference.example.org")))
        yield storage.rooms.save("r@conference.example.org", {"v": 2})
        self.assertEqual((yield storage.rooms.get("r@conference.example.org")), {"v": 2})
        self.flushLoggedErrors()

    @defer.inlineCallbacks
    def test_settingsOfEachConnection(self):
        """
        Every connection has the statement timeout and TCP keepalives; a
        keepalive setting given in the DSN wins.
        """
        storage = yield self.startStorage(
            self.schema.dsn + " keepalives_idle=7", statementTimeout=1.5
        )

        def settings(tx):
            tx.execute("SHOW statement_timeout")
            return tx.fetchone()[0]

        for area in (sql.ACCOUNTS, sql.SESSIONS, sql.ROOMS):
            self.assertEqual((yield storage.run(settings, area=area)), "1500ms")
        self.assertEqual(len(storage.pools), 3)
        arguments = postgresql.connectionArguments(self.schema.dsn + " keepalives_idle=7", 3)
        self.assertEqual(arguments["connect_timeout"], 3)
        self.assertEqual(arguments["keepalives"], 1)
        self.assertNotIn("keepalives_idle", arguments)
        self.assertIn("tcp_user_timeout", arguments)

    @defer.inlineCallbacks
    def test_oneConnectionKeepsEveryCallInOrder(self):
        """
        With C{connections = 1}, calls of every area share one connection.
        """
        storage = yield self.startStorage(connections=1)
        self.assertEqual(len(storage.pools), 1)
        yield storage.rooms.save("r@conference.example.org", {"v": 1})
        yield storage.accounts.create("alice@example.org", {"v": 1})
        self.assertEqual(len(self.schema.poolPIDs()), 1)

    @defer.inlineCallbacks
    def test_serverAcceptsButNeverAnswers(self):
        """
        A server that accepts connections and never answers: a call fails
        with StorageUnavailable within the connect timeout, and so does
        each later call, never queued behind the earlier ones' attempts.
        """
        relay, dsn, drop = self.relay()
        self.addCleanup(drop)
        relay.silent = True
        storage = PostgreSQLStorage(dsn, connectTimeout=CONNECT_TIMEOUT,
                                    statementTimeout=STATEMENT_TIMEOUT)
        self.addCleanup(storage.stop)
        calls = [self.timed(storage.accounts.get("alice@example.org")) for _ in range(4)]
        for elapsed, failure in (yield defer.gatherResults(calls)):
            self.assertIsInstance(failure, StorageUnavailable)
            self.assertLess(elapsed, CALL_TIMEOUT + SLACK)
        elapsed, failure = yield self.timed(storage.rooms.get("r@conference.example.org"))
        self.assertIsInstance(failure, StorageUnavailable)
        self.assertLess(elapsed, CALL_TIMEOUT + SLACK)
        drop()
        self.flushLoggedErrors()

    def test_configErrorWithinConnectTimeout(self):
        """
        At start, a server that never answers is a ConfigError naming
        C{[storage] dsn} after C{connect_timeout}, not a hang.
        """
        # A listener the test never accepts from: the kernel completes the
        # TCP handshake (backlog) and nothing answers.
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        dsn = "host=127.0.0.1 port=%d dbname=test user=postgres" % (listener.getsockname()[1],)
        config = validate({"storage": {"backend": "postgresql", "dsn": dsn,
                                       "connect_timeout": str(CONNECT_TIMEOUT)}},
                          os.path.join(os.path.abspath("."), "tap.conf"))
        started = time.monotonic()
        error = self.assertRaises(ConfigError, postgresql.fromConfig, config)
        self.assertEqual((error.section, error.key), ("storage", "dsn"))
        self.assertLess(time.monotonic() - started, CONNECT_TIMEOUT + SLACK)

    @defer.inlineCallbacks
    def test_serverGoesSilent(self):
        """
        The server goes silent on open connections: every call, those
        waiting behind the first included, fails with StorageUnavailable
        within the call timeout, and the work of a call that timed out
        before it started is never done.  When the network comes back the
        backend recovers by itself.
        """
        relay, dsn, drop = self.relay()
        self.addCleanup(drop)
        storage = yield self.startStorage(dsn)
        yield storage.accounts.create("alice@example.org", {"v": 1})
        yield storage.rooms.save("r@conference.example.org", {"v": 1})
        relay.silent = True
        first = self.timed(storage.accounts.get("alice@example.org"))
        queued = self.timed(storage.accounts.update("alice@example.org", {"v": 2}))
        rooms = self.timed(storage.rooms.save("r@conference.example.org", {"v": 2}))
        for elapsed, failure in (yield defer.gatherResults([first, queued, rooms])):
            self.assertIsInstance(failure, StorageUnavailable)
            self.assertIn("no answer within", str(failure))
            self.assertLess(elapsed, CALL_TIMEOUT + SLACK)
        # A call made now is not held up by those still stuck.
        elapsed, failure = yield self.timed(storage.accounts.get("alice@example.org"))
        self.assertIsInstance(failure, StorageUnavailable)
        self.assertLess(elapsed, CALL_TIMEOUT + SLACK)

        relay.silent = False
        drop()
        yield waitForRecovery(storage)
        self.assertEqual((yield storage.accounts.get("alice@example.org")), {"v": 1})
        self.assertEqual((yield storage.rooms.get("r@conference.example.org")), {"v": 1})
        self.flushLoggedErrors()


class WireTimeoutTests(PostgreSQLTestCase):
    """
    What a client sees when the database holds up its request.
    """

    @defer.inlineCallbacks
    def startServer(self, dsn):
        self.running = yield startTestServer(self, {
            "storage": {"backend": "postgresql", "dsn": dsn,
                        "connect_timeout": str(CONNECT_TIMEOUT),
                        "statement_timeout": str(STATEMENT_TIMEOUT)},
            "muc": {"enabled": "true", "domain": SERVICE, "lock_new_rooms": "false"},
        })
        for name in ("romeo", "juliet"):
            yield self.running.server.accounts.register(name, "localhost", PASSWORD)

    @defer.inlineCallbacks
    def login(self, name, resource="r"):
        client = yield connectTestClient(self, self.running)
        yield client.login(name, PASSWORD, resource)
        return client

    @defer.inlineCallbacks
    def persistentRoom(self, client):
        """
        Join L{ROOM} (made at once: rooms are not locked) and make it
        persistent, with a message in its archive.
        """
        client.send("<presence to='%s/Romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
                    % (ROOM,))
        reply = yield client.iq(
            "<iq type='set' id='cfg' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>"
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
            "<field var='muc#roomconfig_persistentroom'><value>1</value></field>"
            "</x></query></iq>" % (ROOM,))
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())

    def affiliationChange(self, client, number):
        return client.iq(
            "<iq type='set' id='aff%d' to='%s'><query xmlns='http://jabber.org/protocol/muc#admin'>"
            "<item jid='friend%d@localhost' affiliation='member'/></query></iq>"
            % (number, ROOM, number))

    def archiveQuery(self, client, number):
        return client.iq(
            "<iq type='set' id='mam%d' to='%s'><query xmlns='urn:xmpp:mam:2' queryid='q%d'/></iq>"
            % (number, ROOM, number))

    @defer.inlineCallbacks
    def test_silentDatabase(self):
        """
        With the database silent, a login gets C{temporary-auth-failure},
        an affiliation change and an archive query get
        C{internal-server-error}, each within the call timeout; the server
        keeps answering what needs no database.
        """
        relay, dsn, drop = self.relay()
        yield self.startServer(dsn)
        # Cleanups run last in, first out: the relay's connections go
        # before the server (and its storage) stops.
        self.addCleanup(drop)
        romeo = yield self.login("romeo")
        yield self.persistentRoom(romeo)

        relay.silent = True
        started = time.monotonic()
        reply = yield self.affiliationChange(romeo, 1)
        self.assertEqual(errorCondition(reply), "internal-server-error")
        self.assertLess(time.monotonic() - started, CALL_TIMEOUT + SLACK)

        started = time.monotonic()
        reply = yield self.archiveQuery(romeo, 1)
        self.assertEqual(errorCondition(reply), "internal-server-error")
        self.assertLess(time.monotonic() - started, CALL_TIMEOUT + SLACK)

        started = time.monotonic()
        client = yield connectTestClient(self, self.running)
        failure = yield self.assertFailure(client.login("juliet", PASSWORD, "x"), AuthenticationFailed)
        self.assertEqual(failure.condition, "temporary-auth-failure")
        self.assertLess(time.monotonic() - started, CALL_TIMEOUT + SLACK + 1)

        sent = time.monotonic()
        reply = yield romeo.iq("<iq type='get' id='ping' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("type"), "result")
        self.assertLess(time.monotonic() - sent, PROMPT)

        relay.silent = False
        drop()
        yield waitForRecovery(self.running.server.storage)
        reply = yield self.affiliationChange(romeo, 2)
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        self.flushLoggedErrors()

    @defer.inlineCallbacks
    def test_roomLockHoldsUpNoLogin(self):
        """
        While another connection locks the rooms table, an affiliation
        change of a persistent room waits for it and gets
        C{internal-server-error} after the statement timeout; logins go on
        promptly meanwhile.
        """
        yield self.startServer(self.schema.dsn)
        romeo = yield self.login("romeo")
        yield self.persistentRoom(romeo)
        holdTableLock(self, self.schema.dsn, "xmuc_rooms")
        started = time.monotonic()
        change = self.affiliationChange(romeo, 1)
        for number in range(2):
            sent = time.monotonic()
            yield self.login("juliet", "r%d" % (number,))
            self.assertLess(time.monotonic() - sent, 2 * PROMPT)
        reply = yield change
        self.assertEqual(errorCondition(reply), "internal-server-error")
        self.assertLess(time.monotonic() - started, STATEMENT_TIMEOUT + SLACK + 2 * PROMPT)
        self.flushLoggedErrors()
