"""
What parsing a client's input may cost the server, over real sockets to a
real in-process server: memory that does not grow with the number of
distinct addresses a client writes, and a bounded number of elements in
one stanza.
"""

from twisted.internet import defer
from twisted.trial import unittest
from twisted.words.protocols.jabber import jid as jidmod

from tests.support.client import connectTestClient, firstChild, startTestServer
from tests.support.watchedserver import MUC, OVERRIDES, WatchedServerTestCase
from xmuc.xmpp.jid import CACHE_SIZE, cachedAddresses
from xmuc.xmpp.xml import MAX_ELEMENTS

EXAMPLE = "urn:example:many"


def messageWithElements(to, count):
    """
    @return: a message to C{to} of exactly C{count} elements, itself and
        its body included.
    """
    return "<message to='%s' id='many'><body>b</body><many xmlns='%s'>%s</many></message>" % (
        to,
        EXAMPLE,
        "<e/>" * (count - 3),
    )


def internedJIDs():
    """
    @return: how many JIDs Twisted's C{internJID} keeps (it never forgets
        one).
    """
    return len(vars(jidmod)["__internJIDs"])


class AddressMemoryTests(WatchedServerTestCase):
    # Megabytes of stanzas read at full speed, and dozens of rooms created.
    overrides = dict(
        OVERRIDES,
        c2s={"read_rate": "0"},
        muc=dict(OVERRIDES["muc"], max_rooms_per_account="0"),
    )

    @defer.inlineCallbacks
    def test_distinctAddressesNotKept(self):
        """
        Stanzas to twice as many distinct (long) addresses as the address
        cache holds leave it at its bound and add nothing to Twisted's
        interning cache; the server keeps serving.
        """
        client = yield self.loggedIn("spender")
        before = internedJIDs()
        resource = "r" * 100
        client.send(
            "".join(
                "<iq type='result' id='x%d' to='nobody%d@localhost/%s'/>" % (i, i, resource)
                for i in range(2 * CACHE_SIZE)
            )
        )
        # A generous timeout: thousands of stanzas on a busy machine.
        reply = yield client.iq(
            "<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>", timeout=60
        )
        self.assertEqual(reply["type"], "result")
        self.assertEqual(internedJIDs(), before)
        self.assertLessEqual(cachedAddresses(), CACHE_SIZE)
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_roomsNotKept(self):
        """
        Rooms created and left (destroyed when empty) and occupants with
        several sessions leave nothing in Twisted's interning cache.
        """
        first = yield self.loggedIn("roamer", "one")
        second = yield self.loggedIn("roamer", "two")
        before = internedJIDs()
        for i in range(30):
            room = "room%d@conference.localhost" % (i,)
            for client in (first, second):
                client.send("<presence to='%s/roamer'><x xmlns='%s'/></presence>" % (room, MUC))
                yield self.until(client, lambda e: e.name == "message" and e.subject is not None)
            for client in (first, second):
                client.send("<presence type='unavailable' to='%s/roamer'/>" % (room,))
                yield self.until(
                    client, lambda e: e.name == "presence" and e.getAttribute("type") == "unavailable"
                )
        self.assertEqual(internedJIDs(), before)
        yield self.assertHealthy()


class ElementCountTests(WatchedServerTestCase):
    @defer.inlineCallbacks
    def test_emptyElementFlood(self):
        """
        A stanza of 62,000 empty elements (under the size limit) closes the
        stream with C{policy-violation}; the server keeps serving.
        """
        client = yield self.loggedIn("flooder")
        client.send("<message to='watcher@localhost/r'>" + "<a/>" * 62000 + "</message>")
        yield self.assertStreamError(client, "policy-violation")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_defaultLimit(self):
        """
        A stanza of L{MAX_ELEMENTS} elements is delivered; one more element
        is a C{policy-violation}.
        """
        client = yield self.loggedIn("lister")
        client.send(messageWithElements("lister@localhost/r", MAX_ELEMENTS))
        echo = yield self.until(client, lambda e: e.name == "message")
        self.assertEqual(len(list(firstChild(echo, EXAMPLE, "many").elements())), MAX_ELEMENTS - 3)
        client.send(messageWithElements("lister@localhost/r", MAX_ELEMENTS + 1))
        yield self.assertStreamError(client, "policy-violation")
        yield self.assertHealthy()


class ConfiguredElementCountTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_configuredLimit(self):
        """
        C{[server] max_stanza_elements} sets the limit: stanzas of that
        many elements pass, one more closes the stream.
        """
        running = yield startTestServer(
            self,
            {
                "server": {"max_stanza_elements": "20"},
                "auth": {"backend": "insecure", "allow_insecure": "true"},
            },
            tls=False,
        )
        client = yield connectTestClient(self, running)
        yield client.login("alice", "pw", "r")
        for _ in range(3):
            client.send(messageWithElements("alice@localhost/r", 20))
            echo = yield client.receiveStanza()
            self.assertEqual(echo["id"], "many")
        client.send(messageWithElements("alice@localhost/r", 21))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
