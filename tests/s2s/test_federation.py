"""
Two xmuc servers federating over loopback (real sockets, real TLS): users
of one reach users and rooms of the other, once with certificates from a
trusted authority (SASL EXTERNAL) and once with self-signed certificates
(Server Dialback).
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.federation import loginTo, receiveUntil, startFederation


def isMessage(element):
    return element.name == "message"


class FederationMixin:
    """
    The behaviour every authentication mode must give.
    """

    mode = None

    @defer.inlineCallbacks
    def setUp(self):
        self.a, self.b = yield startFederation(self, ["a.test", "b.test"], mode=self.mode)

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        A message from a user on one server reaches a user on the other,
        and the answer comes back, with the senders' full JIDs.
        """
        alice = yield loginTo(self, self.a, "alice")
        bob = yield loginTo(self, self.b, "bob")
        alice.send("<message to='bob@b.test' type='chat' id='m1'><body>hi bob</body></message>")
        got = yield receiveUntil(bob, isMessage)
        self.assertEqual(got.getAttribute("from"), alice.jid)
        self.assertEqual(str(got.body), "hi bob")
        bob.send("<message to='%s' type='chat' id='m2'><body>hi alice</body></message>" % (alice.jid,))
        got = yield receiveUntil(alice, isMessage)
        self.assertEqual(got.getAttribute("from"), bob.jid)
        self.assertEqual(str(got.body), "hi alice")


class CertificateFederationTests(FederationMixin, unittest.TestCase):
    mode = "ca"


class DialbackFederationTests(FederationMixin, unittest.TestCase):
    mode = "selfsigned"
