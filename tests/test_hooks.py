"""
L{xmuc.hooks.HookRegistry}: handler order, the two ways of firing, and the
catalogue that keeps every event name used in the code declared.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.config import validate
from xmuc.hooks import (
    ACCOUNT_DELETED,
    SERVER_EVENTS,
    HookRegistry,
    UncataloguedEvent,
    isCatalogued,
)
from xmuc.logsetup import LogCapture
from xmuc.server import XmucServer


class OrderTests(unittest.TestCase):
    def test_priority(self):
        """
        Handlers run by decreasing priority, ties in registration order.
        """
        hooks = HookRegistry()
        calls = []
        hooks.add("e", lambda **kw: calls.append("low"), priority=-5)
        hooks.add("e", lambda **kw: calls.append("first"))
        hooks.add("e", lambda **kw: calls.append("high"), priority=10)
        hooks.add("e", lambda **kw: calls.append("second"))
        hooks.fire("e")
        self.assertEqual(calls, ["high", "first", "second", "low"])
        calls[:] = []
        self.successResultOf(hooks.fireAll("e"))
        self.assertEqual(calls, ["high", "first", "second", "low"])

    def test_remove(self):
        """
        A removed handler is no longer called; L{HookRegistry.has} and
        L{HookRegistry.names} follow.
        """
        hooks = HookRegistry()
        calls = []

        def handler(**kw):
            calls.append(kw)

        hooks.add("e", handler)
        self.assertTrue(hooks.has("e"))
        self.assertEqual(hooks.names(), {"e"})
        hooks.remove("e", handler)
        hooks.fire("e", x=1)
        self.assertEqual(calls, [])
        self.assertFalse(hooks.has("e"))
        self.assertEqual(hooks.names(), set())


class FireTests(unittest.TestCase):
    def test_firstResultWins(self):
        """
        L{HookRegistry.fire} passes the keyword arguments, stops at the first
        result other than None and returns it.
        """
        hooks = HookRegistry()
        calls = []
        hooks.add("e", lambda x: calls.append(("a", x)), priority=2)
        hooks.add("e", lambda x: x * 2, priority=1)
        hooks.add("e", lambda x: calls.append(("c", x)))
        self.assertEqual(hooks.fire("e", x=21), 42)
        self.assertEqual(calls, [("a", 21)])

    def test_noHandler(self):
        """
        An event without handlers returns None.
        """
        self.assertIsNone(HookRegistry().fire("e"))

    def test_exceptionPropagates(self):
        """
        An exception of a handler reaches the caller and later handlers do
        not run (a refusal).
        """
        hooks = HookRegistry()
        calls = []

        def refuse(**kw):
            raise ValueError("no")

        hooks.add("e", refuse, priority=1)
        hooks.add("e", lambda **kw: calls.append(kw))
        self.assertRaises(ValueError, hooks.fire, "e")
        self.assertEqual(calls, [])


class FireAllTests(unittest.TestCase):
    def test_everyHandler(self):
        """
        L{HookRegistry.fireAll} runs every handler whatever they return, and
        its Deferred fires with None.
        """
        hooks = HookRegistry()
        calls = []
        hooks.add("e", lambda jid: calls.append(("a", jid)) or "result")
        hooks.add("e", lambda jid: calls.append(("b", jid)))
        self.assertIsNone(self.successResultOf(hooks.fireAll("e", jid="j")))
        self.assertEqual(calls, [("a", "j"), ("b", "j")])

    def test_waitsForDeferreds(self):
        """
        The Deferred of L{HookRegistry.fireAll} fires once the Deferreds
        returned by the handlers have fired.
        """
        hooks = HookRegistry()
        pending = defer.Deferred()
        hooks.add("e", lambda: pending)
        done = hooks.fireAll("e")
        self.assertNoResult(done)
        pending.callback("anything")
        self.assertIsNone(self.successResultOf(done))

    def test_failureLogged(self):
        """
        A failing handler (raising, or returning a failing Deferred) is
        logged with the event name and the other handlers still run.
        """
        hooks = HookRegistry()
        calls = []

        def broken():
            raise ValueError("broken handler")

        hooks.add("e", broken, priority=2)
        hooks.add("e", lambda: defer.fail(KeyError("failing deferred")), priority=1)
        hooks.add("e", lambda: calls.append("ran"))
        with LogCapture() as captured:
            self.assertIsNone(self.successResultOf(hooks.fireAll("e")))
        self.assertEqual(calls, ["ran"])
        self.assertEqual(len(self.flushLoggedErrors(ValueError, KeyError)), 2)
        self.assertEqual(sum("of event e failed" in m for m in captured.messages()), 2)


class CatalogueTests(unittest.TestCase):
    def test_isCatalogued(self):
        """
        A name is catalogued when listed, or when the catalogue lists the
        family C{"prefix:"} it belongs to.
        """
        catalogue = {"joined", "iq-get:"}
        self.assertTrue(isCatalogued("joined", catalogue))
        self.assertTrue(isCatalogued("iq-get:jabber:iq:register", catalogue))
        self.assertTrue(isCatalogued("iq-get:", catalogue))
        self.assertFalse(isCatalogued("join", catalogue))
        self.assertFalse(isCatalogued("iq-set:jabber:iq:register", catalogue))
        self.assertFalse(isCatalogued("joined:x", catalogue))

    def test_uncataloguedRefused(self):
        """
        A registry built with a catalogue refuses to register, fire or
        fire to all a name outside it, so that a misspelt event fails
        instead of never firing.
        """
        hooks = HookRegistry({"joined", "iq-get:"})
        self.assertRaises(UncataloguedEvent, hooks.add, "join", lambda: None)
        self.assertRaises(UncataloguedEvent, hooks.fire, "join")
        self.assertRaises(UncataloguedEvent, hooks.fireAll, "join")
        hooks.add("joined", lambda: None)
        hooks.add("iq-get:urn:xmpp:ping", lambda: True)
        self.assertIsNone(hooks.fire("joined"))
        self.assertTrue(hooks.fire("iq-get:urn:xmpp:ping"))
        self.assertIsNone(hooks.fire("iq-get:urn:xmpp:mam:2"))
        self.successResultOf(hooks.fireAll("joined"))

    def test_serverCatalogue(self):
        """
        The server-wide catalogue holds the account deletion event.
        """
        self.assertIn(ACCOUNT_DELETED, SERVER_EVENTS)
        self.assertEqual(ACCOUNT_DELETED, "account-deleted")


class ServerCatalogueTests(unittest.TestCase):
    def test_everyNameCatalogued(self):
        """
        The server's registry is bound to the server-wide catalogue: every
        handler the parts of a whole server register is on a catalogued
        event, and an uncatalogued name is refused.
        """
        config = validate({"storage": {"backend": "memory"},
                           "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"}})
        server = XmucServer(config)
        self.assertIs(server.hooks.catalogue, SERVER_EVENTS)
        self.assertIn(ACCOUNT_DELETED, server.hooks.names())
        self.assertEqual([name for name in server.hooks.names() if not isCatalogued(name, SERVER_EVENTS)], [])
        self.assertRaises(UncataloguedEvent, server.hooks.fireAll, "account-removed", jid="a@b")
