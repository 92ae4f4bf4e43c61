"""
The authentication backends: plugin discovery, the internal backend's
stored data, and the insecure test backend's guard and behaviour.  On
SQLite the internal backend stores only SCRAM salted hashes: the database
file itself (every table, the WAL too) never holds a password, whether the
account came from the server API, in-band registration or a password
change.
"""

import base64
import json
import os
import sqlite3

from twisted.internet import defer
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from tests.support.client import (
    certificateDirectory,
    connectTestClient,
    mechanisms,
    startServerWith,
    startTestServer,
    tlsSections,
)
from xmuc.auth import scram
from xmuc.auth.interfaces import IAuthBackend
from xmuc.backends import IAuthBackendFactory, findBackend
from xmuc.config import ConfigError, loadConfig, validate
from xmuc.storage.memory import MemoryStorage

NS_REGISTER = "jabber:iq:register"


class PluginTests(unittest.TestCase):
    def test_found(self):
        for name in ("internal", "insecure"):
            plugin = findBackend(IAuthBackendFactory, name)
            self.assertEqual(plugin.name, name)

    def test_internalBuilt(self):
        config = validate({"auth": {"backend": "internal"}})
        backend = findBackend(IAuthBackendFactory, "internal").build(config, MemoryStorage())
        self.assertTrue(IAuthBackend.providedBy(backend))


class InternalBackendTests(unittest.TestCase):
    def setUp(self):
        config = validate({})
        self.storage = MemoryStorage()
        self.auth = findBackend(IAuthBackendFactory, "internal").build(config, self.storage)

    @defer.inlineCallbacks
    def test_onlySaltedDataStored(self):
        created = yield self.auth.createAccount("kim@localhost", "correct horse")
        self.assertTrue(created)
        stored = yield self.storage.accounts.get("kim@localhost")
        text = json.dumps(stored)
        self.assertNotIn("correct horse", text)
        self.assertEqual(sorted(stored), ["scram"])
        for hashName in ("SHA-1", "SHA-256"):
            data = stored["scram"][hashName]
            self.assertEqual(sorted(data), ["iterations", "salt", "server_key", "stored_key"])
            self.assertGreaterEqual(data["iterations"], 4096)
        # Salts differ between hashes and accounts.
        yield self.auth.createAccount("lee@localhost", "correct horse")
        other = yield self.storage.accounts.get("lee@localhost")
        self.assertNotEqual(other["scram"]["SHA-256"]["salt"], stored["scram"]["SHA-256"]["salt"])

    @defer.inlineCallbacks
    def test_checkPassword(self):
        yield self.auth.createAccount("kim@localhost", "pw\u00e9")
        ok = yield self.auth.checkPassword("kim", "localhost", "pw\u00e9")
        self.assertTrue(ok)
        ok = yield self.auth.checkPassword("kim", "localhost", "pwe")
        self.assertFalse(ok)
        ok = yield self.auth.checkPassword("nobody", "localhost", "pw")
        self.assertFalse(ok)

    @defer.inlineCallbacks
    def test_scramCredentials(self):
        yield self.auth.createAccount("kim@localhost", "pencil")
        credentials = yield self.auth.getScramCredentials("kim", "localhost", "SHA-1")
        salted = scram.saltedPassword(
            "SHA-1", "pencil", credentials["salt"], credentials["iterations"]
        )
        self.assertEqual(credentials["server_key"], scram.serverKey("SHA-1", salted))
        self.assertEqual(
            credentials["stored_key"],
            scram.storedKey("SHA-1", scram.clientKey("SHA-1", salted)),
        )
        missing = yield self.auth.getScramCredentials("nobody", "localhost", "SHA-1")
        self.assertIsNone(missing)

    @defer.inlineCallbacks
    def test_lifeCycle(self):
        self.assertTrue((yield self.auth.createAccount("kim@localhost", "a")))
        self.assertFalse((yield self.auth.createAccount("kim@localhost", "b")))
        self.assertTrue((yield self.auth.checkPassword("kim", "localhost", "a")))
        self.assertTrue((yield self.auth.setPassword("kim@localhost", "c")))
        self.assertTrue((yield self.auth.checkPassword("kim", "localhost", "c")))
        self.assertFalse((yield self.auth.checkPassword("kim", "localhost", "a")))
        self.assertFalse((yield self.auth.setPassword("nobody@localhost", "c")))
        self.assertTrue((yield self.auth.userExists("kim@localhost")))
        self.assertTrue((yield self.auth.deleteAccount("kim@localhost")))
        self.assertFalse((yield self.auth.userExists("kim@localhost")))
        self.assertFalse((yield self.auth.deleteAccount("kim@localhost")))

    def test_mechanisms(self):
        self.assertEqual(
            self.auth.mechanisms(True), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        )
        self.assertNotIn("PLAIN", self.auth.mechanisms(False))


