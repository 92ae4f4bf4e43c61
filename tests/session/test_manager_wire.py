"""
The session manager over real client streams: a real server on an
ephemeral port, clients speaking XMPP over TCP.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectTestClient, startTestServer


INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}


class WireTests(unittest.TestCase):
    @defer.inlineCallbacks
    def login(self, running, user, resource):
        client = yield connectTestClient(self, running)
        yield client.login(user, "pw", resource)
        return client

    @defer.inlineCallbacks
    def test_subscribeChatAndDisconnect(self):
        """
        Alice and Bob become contacts, see each other's presence, chat
        through the bare JID, and Alice sees Bob leave when his connection
        closes.
        """
        running = yield startTestServer(self, INSECURE, tls=False)
        alice = yield self.login(running, "alice", "home")
        bob = yield self.login(running, "bob", "work")
        for client in (alice, bob):
            result = yield client.iq("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
            self.assertEqual(result["type"], "result")
            client.send("<presence/>")
            own = yield client.receiveStanza()
            self.assertEqual(own.name, "presence")

        alice.send("<presence to='bob@localhost' type='subscribe'/>")
        push = yield alice.receiveStanza()
        self.assertEqual((push.name, push["type"]), ("iq", "set"))
        request = yield bob.receiveStanza()
        self.assertEqual((request["type"], request["from"]), ("subscribe", "alice@localhost"))
        bob.send("<presence to='alice@localhost' type='subscribed'/>")
        seen = []
        while len(seen) < 3:
            element = yield alice.receiveStanza()
            seen.append((element.name, element.getAttribute("type")))
        self.assertEqual(sorted(seen, key=str), sorted([("iq", "set"), ("presence", "subscribed"), ("presence", None)], key=str))

        alice.send("<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message>")
        while True:
            message = yield bob.receiveStanza()
            if message.name == "message":
                break
        self.assertEqual(message["from"], "alice@localhost/home")
        self.assertEqual(str(message.body), "hello")

        yield bob.close()
        gone = yield alice.receiveStanza()
        self.assertEqual((gone["type"], gone["from"]), ("unavailable", "bob@localhost/work"))

    @defer.inlineCallbacks
    def test_serverIQs(self):
        running = yield startTestServer(self, INSECURE, tls=False)
        alice = yield self.login(running, "alice", "home")
        pong = yield alice.iq("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(pong["type"], "result")
        version = yield alice.iq("<iq type='get' id='v' to='localhost'><query xmlns='jabber:iq:version'/></iq>")
        self.assertEqual(version["type"], "result")
        unknown = yield alice.iq("<iq type='get' id='u' to='localhost'><query xmlns='urn:example:x'/></iq>")
        self.assertEqual(unknown["type"], "error")

    @defer.inlineCallbacks
    def test_shutdownClosesSessions(self):
        running = yield startTestServer(self, INSECURE, tls=False)
        alice = yield self.login(running, "alice", "home")
        alice.send("<presence/>")
        yield alice.receiveStanza()
        yield running.stop()
        condition = yield alice.streamError()
        self.assertEqual(condition, "system-shutdown")
        self.assertEqual(running.server.sm.sessionsOf("alice@localhost"), [])
