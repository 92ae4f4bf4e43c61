"""
Explicit subscriptions to the PEP nodes of an account (XEP-0060 sections
5.6, 5.7, 6.1, 6.2, 8.8 and 8.9 on a personal service) over real sockets.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.storage.common import rosterItem
from xmuc.xmpp import ns

from tests.support.account import child, nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition

ALICE = "alice@localhost"
BOB = "bob@localhost"
NODE = "urn:example:mood"


def pubsubCondition(reply):
    """
    @return: the name of the XEP-0060 condition of an error reply, or
        L{None}.
    """
    error = child(reply, None, "error") or child(reply, ns.CLIENT, "error")
    found = [e.name for e in error.elements() if e.uri == ns.PUBSUB_ERRORS]
    return found[0] if found else None


def request(client, kind, inner, to=ALICE, owner=False):
    return client.iq(
        "<iq type='%s' id='%s' to='%s'><pubsub xmlns='%s'>%s</pubsub></iq>"
        % (kind, client.nextID(), to, ns.PUBSUB_OWNER if owner else ns.PUBSUB, inner)
    )


def entries(result, uri, container, name):
    """
    @return: the attribute dicts of the C{name} entries of a list result.
    """
    found = child(child(result, uri, "pubsub"), uri, container)
    return [dict(entry.attributes) for entry in found.elements(uri, name)]


class SubscriptionTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        rosters = self.running.server.storage.rosters
        yield rosters.set(ALICE, BOB, rosterItem(dict(subscription="both")))
        yield rosters.set(BOB, ALICE, rosterItem(dict(subscription="both")))
        self.alice = yield signIn(self, self.running, "alice", "phone", available=False)
        self.bob = yield signIn(self, self.running, "bob", "laptop", available=False)
        result = yield self.publish("<mood xmlns='urn:example:mood'>calm</mood>", "m1")
        self.assertEqual(result["type"], "result", result.toXml())

    def publish(self, payload, itemID, options=""):
        return request(
            self.alice,
            "set",
            "<publish node='%s'><item id='%s'>%s</item></publish>%s" % (NODE, itemID, payload, options),
        )

    @defer.inlineCallbacks
    def nothingMore(self, client):
        """
        Nothing was sent to C{client} before the answer to a ping it sends
        now (a stanza routed earlier is ahead of it on the stream).
        """
        ping = client.nextID()
        client.send("<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (ping,))
        answer = yield client.receiveStanza()
        self.assertEqual((answer.name, answer.getAttribute("id")), ("iq", ping), answer.toXml())

    @defer.inlineCallbacks
    def test_subscribeNotifyUnsubscribe(self):
        """
        A contact subscribes without entity capabilities: the result, then
        the last item, then every publication, until it unsubscribes.
        """
        self.bob.send(
            "<iq type='set' id='sub' to='%s'><pubsub xmlns='%s'><subscribe node='%s' jid='%s'/></pubsub></iq>"
            % (ALICE, ns.PUBSUB, NODE, self.bob.jid)
        )
        result = yield self.bob.receiveStanza()
        self.assertEqual((result.name, result["type"]), ("iq", "result"), result.toXml())
        subscription = child(child(result, ns.PUBSUB, "pubsub"), ns.PUBSUB, "subscription")
        self.assertEqual(
            dict(subscription.attributes), {"node": NODE, "jid": self.bob.jid, "subscription": "subscribed"}
        )
        last = yield self.bob.receiveStanza()
        self.assertEqual(last.name, "message")
        self.assertIn("calm", last.toXml())

        yield self.publish("<mood xmlns='urn:example:mood'>happy</mood>", "m2")
        notified = yield nextStanza(self.bob, "message")
        items = child(child(notified, ns.PUBSUB_EVENT, "event"), ns.PUBSUB_EVENT, "items")
        self.assertEqual((items["node"], child(items, ns.PUBSUB_EVENT, "item")["id"]), (NODE, "m2"))

        # The lists: Bob's own, and the owner's view of the node.
        mine = yield request(self.bob, "get", "<subscriptions/>")
        self.assertEqual(
            entries(mine, ns.PUBSUB, "subscriptions", "subscription"),
            [{"node": NODE, "jid": self.bob.jid, "subscription": "subscribed"}],
        )
        listed = yield request(self.alice, "get", "<subscriptions node='%s'/>" % (NODE,), owner=True)
        self.assertEqual(
            entries(listed, ns.PUBSUB_OWNER, "subscriptions", "subscription"),
            [{"jid": self.bob.jid, "subscription": "subscribed"}],
        )

        result = yield request(self.bob, "set", "<unsubscribe node='%s' jid='%s'/>" % (NODE, self.bob.jid))
        self.assertEqual(result["type"], "result", result.toXml())
        result = yield request(self.bob, "set", "<unsubscribe node='%s' jid='%s'/>" % (NODE, self.bob.jid))
        self.assertEqual((errorCondition(result), pubsubCondition(result)), ("unexpected-request", "not-subscribed"))
        yield self.publish("<mood xmlns='urn:example:mood'>sad</mood>", "m3")
        yield self.nothingMore(self.bob)
        mine = yield request(self.bob, "get", "<subscriptions/>")
        self.assertEqual(entries(mine, ns.PUBSUB, "subscriptions", "subscription"), [])

    @defer.inlineCallbacks
    def test_ownerManagesSubscriptions(self):
        result = yield request(
            self.alice,
            "set",
            "<subscriptions node='%s'><subscription jid='%s' subscription='subscribed'/></subscriptions>" % (NODE, self.bob.jid),
            owner=True,
        )
        self.assertEqual(result["type"], "result", result.toXml())
        yield self.publish("<mood xmlns='urn:example:mood'>happy</mood>", "m2")
        notified = yield nextStanza(self.bob, "message")
        self.assertIn("happy", notified.toXml())
        result = yield request(
            self.alice,
            "set",
            "<subscriptions node='%s'><subscription jid='%s' subscription='none'/></subscriptions>" % (NODE, self.bob.jid),
            owner=True,
        )
        self.assertEqual(result["type"], "result", result.toXml())
        yield self.publish("<mood xmlns='urn:example:mood'>sad</mood>", "m3")
        yield self.nothingMore(self.bob)
        # Only the owner manages them.
        result = yield request(self.bob, "get", "<subscriptions node='%s'/>" % (NODE,), owner=True)
        self.assertEqual(errorCondition(result), "forbidden")

    @defer.inlineCallbacks
    def test_affiliations(self):
        result = yield request(self.alice, "get", "<affiliations/>")
        self.assertEqual(
            entries(result, ns.PUBSUB, "affiliations", "affiliation"), [{"node": NODE, "affiliation": "owner"}]
        )
        result = yield request(self.bob, "get", "<affiliations/>")
        self.assertEqual(entries(result, ns.PUBSUB, "affiliations", "affiliation"), [])
        result = yield request(self.alice, "get", "<affiliations node='%s'/>" % (NODE,), owner=True)
        self.assertEqual(
            entries(result, ns.PUBSUB_OWNER, "affiliations", "affiliation"), [{"jid": ALICE, "affiliation": "owner"}]
        )
        result = yield request(
            self.alice,
            "set",
            "<affiliations node='%s'><affiliation jid='%s' affiliation='publisher'/></affiliations>" % (NODE, BOB),
            owner=True,
        )
        self.assertEqual((errorCondition(result), pubsubCondition(result)), ("feature-not-implemented", "unsupported"))

    @defer.inlineCallbacks
    def test_refused(self):
        carol = yield signIn(self, self.running, "carol", "desk", available=False)
        # Not a contact of a presence-access node (XEP-0060 6.1.3.2).
        result = yield request(carol, "set", "<subscribe node='%s' jid='%s'/>" % (NODE, carol.jid))
        self.assertEqual(
            (errorCondition(result), pubsubCondition(result)), ("not-authorized", "presence-subscription-required")
        )
        # Someone else's JID (6.1.3.1), no JID, no such node.
        result = yield request(self.bob, "set", "<subscribe node='%s' jid='%s'/>" % (NODE, carol.jid))
        self.assertEqual((errorCondition(result), pubsubCondition(result)), ("bad-request", "invalid-jid"))
        result = yield request(self.bob, "set", "<subscribe node='%s'/>" % (NODE,))
        self.assertEqual((errorCondition(result), pubsubCondition(result)), ("bad-request", "jid-required"))
        result = yield request(self.bob, "set", "<subscribe node='nothing' jid='%s'/>" % (self.bob.jid,))
        self.assertEqual(errorCondition(result), "item-not-found")
        result = yield request(self.bob, "set", "<unsubscribe node='%s' jid='%s'/>" % (NODE, carol.jid))
        self.assertEqual(errorCondition(result), "forbidden")
        # A whitelist node is closed (6.1.3.4).
        yield request(
            self.alice,
            "set",
            "<publish node='secret'><item id='s'><s xmlns='urn:example'/></item></publish>"
            "<publish-options><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
            "<field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>",
        )
        result = yield request(self.bob, "set", "<subscribe node='secret' jid='%s'/>" % (self.bob.jid,))
        self.assertEqual((errorCondition(result), pubsubCondition(result)), ("not-allowed", "closed-node"))
        # Publishing stays the owner's.
        result = yield request(self.bob, "set", "<publish node='%s'><item id='x'><mood xmlns='urn:example:mood'/></item></publish>" % (NODE,))
        self.assertEqual(errorCondition(result), "forbidden")


class StoredSubscriptionTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_keptAcrossRestart(self):
        """
        Subscriptions are stored with the node (SQLite here): after a
        restart, the subscriber is still notified.
        """
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        overrides = {"storage": {"backend": "sqlite", "path": os.path.join(path, "xmuc.sqlite")}}
        running = yield startAccountServer(self, overrides)
        rosters = running.server.storage.rosters
        yield rosters.set(ALICE, BOB, rosterItem(dict(subscription="both")))
        alice = yield signIn(self, running, "alice", "phone", available=False)
        bob = yield signIn(self, running, "bob", "laptop", available=False)
        yield request(alice, "set", "<publish node='%s'><item id='m1'><mood xmlns='%s'>calm</mood></item></publish>" % (NODE, NODE))
        result = yield request(bob, "set", "<subscribe node='%s' jid='%s'/>" % (NODE, bob.jid))
        self.assertEqual(result["type"], "result", result.toXml())
        last = yield nextStanza(bob, "message")
        self.assertIn("calm", last.toXml())
        yield running.stop()

        running = yield startAccountServer(self, overrides)
        alice = yield signIn(self, running, "alice", "phone", available=False)
        bob = yield signIn(self, running, "bob", "laptop", available=False)
        yield request(alice, "set", "<publish node='%s'><item id='m2'><mood xmlns='%s'>happy</mood></item></publish>" % (NODE, NODE))
        notified = yield nextStanza(bob, "message")
        self.assertIn("happy", notified.toXml())
