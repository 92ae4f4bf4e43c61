"""
Iqs between occupants (XEP-0045 7.5) over real sockets: a request the
client got wrong is answered with the standard error and the session goes
on (RFC 6120 8.2.3: an iq needs an id); an answer finds its requester
even after a nick change.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectTestClient, startTestServer

DOMAIN = "conference.localhost"
ROOM = "den@" + DOMAIN
MUC = "http://jabber.org/protocol/muc"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PING = "urn:xmpp:ping"
VERSION = "jabber:iq:version"

OVERRIDES = {
    "auth": {"backend": "insecure", "allow_insecure": "true"},
    "muc": {"enabled": "true", "lock_new_rooms": "false"},
}


def condition(stanza):
    if stanza.getAttribute("type") != "error":
        return None
    for error in stanza.elements():
        if error.name == "error":
            for child in error.elements():
                if child.uri == STANZAS and child.name != "text":
                    return child.name
    return None


class OccupantIqTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, OVERRIDES, tls=False)

    @defer.inlineCallbacks
    def login(self, user):
        client = yield connectTestClient(self, self.running)
        yield client.login(user, "pw", "r")
        client.send("<presence/>")
        yield self.until(client, lambda e: e.name == "presence")
        return client

    @defer.inlineCallbacks
    def until(self, client, predicate, timeout=5.0):
        while True:
            element = yield client.receive(timeout)
            if predicate(element):
                return element

    @defer.inlineCallbacks
    def join(self, client, nick):
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, MUC))
        yield self.until(client, lambda e: e.name == "message" and e.subject is not None)

    @defer.inlineCallbacks
    def assertServed(self, client):
        reply = yield client.iq("<iq type='get' id='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), PING))
        self.assertEqual(reply["type"], "result")

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
