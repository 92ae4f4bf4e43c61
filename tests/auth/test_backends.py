"""
The authentication backends: plugin discovery, the internal backend's
stored data, and the insecure test backend's guard and behaviour.
"""

import json
import os

from twisted.internet import defer
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from tests.support.client import connectTestClient, mechanisms, startTestServer
from xmuc.auth import scram
from xmuc.auth.interfaces import IAuthBackend
from xmuc.backends import IAuthBackendFactory, findBackend
from xmuc.config import ConfigError, loadConfig, validate
from xmuc.storage.memory import MemoryStorage


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
