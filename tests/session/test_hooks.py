"""
How iqs reach the session manager's features: through the events of
L{xmuc.session.hooks}, one family per addressee, tried in order, with
C{service-unavailable} when no feature takes the namespace.
"""

from twisted.trial import unittest

from xmuc.hooks import UncataloguedEvent, isCatalogued
from xmuc.session.hooks import (
    IQ_GET_BARE,
    IQ_GET_HOST,
    IQ_GET_SELF,
    IQ_RESPONSE,
    IQ_SET_HOST,
    IQ_SET_SELF,
    SESSION_EVENTS,
)
from xmuc.xmpp import ns

from test_sm_support import SMHarness

ALICE = "alice@localhost"
BOB = "bob@localhost"
EXAMPLE = "urn:example:feature"


def conditionOf(element):
    for child in element.elements():
        if child.name == "error":
            for condition in child.elements():
                if condition.uri == ns.XMPP_STANZAS:
                    return condition.name
    return None


class CatalogueTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()

    def test_everyHookedNameCatalogued(self):
        """
        Every event the installed features hook is in the catalogue.
        """
        names = self.h.sm.hooks.names()
        self.assertTrue(names)
        for name in names:
            self.assertTrue(isCatalogued(name, SESSION_EVENTS), name)

    def test_featuresHooked(self):
        """
        The features answer their namespaces for the addressees they
        serve.
        """
        hooks = self.h.sm.hooks
        for name in (
            IQ_GET_SELF + ns.ROSTER,
            IQ_SET_SELF + ns.ROSTER,
            IQ_SET_SELF + "urn:xmpp:carbons:2",
            IQ_SET_SELF + "urn:xmpp:mam:2",
            IQ_GET_SELF + "http://jabber.org/protocol/pubsub",
            IQ_GET_BARE + "http://jabber.org/protocol/pubsub",
            IQ_GET_HOST + ns.DISCO_INFO,
            IQ_GET_HOST + ns.DISCO_ITEMS,
            IQ_GET_BARE + ns.DISCO_INFO,
            IQ_GET_BARE + ns.DISCO_ITEMS,
            IQ_GET_HOST + ns.PING,
            IQ_GET_HOST + ns.VERSION,
            IQ_SET_HOST + ns.SESSION,
            IQ_GET_HOST + ns.REGISTER,
            IQ_SET_HOST + ns.REGISTER,
            IQ_RESPONSE,
        ):
            self.assertTrue(hooks.has(name), name)
        # The roster is the account's, not the host's.
        self.assertFalse(hooks.has(IQ_GET_HOST + ns.ROSTER))

    def test_uncataloguedRefused(self):
        """
        A misspelt event name is refused when registered.
        """
        self.assertRaises(
            UncataloguedEvent, self.h.sm.hooks.add, "iq-get/hots:" + EXAMPLE, lambda **kw: None
        )


class DispatchTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.alice = self.h.connect(ALICE, "phone")
        self.bob = self.h.connect(BOB, "laptop")
        self.calls = []

    def handler(self, **kw):
        self.calls.append(kw)
        return True

    def ask(self, session, to=None, namespace=EXAMPLE, type="get"):
        target = " to='%s'" % (to,) if to else ""
        self.h.send(session, "<iq type='%s' id='q'%s><query xmlns='%s'/></iq>" % (type, target, namespace))

    def test_unhandledNamespace(self):
        """
        An iq in a namespace no feature handles gets C{service-unavailable},
        whoever it is addressed to.
        """
        for to in (None, "localhost", ALICE):
            self.ask(self.alice, to)
            (reply,) = self.alice.take("iq")
            self.assertEqual(conditionOf(reply), "service-unavailable")

    def test_hostHandler(self):
        """
        An iq to the host, or without C{to}, reaches the C{iq-*/host}
        handler of its type and namespace, with the requesting session.
        """
        self.h.sm.hooks.add(IQ_GET_HOST + EXAMPLE, self.handler)
        self.ask(self.alice)
        self.ask(self.alice, "localhost")
        self.assertEqual(len(self.calls), 2)
        for call in self.calls:
            self.assertIs(call["session"], self.alice)
            self.assertEqual(call["bare"], ALICE)
            self.assertEqual(call["child"].uri, EXAMPLE)
        # A set is another event.
        self.ask(self.alice, type="set")
        (reply,) = self.alice.take("iq")
        self.assertEqual(conditionOf(reply), "service-unavailable")
        self.assertEqual(len(self.calls), 2)

    def test_selfBeforeHost(self):
        """
        Without C{to}, a C{self} handler takes the iq before the host's;
        to the host, only the host's is tried.
        """
        calls = []
        self.h.sm.hooks.add(IQ_GET_HOST + EXAMPLE, lambda **kw: calls.append("host"))
        self.h.sm.hooks.add(IQ_GET_SELF + EXAMPLE, lambda **kw: calls.append("self"))
        self.ask(self.alice)
        self.ask(self.alice, "localhost")
        self.ask(self.alice, ALICE)
        self.assertEqual(calls, ["self", "host", "self"])

    def test_bareHandlerFromOthers(self):
        """
        An iq to another account's bare JID reaches the C{iq-*/bare}
        handler without a session, naming the account addressed.
        """
        self.h.sm.hooks.add(IQ_GET_BARE + EXAMPLE, self.handler)
        self.ask(self.bob, ALICE)
        (call,) = self.calls
        self.assertIsNone(call["session"])
        self.assertEqual(call["bare"], ALICE)
        self.assertEqual(self.bob.take(), [])

    def test_bareHandlerMissingAccount(self):
        """
        To an account that does not exist, the handler is not called and
        the requester gets C{service-unavailable}.
        """
        self.h.sm.hooks.add(IQ_GET_BARE + EXAMPLE, self.handler)
        self.ask(self.bob, "nobody@localhost")
        self.assertEqual(self.calls, [])
        (reply,) = self.bob.take("iq")
        self.assertEqual(conditionOf(reply), "service-unavailable")
