"""
The one rule of how long a tombstone holds its name, and the order in which
an account is buried.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.accounts.tombstones import ACCOUNT, ROOM, accountInForce, buryAccount, inForce


class InForceTests(unittest.TestCase):
    def test_forever(self):
        """
        An expiry of 0 keeps the name forever.
        """
        self.assertTrue(inForce(0.0, 0, now=1e12))

    def test_beforeExpiry(self):
        """
        Less than C{expiry} seconds after it was written, a tombstone is in
        force.
        """
        self.assertTrue(inForce(1000.0, 60, now=1059.9))

    def test_atExpiry(self):
        """
        Exactly C{expiry} seconds after it was written, a tombstone has
        expired.
        """
        self.assertFalse(inForce(1000.0, 60, now=1060.0))

    def test_afterExpiry(self):
        self.assertFalse(inForce(1000.0, 60, now=2000.0))

    def test_nowDefaultsToTheClock(self):
        """
        Without C{now}, the current time counts.
        """
        self.assertFalse(inForce(0.0, 60))


class AccountInForceTests(unittest.TestCase):
    def test_none(self):
        self.assertFalse(accountInForce(None, 0))

    def test_account(self):
        tombstone = {"jid": "a@localhost", "kind": ACCOUNT, "when": 1000.0}
        self.assertTrue(accountInForce(tombstone, 60, now=1010.0))
        self.assertFalse(accountInForce(tombstone, 60, now=1060.0))

    def test_room(self):
        """
        The tombstone of a room does not keep an account name.
        """
        tombstone = {"jid": "a@localhost", "kind": ROOM, "when": 1000.0}
        self.assertFalse(accountInForce(tombstone, 0, now=1010.0))


class _Tombstones:
    def __init__(self, log):
        self.log = log

    def add(self, jid, kind, when=None):
        self.log.append(("tombstone", jid, kind))
        return defer.succeed(None)


class _Storage:
    def __init__(self, log):
        self.tombstones = _Tombstones(log)


class _Auth:
    def __init__(self, log, result=None, failure=None):
        self.log = log
        self.result = result
        self.failure = failure

    def deleteAccount(self, bare):
        self.log.append(("delete", bare))
        if self.failure is not None:
            return defer.fail(self.failure)
        return defer.succeed(self.result)


class BuryAccountTests(unittest.TestCase):
    def test_tombstoneFirst(self):
        """
        The tombstone is written before the credentials are deleted, and
        the result says whether the account existed.
        """
        log = []
        existed = self.successResultOf(buryAccount(_Storage(log), _Auth(log, True), "a@localhost"))
        self.assertTrue(existed)
        self.assertEqual(log, [("tombstone", "a@localhost", ACCOUNT), ("delete", "a@localhost")])

    def test_deletionFails(self):
        """
        When deleting the credentials fails, the tombstone stays written and
        the failure is reported.
        """
        log = []
        auth = _Auth(log, failure=RuntimeError("database gone"))
        self.failureResultOf(buryAccount(_Storage(log), auth, "a@localhost"), RuntimeError)
        self.assertEqual(log[0], ("tombstone", "a@localhost", ACCOUNT))
