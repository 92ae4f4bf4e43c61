"""
Tests for the disco#info of a local account (L{xmuc.session.disco}): as
Prosody 0.12's mod_disco (recorded with tests/interop/record.py), only the
account itself and contacts receiving its presence get it; anyone else
gets C{service-unavailable}, as for an account that does not exist.
"""

from twisted.trial import unittest

from xmuc.session import mam
from xmuc.xmpp import ns

from test_sm import errorCondition
from test_sm_support import SMHarness

ALICE = "alice@localhost"
BOB = "bob@localhost"
DISCO = "<iq to='%s' type='get' id='d'><query xmlns='%s'%s/></iq>"


class AccountDiscoInfoTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.alice = self.h.connect(ALICE, "phone")
        self.bob = self.h.connect(BOB, "laptop")

    def ask(self, session, to, node=None):
        """
        Send a disco#info get from C{session} to C{to}.

        @return: the single iq C{session} got back.
        """
        extra = " node='%s'" % (node,) if node else ""
        self.h.send(session, DISCO % (to, ns.DISCO_INFO, extra))
        (reply,) = session.take("iq")
        return reply

    def features(self, reply):
        return [f["var"] for f in reply.firstChildElement().elements() if f.name == "feature"]

    def test_strangerGetsServiceUnavailable(self):
        """
        Without any subscription the account answers like a missing one,
        also for a node; the account's sessions see nothing.
        """
        for node in (None, "x"):
            reply = self.ask(self.bob, ALICE, node)
            self.assertEqual((reply["type"], reply["from"]), ("error", ALICE))
            self.assertEqual(errorCondition(reply), "service-unavailable")
        self.assertEqual(self.alice.take(), [])

    def test_subscriptionDirectionCounts(self):
        """
        A contact subscribed to the account's presence (from, both) gets
        the account info; one the account is merely subscribed to (to), or
        with a pending request, does not.
        """
        for subscription, allowed in (("to", False), ("none", False), ("from", True), ("both", True)):
            self.h.setRoster(ALICE, BOB, subscription=subscription)
            reply = self.ask(self.bob, ALICE)
            if allowed:
                self.assertEqual(reply["type"], "result", subscription)
                identity = next(reply.firstChildElement().elements())
                self.assertEqual((identity["category"], identity["type"]), ("account", "registered"))
            else:
                self.assertEqual(errorCondition(reply), "service-unavailable", subscription)

    def test_ownAccount(self):
        """
        The account itself always gets its info; like Prosody's, the
        features list the archive (and PEP) but not disco#info itself.
        """
        reply = self.ask(self.alice, ALICE)
        self.assertEqual(reply["type"], "result")
        features = self.features(reply)
        self.assertNotIn(ns.DISCO_INFO, features)
        for feature in mam.FEATURES:
            self.assertIn(feature, features)

    def test_offlineAccountOfContact(self):
        """
        The check reads the stored roster: an account with no session
        still answers its contacts and refuses strangers.
        """
        self.h.createAccount("carol@localhost")
        self.assertEqual(errorCondition(self.ask(self.bob, "carol@localhost")), "service-unavailable")
        self.h.setRoster("carol@localhost", BOB, subscription="from")
        self.assertEqual(self.ask(self.bob, "carol@localhost")["type"], "result")
