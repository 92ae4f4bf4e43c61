"""
Storage never blocks the reactor.  PostgreSQL: while another connection
holds a lock that a room save needs, the save waits in a thread of the
adbapi pool and the server keeps answering other clients; once the lock
goes, the save completes and the owner gets its result.  SQLite: while
another process holds the database's write lock, a write waits in the
pool's thread and the server keeps answering other clients.

Each PostgreSQL test runs on a schema of its own; skipped when no
PostgreSQL answers, unless C{XMUC_REQUIRE_POSTGRES=1}.
"""

import json
import os
import sqlite3

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.database import ROOM, ServerOnDatabase, assertResult, field
from tests.support.postgres import PostgresSchema, findPostgres, holdTableLock
from tests.support.client import (
    certificateDirectory,
    connectTestClient,
    startServerWith,
    tlsSections,
)
from xmuc.storage.sqlite import SQLiteStorage

#: What a prompt answer is, on a loaded 2-core machine: far below the
#: seconds the save is kept waiting.
PROMPT = 0.5

NS_REGISTER = "jabber:iq:register"


class PostgreSQLNonBlockingTests(unittest.TestCase):
    def setUp(self):
        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)
        self.server = ServerOnDatabase(self, {"backend": "postgresql", "dsn": self.schema.dsn},
                                       {"muc": {"lock_new_rooms": "false"}})

    def serverWaitsForLock(self):
        """
        @return: whether one of the server's connections is waiting for a
            lock (its application_name is the schema's).
        """
        rows = self.schema.execute(
            ["SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s' AND wait_event_type = 'Lock'"
             % (self.schema.applicationName,)],
            fetch=True)
        return rows[0][0] > 0

    def storedName(self):
        [(state,)] = self.schema.execute(
            ["SELECT state FROM %s.xmuc_rooms WHERE room_jid = '%s'" % (self.schema.name, ROOM)], fetch=True)
        return (json.loads(state) if isinstance(state, str) else state)["config"]["name"]

    @defer.inlineCallbacks
    def test_serverAnswersWhileRoomSaveWaits(self):
        """
        Romeo's configuration submit of a persistent room waits for the
        lock, in the database; meanwhile Bob's pings are answered promptly
        and his message to himself comes back, and the reactor keeps
        ticking.  Once the lock is released, Romeo gets his result and the
        new name is stored.
        """
        yield self.server.start()
        yield self.server.register("romeo", "bob")
        romeo = yield self.server.login("romeo")
        bob = yield self.server.login("bob")
        yield romeo.join(ROOM, "Romeo")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        self.assertNotEqual(self.storedName(), "Held")

        release = holdTableLock(self, self.schema.dsn, "xmuc_rooms")
        change = romeo.configure(ROOM, field("muc#roomconfig_roomname", "Held"))
        change.addErrback(lambda f: f)
        ticks = []
        ticker = task.LoopingCall(lambda: ticks.append(reactor.seconds()))
        ticker.start(0.05)
        started = reactor.seconds()
        for _ in range(50):
            if self.serverWaitsForLock():
                break
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertTrue(self.serverWaitsForLock(), "the save never reached the lock")

        for number in range(3):
            sent = reactor.seconds()
            reply = yield bob.iq(None, "get", "<ping xmlns='urn:xmpp:ping'/>", timeout=2)
            self.assertEqual(reply.getAttribute("type"), "result")
            self.assertLess(reactor.seconds() - sent, PROMPT)
        bob.send("<message xmlns='jabber:client' to='%s' id='self'><body>x</body></message>" % (bob.jid,))
        echo = yield bob.waitFor(lambda s: s.name == "message" and s.getAttribute("id") == "self", timeout=2)
        self.assertEqual(echo.getAttribute("from"), bob.jid)
        yield task.deferLater(reactor, 0.3, lambda: None)
        ticker.stop()
        # The reactor ran all along (blocked, it would have ticked once or
        # twice, late), and the save is still waiting.
        elapsed = reactor.seconds() - started
        self.assertGreaterEqual(len(ticks), int(elapsed / 0.05) // 2, (elapsed, ticks))
        self.assertFalse(change.called)
        self.assertTrue(self.serverWaitsForLock())

        release()
        reply = yield change
        assertResult(reply)
        self.assertEqual(self.storedName(), "Held")
        self.assertEqual(self.server.server.muc.rooms[ROOM].config.name, "Held")


class SQLiteNonBlockingTests(unittest.TestCase):
    """
    A write to a locked SQLite database waits in the pool's thread, not in
    the reactor.
    """

    def lockDatabase(self, path):
        """
        Take the write lock of the database at C{path} as another process
        (xmucctl) would.

        @return: a function releasing it.
        """
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        released = []

        def release():
            if not released:
                released.append(True)
                holder.execute("ROLLBACK")
                holder.close()

        self.addCleanup(release)
        return release

    @defer.inlineCallbacks
    def test_storageCallWaitsInThread(self):
        path = os.path.join(certificateDirectory(self), "xmuc.sqlite")
        storage = SQLiteStorage(path)
        yield storage.start()
        self.addCleanup(storage.stop)

        release = self.lockDatabase(path)
        started = reactor.seconds()
        created = storage.accounts.create("kim@localhost", {"scram": {}})
        ticks = []
        ticker = task.LoopingCall(lambda: ticks.append(reactor.seconds()))
        ticker.start(0.05)
        yield task.deferLater(reactor, 0.6, lambda: None)
        ticker.stop()
        # The reactor ran all along (a blocked reactor would have ticked
        # once or twice, late) and the write is still waiting.
        self.assertGreaterEqual(len(ticks), 8, ticks)
        self.assertFalse(created.called)
        release()
        yield created
        self.assertLess(reactor.seconds() - started, 5)
        stored = yield storage.accounts.get("kim@localhost")
        self.assertEqual(stored, {"scram": {}})

    @defer.inlineCallbacks
    def test_serverAnswersWhileDatabaseLocked(self):
        directory = certificateDirectory(self)
        database = os.path.join(directory, "xmuc.sqlite")
        sections = tlsSections(directory)
        sections["storage"] = {"backend": "sqlite", "path": database}
        running = yield startServerWith(self, sections)
        yield running.server.accounts.register("alice", "localhost", "secret")
        yield running.server.accounts.register("bob", "localhost", "secret")
        alice = yield connectTestClient(self, running)
        yield alice.login("alice", "secret", "r", tls=True)
        bob = yield connectTestClient(self, running)
        bobJID = yield bob.login("bob", "secret", "r", tls=True)

        release = self.lockDatabase(database)
        # A password change is a write: it has to wait for the lock.
        change = alice.iq(
            "<iq type='set' id='c'><query xmlns='%s'><username>alice</username>"
            "<password>new</password></query></iq>" % (NS_REGISTER,),
            timeout=20,
        )
        yield task.deferLater(reactor, 0.2, lambda: None)
        # Meanwhile bob is served: a server iq and a message to himself.
        for number in range(3):
            reply = yield bob.iq(
                "<iq type='get' id='p%d'><ping xmlns='urn:xmpp:ping'/></iq>" % (number,),
                timeout=1,
            )
            self.assertEqual(reply.getAttribute("type"), "result")
        bob.send("<message to='%s' id='m'><body>x</body></message>" % (bobJID,))
        message = yield bob.receiveStanza(1)
        self.assertEqual(message.getAttribute("id"), "m")
        self.assertFalse(change.called)
        release()
        reply = yield change
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        ok = yield running.server.auth.checkPassword("alice", "localhost", "new")
        self.assertTrue(ok)
