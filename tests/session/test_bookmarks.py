"""
Bookmarks that sync (XEP-0402 and its XEP-0048 compatibility) over real
sockets: what a client of one kind stores, a client of the other kind sees.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.xmpp import ns

from tests.support.account import announceCaps, child, nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition

JULIET = "juliet@localhost"
LOUNGE = "lounge@conference.localhost"
BALCONY = "balcony@conference.localhost"

PRIVATE = "<iq type='%s' id='%s'><query xmlns='jabber:iq:private'>%s</query></iq>"
LEGACY = (
    "<storage xmlns='storage:bookmarks'>"
    "<conference jid='lounge@conference.localhost' autojoin='true' name='Lounge'>"
    "<nick>Jule</nick><password>secret</password></conference>"
    "<conference jid='balcony@conference.localhost' name='Balcony'/>"
    "</storage>"
)
OPTIONS = (
    "<publish-options><x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    "<field var='pubsub#persist_items'><value>true</value></field>"
    "<field var='pubsub#max_items'><value>max</value></field>"
    "<field var='pubsub#send_last_published_item'><value>never</value></field>"
    "<field var='pubsub#access_model'><value>whitelist</value></field>"
    "</x></publish-options>"
)


def publish(client, node, itemID, payload, options=""):
    return client.iq(
        "<iq type='set' id='%s'><pubsub xmlns='%s'><publish node='%s'><item id='%s'>%s</item></publish>%s</pubsub></iq>"
        % (client.nextID(), ns.PUBSUB, node, itemID, payload, options)
    )


def items(client, node):
    return client.iq(
        "<iq type='get' id='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
        % (client.nextID(), ns.PUBSUB, node)
    )


def conferences(storage):
    """
    @return: {room: (name, autojoin, nick, password)} of a XEP-0048 storage.
    """
    found = {}
    for conference in storage.elements(ns.BOOKMARKS_LEGACY, "conference"):
        nick = child(conference, ns.BOOKMARKS_LEGACY, "nick")
        password = child(conference, ns.BOOKMARKS_LEGACY, "password")
        found[conference["jid"]] = (
            conference.getAttribute("name"),
            conference.getAttribute("autojoin"),
            None if nick is None else str(nick),
            None if password is None else str(password),
        )
    return found


def bookmarks(result):
    """
    @return: {item id: conference} of a XEP-0402 items result.
    """
    node = child(child(result, ns.PUBSUB, "pubsub"), ns.PUBSUB, "items")
    return {
        item["id"]: child(item, ns.BOOKMARKS, "conference") for item in node.elements(ns.PUBSUB, "item")
    }


class BookmarksTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        self.gajim = yield signIn(self, self.running, "juliet", "gajim", available=False)
        self.phone = yield signIn(self, self.running, "juliet", "phone", available=False)

    def private(self, client, kind, inner):
        return client.iq(PRIVATE % (kind, client.nextID(), inner))

    @defer.inlineCallbacks
    def privateBookmarks(self, client):
        result = yield self.private(client, "get", "<storage xmlns='storage:bookmarks'/>")
        self.assertEqual(result["type"], "result", result.toXml())
        return child(child(result, ns.PRIVATE, "query"), ns.BOOKMARKS_LEGACY, "storage")

    @defer.inlineCallbacks
    def test_advertised(self):
        result = yield self.phone.iq(
            "<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>" % (self.phone.nextID(), JULIET, ns.DISCO_INFO)
        )
        features = {f["var"] for f in child(result, ns.DISCO_INFO, "query").elements(ns.DISCO_INFO, "feature")}
        self.assertIn("urn:xmpp:bookmarks:1#compat", features)
        self.assertIn("urn:xmpp:bookmarks:1#compat-pep", features)
        self.assertIn("urn:xmpp:bookmarks-conversion:0", features)

    @defer.inlineCallbacks
    def test_privateSetPublishes(self):
        """
        A XEP-0048 set in private storage becomes one XEP-0402 item per
        room, private and notified to the account's interested resources.
        """
        yield announceCaps(self, self.phone, [ns.BOOKMARKS + "+notify"])
        result = yield self.private(self.gajim, "set", LEGACY)
        self.assertEqual(result["type"], "result", result.toXml())
        notified = set()
        while len(notified) < 2:
            message = yield nextStanza(self.phone, "message")
            node = child(child(message, ns.PUBSUB_EVENT, "event"), ns.PUBSUB_EVENT, "items")
            self.assertEqual(node["node"], ns.BOOKMARKS)
            notified.add(child(node, ns.PUBSUB_EVENT, "item")["id"])
        self.assertEqual(notified, {LOUNGE, BALCONY})

        found = bookmarks((yield items(self.phone, ns.BOOKMARKS)))
        lounge = found[LOUNGE]
        self.assertEqual((lounge["name"], lounge["autojoin"]), ("Lounge", "true"))
        self.assertEqual(str(child(lounge, ns.BOOKMARKS, "nick")), "Jule")
        self.assertEqual(str(child(lounge, ns.BOOKMARKS, "password")), "secret")
        self.assertEqual((found[BALCONY]["name"], found[BALCONY].getAttribute("autojoin")), ("Balcony", None))

        # The node is private (XEP-0402 section 3), even to a contact.
        romeo = yield signIn(self, self.running, "romeo", "garden", available=False)
        result = yield romeo.iq(
            "<iq type='get' id='x' to='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
            % (JULIET, ns.PUBSUB, ns.BOOKMARKS)
        )
        self.assertEqual(errorCondition(result), "forbidden")

        # A set without a room retracts it; an empty storage purges them.
        yield self.private(self.gajim, "set", LEGACY.replace("<conference jid='balcony@conference.localhost' name='Balcony'/>", ""))
        self.assertEqual(set(bookmarks((yield items(self.phone, ns.BOOKMARKS)))), {LOUNGE})
        yield self.private(self.gajim, "set", "<storage xmlns='storage:bookmarks'/>")
        self.assertEqual(bookmarks((yield items(self.phone, ns.BOOKMARKS))), {})
        self.assertEqual(conferences((yield self.privateBookmarks(self.gajim))), {})

    @defer.inlineCallbacks
    def test_publishUpdatesPrivate(self):
        """
        A XEP-0402 publish is what private storage answers next, in both
        directions of the conversion, and the extensions of an item stay
        when a XEP-0048 client rewrites the list.
        """
        conference = (
            "<conference xmlns='urn:xmpp:bookmarks:1' name='Lounge' autojoin='1'><nick>J</nick>"
            "<extensions><state xmlns='urn:example'>kept</state></extensions></conference>"
        )
        result = yield publish(self.phone, ns.BOOKMARKS, LOUNGE, conference, OPTIONS)
        self.assertEqual(result["type"], "result", result.toXml())
        storage = yield self.privateBookmarks(self.gajim)
        self.assertEqual(conferences(storage), {LOUNGE: ("Lounge", "1", "J", None)})

        # Gajim adds a room and keeps the other as it read it.
        storage.addRawXml("<conference jid='%s' name='Balcony'/>" % (BALCONY,))
        result = yield self.private(self.gajim, "set", storage.toXml())
        self.assertEqual(result["type"], "result", result.toXml())
        found = bookmarks((yield items(self.phone, ns.BOOKMARKS)))
        self.assertEqual(set(found), {LOUNGE, BALCONY})
        self.assertIn("<state xmlns='urn:example'>kept</state>", found[LOUNGE].toXml())

        # The rename of a room keeps its extensions too.
        result = yield self.private(self.gajim, "set", storage.toXml().replace("name='Lounge'", "name='Hall'"))
        found = bookmarks((yield items(self.phone, ns.BOOKMARKS)))
        self.assertEqual(found[LOUNGE]["name"], "Hall")
        self.assertIn("<state xmlns='urn:example'>kept</state>", found[LOUNGE].toXml())

        # Retracted in XEP-0402, gone from the XEP-0048 view.
        result = yield self.phone.iq(
            "<iq type='set' id='r'><pubsub xmlns='%s'><retract node='%s' notify='true'><item id='%s'/></retract></pubsub></iq>"
            % (ns.PUBSUB, ns.BOOKMARKS, LOUNGE)
        )
        self.assertEqual(result["type"], "result", result.toXml())
        self.assertEqual(set(conferences((yield self.privateBookmarks(self.gajim)))), {BALCONY})

    @defer.inlineCallbacks
    def test_legacyPEP(self):
        """
        The XEP-0048 PEP node reads and writes the XEP-0402 bookmarks, and
        its subscribers are told of XEP-0402 changes.
        """
        result = yield items(self.gajim, ns.BOOKMARKS_LEGACY)
        self.assertEqual(errorCondition(result), "item-not-found")

        result = yield publish(self.gajim, ns.BOOKMARKS_LEGACY, "current", LEGACY)
        self.assertEqual(result["type"], "result", result.toXml())
        self.assertEqual(set(bookmarks((yield items(self.phone, ns.BOOKMARKS)))), {LOUNGE, BALCONY})
        result = yield items(self.gajim, ns.BOOKMARKS_LEGACY)
        node = child(child(result, ns.PUBSUB, "pubsub"), ns.PUBSUB, "items")
        item = child(node, ns.PUBSUB, "item")
        self.assertEqual(item["id"], "current")
        self.assertEqual(
            conferences(child(item, ns.BOOKMARKS_LEGACY, "storage")),
            {LOUNGE: ("Lounge", "true", "Jule", "secret"), BALCONY: ("Balcony", None, None, None)},
        )

        yield announceCaps(self, self.gajim, [ns.BOOKMARKS_LEGACY + "+notify"])
        result = yield publish(
            self.phone, ns.BOOKMARKS, "hall@conference.localhost", "<conference xmlns='urn:xmpp:bookmarks:1' name='Hall'/>"
        )
        self.assertEqual(result["type"], "result", result.toXml())
        while True:
            message = yield nextStanza(self.gajim, "message")
            node = child(child(message, ns.PUBSUB_EVENT, "event"), ns.PUBSUB_EVENT, "items")
            self.assertEqual(node["node"], ns.BOOKMARKS_LEGACY)
            storage = child(child(node, ns.PUBSUB_EVENT, "item"), ns.BOOKMARKS_LEGACY, "storage")
            if "hall@conference.localhost" in conferences(storage):
                break
        self.assertEqual(set(conferences(storage)), {LOUNGE, BALCONY, "hall@conference.localhost"})

    @defer.inlineCallbacks
    def test_refused(self):
        result = yield self.private(self.gajim, "set", "<storage xmlns='storage:bookmarks'><conference name='x'/></storage>")
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield self.private(
            self.gajim, "set", "<storage xmlns='storage:bookmarks'><conference jid='room@muc/nick'/></storage>"
        )
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield publish(self.gajim, ns.BOOKMARKS_LEGACY, "current", "<other xmlns='x:y'/>")
        self.assertEqual(errorCondition(result), "bad-request")
        # XEP-0402 before 0.4 kept all rooms in one item: refused, as Prosody.
        result = yield publish(self.gajim, "urn:xmpp:bookmarks:0", "current", "<storage xmlns='urn:xmpp:bookmarks:0'/>")
        self.assertEqual(errorCondition(result), "not-allowed")
        self.assertEqual(conferences((yield self.privateBookmarks(self.gajim))), {})

    @defer.inlineCallbacks
    def test_migratedAtLogin(self):
        """
        Bookmarks kept in private storage before move to XEP-0402 when a
        resource binds, merged with those already there.
        """
        yield publish(self.phone, ns.BOOKMARKS, BALCONY, "<conference xmlns='urn:xmpp:bookmarks:1' name='Balcony'/>", OPTIONS)
        store = self.running.server.storage.accountData
        yield store.set(JULIET, "private:{storage:bookmarks}storage", LEGACY.replace("name='Balcony'", "name='Porch'"))
        laptop = yield signIn(self, self.running, "juliet", "laptop", available=False)
        found = bookmarks((yield items(laptop, ns.BOOKMARKS)))
        self.assertEqual(set(found), {LOUNGE, BALCONY})
        self.assertEqual(found[BALCONY]["name"], "Porch")
        self.assertIsNone((yield store.get(JULIET, "private:{storage:bookmarks}storage")))

    @defer.inlineCallbacks
    def test_keptPrivate(self):
        """
        A XEP-0402 node a client made readable by others becomes private
        when XEP-0048 bookmarks are converted into it, as in Prosody.
        """
        romeo = yield signIn(self, self.running, "romeo", "garden", available=False)
        result = yield publish(
            self.phone,
            ns.BOOKMARKS,
            BALCONY,
            "<conference xmlns='urn:xmpp:bookmarks:1' name='Balcony'/>",
            OPTIONS.replace("whitelist", "open"),
        )
        self.assertEqual(result["type"], "result", result.toXml())
        result = yield romeo.iq(
            "<iq type='get' id='a' to='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>" % (JULIET, ns.PUBSUB, ns.BOOKMARKS)
        )
        self.assertEqual(result["type"], "result")
        yield self.private(self.gajim, "set", LEGACY)
        result = yield romeo.iq(
            "<iq type='get' id='b' to='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>" % (JULIET, ns.PUBSUB, ns.BOOKMARKS)
        )
        self.assertEqual(errorCondition(result), "forbidden")

    @defer.inlineCallbacks
    def test_legacyPEPMigratedAtLogin(self):
        """
        XEP-0048 bookmarks a client published on PEP before the server kept
        that node move to XEP-0402 when a resource binds, and the node
        becomes the server's private one.
        """
        pepStore = self.running.server.storage.pep
        yield pepStore.setNode(JULIET, ns.BOOKMARKS_LEGACY, {"access_model": "presence"})
        yield pepStore.publish(JULIET, ns.BOOKMARKS_LEGACY, "current", LEGACY, 0)
        laptop = yield signIn(self, self.running, "juliet", "laptop", available=False)
        self.assertEqual(set(bookmarks((yield items(laptop, ns.BOOKMARKS)))), {LOUNGE, BALCONY})
        config = yield pepStore.getNode(JULIET, ns.BOOKMARKS_LEGACY)
        self.assertEqual(config["access_model"], "whitelist")
