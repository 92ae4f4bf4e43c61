"""
The account manager of a running server (L{xmuc.accounts.AccountManager}):
what it accepts as a new account, unknown accounts, and the tombstone of a
deleted account keeping its name taken until it expires.
"""

import time

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import startTestServer
from xmuc.xmpp.errors import StanzaError


class AccountManagerTestCase(unittest.TestCase):
    """
    A server with in-band registration on and a tombstone expiry of
    C{tombstoneExpiry} seconds (C{"0"}: tombstones never expire).
    """

    tombstoneExpiry = "0"

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(
            self,
            {
                "c2s": {"allow_registration": "true"},
                "storage": {"tombstone_expiry": self.tombstoneExpiry},
            },
        )
        self.server = self.running.server


class TombstoneExpiryTests(AccountManagerTestCase):
    tombstoneExpiry = "60"

    @defer.inlineCallbacks
    def test_expiredTombstoneFreesTheName(self):
        accounts = self.server.accounts
        yield self.server.storage.tombstones.add("ivy@localhost", "account", time.time() - 30)
        e = yield self.assertFailure(accounts.register("ivy", "localhost", "pw"), StanzaError)
        self.assertEqual(e.condition, "conflict")
        yield self.server.storage.tombstones.add("ivy@localhost", "account", time.time() - 61)
        bare = yield accounts.register("ivy", "localhost", "pw")
        self.assertEqual(bare, "ivy@localhost")


class AccountManagerTests(AccountManagerTestCase):
    @defer.inlineCallbacks
    def test_registerValidation(self):
        accounts = self.server.accounts
        for username, host, password in (
            ("", "localhost", "pw"),
            ("a b", "localhost", "pw"),
            ("joe", "elsewhere.example", "pw"),
            ("joe", "localhost", ""),
            ("joe", "localhost", "bad\u0007"),
        ):
            e = yield self.assertFailure(accounts.register(username, host, password), StanzaError)
            self.assertEqual(e.condition, "not-acceptable")

    @defer.inlineCallbacks
    def test_changePasswordUnknown(self):
        e = yield self.assertFailure(
            self.server.accounts.changePassword("nobody@localhost", "pw"), StanzaError
        )
        self.assertEqual(e.condition, "item-not-found")

    @defer.inlineCallbacks
    def test_deleteUnknown(self):
        existed = yield self.server.accounts.delete("nobody@localhost")
        self.assertFalse(existed)
