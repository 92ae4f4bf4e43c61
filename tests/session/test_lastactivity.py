"""
Last activity (XEP-0012) over real sockets: the server's uptime, and an
account's last logout for itself and its contacts.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session import lastactivity
from xmuc.xmpp import ns

from tests.support.account import nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition

LAST = "<iq type='get' id='%s' to='%s'><query xmlns='jabber:iq:last'/></iq>"


class LastActivityTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        self.sm = self.running.server.sm
        self.romeo = yield signIn(self, self.running, "romeo", "garden")

    def ask(self, client, to):
        return client.iq(LAST % (client.nextID(), to))

    @defer.inlineCallbacks
    def test_serverUptime(self):
        self.sm.lastActivity.started -= 3600
        answer = yield self.ask(self.romeo, "localhost")
        self.assertEqual(answer["type"], "result")
        self.assertGreaterEqual(int(answer.query["seconds"]), 3600)
        info = yield self.romeo.iq(
            "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        self.assertIn(ns.LAST, [f["var"] for f in info.query.elements() if f.name == "feature"])

    @defer.inlineCallbacks
    def test_lastLogoutForContactsOnly(self):
        juliet = yield signIn(self, self.running, "juliet", "phone")
        # Online: active now.
        answer = yield self.ask(juliet, "juliet@localhost")
        self.assertEqual((answer["type"], answer.query["seconds"]), ("result", "0"))
        # Romeo is no contact: forbidden.
        answer = yield self.ask(self.romeo, "juliet@localhost")
        self.assertEqual(errorCondition(answer), "forbidden")
        # Romeo subscribes and Juliet accepts.
        self.romeo.send("<presence to='juliet@localhost' type='subscribe'/>")
        request = yield nextStanza(juliet, "presence")
        while request.getAttribute("type") != "subscribe":
            request = yield nextStanza(juliet, "presence")
        juliet.send("<presence to='romeo@localhost' type='subscribed'/>")
        seen = yield nextStanza(self.romeo, "presence")
        while seen.getAttribute("type") is not None:
            seen = yield nextStanza(self.romeo, "presence")
        juliet.send("<presence type='unavailable'><status>Gone to Mantua</status></presence>")
        gone = yield nextStanza(self.romeo, "presence")
        self.assertEqual(gone["type"], "unavailable")
        # Stored as an hour ago.
        storage = self.running.server.storage
        stored = yield storage.accountData.get("juliet@localhost", lastactivity.DOCUMENT)
        self.assertEqual(stored["status"], "Gone to Mantua")
        stored["when"] -= 3600
        yield storage.accountData.set("juliet@localhost", lastactivity.DOCUMENT, stored)
        answer = yield self.ask(self.romeo, "juliet@localhost")
        self.assertEqual(answer["type"], "result")
        self.assertGreaterEqual(int(answer.query["seconds"]), 3600)
        self.assertEqual(str(answer.query), "Gone to Mantua")
        # Deleted with the account.
        yield self.running.server.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost")
        self.assertIsNone((yield storage.accountData.get("juliet@localhost", lastactivity.DOCUMENT)))

    @defer.inlineCallbacks
    def test_endOfSessionCounts(self):
        """
        A session that ends without unavailable presence is a logout too.
        """
        juliet = yield signIn(self, self.running, "juliet", "phone")
        juliet.close()
        yield juliet.waitClosed()
        storage = self.running.server.storage
        # The session's end is handled when the stream closes; a round
        # trip through another session orders after it.
        yield self.ask(self.romeo, "localhost")
        stored = yield storage.accountData.get("juliet@localhost", lastactivity.DOCUMENT)
        self.assertIsNotNone(stored)
        self.assertNotIn("status", stored)
