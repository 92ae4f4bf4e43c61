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
from tests.support.pki import TestCA


class TwoProsodysTests(unittest.TestCase):
    """
    C{alice@a.test} on one Prosody, C{bob@b.test} on the other.
    """

    timeout = 60

    #: Certificates from a test CA both trust, and nothing less accepted
    #: (C{s2s_secure_auth}); else self-signed ones and dialback.
    ca = False

    @defer.inlineCallbacks
    def setUp(self):
        requireProsody()
        first, second = loopbackAddresses(2)
        directory = self.mktemp()
        hosts = HostsFile(directory)
        options = [{}, {}]
        if self.ca:
            authority = TestCA(directory)
            options = [
                {
                    "secureAuth": True,
                    "ca": authority.certificatePath,
                    "certificate": authority.issue([domain, "conference." + domain]),
                }
                for domain in ("a.test", "b.test")
            ]
        self.a = FederatingProsody("a.test", first, hosts, **options[0])
        self.b = FederatingProsody("b.test", second, hosts, **options[1])
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


class TwoProsodysWithCATests(TwoProsodysTests):
    """
    The same with certificates of a test CA and C{s2s_secure_auth = true}:
    the CA option of the harness works (SASL EXTERNAL between them).
    """

    ca = True
