"""
Roster versioning (XEP-0237) over real sockets: the stream feature, C{ver}
on results and pushes, and the empty result when the client's version is
the current one.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.xmpp import ns

from tests.support.account import child, nextStanza, signIn, startAccountServer
from tests.support.client import connectTestClient, firstChild

GET = "<iq type='get' id='%s'><query xmlns='jabber:iq:roster'%s/></iq>"
ADD = (
    "<iq type='set' id='%s'><query xmlns='jabber:iq:roster'>"
    "<item jid='%s' name='%s'/></query></iq>"
)


def getRoster(client, ver=None):
    extra = "" if ver is None else " ver='%s'" % (ver,)
    return client.iq(GET % (client.nextID(), extra))


class RosterVersioningTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_streamFeature(self):
        """
        The stream features after authentication announce versioning
        (XEP-0237 section 2.1); those before do not.
        """
        running = yield startAccountServer(self)
        client = yield connectTestClient(self, running)
        before = yield client.openStream()
        self.assertIsNone(firstChild(before, ns.ROSTER_VERSIONING, "ver"))
        after = yield client.authenticate("juliet", "pw")
        self.assertIsNotNone(firstChild(after, ns.ROSTER_VERSIONING, "ver"))

    @defer.inlineCallbacks
    def test_versionedGetAndPushes(self):
        running = yield startAccountServer(self)
        phone = yield signIn(self, running, "juliet", "phone", available=False)
        laptop = yield signIn(self, running, "juliet", "laptop", available=False)

        # A client without versioning gets no ver.
        plain = yield getRoster(laptop)
        self.assertFalse(plain.query.hasAttribute("ver"))

        # A first versioned get (empty ver) gets the whole roster and its version.
        first = yield getRoster(phone, "")
        self.assertEqual(first["type"], "result")
        empty = first.query["ver"]
        self.assertTrue(empty)
        self.assertEqual(list(first.query.elements()), [])

        # The current version: an empty result, no query at all.
        current = yield getRoster(phone, empty)
        self.assertEqual(current["type"], "result")
        self.assertEqual(list(current.elements()), [])

        # A change is pushed with the new version, to both interested resources.
        result = yield phone.iq(ADD % ("a1", "romeo@localhost", "Romeo"))
        self.assertEqual(result["type"], "result")
        push = yield nextStanza(phone, "iq")
        pushed = push.query["ver"]
        self.assertNotEqual(pushed, empty)
        other = yield nextStanza(laptop, "iq")
        self.assertEqual(other.query["ver"], pushed)

        # The pushed version is current; the old one brings the roster back.
        current = yield getRoster(phone, pushed)
        self.assertEqual(list(current.elements()), [])
        stale = yield getRoster(phone, empty)
        self.assertEqual(stale.query["ver"], pushed)
        (item,) = stale.query.elements()
        self.assertEqual((item["jid"], item["name"]), ("romeo@localhost", "Romeo"))

        # A removal changes the version again.
        removal = (
            "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
            "<item jid='romeo@localhost' subscription='remove'/></query></iq>"
        )
        result = yield phone.iq(removal)
        self.assertEqual(result["type"], "result")
        push = yield nextStanza(phone, "iq")
        self.assertIsNotNone(child(push.query, ns.ROSTER, "item"))
        self.assertNotIn(push.query["ver"], (pushed,))
        current = yield getRoster(phone, push.query["ver"])
        self.assertEqual(list(current.elements()), [])

    @defer.inlineCallbacks
    def test_subscriptionChangeBumpsVersion(self):
        """
        A change made by a contact's subscription stanza, not by the user,
        is pushed with a version as well.
        """
        running = yield startAccountServer(self)
        juliet = yield signIn(self, running, "juliet", "phone")
        romeo = yield signIn(self, running, "romeo", "garden")
        first = yield getRoster(juliet, "")
        romeo.send("<presence to='juliet@localhost' type='subscribe'/>")
        yield nextStanza(juliet, "presence")
        juliet.send("<presence to='romeo@localhost' type='subscribed'/>")
        push = yield nextStanza(juliet, "iq")
        self.assertNotEqual(push.query["ver"], first.query["ver"])
        (item,) = push.query.elements()
        self.assertEqual((item["jid"], item["subscription"]), ("romeo@localhost", "from"))
        current = yield getRoster(juliet, push.query["ver"])
        self.assertEqual(list(current.elements()), [])
