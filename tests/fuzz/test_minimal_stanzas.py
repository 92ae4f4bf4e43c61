"""
The smallest stanzas the fuzz target (L{tests.fuzz.test_stanzas}) found
mishandled, each replayed as a plain test over real sockets: the server
answers as RFC 6120 and the XEPs say, logs no error, and the watcher
(a client joined to a room the whole time) is still served.
"""

from twisted.internet import defer

from tests.support.client import errorCondition
from tests.support.watchedserver import MUC_OWNER, ROOM, WatchedServerTestCase


class IqShapeTests(WatchedServerTestCase):
    """
    iqs that are no request nor answer are refused before being routed.
    """

    @defer.inlineCallbacks
    def test_iqWithoutTypeToARoom(self):
        """
        An iq without C{type} sent to a room, a room occupant or another
        user's resource is answered C{bad-request} by the server (RFC 6120
        8.2.3: the type is required), with the iq's id.
        """
        client = yield self.loggedIn("evil")
        for n, to in enumerate((ROOM, ROOM + "/watcher", "watcher@localhost/r")):
            id = "t%d" % (n,)
            condition = yield self.stanzaError(
                client,
                "<iq id='%s' to='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'/>"
                "</query></iq>" % (id, to, MUC_OWNER),
                id,
            )
            self.assertEqual(condition, "bad-request")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_iqOfUnknownTypeToARoom(self):
        """
        An iq of a type RFC 6120 does not define, to a room or another
        user's resource: C{bad-request}.
        """
        client = yield self.loggedIn("evil")
        for n, to in enumerate((ROOM, ROOM + "/watcher", "watcher@localhost/r")):
            id = "u%d" % (n,)
            condition = yield self.stanzaError(
                client,
                "<iq id='%s' type='GET' to='%s'><query xmlns='%s'/></iq>" % (id, to, MUC_OWNER),
                id,
            )
            self.assertEqual(condition, "bad-request")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_requestWithoutOnePayloadToARoom(self):
        """
        A get or set without exactly one payload, to a room or another
        user's resource: C{bad-request} (RFC 6120 8.2.3).
        """
        client = yield self.loggedIn("evil")
        for n, to in enumerate((ROOM + "/watcher", "watcher@localhost/r")):
            for m, payload in enumerate(("", "<a xmlns='urn:a'/><b xmlns='urn:b'/>")):
                id = "p%d%d" % (n, m)
                condition = yield self.stanzaError(
                    client, "<iq id='%s' type='get' to='%s'>%s</iq>" % (id, to, payload), id
                )
                self.assertEqual(condition, "bad-request")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_requestWithEmptyId(self):
        """
        A get or set with C{id=''} (not an id: RFC 6120's schema makes it
        an NMTOKEN) to a room or the server: C{bad-request} with that same
        empty id, so that the client can still tell what was refused.
        """
        client = yield self.loggedIn("evil")
        for to in (ROOM, ROOM + "/watcher", "localhost"):
            client.send(
                "<iq id='' type='set' to='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'/>"
                "</query></iq>" % (to, MUC_OWNER)
            )
            reply = yield self.until(client, lambda e: e.name == "iq")
            self.assertEqual((reply.getAttribute("id"), reply["type"]), ("", "error"), reply.toXml())
            self.assertEqual(errorCondition(reply), "bad-request")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_requestWithoutId(self):
        """
        A get or set without an id (required for iqs, RFC 6120 8.1.3) to a
        room or one of its occupants: C{bad-request}.
        """
        client = yield self.loggedIn("evil")
        for to in (ROOM, ROOM + "/watcher"):
            client.send(
                "<iq type='get' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (to,)
            )
            reply = yield self.until(client, lambda e: e.name == "iq")
            self.assertEqual(reply["type"], "error", reply.toXml())
            self.assertIsNone(reply.getAttribute("id"))
            self.assertEqual(errorCondition(reply), "bad-request")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_malformedIqToABlockedContact(self):
        """
        An iq of no known type, sent to a contact the sender blocks
        (XEP-0191), is answered C{bad-request} like any other, not dropped
        with the stanzas blocking silences.
        """
        client = yield self.loggedIn("evil")
        reply = yield client.iq(
            "<iq type='set' id='block'><block xmlns='urn:xmpp:blocking'>"
            "<item jid='watcher@localhost'/></block></iq>"
        )
        self.assertEqual(reply["type"], "result", reply.toXml())
        condition = yield self.stanzaError(
            client, "<iq type='chat' id='m1' to='watcher@localhost/r'><body>x</body></iq>", "m1"
        )
        self.assertEqual(condition, "bad-request")
        yield self.assertHealthy()
