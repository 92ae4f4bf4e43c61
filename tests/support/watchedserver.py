"""
A server with MUC on an ephemeral port, and a well-behaved client (the
watcher) logged in and joined to L{ROOM} the whole time, for tests that
send malformed or hostile input: after each batch the offending stream
must have its error, and the watcher must still get answers.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectTestClient, errorCondition, startTestServer

ROOM = "lobby@conference.localhost"
MUC = "http://jabber.org/protocol/muc"
MUC_OWNER = MUC + "#owner"
MUC_ADMIN = MUC + "#admin"
PING = "urn:xmpp:ping"
OVERRIDES = {
    "auth": {"backend": "insecure", "allow_insecure": "true"},
    "muc": {"enabled": "true"},
}
HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
    " xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
)


class WatchedServerTestCase(unittest.TestCase):
    """
    A server with MUC, and a watcher joined to C{ROOM} the whole time.

    @cvar overrides: the server's configuration (L{startTestServer}).
    """

    overrides = OVERRIDES

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, self.overrides, tls=False)
        self.watcher = yield self.loggedIn("watcher")
        self.watcher.send("<presence to='%s/watcher'><x xmlns='%s'/></presence>" % (ROOM, MUC))
        yield self.until(self.watcher, lambda e: e.name == "message" and e.subject is not None)
        reply = yield self.watcher.iq(
            "<iq type='set' id='instant' to='%s'><query xmlns='%s'>"
            "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (ROOM, MUC_OWNER)
        )
        self.assertEqual(reply["type"], "result")
        self.pings = 0

    @defer.inlineCallbacks
    def loggedIn(self, user, resource="r"):
        client = yield connectTestClient(self, self.running)
        yield client.login(user, "pw", resource)
        return client

    @defer.inlineCallbacks
    def connected(self):
        """
        @return: a client whose stream header was sent and answered.
        """
        client = yield connectTestClient(self, self.running)
        yield client.openStream()
        return client

    @defer.inlineCallbacks
    def until(self, client, predicate, timeout=5.0):
        """
        @return: the first element received by C{client} matching
            C{predicate} (earlier ones are dropped).
        """
        while True:
            element = yield client.receive(timeout)
            if predicate(element):
                return element

    @defer.inlineCallbacks
    def assertHealthy(self):
        """
        The watcher still gets a ping answer and its groupchat echo.
        """
        self.pings += 1
        reply = yield self.watcher.iq(
            "<iq type='get' id='ping%d' to='localhost'><ping xmlns='%s'/></iq>"
            % (self.pings, PING)
        )
        self.assertEqual(reply["type"], "result")
        body = "alive %d" % (self.pings,)
        self.watcher.send(
            "<message to='%s' type='groupchat' id='g%d'><body>%s</body></message>"
            % (ROOM, self.pings, body)
        )
        echo = yield self.until(
            self.watcher, lambda e: e.name == "message" and e.body is not None
        )
        self.assertEqual((echo["type"], str(echo.body)), ("groupchat", body))

    @defer.inlineCallbacks
    def assertStreamError(self, client, conditions):
        """
        C{client} gets a stream error with one of C{conditions} (skipping
        stanzas that were answered before) and the connection ends.
        """
        if isinstance(conditions, str):
            conditions = (conditions,)
        while True:
            element = yield client.receive()
            if element.name == "error" and element.uri == "http://etherx.jabber.org/streams":
                break
        self.assertIn(errorCondition(element), conditions)
        yield client.waitClosed()

    @defer.inlineCallbacks
    def stanzaError(self, client, xml, id):
        """
        Send C{xml} (a stanza with that C{id}) and return the condition of
        the error stanza answering it.
        """
        client.send(xml)
        element = yield self.until(client, lambda e: e.getAttribute("id") == id)
        self.assertEqual(element.getAttribute("type"), "error", element.toXml())
        return errorCondition(element)

    @defer.inlineCallbacks
    def answered(self, client, xml, id):
        """
        Send C{xml} and return the stanza answering it (same C{id}).
        """
        client.send(xml)
        element = yield self.until(client, lambda e: e.getAttribute("id") == id)
        return element
