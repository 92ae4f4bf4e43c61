"""
Audit of issue 2 over real sockets, for what the other tests only showed
with the keys set explicitly:

 - a server whose tap.conf leaves out C{require_encryption},
   C{allow_registration} and C{max_stanza_size} requires TLS, offers no
   registration, accepts a 200 KiB stanza and answers a 300 KiB one with
   C{policy-violation} (256 KiB default), the other sessions unaffected;
 - the internal backend on SQLite stores only SCRAM salted hashes: the
   database file itself (every table, the WAL too) never holds a
   password, whether the account came from the server API, in-band
   registration or a password change;
 - SQLite never blocks the reactor: while another process holds the
   database's write lock, a write waits in the pool's thread and the
   server keeps answering other clients.
"""

import base64
import json
import os
import sqlite3

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.client import (
    NS_SASL,
    assertStartTLSRequired,
    certificateDirectory,
    connectTestClient,
    errorCondition,
    firstChild,
    startServerWith,
    tlsSections,
)

NS_REGISTER = "jabber:iq:register"
REGISTER_FEATURE = "http://jabber.org/features/iq-register"


class DefaultsOverTheWireTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startServerWith(self, tlsSections(certificateDirectory(self)))
        yield self.running.server.accounts.register("alice", "localhost", "secret")

    def connect(self):
        return connectTestClient(self, self.running)

    @defer.inlineCallbacks
    def test_tlsRequiredByDefault(self):
        client = yield self.connect()
        features = yield client.openStream()
        assertStartTLSRequired(self, features)
        client.send(
            "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
            % (NS_SASL, base64.b64encode(b"\0alice\0secret").decode())
        )
        failure = yield client.receive()
        self.assertEqual(failure.name, "failure")
        self.assertEqual([c.name for c in failure.elements()], ["encryption-required"])
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_registrationOffByDefault(self):
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        features = yield client.startTLS()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        reply = yield client.iq(
            "<iq type='set' id='r'><query xmlns='%s'><username>mallory</username>"
            "<password>pw</password></query></iq>" % (NS_REGISTER,)
        )
        self.assertEqual(errorCondition(reply), "service-unavailable")
        exists = yield self.running.server.auth.userExists("mallory@localhost")
        self.assertFalse(exists)

    @defer.inlineCallbacks
    def test_stanzaSizeDefault(self):
        """
        256 KiB by default: 200 KiB goes through, 300 KiB is a
        C{policy-violation} for that stream only.
        """
        other = yield self.connect()
        yield other.login("alice", "secret", "other", tls=True)
        client = yield self.connect()
        jid = yield client.login("alice", "secret", "big", tls=True)
        stanza = "<message to='%s' id='%s'><body>%s</body></message>"
        client.send(stanza % (jid, "fits", "a" * (200 * 1024)))
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "fits")
        self.assertEqual(len(str(firstChild(message, name="body"))), 200 * 1024)

        client.send(stanza % (jid, "too-big", "b" * (300 * 1024)))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield client.waitClosed()

        other.send(stanza % ("alice@localhost/other", "still-here", "x"))
        message = yield other.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "still-here")


def databaseDump(path):
    """
    @return: every row of every table of the SQLite file at C{path}, as text,
        and the raw bytes of the file and its WAL.
    """
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        rows = {
            table: connection.execute('SELECT * FROM "%s"' % (table,)).fetchall()
            for table in tables
        }
    finally:
        connection.close()
    raw = b""
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                raw += f.read()
    return rows, raw


def readAccounts(path):
    """
    @return: C{[(bare JID, credentials column)]} of the SQLite file.
    """
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT bare, credentials FROM xmuc_accounts").fetchall()
    finally:
        connection.close()


class StoredCredentialsTests(unittest.TestCase):
    """
    The passwords (each spelled so that it is found if stored in any
    encoding SQLite would use) never reach the database.
    """

    PASSWORDS = {
        "api": "Api-Password-0815",
        "inband": "Inband-Password-4711",
        "changed": "Changed-Password-1234",
    }

    @defer.inlineCallbacks
    def test_onlyScramHashesInTheDatabase(self):
        directory = certificateDirectory(self)
        database = os.path.join(directory, "xmuc.sqlite")
        sections = tlsSections(directory, allow_registration="true")
        sections["storage"] = {"backend": "sqlite", "path": database}
        running = yield startServerWith(self, sections)
        server = running.server

        yield server.accounts.register("api", "localhost", self.PASSWORDS["api"])

        client = yield connectTestClient(self, running)
        yield client.openStream()
        yield client.startTLS()
        reply = yield client.iq(
            "<iq type='set' id='r'><query xmlns='%s'><username>inband</username>"
            "<password>%s</password></query></iq>" % (NS_REGISTER, self.PASSWORDS["inband"])
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())

        changer = yield connectTestClient(self, running)
        yield changer.login("api", self.PASSWORDS["api"], "r", tls=True, mechanism="SCRAM-SHA-256")
        reply = yield changer.iq(
            "<iq type='set' id='c'><query xmlns='%s'><username>api</username>"
            "<password>%s</password></query></iq>" % (NS_REGISTER, self.PASSWORDS["changed"])
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())

        # The changed password works, so the database does hold what it
        # needs to check it.
        again = yield connectTestClient(self, running)
        yield again.login("api", self.PASSWORDS["changed"], "s", tls=True, mechanism="SCRAM-SHA-1")

        rows, raw = databaseDump(database)
        accounts = {
            bare: credentials
            for (bare, credentials) in readAccounts(database)
        }
        self.assertEqual(sorted(accounts), ["api@localhost", "inband@localhost"])
        for bare, credentials in accounts.items():
            stored = json.loads(credentials)
            self.assertEqual(sorted(stored), ["scram"], bare)
            for hashName, data in stored["scram"].items():
                self.assertEqual(
                    sorted(data), ["iterations", "salt", "server_key", "stored_key"], bare
                )
        text = repr(rows)
        for password in self.PASSWORDS.values():
            self.assertNotIn(password, text)
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                self.assertNotIn(password.encode(encoding), raw)
            self.assertNotIn(base64.b64encode(password.encode()), raw)


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
        from xmuc.storage.sqlite import SQLiteStorage

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