class InsecureGuardTests(unittest.TestCase):
    def writeConfig(self, allow):
        directory = self.mktemp()
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        with open(path, "w") as f:
            f.write("[auth]\nbackend = insecure\n")
            if allow is not None:
                f.write("allow_insecure = %s\n" % (allow,))
            f.write("[storage]\nbackend = memory\n")
        return path

    def test_refusedWithoutAllowInsecure(self):
        for allow in (None, "false"):
            config = loadConfig(self.writeConfig(allow))
            plugin = findBackend(IAuthBackendFactory, "insecure")
            e = self.assertRaises(ConfigError, plugin.build, config, MemoryStorage())
            self.assertEqual((e.section, e.key), ("auth", "allow_insecure"))
            self.assertIn("tap.conf", str(e))
            self.assertIn("[auth] allow_insecure", str(e))

    def test_warnsWhenAllowed(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        config = loadConfig(self.writeConfig("true"))
        backend = findBackend(IAuthBackendFactory, "insecure").build(config, MemoryStorage())
        self.assertEqual(backend.mechanisms(True), ["PLAIN"])
        warnings = [e for e in events if e.get("log_level").name == "warn"]
        self.assertEqual(len(warnings), 1)
        self.assertIn("ANY password", warnings[0]["log_format"])


class InsecureServerTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_anyPasswordCreatesAccount(self):
        running = yield startTestServer(
            self,
            {"auth": {"backend": "insecure", "allow_insecure": "true"}},
            tls=False,
        )
        client = yield connectTestClient(self, running)
        features = yield client.openStream()
        self.assertEqual(mechanisms(features), ["PLAIN"])
        yield client.authenticate("zoe", "anything", "PLAIN")
        jid = yield client.bind("x")
        self.assertEqual(jid, "zoe@localhost/x")
        exists = yield running.server.auth.userExists("zoe@localhost")
        self.assertTrue(exists)
        again = yield connectTestClient(self, running)
        yield again.login("zoe", "something else", "y")


class SQLiteAccountsTests(unittest.TestCase):
    """
    The internal backend on a real SQLite database: what it stores survives
    the JSON round trip and a restart of the server.
    """

    @defer.inlineCallbacks
    def test_loginAfterRestart(self):
        path = os.path.abspath(self.mktemp()) + ".sqlite"
        overrides = {"storage": {"backend": "sqlite", "path": path}}
        running = yield startTestServer(self, overrides)
        yield running.server.accounts.register("sam", "localhost", "s\u00e9same")
        yield running.stop()
        running = yield startTestServer(self, overrides)
        for mechanism in ("SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"):
            client = yield connectTestClient(self, running)
            jid = yield client.login("sam", "s\u00e9same", mechanism, tls=True, mechanism=mechanism)
            self.assertEqual(jid, "sam@localhost/" + mechanism)
        stored = yield running.server.storage.accounts.get("sam@localhost")
        self.assertNotIn("s\u00e9same", json.dumps(stored, ensure_ascii=False))


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
