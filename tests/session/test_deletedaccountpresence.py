"""
Presence to a deleted account over real sockets: while its tombstone is in
force, a former contact learns it is gone and loses the subscriptions, even
when the deletion notices never reached it.
"""

import time

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.account import nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition

JULIET = "juliet@localhost"
ROMEO = "romeo@localhost"


class DeletedAccountPresenceTests(unittest.TestCase):
    @defer.inlineCallbacks
    def romeoWithOldContact(self, when, expiry="0"):
        """
        Romeo's roster still has Juliet (both ways) though her account was
        deleted at C{when}; Romeo signs in without presence.
        """
        self.running = yield startAccountServer(self, {"storage": {"tombstone_expiry": expiry}})
        storage = self.running.server.storage
        yield storage.rosters.set(ROMEO, JULIET, {"subscription": "both"})
        yield storage.tombstones.add(JULIET, "account", when)
        self.romeo = yield signIn(self, self.running, "romeo", "garden", available=False)
        roster = yield self.romeo.iq("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
        self.assertEqual([i["subscription"] for i in roster.query.elements()], ["both"])

    @defer.inlineCallbacks
    def test_availablePresenceAndProbe(self):
        """
        Initial presence goes to Juliet (she had 'from') and probes her
        (she had 'to'): each is answered with a 'gone' presence error, and
        the unsubscribe/unsubscribed that empty Romeo's roster item.
        """
        yield self.romeoWithOldContact(time.time())
        self.romeo.send("<presence/>")
        errors = []
        subscription = None
        while len(errors) < 2 or subscription != "none":
            stanza = yield self.romeo.receiveStanza()
            if stanza.name == "presence" and stanza.getAttribute("type") == "error":
                self.assertEqual(stanza["from"], JULIET)
                errors.append(errorCondition(stanza))
            elif stanza.name == "iq" and stanza.getAttribute("type") == "set":
                (item,) = stanza.query.elements()
                self.assertEqual(item["jid"], JULIET)
                subscription = item["subscription"]
        # (The unavailable presence Romeo's server sends when Juliet loses
        # 'from' is answered 'gone' too.)
        self.assertEqual(set(errors), {"gone"})
        stored = yield self.running.server.storage.rosters.get(ROMEO)
        self.assertEqual(stored[JULIET]["subscription"], "none")

    @defer.inlineCallbacks
    def test_unavailablePresence(self):
        """
        Directed unavailable presence too: 'gone', and 'unsubscribe'
        (Juliet no longer wants Romeo's presence).
        """
        yield self.romeoWithOldContact(time.time())
        self.romeo.send("<presence to='juliet@localhost/balcony' type='unavailable'/>")
        error = yield nextStanza(self.romeo, "presence")
        self.assertEqual((error["type"], errorCondition(error)), ("error", "gone"))
        push = yield nextStanza(self.romeo, "iq")
        (item,) = push.query.elements()
        self.assertEqual((item["jid"], item["subscription"]), (JULIET, "to"))

    @defer.inlineCallbacks
    def test_expiredTombstone(self):
        """
        Once the tombstone expired, the account is merely unknown: presence
        is dropped, a probe answered 'unsubscribed' without an error.
        """
        yield self.romeoWithOldContact(time.time() - 7200, expiry="3600")
        self.romeo.send("<presence to='juliet@localhost' type='unavailable'/>")
        self.romeo.send("<presence/>")
        stanza = yield self.romeo.receiveStanza()
        while stanza.name == "presence" and stanza.getAttribute("from") == self.romeo.jid:
            stanza = yield self.romeo.receiveStanza()
        # The probe's answer: Romeo loses 'to', no error came before.
        self.assertEqual(stanza.name, "iq")
        (item,) = stanza.query.elements()
        self.assertEqual((item["jid"], item["subscription"]), (JULIET, "from"))
