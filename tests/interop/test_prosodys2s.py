"""
The federation harness proved on its own: two real Prosody servers, each
on its own loopback address and port 5269, find each other through the
test's hosts file, federate (STARTTLS, dialback with self-signed
certificates) and carry a message and an iq from one domain to the other.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.interop.prosody import requireProsody
from tests.interop.prosodys2s import FederatingProsody, HostsFile, loopbackAddresses


class TwoProsodysTests(unittest.TestCase):
    """
    C{alice@a.test} on one Prosody, C{bob@b.test} on the other.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        requireProsody()
        first, second = loopbackAddresses(2)
        hosts = HostsFile(self.mktemp())
        self.a = FederatingProsody("a.test", first, hosts)
        self.b = FederatingProsody("b.test", second, hosts)
        for server in (self.a, self.b):
            yield server.start()
            self.addCleanup(server.stop)

    def messages(self, client):
        """
        @return: Deferred firing with the next message C{client} receives.
        """

        @defer.inlineCallbacks
        def next():
            while True:
                element = yield client.receive(15)
                if element.name == "message":
                    return element

        return next()

    @defer.inlineCallbacks
    def test_messageCrossesDomains(self):
        """
        A chat message from C{a.test} reaches the user on C{b.test}, from
        the sender's full JID.
        """
        alice = yield self.a.connectClient(self, "alice")
        bob = yield self.b.connectClient(self, "bob")
        alice.send(
            "<message to='bob@b.test/r' type='chat' id='m1'><body>hello b</body></message>"
        )
        message = yield self.messages(bob)
        self.assertEqual(message.getAttribute("from"), "alice@a.test/r")
        self.assertEqual(str(message.body), "hello b")

    @defer.inlineCallbacks
    def test_iqToTheOtherServer(self):
        """
        A version query to the other domain is answered by its server.
        """
        alice = yield self.a.connectClient(self, "alice")
        reply = yield alice.iq(
            "<iq type='get' id='v1' to='b.test'><query xmlns='jabber:iq:version'/></iq>",
            timeout=15,
        )
        self.assertEqual(reply.getAttribute("type"), "result")
        self.assertEqual(reply.getAttribute("from"), "b.test")
        name = [str(child) for child in reply.query.elements() if child.name == "name"]
        self.assertEqual(name, ["Prosody"])
