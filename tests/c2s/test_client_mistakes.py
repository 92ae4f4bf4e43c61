"""
Addresses and ids a client gets wrong are answered with the standard
error, never with a traceback or silence, and the client's session goes
on (RFC 6120 sections 8.1.2.1 and 8.3.3).
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.wire import LoggedInClients, condition

DOMAIN = "conference.localhost"
ROOM = "den@" + DOMAIN
MUC = "http://jabber.org/protocol/muc"
MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
PING = "urn:xmpp:ping"
VERSION = "jabber:iq:version"

class ClientMistakesTests(LoggedInClients, unittest.TestCase):

    def join(self, client, nick):
        return self.joinRoom(client, ROOM, nick)

    @defer.inlineCallbacks
    def test_malformedAddresses(self):
        """
        C{to} addresses that are not JIDs get C{jid-malformed}, for an iq
        and for a message, and the session goes on.
        """
        alice = yield self.login("alice")
        for to in ("a@b..c", "/x", "a@b/", "@b"):
            reply = yield alice.iq(
                "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (alice.nextID(), to, PING)
            )
            self.assertEqual(condition(reply), "jid-malformed", to)
            alice.send("<message to='%s' id='m'><body>x</body></message>" % (to,))
            error = yield self.until(alice, lambda e: e.name == "message")
            self.assertEqual(condition(error), "jid-malformed", to)
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_unanswerableIQs(self):
        """
        An iq without an id, of an unknown type, or a get without exactly
        one payload, gets C{bad-request} from the server whoever it is for
        (RFC 6120 sections 8.1.3 and 8.2.3); the addressee never sees it.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(bob, "bob")
        ping = "<ping xmlns='%s'/>" % (PING,)
        for to in ("bob@localhost/r", ROOM + "/bob", "localhost"):
            for iq in (
                "<iq type='get' to='%s'>%s</iq>" % (to, ping),
                "<iq type='bogus' id='b' to='%s'>%s</iq>" % (to, ping),
                "<iq id='n' to='%s'>%s</iq>" % (to, ping),
                "<iq type='get' id='e' to='%s'/>" % (to,),
                "<iq type='get' id='d' to='%s'>%s%s</iq>" % (to, ping, ping),
            ):
                alice.send(iq)
                error = yield self.until(alice, lambda e: e.name == "iq")
                self.assertEqual(condition(error), "bad-request", iq)
        alice.send("<iq type='result' to='bob@localhost/r'/>")
        yield self.assertServed(alice)
        yield self.assertServed(bob)
        self.assertEqual([e.toXml() for e in bob._queue.pending if e.name == "iq"], [])

    @defer.inlineCallbacks
    def test_negativeArchivePageSize(self):
        """
        A negative page size in an archive query is a C{bad-request}, not
        an empty page claiming to be complete; so is a size that is not an
        integer.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        alice.send("<message to='bob@localhost' type='chat'><body>one</body></message>")
        yield self.until(bob, lambda e: e.name == "message")
        for size in ("-1", "ten"):
            reply = yield alice.iq(
                "<iq type='set' id='%s'><query xmlns='%s'><set xmlns='%s'><max>%s</max></set></query></iq>"
                % (alice.nextID(), MAM, RSM, size)
            )
            self.assertEqual(condition(reply), "bad-request", size)
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_negativeRoomArchivePageSize(self):
        """
        The room archive refuses a negative page size the same way.
        """
        alice = yield self.login("alice")
        yield self.join(alice, "alice")
        alice.send("<message to='%s' type='groupchat'><body>one</body></message>" % (ROOM,))
        yield self.until(alice, lambda e: e.name == "message" and e.body is not None)
        reply = yield alice.iq(
            "<iq type='set' id='q' to='%s'><query xmlns='%s'><set xmlns='%s'><max>-1</max></set></query></iq>"
            % (ROOM, MAM, RSM)
        )
        self.assertEqual(condition(reply), "bad-request")
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_fromOverriddenNotFatal(self):
        """
        A client that sets C{from} to something else than its own address
        (poezio writes the occupant JID on private messages) has it
        replaced by its full JID (RFC 6120 section 8.1.2.1): the message is
        delivered, the session goes on.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(alice, "alice")
        yield self.join(bob, "bob")
        alice.send(
            "<message from='%s/alice' to='%s/bob' type='chat'><body>psst</body>"
            "<x xmlns='%s#user'/></message>" % (ROOM, ROOM, MUC)
        )
        private = yield self.until(bob, lambda e: e.name == "message" and e.body is not None)
        self.assertEqual(private["from"], ROOM + "/alice")
        self.assertEqual(str(private.body), "psst")
        alice.send("<message from='mallory@localhost/x' to='bob@localhost' type='chat'><body>hi</body></message>")
        direct = yield self.until(bob, lambda e: e.name == "message" and e.body is not None)
        self.assertEqual(direct["from"], "alice@localhost/r")
        yield self.assertServed(alice)
