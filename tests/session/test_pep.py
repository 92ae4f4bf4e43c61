"""
Tests for personal eventing (XEP-0163) of L{xmuc.session.pep} and the entity
capabilities of L{xmuc.session.caps}: through the real L{SessionManager} with
memory storage (recording sessions), and across a restart on SQLite over
real client streams.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session import caps
from xmuc.session.pep import FEATURES
from xmuc.xmpp import ns
from xmuc.xmpp.ns import PUBSUB, PUBSUB_ERRORS, PUBSUB_EVENT, PUBSUB_OWNER

from tests.support.client import connectTestClient, startTestServer
from tests.support.session import SMHarness, stanza

INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}

STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DEVICELIST = "eu.siacs.conversations.axolotl.devicelist"
BUNDLE = "eu.siacs.conversations.axolotl.bundles:31337"
AXOLOTL = "eu.siacs.conversations.axolotl"
NICK = "http://jabber.org/protocol/nick"
BOOKMARKS = "urn:xmpp:bookmarks:1"

ALICE = "alice@localhost"
BOB = "bob@localhost"
CAROL = "carol@localhost"


def child(element, uri, name):
    for found in element.elements():
        if found.uri == uri and found.name == name:
            return found
    return None


def errorOf(reply):
    """
    @return: C{(condition, pubsub condition or None)} of an error reply.
    """
    error = child(reply, None, "error") or child(reply, ns.CLIENT, "error")
    assert reply.getAttribute("type") == "error", reply.toXml()
    condition = [e.name for e in error.elements() if e.uri == STANZAS and e.name != "text"][0]
    app = [e.name for e in error.elements() if e.uri == PUBSUB_ERRORS]
    return condition, (app[0] if app else None)


def publishOptions(**fields):
    parts = [
        "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    ]
    for var, value in fields.items():
        parts.append("<field var='pubsub#%s'><value>%s</value></field>" % (var, value))
    return "<publish-options><x xmlns='jabber:x:data' type='submit'>%s</x></publish-options>" % "".join(parts)


def publishIQ(node, payload, itemID=None, options=None, iqid="pub1", to=None):
    item = "<item id='%s'>%s</item>" % (itemID, payload) if itemID else "<item>%s</item>" % (payload,)
    return "<iq type='set' id='%s'%s><pubsub xmlns='%s'><publish node='%s'>%s</publish>%s</pubsub></iq>" % (
        iqid,
        " to='%s'" % (to,) if to else "",
        PUBSUB,
        node,
        item,
        publishOptions(**options) if options else "",
    )


def itemsIQ(node, to=None, maxItems=None, ids=(), iqid="items1"):
    return "<iq type='get' id='%s'%s><pubsub xmlns='%s'><items node='%s'%s>%s</items></pubsub></iq>" % (
        iqid,
        " to='%s'" % (to,) if to else "",
        PUBSUB,
        node,
        " max_items='%d'" % (maxItems,) if maxItems is not None else "",
        "".join("<item id='%s'/>" % i for i in ids),
    )


def discoInfo(features, identity=("client", "pc", "Test")):
    """
    @return: C{(ver, inner xml)} of a client's disco#info with C{features}.
    """
    category, kind, name = identity
    inner = "<identity category='%s' type='%s' name='%s'/>" % (category, kind, name)
    inner += "".join("<feature var='%s'/>" % f for f in features)
    query = stanza("<query xmlns='%s'>%s</query>" % (ns.DISCO_INFO, inner))
    return caps.verification(query), inner


def capsPresence(ver, node="https://test.example/client"):
    return "<presence><c xmlns='%s' hash='sha-1' node='%s' ver='%s'/></presence>" % (ns.CAPS, node, ver)


class PEPTestsBase(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.alice = self.h.connect(ALICE, "phone")
        self.bob = self.h.connect(BOB, "laptop")
        self.carol = self.h.connect(CAROL, "desk")
        # Alice and Bob see each other's presence; Carol is a stranger.
        self.h.setRoster(ALICE, BOB, subscription="both")
        self.h.setRoster(BOB, ALICE, subscription="both")

    def request(self, session, text):
        """
        Send an iq and return the single iq answer.
        """
        self.h.send(session, text)
        replies = session.take("iq")
        self.assertEqual(len(replies), 1, [r.toXml() for r in replies])
        return replies[0]

    def publish(self, session, node, payload, itemID=None, options=None):
        reply = self.request(session, publishIQ(node, payload, itemID, options))
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        return reply

    def items(self, session, node, to=None, **kw):
        reply = self.request(session, itemsIQ(node, to=to, **kw))
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        items = child(child(reply, PUBSUB, "pubsub"), PUBSUB, "items")
        return [(i["id"], i.firstChildElement().toXml()) for i in items.elements()]

    def stored(self, owner, node):
        return self.h.successResultOf(self.h.storage.pep.items(owner, node))

    def config(self, owner, node):
        return self.h.successResultOf(self.h.storage.pep.getNode(owner, node))

    def announce(self, session, features, node="https://test.example/client"):
        """
        Send an available presence with caps and answer the server's
        disco#info query (if it asks).

        @return: the caps queries the session received.
        """
        ver, inner = discoInfo(features)
        self.h.send(session, capsPresence(ver, node))
        queries = [
            iq for iq in session.take("iq", "get") if child(iq, ns.DISCO_INFO, "query") is not None
        ]
        for query in queries:
            self.h.send(
                session,
                "<iq type='result' id='%s' to='%s'><query xmlns='%s' node='%s'>%s</query></iq>"
                % (query["id"], query["from"], ns.DISCO_INFO, child(query, ns.DISCO_INFO, "query")["node"], inner),
            )
        return queries

    def events(self, session):
        """
        @return: list of C{(from, node, [(kind, id)])} of the pubsub event
            notifications received (and removes them).
        """
        found = []
        for message in session.take("message"):
            event = child(message, PUBSUB_EVENT, "event")
            if event is None:
                continue
            self.assertEqual(message["type"], "headline")
            for container in event.elements():
                entries = [(e.name, e.getAttribute("id")) for e in container.elements()]
                found.append((message["from"], container.name, container["node"], entries))
        return found


class PublishTests(PEPTestsBase):
    def test_publishAutoCreates(self):
        """
        Publishing to a node that does not exist creates it with the
        defaults and answers with the item id.
        """
        reply = self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        publish = child(child(reply, PUBSUB, "pubsub"), PUBSUB, "publish")
        self.assertEqual(publish["node"], NICK)
        self.assertEqual(child(publish, PUBSUB, "item")["id"], "current")
        config = self.config(ALICE, NICK)
        self.assertEqual(config["access_model"], "presence")
        self.assertEqual(config["max_items"], 1)
        self.assertTrue(config["persist_items"])
        (item,) = self.stored(ALICE, NICK)
        self.assertEqual(item["id"], "current")
        self.assertIn("Alice", item["xml"])

    def test_publishGeneratesID(self):
        reply = self.publish(self.alice, NICK, "<nick xmlns='%s'>A</nick>" % NICK)
        itemID = child(child(child(reply, PUBSUB, "pubsub"), PUBSUB, "publish"), PUBSUB, "item")["id"]
        self.assertTrue(itemID)
        self.assertEqual([i["id"] for i in self.stored(ALICE, NICK)], [itemID])

    def test_toOwnBareJID(self):
        """
        A pubsub iq addressed to the user's own bare JID works like one
        without C{to}.
        """
        reply = self.request(self.alice, publishIQ(NICK, "<nick xmlns='%s'>A</nick>" % NICK, "x", to=ALICE))
        self.assertEqual(reply["type"], "result")
        self.assertEqual(len(self.stored(ALICE, NICK)), 1)

    def test_maxItemsTrims(self):
        """
        The default node keeps one item; a node created with
        C{max_items} keeps that many.
        """
        self.publish(self.alice, NICK, "<nick xmlns='%s'>1</nick>" % NICK, "a")
        self.publish(self.alice, NICK, "<nick xmlns='%s'>2</nick>" % NICK, "b")
        self.assertEqual([i["id"] for i in self.stored(ALICE, NICK)], ["b"])
        for n in range(4):
            self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s'/>" % BOOKMARKS, "room%d" % n, options={"max_items": "3"})
        self.assertEqual([i["id"] for i in self.stored(ALICE, BOOKMARKS)], ["room3", "room2", "room1"])

    def test_publishOptionsCreate(self):
        """
        XEP-0402 bookmarks: the publish-options configure the new node
        (C{max} meaning the largest allowed).
        """
        options = {"persist_items": "true", "access_model": "whitelist", "max_items": "max", "send_last_published_item": "never"}
        self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s' autojoin='true'/>" % BOOKMARKS, "room@conference.localhost", options)
        config = self.config(ALICE, BOOKMARKS)
        self.assertEqual(config["access_model"], "whitelist")
        self.assertEqual(config["max_items"], 256)
        self.assertEqual(config["send_last_published_item"], "never")
        # The same options again: accepted, another item kept.
        self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s'/>" % BOOKMARKS, "other@conference.localhost", options)
        self.assertEqual(len(self.stored(ALICE, BOOKMARKS)), 2)

    def test_publishOptionsPrecondition(self):
        """
        Options that do not match an existing node: conflict with
        precondition-not-met, nothing published.
        """
        self.publish(self.alice, DEVICELIST, "<list xmlns='%s'/>" % AXOLOTL, "current")
        reply = self.request(
            self.alice, publishIQ(DEVICELIST, "<list xmlns='%s'><device id='1'/></list>" % AXOLOTL, "current", {"access_model": "open"})
        )
        self.assertEqual(errorOf(reply), ("conflict", "precondition-not-met"))
        self.assertNotIn("device", self.stored(ALICE, DEVICELIST)[0]["xml"])
        self.assertEqual(self.config(ALICE, DEVICELIST)["access_model"], "presence")

    def test_publishOptionsBadValue(self):
        reply = self.request(self.alice, publishIQ(NICK, "<nick xmlns='%s'/>" % NICK, "a", {"max_items": "many"}))
        self.assertEqual(errorOf(reply), ("bad-request", None))
        reply = self.request(self.alice, publishIQ(NICK, "<nick xmlns='%s'/>" % NICK, "a", {"persist_items": "perhaps"}))
        self.assertEqual(errorOf(reply), ("bad-request", None))
        self.assertIsNone(self.config(ALICE, NICK))

    def test_accessModelNotAcceptable(self):
        """
        As Prosody: only presence, open and whitelist.
        """
        reply = self.request(self.alice, publishIQ(NICK, "<nick xmlns='%s'/>" % NICK, "a", {"access_model": "roster"}))
        self.assertEqual(errorOf(reply), ("not-acceptable", None))
        self.assertIsNone(self.config(ALICE, NICK))

    def test_malformed(self):
        """
        No node: bad-request/nodeid-required; an item without exactly one
        payload: bad-request; an empty pubsub: bad-request.
        """
        reply = self.request(self.alice, "<iq type='set' id='p'><pubsub xmlns='%s'><publish><item id='a'><x xmlns='y'/></item></publish></pubsub></iq>" % PUBSUB)
        self.assertEqual(errorOf(reply), ("bad-request", "nodeid-required"))
        reply = self.request(self.alice, "<iq type='set' id='p'><pubsub xmlns='%s'><publish node='n'><item id='a'/></publish></pubsub></iq>" % PUBSUB)
        self.assertEqual(errorOf(reply), ("bad-request", None))
        reply = self.request(self.alice, "<iq type='set' id='p'><pubsub xmlns='%s'><publish node='n'/></pubsub></iq>" % PUBSUB)
        self.assertEqual(errorOf(reply), ("bad-request", None))
        reply = self.request(self.alice, "<iq type='set' id='p'><pubsub xmlns='%s'/></iq>" % PUBSUB)
        self.assertEqual(errorOf(reply), ("bad-request", None))
        reply = self.request(self.alice, "<iq type='get' id='p'><pubsub xmlns='%s'><items/></pubsub></iq>" % PUBSUB)
        self.assertEqual(errorOf(reply), ("bad-request", "nodeid-required"))
        self.assertEqual(self.h.successResultOf(self.h.storage.pep.listNodes(ALICE)), [])

    def test_unsupported(self):
        reply = self.request(self.alice, "<iq type='get' id='p'><pubsub xmlns='%s'><options node='n' jid='%s'/></pubsub></iq>" % (PUBSUB, ALICE))
        self.assertEqual(errorOf(reply), ("feature-not-implemented", "unsupported"))
        self.assertIn("feature='subscription-options'", reply.toXml())

    def test_foreignPublishForbidden(self):
        reply = self.request(self.bob, publishIQ(NICK, "<nick xmlns='%s'>Eve</nick>" % NICK, "a", to=ALICE))
        self.assertEqual(errorOf(reply), ("forbidden", None))
        self.assertIsNone(self.config(ALICE, NICK))

    def test_unknownAccount(self):
        reply = self.request(self.bob, itemsIQ(NICK, to="nobody@localhost"))
        self.assertEqual(errorOf(reply), ("service-unavailable", None))


class RetrieveTests(PEPTestsBase):
    def setUp(self):
        PEPTestsBase.setUp(self)
        for n in range(3):
            self.publish(self.alice, "notes", "<note xmlns='urn:test'>%d</note>" % n, "n%d" % n, {"max_items": "10"})

    def test_ownItems(self):
        """
        All items, oldest first; C{max_items} gives the newest ones;
        requested ids in the order asked.
        """
        self.assertEqual([i for i, _ in self.items(self.alice, "notes")], ["n0", "n1", "n2"])
        self.assertIn("<note xmlns='urn:test'>2</note>", dict(self.items(self.alice, "notes"))["n2"])
        self.assertEqual([i for i, _ in self.items(self.alice, "notes", maxItems=2)], ["n1", "n2"])
        self.assertEqual([i for i, _ in self.items(self.alice, "notes", ids=["n2", "n0", "zz"])], ["n2", "n0"])

    def test_missingNode(self):
        reply = self.request(self.alice, itemsIQ("nothing"))
        self.assertEqual(errorOf(reply), ("item-not-found", None))
        # A contact allowed by the default model too; a stranger is not.
        reply = self.request(self.bob, itemsIQ("nothing", to=ALICE))
        self.assertEqual(errorOf(reply), ("item-not-found", None))
        reply = self.request(self.carol, itemsIQ("nothing", to=ALICE))
        self.assertEqual(errorOf(reply), ("forbidden", None))

    def test_presenceAccess(self):
        """
        The default (presence) model: the subscribed contact may read,
        the stranger may not.
        """
        self.assertEqual(len(self.items(self.bob, "notes", to=ALICE)), 3)
        reply = self.request(self.carol, itemsIQ("notes", to=ALICE))
        self.assertEqual(errorOf(reply), ("forbidden", None))

    def test_presenceAccessNeedsFrom(self):
        """
        A contact who does not receive the owner's presence (subscription
        C{to} on the owner's side) may not read.
        """
        self.h.setRoster(ALICE, BOB, subscription="to")
        reply = self.request(self.bob, itemsIQ("notes", to=ALICE))
        self.assertEqual(errorOf(reply), ("forbidden", None))

    def test_openAccess(self):
        self.publish(self.alice, "public", "<x xmlns='urn:test'/>", "p", {"access_model": "open"})
        self.assertEqual([i for i, _ in self.items(self.carol, "public", to=ALICE)], ["p"])

    def test_whitelistAccess(self):
        self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s'/>" % BOOKMARKS, "r", {"access_model": "whitelist"})
        reply = self.request(self.bob, itemsIQ(BOOKMARKS, to=ALICE))
        self.assertEqual(errorOf(reply), ("forbidden", None))
        self.assertEqual(len(self.items(self.alice, BOOKMARKS)), 1)

    def test_retract(self):
        reply = self.request(
            self.alice, "<iq type='set' id='r'><pubsub xmlns='%s'><retract node='notes'><item id='n1'/></retract></pubsub></iq>" % PUBSUB
        )
        self.assertEqual(reply["type"], "result")
        self.assertEqual([i for i, _ in self.items(self.alice, "notes")], ["n0", "n2"])
        reply = self.request(
            self.alice, "<iq type='set' id='r'><pubsub xmlns='%s'><retract node='notes'><item id='n1'/></retract></pubsub></iq>" % PUBSUB
        )
        self.assertEqual(errorOf(reply), ("item-not-found", None))
        reply = self.request(
            self.alice, "<iq type='set' id='r'><pubsub xmlns='%s'><retract node='none'><item id='n1'/></retract></pubsub></iq>" % PUBSUB
        )
        self.assertEqual(errorOf(reply), ("item-not-found", None))
        reply = self.request(
            self.bob, "<iq type='set' id='r' to='%s'><pubsub xmlns='%s'><retract node='notes'><item id='n0'/></retract></pubsub></iq>" % (ALICE, PUBSUB)
        )
        self.assertEqual(errorOf(reply), ("forbidden", None))
        self.assertEqual(len(self.stored(ALICE, "notes")), 2)

    def test_deleteNode(self):
        delete = "<iq type='set' id='d'><pubsub xmlns='%s'><delete node='notes'/></pubsub></iq>" % PUBSUB_OWNER
        self.assertEqual(self.request(self.alice, delete)["type"], "result")
        self.assertIsNone(self.config(ALICE, "notes"))
        self.assertEqual(self.stored(ALICE, "notes"), [])
        self.assertEqual(errorOf(self.request(self.alice, delete)), ("item-not-found", None))

    def test_purge(self):
        purge = "<iq type='set' id='d'><pubsub xmlns='%s'><purge node='notes'/></pubsub></iq>" % PUBSUB_OWNER
        self.assertEqual(self.request(self.alice, purge)["type"], "result")
        self.assertEqual(self.items(self.alice, "notes"), [])
        self.assertEqual(self.config(ALICE, "notes")["max_items"], 10)

    def test_configure(self):
        """
        The owner reads the node configuration as a form and changes it;
        an access model Prosody refuses is not-acceptable.
        """
        get = "<iq type='get' id='c'><pubsub xmlns='%s'><configure node='notes'/></pubsub></iq>" % PUBSUB_OWNER
        reply = self.request(self.alice, get)
        form = child(child(child(reply, PUBSUB_OWNER, "pubsub"), PUBSUB_OWNER, "configure"), "jabber:x:data", "x")
        values = {f["var"]: str(f.firstChildElement()) for f in form.elements() if f.name == "field"}
        self.assertEqual(values["pubsub#access_model"], "presence")
        self.assertEqual(values["pubsub#max_items"], "10")
        self.assertEqual(values["FORM_TYPE"], "http://jabber.org/protocol/pubsub#node_config")
        setting = (
            "<iq type='set' id='c'><pubsub xmlns='%s'><configure node='notes'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#node_config</value></field>"
            "<field var='pubsub#access_model'><value>%%s</value></field>"
            "<field var='pubsub#max_items'><value>2</value></field></x></configure></pubsub></iq>" % PUBSUB_OWNER
        )
        self.assertEqual(self.request(self.alice, setting % "open")["type"], "result")
        self.assertEqual(self.config(ALICE, "notes")["access_model"], "open")
        self.assertEqual([i for i, _ in self.items(self.carol, "notes", to=ALICE)], ["n1", "n2"])
        self.assertEqual(errorOf(self.request(self.alice, setting % "authorize")), ("not-acceptable", None))
        self.assertEqual(errorOf(self.request(self.bob, (setting % "open").replace("id='c'", "id='c' to='%s'" % ALICE))), ("forbidden", None))

    def test_create(self):
        create = "<iq type='set' id='c'><pubsub xmlns='%s'><create node='fresh'/></pubsub></iq>" % PUBSUB
        self.assertEqual(self.request(self.alice, create)["type"], "result")
        self.assertEqual(self.config(ALICE, "fresh")["access_model"], "presence")
        self.assertEqual(errorOf(self.request(self.alice, create)), ("conflict", None))

    def test_discoItems(self):
        """
        The account's disco#items lists the nodes the requester may see;
        a stranger may not list them (as Prosody's mod_disco).
        """
        self.publish(self.alice, "public", "<x xmlns='urn:test'/>", "p", {"access_model": "open"})
        query = "<iq type='get' id='i' to='%s'><query xmlns='%s'/></iq>" % (ALICE, ns.DISCO_ITEMS)

        def nodes(session):
            reply = self.request(session, query)
            self.assertEqual(reply["type"], "result")
            return sorted((i["jid"], i["node"]) for i in reply.firstChildElement().elements())

        self.assertEqual(nodes(self.alice), [(ALICE, "notes"), (ALICE, "public")])
        self.assertEqual(nodes(self.bob), [(ALICE, "notes"), (ALICE, "public")])
        self.h.setRoster(ALICE, BOB, subscription="to")
        self.assertEqual(errorOf(self.request(self.bob, query)), ("service-unavailable", None))
        self.h.setRoster(ALICE, BOB, subscription="from")
        self.publish(self.alice, "private", "<x xmlns='urn:test'/>", "p", {"access_model": "whitelist"})
        self.assertEqual(nodes(self.bob), [(ALICE, "notes"), (ALICE, "public")])
        reply = self.request(self.carol, query)
        self.assertEqual(errorOf(reply), ("service-unavailable", None))


class DiscoTests(PEPTestsBase):
    def test_accountIdentityAndFeatures(self):
        for session in (self.alice, self.bob):
            reply = self.request(session, "<iq type='get' id='d' to='%s'><query xmlns='%s'/></iq>" % (ALICE, ns.DISCO_INFO))
            query = reply.firstChildElement()
            identities = {(i["category"], i["type"]) for i in query.elements() if i.name == "identity"}
            self.assertEqual(identities, {("account", "registered"), ("pubsub", "pep")})
            features = {f["var"] for f in query.elements() if f.name == "feature"}
            for feature in ("", "#publish", "#publish-options", "#auto-create", "#retrieve-items", "#last-published", "#persistent-items"):
                self.assertIn(PUBSUB + feature, features)
            self.assertTrue(set(FEATURES) <= features)

    def test_serverUnchanged(self):
        reply = self.request(self.alice, "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,))
        features = {f["var"] for f in reply.firstChildElement().elements() if f.name == "feature"}
        self.assertFalse([f for f in features if f.startswith(PUBSUB)])


class CapsTests(unittest.TestCase):
    def test_verificationExample(self):
        """
        XEP-0115 5.2's simple example.
        """
        query = stanza(
            "<query xmlns='%s'><identity category='client' name='Exodus 0.9.1' type='pc'/>"
            "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/></query>"
            % ns.DISCO_INFO
        )
        self.assertEqual(caps.verification(query), "QgayPKawpkPSDYmwT/WM94uAlu0=")

    def test_verificationComplexExample(self):
        """
        XEP-0115 5.3's example, with an extended form and xml:lang.
        """
        query = stanza(
            "<query xmlns='%s' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
            "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
            "<identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>"
            "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/>"
            "<x xmlns='jabber:x:data' type='result'>"
            "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
            "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
            "<field var='os'><value>Mac</value></field><field var='os_version'><value>10.5.1</value></field>"
            "<field var='software'><value>Psi</value></field><field var='software_version'><value>0.11</value></field>"
            "</x></query>" % ns.DISCO_INFO
        )
        self.assertEqual(caps.verification(query), "q07IKJEyjvHSyhy//CH0CxmKi8w=")

    def test_fromPresence(self):
        found = caps.fromPresence(stanza(capsPresence("abc=", "http://n")))
        self.assertEqual((found.key, found.queryNode, found.ver), ("abc=", "http://n#abc=", "abc="))
        self.assertIsNone(caps.fromPresence(stanza("<presence/>")))
        other = "<presence><c xmlns='%s' hash='md5' node='n' ver='v'/></presence>" % ns.CAPS
        self.assertIsNone(caps.fromPresence(stanza(other)))
        legacy = caps.fromPresence(stanza("<presence><c xmlns='%s' node='n' ver='1.0' ext='a b'/></presence>" % ns.CAPS))
        self.assertEqual((legacy.key, legacy.queryNode, legacy.ver), ("n#1.0#a b", "n#1.0", None))


class NotificationTests(PEPTestsBase):
    def test_capsQueriedOncePerVer(self):
        """
        The server asks a resource's disco#info from the user's bare JID,
        with the node#ver of its caps, once per ver.
        """
        queries = self.announce(self.alice, [NICK + "+notify"])
        self.assertEqual(len(queries), 1)
        self.assertEqual(queries[0]["from"], ALICE)
        self.assertEqual(queries[0]["to"], ALICE + "/phone")
        self.assertEqual(
            child(queries[0], ns.DISCO_INFO, "query")["node"], "https://test.example/client#" + discoInfo([NICK + "+notify"])[0]
        )
        tablet = self.h.connect(ALICE, "tablet", available=False)
        self.assertEqual(self.announce(tablet, [NICK + "+notify"]), [])
        # Bob's client has the same caps: known too.
        self.assertEqual(self.announce(self.bob, [NICK + "+notify"]), [])
        self.assertEqual(self.h.sm.pep.interests[ALICE][ALICE + "/tablet"][1], {NICK})
        self.assertEqual(self.h.sm.pep.interests[ALICE][BOB + "/laptop"][1], {NICK})

    def test_notifications(self):
        """
        A publication is notified to the owner's resources and the
        subscribed contacts whose caps want the node, not to the others.
        """
        tablet = self.h.connect(ALICE, "tablet", available=False)
        self.announce(self.alice, [NICK + "+notify"])
        self.announce(tablet, ["urn:other+notify"])
        self.announce(self.bob, [NICK + "+notify"])
        # Carol's presence reaches Alice (directed), but she may not see
        # Alice's presence.
        ver, inner = discoInfo([NICK + "+notify"])
        self.h.send(self.carol, capsPresence(ver).replace("<presence>", "<presence to='%s'>" % ALICE))
        self.assertNotIn(CAROL + "/desk", self.h.sm.pep.interests.get(ALICE, {}))
        for session in (self.alice, tablet, self.bob, self.carol):
            session.take()
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.assertEqual(self.events(self.alice), [(ALICE, "items", NICK, [("item", "current")])])
        self.assertEqual(self.events(self.bob), [(ALICE, "items", NICK, [("item", "current")])])
        self.assertEqual(self.events(tablet), [])
        self.assertEqual(self.events(self.carol), [])

    def test_notificationPayload(self):
        self.announce(self.bob, [NICK + "+notify"])
        self.bob.take()
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        (message,) = self.bob.take("message")
        self.assertEqual(message["to"], BOB + "/laptop")
        item = child(child(child(message, PUBSUB_EVENT, "event"), PUBSUB_EVENT, "items"), PUBSUB_EVENT, "item")
        nick = item.firstChildElement()
        self.assertEqual((nick.uri, nick.name, str(nick)), (NICK, "nick", "Alice"))

    def test_noCapsNoNotifications(self):
        self.h.send(self.bob, "<presence/>")
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.assertEqual(self.events(self.bob), [])

    def test_accessModelFiltersNotifications(self):
        """
        A whitelist node (bookmarks) is notified to the owner only.
        """
        self.announce(self.alice, [BOOKMARKS + "+notify"])
        self.announce(self.bob, [BOOKMARKS + "+notify"])
        self.alice.take()
        self.bob.take()
        self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s'/>" % BOOKMARKS, "room@conference.localhost", {"access_model": "whitelist"})
        self.assertEqual(len(self.events(self.alice)), 1)
        self.assertEqual(self.events(self.bob), [])

    def test_unavailableStopsNotifications(self):
        self.announce(self.bob, [NICK + "+notify"])
        self.h.send(self.bob, "<presence type='unavailable'/>")
        self.bob.take()
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.assertEqual(self.events(self.bob), [])
        self.assertNotIn(BOB + "/laptop", self.h.sm.pep.interests.get(ALICE, {}))

    def test_sessionEndForgets(self):
        self.announce(self.alice, [NICK + "+notify"])
        self.announce(self.bob, [NICK + "+notify"])
        self.h.sm.unbind(self.bob)
        self.assertNotIn(BOB + "/laptop", self.h.sm.pep.interests[ALICE])
        self.h.sm.unbind(self.alice)
        self.assertNotIn(ALICE, self.h.sm.pep.interests)

    def test_lastItemOnPresence(self):
        """
        A contact becoming interested gets the last item (and the owner's
        own new resource too); nodes that say never are not sent.
        """
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.publish(self.alice, BOOKMARKS, "<conference xmlns='%s'/>" % BOOKMARKS, "r", {"send_last_published_item": "never"})
        self.announce(self.bob, [NICK + "+notify", BOOKMARKS + "+notify"])
        self.assertEqual(self.events(self.bob), [(ALICE, "items", NICK, [("item", "current")])])
        self.announce(self.alice, [NICK + "+notify", BOOKMARKS + "+notify"])
        self.assertEqual(self.events(self.alice), [(ALICE, "items", NICK, [("item", "current")])])
        # The same caps again: nothing new.
        self.announce(self.bob, [NICK + "+notify", BOOKMARKS + "+notify"])
        self.assertEqual(self.events(self.bob), [])
        # Caps that add an interest: the last item of that node only.
        self.publish(self.alice, "urn:x:mood", "<mood xmlns='urn:x:mood'/>", "m")
        self.announce(self.bob, [NICK + "+notify", "urn:x:mood+notify"])
        self.assertEqual(self.events(self.bob), [(ALICE, "items", "urn:x:mood", [("item", "m")])])

    def test_lastItemNotForStranger(self):
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.h.setRoster(ALICE, CAROL, subscription="from")
        self.h.setRoster(CAROL, ALICE, subscription="to")
        self.h.setRoster(ALICE, BOB, subscription="to")
        # Bob's presence still reaches Alice, but Alice does not share hers.
        self.announce(self.bob, [NICK + "+notify"])
        self.assertEqual(self.events(self.bob), [])
        # Carol may see Alice's presence: she gets it when her presence
        # (directed, as she is not subscribed to Alice's) comes.
        ver, _ = discoInfo([NICK + "+notify"])
        self.h.send(self.carol, capsPresence(ver).replace("<presence>", "<presence to='%s'>" % ALICE))
        for iq in self.carol.take("iq", "get"):
            self.h.send(self.carol, "<iq type='result' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>" % (iq["id"], iq["from"], ns.DISCO_INFO, discoInfo([NICK + "+notify"])[1]))
        self.assertEqual(self.events(self.carol), [(ALICE, "items", NICK, [("item", "current")])])

    def test_forgedCapsNotCached(self):
        """
        A disco#info answer that does not hash to the announced ver is
        used for that resource only.
        """
        honest, _ = discoInfo([NICK + "+notify"])
        self.h.send(self.bob, capsPresence(honest))
        (query,) = self.bob.take("iq", "get")
        self.h.send(
            self.bob,
            "<iq type='result' id='%s' to='%s'><query xmlns='%s'><feature var='urn:evil+notify'/></query></iq>"
            % (query["id"], query["from"], ns.DISCO_INFO),
        )
        self.assertEqual(self.h.sm.pep.interests[ALICE][BOB + "/laptop"][1], {"urn:evil"})
        self.assertNotIn(honest, self.h.sm.pep.knownCaps)
        queries = self.announce(self.alice, [NICK + "+notify"])
        self.assertEqual(len(queries), 1)

    def test_failedQueryAsksTheNext(self):
        """
        A resource answering the caps query with an error does not leave
        the others with the same caps waiting forever.
        """
        ver, inner = discoInfo([NICK + "+notify"])
        self.h.send(self.bob, capsPresence(ver))
        (query,) = self.bob.take("iq", "get")
        self.h.send(self.alice, capsPresence(ver))
        self.assertEqual(self.alice.take("iq", "get"), [])
        self.h.send(self.bob, "<iq type='error' id='%s' to='%s'><error type='cancel'><service-unavailable xmlns='%s'/></error></iq>" % (query["id"], query["from"], STANZAS))
        (query,) = self.alice.take("iq", "get")
        self.assertEqual(self.bob.take("iq", "get"), [])
        self.h.send(self.alice, "<iq type='result' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>" % (query["id"], ALICE, ns.DISCO_INFO, inner))
        self.assertEqual(self.h.sm.pep.knownCaps[ver], {NICK})

    def test_queriedResourceLeaves(self):
        """
        When the resource asked for its features leaves without
        answering, the next one with the same caps is asked.
        """
        ver, inner = discoInfo([NICK + "+notify"])
        self.h.send(self.carol, capsPresence(ver))
        (query,) = self.carol.take("iq", "get")
        self.assertEqual((query["id"], query["from"]), ("disco", CAROL))
        self.h.send(self.alice, capsPresence(ver))
        self.assertEqual(self.alice.take("iq", "get"), [])
        self.h.sm.unbind(self.carol)
        (query,) = self.alice.take("iq", "get")
        self.assertEqual(query["id"], "disco")
        # The answer without 'to' counts for the sender's own account.
        self.h.send(self.alice, "<iq type='result' id='disco'><query xmlns='%s'>%s</query></iq>" % (ns.DISCO_INFO, inner))
        self.assertEqual(self.h.sm.pep.knownCaps[ver], {NICK})
        self.assertEqual(self.h.sm.pep.interests[ALICE][ALICE + "/phone"][1], {NICK})
        self.assertNotIn(CAROL, self.h.sm.pep.interests)

    def test_retractAndDeleteNotified(self):
        self.announce(self.bob, [NICK + "+notify"])
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.bob.take()
        self.request(self.alice, "<iq type='set' id='r'><pubsub xmlns='%s'><retract node='%s' notify='true'><item id='current'/></retract></pubsub></iq>" % (PUBSUB, NICK))
        self.assertEqual(self.events(self.bob), [(ALICE, "items", NICK, [("retract", "current")])])
        self.request(self.alice, "<iq type='set' id='d'><pubsub xmlns='%s'><delete node='%s'/></pubsub></iq>" % (PUBSUB_OWNER, NICK))
        self.assertEqual(self.events(self.bob), [(ALICE, "delete", NICK, [])])

    def test_omemoFlow(self):
        """
        Alice publishes her device list and bundle with access open; Bob,
        interested in device lists, is notified and fetches the bundle.
        """
        self.announce(self.bob, [DEVICELIST + "+notify"])
        self.bob.take()
        self.publish(
            self.alice, DEVICELIST, "<list xmlns='%s'><device id='31337'/></list>" % AXOLOTL, "current", {"access_model": "open"}
        )
        self.publish(
            self.alice,
            BUNDLE,
            "<bundle xmlns='%s'><signedPreKeyPublic signedPreKeyId='1'>AAA=</signedPreKeyPublic><identityKey>BBB=</identityKey></bundle>" % AXOLOTL,
            "current",
            {"access_model": "open", "max_items": "max"},
        )
        (message,) = self.bob.take("message")
        items = child(child(message, PUBSUB_EVENT, "event"), PUBSUB_EVENT, "items")
        self.assertEqual(items["node"], DEVICELIST)
        device = child(child(child(items, PUBSUB_EVENT, "item"), AXOLOTL, "list"), AXOLOTL, "device")
        self.assertEqual(device["id"], "31337")
        ((itemID, xml),) = self.items(self.bob, BUNDLE, to=ALICE, maxItems=1)
        self.assertEqual(itemID, "current")
        self.assertIn("identityKey", xml)
        # Carol, a stranger, may fetch the open bundle too.
        self.assertEqual(len(self.items(self.carol, BUNDLE, to=ALICE)), 1)

    def test_accountDeletion(self):
        self.announce(self.bob, [NICK + "+notify"])
        self.publish(self.alice, NICK, "<nick xmlns='%s'>Alice</nick>" % NICK, "current")
        self.h.successResultOf(self.h.hooks.fireAll(ACCOUNT_DELETED, jid=ALICE))
        self.assertEqual(self.h.successResultOf(self.h.storage.pep.listNodes(ALICE)), [])
        self.assertEqual(self.stored(ALICE, NICK), [])
        self.assertNotIn(ALICE, self.h.sm.pep.interests)


class WireTests(unittest.TestCase):
    """
    Real streams and SQLite storage across a restart.
    """

    @defer.inlineCallbacks
    def login(self, running, user, resource="r", presence="<presence/>"):
        client = yield connectTestClient(self, running)
        yield client.login(user, "pw", resource)
        client.send(presence)
        return client

    @defer.inlineCallbacks
    def test_persistsAcrossRestart(self):
        """
        Nodes and items survive a restart on SQLite; after it, the owner's
        new resource announcing +notify caps is asked for its features
        (from its bare JID) and gets the last item.
        """
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        overrides = dict(INSECURE, storage={"backend": "sqlite", "path": os.path.join(path, "xmuc.sqlite")})
        running = yield startTestServer(self, overrides, tls=False)
        alice = yield self.login(running, "alice")
        reply = yield alice.iq(
            publishIQ(DEVICELIST, "<list xmlns='%s'><device id='7'/></list>" % AXOLOTL, "current", {"access_model": "open"})
        )
        self.assertEqual(reply["type"], "result", reply.toXml())
        yield running.stop()

        running = yield startTestServer(self, overrides, tls=False)
        bob = yield self.login(running, "bob")
        reply = yield bob.iq(itemsIQ(DEVICELIST, to=ALICE))
        self.assertEqual(reply["type"], "result", reply.toXml())
        self.assertIn("<device id='7'/>", reply.toXml())
        ver, inner = discoInfo([DEVICELIST + "+notify"])
        alice = yield self.login(running, "alice", "again", capsPresence(ver))
        while True:
            query = yield alice.receiveStanza()
            if query.name == "iq" and query.getAttribute("type") == "get":
                break
        self.assertEqual(query["from"], ALICE)
        alice.send(
            "<iq type='result' id='%s' to='%s'><query xmlns='%s' node='%s'>%s</query></iq>"
            % (query["id"], ALICE, ns.DISCO_INFO, child(query, ns.DISCO_INFO, "query")["node"], inner)
        )
        while True:
            message = yield alice.receiveStanza()
            if message.name == "message":
                break
        self.assertEqual(message["type"], "headline")
        items = child(child(message, PUBSUB_EVENT, "event"), PUBSUB_EVENT, "items")
        self.assertEqual(items["node"], DEVICELIST)
        # As Prosody: the last item names its publisher, the owner.
        self.assertEqual(child(items, PUBSUB_EVENT, "item")["publisher"], ALICE)
        self.assertIn("<device id='7'/>", message.toXml())


class OccupantPresenceTests(unittest.TestCase):
    """
    Presences from MUC occupants are never PEP contacts: they cost no
    roster look-up, even for users whose roster is not loaded.
    """

    def test_noRosterReadForRoomPresence(self):
        """
        The roster of a user who just logged in is not loaded yet (its read
        stays pending here); an occupant presence from a room does not ask
        for it.
        """

        class SlowRosters:
            def __init__(self, store):
                self.store = store

            def get(self, bare):
                return defer.Deferred()

            def __getattr__(self, name):
                return getattr(self.store, name)

        harness = SMHarness(wrapRosters=SlowRosters)
        session = harness.connect(ALICE, roster=False)
        self.assertIsNone(harness.sm.rosters.cached(ALICE))
        asked = []
        originalGet = harness.sm.rosters.get
        harness.sm.rosters.get = lambda bare: asked.append(bare) or originalGet(bare)
        harness.sm.deliver(
            stanza(
                "<presence from='room@conference.localhost/Romeo' to='%s'>"
                "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>"
                "</presence>" % (session.jid.full(),)
            )
        )
        self.assertEqual(asked, [])
