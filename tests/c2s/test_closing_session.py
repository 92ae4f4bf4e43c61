"""
What is sent to a session whose stream is closing, over real sockets (TLS,
where a closing connection waits for the client's close_notify): nothing
is lost or left unanswered.  Once the server has sent its closing tag the
session leaves at once: messages to the account go to its other
resources or offline storage, iqs are answered with an error, and the
contacts it sent presence to see it go.
"""

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.client import errorCondition
from tests.support.wire import LoggedInClients

PING = "urn:xmpp:ping"

class ClosingSessionTests(LoggedInClients, unittest.TestCase):
    tls = True


    def serverStream(self, full):
        """
        @return: the server's stream of the session bound to C{full}.
        """
        for xs in self.running.server.c2sFactory.streams:
            session = xs.authenticator.session
            if session is not None and session.jid is not None and session.jid.full() == full:
                return xs
        raise LookupError(full)

    @defer.inlineCallbacks
    def closeWithoutReading(self, client, full):
        """
        Close C{client}'s stream, and stop reading: the server's TLS
        shutdown then waits for a close_notify that does not come, and the
        connection stays open while the server is done with it.

        @return: Deferred firing once the server has begun closing.
        """
        xs = self.serverStream(full)
        client.send("</stream:stream>")
        client.transport.pauseProducing()
        for _ in range(500):
            if xs.closing:
                break
            yield task.deferLater(reactor, 0.01, lambda: None)
        self.assertTrue(xs.closing)
        self.assertTrue(xs.transport.connected)

    @defer.inlineCallbacks
    def test_stanzasToClosingSession(self):
        """
        To a session whose stream is closing: an iq gets an error, chat
        messages to the full and the bare JID wait in offline storage, and
        the contact it sent presence to gets its unavailable presence.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        alice.send("<presence to='bob@localhost'/>")
        yield self.until(bob, lambda e: e.name == "presence" and e.getAttribute("from") == "alice@localhost/r")
        yield self.closeWithoutReading(alice, "alice@localhost/r")
        gone = yield self.until(bob, lambda e: e.name == "presence")
        self.assertEqual((gone["from"], gone.getAttribute("type")), ("alice@localhost/r", "unavailable"))
        reply = yield bob.iq(
            "<iq type='get' id='p' to='alice@localhost/r'><ping xmlns='%s'/></iq>" % (PING,)
        )
        self.assertEqual((reply["type"], errorCondition(reply)), ("error", "service-unavailable"))
        bob.send("<message to='alice@localhost/r' type='chat' id='m1'><body>one</body></message>")
        bob.send("<message to='alice@localhost' type='chat' id='m2'><body>two</body></message>")
        reply = yield bob.iq("<iq type='get' id='sync'><ping xmlns='%s'/></iq>" % (PING,))
        self.assertEqual(reply["type"], "result")
        again = yield self.login("alice", "r2")
        first = yield self.until(again, lambda e: e.name == "message")
        second = yield self.until(again, lambda e: e.name == "message")
        self.assertEqual([str(first.body), str(second.body)], ["one", "two"])
