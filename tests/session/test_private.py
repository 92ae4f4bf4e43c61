"""
Private XML storage (XEP-0049) over real sockets.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.xmpp import ns

from tests.support.account import child, signIn, startAccountServer
from tests.support.client import errorCondition

QUERY = "<iq type='%s' id='%s'%s><query xmlns='jabber:iq:private'>%s</query></iq>"
BOOKMARKS = (
    "<storage xmlns='storage:bookmarks'>"
    "<conference jid='lounge@conference.localhost' autojoin='true' name='Lounge'><nick>J</nick></conference>"
    "</storage>"
)


class PrivateStorageTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        self.juliet = yield signIn(self, self.running, "juliet", "phone", available=False)

    def query(self, client, kind, inner, to=None):
        extra = "" if to is None else " to='%s'" % (to,)
        return client.iq(QUERY % (kind, client.nextID(), extra, inner))

    def stored(self, result):
        (element,) = child(result, ns.PRIVATE, "query").elements()
        return element

    @defer.inlineCallbacks
    def test_setGetForget(self):
        # Nothing stored: the element asked for, as sent.
        result = yield self.query(self.juliet, "get", "<storage xmlns='storage:bookmarks'/>")
        self.assertEqual(result["type"], "result")
        element = self.stored(result)
        self.assertEqual((element.uri, element.name, list(element.elements())), ("storage:bookmarks", "storage", []))

        result = yield self.query(self.juliet, "set", BOOKMARKS)
        self.assertEqual(result["type"], "result")
        # Another fragment, another namespace, kept apart.
        yield self.query(self.juliet, "set", "<prefs xmlns='x:gajim'><a>1</a></prefs>")
        # Read from another session of the account, to its bare JID.
        laptop = yield signIn(self, self.running, "juliet", "laptop", available=False)
        result = yield self.query(laptop, "get", "<storage xmlns='storage:bookmarks'/>", to="juliet@localhost")
        conference = child(self.stored(result), "storage:bookmarks", "conference")
        self.assertEqual((conference["jid"], conference["name"]), ("lounge@conference.localhost", "Lounge"))
        result = yield self.query(laptop, "get", "<prefs xmlns='x:gajim'/>")
        self.assertEqual(str(child(self.stored(result), "x:gajim", "a")), "1")

        # An empty element forgets it.
        yield self.query(self.juliet, "set", "<storage xmlns='storage:bookmarks'/>")
        result = yield self.query(self.juliet, "get", "<storage xmlns='storage:bookmarks'/>")
        self.assertEqual(list(self.stored(result).elements()), [])
        result = yield self.query(laptop, "get", "<prefs xmlns='x:gajim'/>")
        self.assertEqual(len(list(self.stored(result).elements())), 1)

        # Deleted with the account.
        yield self.running.server.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost")
        gone = yield self.running.server.storage.accountData.get("juliet@localhost", "private:{x:gajim}prefs")
        self.assertIsNone(gone)

    @defer.inlineCallbacks
    def test_refused(self):
        result = yield self.query(self.juliet, "get", "")
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield self.query(self.juliet, "set", "<a xmlns='x:a'/><b xmlns='x:b'/>")
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield self.query(self.juliet, "set", "<query xmlns='jabber:iq:roster'/>")
        self.assertEqual(errorCondition(result), "not-acceptable")
        # Someone else's storage is not reachable.
        romeo = yield signIn(self, self.running, "romeo", "garden", available=False)
        result = yield self.query(romeo, "get", "<storage xmlns='storage:bookmarks'/>", to="juliet@localhost")
        self.assertEqual(errorCondition(result), "service-unavailable")
