"""
Iqs between occupants (XEP-0045 7.5) over real sockets: a request the
client got wrong is answered with the standard error and the session goes
on (RFC 6120 8.2.3: an iq needs an id); an answer finds its requester
even after a nick change.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.wire import LoggedInClients, condition

DOMAIN = "conference.localhost"
ROOM = "den@" + DOMAIN
MUC = "http://jabber.org/protocol/muc"
VERSION = "jabber:iq:version"

class OccupantIqTests(LoggedInClients, unittest.TestCase):

    def join(self, client, nick):
        return self.joinRoom(client, ROOM, nick)

    @defer.inlineCallbacks
    def test_iqWithoutIdToOccupant(self):
        """
        An iq without an id (RFC 6120 requires one) to an occupant gets
        C{bad-request}.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(alice, "alice")
        yield self.join(bob, "bob")
        alice.send("<iq type='get' to='%s/bob'><query xmlns='%s'/></iq>" % (ROOM, VERSION))
        error = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual(condition(error), "bad-request")
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_answerAfterNickChange(self):
        """
        The answer to an iq sent to an occupant reaches the requester even
        when the requester changed its nick meanwhile.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(alice, "alice")
        yield self.join(bob, "bob")
        alice.send("<iq type='get' id='v1' to='%s/bob'><query xmlns='%s'/></iq>" % (ROOM, VERSION))
        request = yield self.until(bob, lambda e: e.name == "iq")
        alice.send("<presence to='%s/alicia'/>" % (ROOM,))
        yield self.until(
            alice, lambda e: e.name == "presence" and e.getAttribute("from") == ROOM + "/alicia"
        )
        bob.send(
            "<iq type='result' id='%s' to='%s'><query xmlns='%s'><name>bot</name></query></iq>"
            % (request["id"], request["from"], VERSION)
        )
        answer = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual((answer["type"], answer["id"]), ("result", "v1"))
