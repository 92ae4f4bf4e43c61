"""
Dialback keys (XEP-0185) and the secret they are made from.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.federation import startFederation
from xmuc.s2s.dialback import STORED_SECRET, DialbackKeys, storedSecret
from xmuc.storage.memory import MemoryStorage


class KeyTests(unittest.TestCase):
    def test_sameSecretSameKey(self):
        """
        Two processes with the same secret make the same key for the same
        stream; another stream, domain or secret gives another key.
        """
        one, two = DialbackKeys("s3cret"), DialbackKeys("s3cret")
        key = one.key("b.test", "a.test", "id1")
        self.assertTrue(two.check("b.test", "a.test", "id1", key))
        self.assertFalse(two.check("b.test", "a.test", "id2", key))
        self.assertFalse(two.check("c.test", "a.test", "id1", key))
        self.assertFalse(DialbackKeys("other").check("b.test", "a.test", "id1", key))
        self.assertFalse(one.check("b.test", "a.test", "id1", None))


class StoredSecretTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_drawnOnceThenKept(self):
        """
        The first call draws a secret and stores it; later calls return
        the stored one.
        """
        storage = MemoryStorage()
        yield storage.start()
        first = yield storedSecret(storage.accountData)
        self.assertEqual(len(first), 64)
        again = yield storedSecret(storage.accountData)
        self.assertEqual(again, first)
        self.assertEqual((yield storage.accountData.get(*STORED_SECRET)), first)

    @defer.inlineCallbacks
    def test_serverUsesStoredSecret(self):
        """
        A federating server without C{[s2s] dialback_secret} makes its
        keys from the secret in its storage, so keys survive a restart
        and C{xmucctl check s2s} can make keys it accepts.
        """
        [running] = yield startFederation(self, ["a.test"], mode="selfsigned")
        stored = yield running.server.storage.accountData.get(*STORED_SECRET)
        self.assertTrue(stored)
        self.assertEqual(
            running.server.s2s.keys.key("b.test", "a.test", "id"),
            DialbackKeys(stored).key("b.test", "a.test", "id"),
        )

    @defer.inlineCallbacks
    def test_configuredSecretWins(self):
        """
        With C{[s2s] dialback_secret}, keys come from it and nothing is
        stored.
        """
        [running] = yield startFederation(
            self, ["a.test"], mode="selfsigned", extra={"a.test": {"s2s": {"dialback_secret": "configured"}}}
        )
        self.assertIsNone((yield running.server.storage.accountData.get(*STORED_SECRET)))
        self.assertEqual(
            running.server.s2s.keys.key("b.test", "a.test", "id"),
            DialbackKeys("configured").key("b.test", "a.test", "id"),
        )
