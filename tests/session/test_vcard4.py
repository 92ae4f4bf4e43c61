"""
vCard4 over PEP (XEP-0292) over real sockets: the iq form and the PEP node
are the same vCard.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.storage.common import rosterItem
from xmuc.xmpp import ns

from tests.support.account import child, signIn, startAccountServer
from tests.support.client import errorCondition

JULIET = "juliet@localhost"
ROMEO = "romeo@localhost"
VCARD = "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Juliet Capulet</text></fn></vcard>"


def getVCard(client, to=JULIET):
    return client.iq(
        "<iq type='get' id='%s' to='%s'><vcard xmlns='%s'/></iq>" % (client.nextID(), to, ns.VCARD4)
    )


class VCard4Tests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        rosters = self.running.server.storage.rosters
        yield rosters.set(JULIET, ROMEO, rosterItem(dict(subscription="both")))
        yield rosters.set(ROMEO, JULIET, rosterItem(dict(subscription="both")))
        self.juliet = yield signIn(self, self.running, "juliet", "phone", available=False)
        self.romeo = yield signIn(self, self.running, "romeo", "garden", available=False)
        self.nurse = yield signIn(self, self.running, "nurse", "kitchen", available=False)

    @defer.inlineCallbacks
    def test_setThenRead(self):
        result = yield getVCard(self.juliet)
        self.assertEqual(errorCondition(result), "item-not-found")
        result = yield self.juliet.iq("<iq type='set' id='s'>%s</iq>" % (VCARD,))
        self.assertEqual(result["type"], "result", result.toXml())

        # The contact reads it by iq, and from the PEP node.
        result = yield getVCard(self.romeo)
        self.assertEqual(result["type"], "result", result.toXml())
        self.assertIn("Juliet Capulet", child(result, ns.VCARD4, "vcard").toXml())
        result = yield self.romeo.iq(
            "<iq type='get' id='p' to='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
            % (JULIET, ns.PUBSUB, ns.VCARD4_NODE)
        )
        item = child(child(child(result, ns.PUBSUB, "pubsub"), ns.PUBSUB, "items"), ns.PUBSUB, "item")
        self.assertEqual(item["id"], "current")
        self.assertIn("Juliet Capulet", item.toXml())
        # A stranger may not read a presence-access node.
        result = yield getVCard(self.nurse)
        self.assertEqual(errorCondition(result), "forbidden")

    @defer.inlineCallbacks
    def test_publishedThenRead(self):
        """
        A vCard4 a client published on the node is what the iq answers, with
        the node's own access model.
        """
        result = yield self.juliet.iq(
            "<iq type='set' id='p'><pubsub xmlns='%s'><publish node='%s'><item id='current'>%s</item></publish>"
            "<publish-options><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
            "<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>"
            % (ns.PUBSUB, ns.VCARD4_NODE, VCARD)
        )
        self.assertEqual(result["type"], "result", result.toXml())
        result = yield getVCard(self.nurse)
        self.assertIn("Juliet Capulet", child(result, ns.VCARD4, "vcard").toXml())
        result = yield self.juliet.iq("<iq type='get' id='own'><vcard xmlns='%s'/></iq>" % (ns.VCARD4,))
        self.assertIn("Juliet Capulet", child(result, ns.VCARD4, "vcard").toXml())

    @defer.inlineCallbacks
    def test_refused(self):
        result = yield self.romeo.iq("<iq type='set' id='s' to='%s'>%s</iq>" % (JULIET, VCARD))
        self.assertEqual(errorCondition(result), "service-unavailable")
        result = yield self.juliet.iq("<iq type='set' id='b'><other xmlns='%s'/></iq>" % (ns.VCARD4,))
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield self.juliet.iq(
            "<iq type='get' id='d' to='%s'><query xmlns='%s'/></iq>" % (JULIET, ns.DISCO_INFO)
        )
        self.assertIn(ns.VCARD4, result.toXml())
