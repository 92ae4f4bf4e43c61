"""
The iteration count of SCRAM credentials: C{[auth] scram_iterations} for
new credentials (10000 by default), and credentials made with fewer made
again at the next successful PLAIN login.  A SCRAM login cannot upgrade
them (its proof does not give the password) and leaves them alone.
"""

import base64

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import (
    NS_SASL,
    connectTestClient,
    firstChild,
    startTestServer,
)
from xmuc.auth import scram
from xmuc.auth.internal import InternalAuth
from xmuc.backends import IAuthBackendFactory, findBackend
from xmuc.config import ConfigError, validate
from xmuc.storage.memory import MemoryStorage

PASSWORD = "correct horse"


def iterationsOf(credentials):
    return {hashName: data["iterations"] for hashName, data in credentials["scram"].items()}


class IterationCountTests(unittest.TestCase):
    def setUp(self):
        self.storage = MemoryStorage()

    def build(self, **auth):
        config = validate({"auth": dict(backend="internal", **auth)})
        return findBackend(IAuthBackendFactory, "internal").build(config, self.storage)

    @defer.inlineCallbacks
    def test_default(self):
        """
        New credentials get 10000 iterations unless configured.
        """
        self.assertEqual(validate({}).get("auth", "scram_iterations"), 10000)
        yield self.build().createAccount("kim@localhost", PASSWORD)
        stored = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(stored), {"SHA-1": 10000, "SHA-256": 10000})

    @defer.inlineCallbacks
    def test_configured(self):
        """
        C{[auth] scram_iterations} is stored with new credentials, at
        registration and at a password change.
        """
        auth = self.build(scram_iterations="12345")
        yield auth.createAccount("kim@localhost", PASSWORD)
        stored = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(stored), {"SHA-1": 12345, "SHA-256": 12345})
        yield InternalAuth(self.storage, 4096).setPassword("kim@localhost", "other")
        yield auth.setPassword("kim@localhost", PASSWORD)
        stored = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(stored), {"SHA-1": 12345, "SHA-256": 12345})

    def test_belowRFCMinimumRefused(self):
        """
        Fewer than RFC 5802's 4096 iterations is a configuration error.
        """
        error = self.assertRaises(ConfigError, validate, {"auth": {"scram_iterations": "4095"}})
        self.assertEqual((error.section, error.key), ("auth", "scram_iterations"))

    @defer.inlineCallbacks
    def test_upgradedAtPlainLogin(self):
        """
        A right PLAIN password makes credentials with fewer iterations
        again, with new salts; the password still works, over PLAIN and
        SCRAM.  A wrong password changes nothing.
        """
        yield InternalAuth(self.storage, 4096).createAccount("kim@localhost", PASSWORD)
        old = yield self.storage.accounts.get("kim@localhost")
        auth = self.build(scram_iterations="6000")

        self.assertFalse((yield auth.checkPassword("kim", "localhost", "wrong")))
        self.assertEqual((yield self.storage.accounts.get("kim@localhost")), old)

        self.assertTrue((yield auth.checkPassword("kim", "localhost", PASSWORD)))
        new = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(new), {"SHA-1": 6000, "SHA-256": 6000})
        for hashName in scram.HASHES:
            self.assertNotEqual(new["scram"][hashName]["salt"], old["scram"][hashName]["salt"])
            data = yield auth.getScramCredentials("kim", "localhost", hashName)
            salted = scram.saltedPassword(hashName, PASSWORD, data["salt"], data["iterations"])
            self.assertEqual(
                scram.storedKey(hashName, scram.clientKey(hashName, salted)), data["stored_key"]
            )
        self.assertTrue((yield auth.checkPassword("kim", "localhost", PASSWORD)))
        self.assertEqual((yield self.storage.accounts.get("kim@localhost")), new)

    @defer.inlineCallbacks
    def test_moreIterationsKept(self):
        """
        Credentials with more iterations than configured are left alone.
        """
        yield InternalAuth(self.storage, 20000).createAccount("kim@localhost", PASSWORD)
        old = yield self.storage.accounts.get("kim@localhost")
        self.assertTrue((yield self.build().checkPassword("kim", "localhost", PASSWORD)))
        self.assertEqual((yield self.storage.accounts.get("kim@localhost")), old)

    @defer.inlineCallbacks
    def test_passwordChangedMeanwhileKept(self):
        """
        An upgrade whose credentials changed since they were checked (a
        password change in between) writes nothing.
        """
        yield InternalAuth(self.storage, 4096).createAccount("kim@localhost", PASSWORD)
        checked = yield self.storage.accounts.get("kim@localhost")
        auth = self.build()
        yield auth.setPassword("kim@localhost", "changed")
        changed = yield self.storage.accounts.get("kim@localhost")
        yield auth._upgrade("kim@localhost", checked, PASSWORD)
        self.assertEqual((yield self.storage.accounts.get("kim@localhost")), changed)
        self.assertTrue((yield auth.checkPassword("kim", "localhost", "changed")))


class IterationsOverTheWireTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, {"auth": {"scram_iterations": "5000"}})
        self.storage = self.running.server.storage
        yield InternalAuth(self.storage, 4096).createAccount("kim@localhost", PASSWORD)

    @defer.inlineCallbacks
    def login(self, mechanism):
        client = yield connectTestClient(self, self.running)
        yield client.login("kim", PASSWORD, mechanism=mechanism)
        yield client.close()

    @defer.inlineCallbacks
    def test_scramLoginLeavesThemPlainLoginUpgrades(self):
        """
        A SCRAM login gets the stored count and upgrades nothing; a PLAIN
        login upgrades to the configured count, and SCRAM logins then get
        it.
        """
        yield self.login("SCRAM-SHA-256")
        stored = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(stored), {"SHA-1": 4096, "SHA-256": 4096})
        yield self.login("PLAIN")
        stored = yield self.storage.accounts.get("kim@localhost")
        self.assertEqual(iterationsOf(stored), {"SHA-1": 5000, "SHA-256": 5000})
        yield self.login("SCRAM-SHA-1")
        yield self.login("SCRAM-SHA-256")

    @defer.inlineCallbacks
    def test_unknownUserGetsConfiguredCount(self):
        """
        The made-up credentials of an unknown user have the configured
        count, as new accounts do: the count does not tell who exists.
        """
        client = yield connectTestClient(self, self.running)
        features = yield client.openStream()
        if firstChild(features, name="starttls") is not None:
            yield client.startTLS()
        first = b"n,,n=nobody,r=abcdefghijklmnop"
        client.send(
            "<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
            % (NS_SASL, base64.b64encode(first).decode())
        )
        challenge = yield client.receive()
        self.assertEqual(challenge.name, "challenge")
        serverFirst = base64.b64decode(str(challenge)).decode()
        self.assertIn(",i=5000", serverFirst)
