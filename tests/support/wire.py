"""
What wire tests of a started server keep doing with their clients: log in
and become available, wait for a stanza, check the session is still
served, join a room.

Mixed into a trial test case: its C{setUp} starts a server
(L{tests.support.client.startTestServer}) where any password logs in (the
C{insecure} backend) and the MUC service is on, new rooms usable at once.
"""

from twisted.internet import defer

from tests.support.client import connectTestClient, errorCondition, startTestServer

MUC = "http://jabber.org/protocol/muc"
PING = "urn:xmpp:ping"


def condition(stanza):
    """
    @return: the defined condition of an error stanza, or L{None} when
        C{stanza} is no error.
    """
    if stanza.getAttribute("type") != "error":
        return None
    return errorCondition(stanza)


#: The server of wire tests: any password, the MUC on, rooms unlocked.
OVERRIDES = {
    "auth": {"backend": "insecure", "allow_insecure": "true"},
    "muc": {"enabled": "true", "lock_new_rooms": "false"},
}


class LoggedInClients:
    """
    A started server in C{self.running}, and helpers for its clients.

    @ivar overrides: the server's configuration over the test defaults.
    @ivar tls: whether the server requires TLS and clients negotiate
        STARTTLS when logging in.
    """

    overrides = OVERRIDES
    tls = False

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, self.overrides, tls=self.tls)

    @defer.inlineCallbacks
    def login(self, user, resource="r", available=True):
        """
        @return: Deferred firing with a client logged in as C{user}, its
            initial presence sent and echoed when C{available}.
        """
        client = yield connectTestClient(self, self.running)
        yield client.login(user, "pw", resource, tls=self.tls)
        if available:
            client.send("<presence/>")
            yield self.until(client, lambda e: e.name == "presence")
        return client

    @defer.inlineCallbacks
    def until(self, client, predicate, timeout=5.0):
        """
        @return: Deferred firing with the next element C{client} receives
            for which C{predicate} is true (those before it are skipped).
        """
        while True:
            element = yield client.receive(timeout)
            if predicate(element):
                return element

    @defer.inlineCallbacks
    def assertServed(self, client):
        """
        C{client} is still connected and answered (a ping to the server):
        everything sent to it before was received.
        """
        reply = yield client.iq("<iq type='get' id='%s'><ping xmlns='%s'/></iq>" % (client.nextID(), PING))
        self.assertEqual(reply["type"], "result")

    @defer.inlineCallbacks
    def joinRoom(self, client, room, nick, password=None):
        """
        Join C{room} as C{nick} and wait for the subject (joined) or an
        error presence.

        @return: Deferred firing with the error presence, or L{None} once
            joined.
        """
        secret = "<password>%s</password>" % (password,) if password else ""
        client.send("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>" % (room, nick, MUC, secret))
        element = yield self.until(
            client,
            lambda e: (e.name == "message" and e.subject is not None and e.getAttribute("from") == room)
            or (e.name == "presence" and e.getAttribute("type") == "error"),
        )
        return element if element.name == "presence" else None
