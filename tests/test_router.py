"""
Tests for L{xmuc.router}.
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from xmuc.router import Router
from xmuc.xmpp.jid import parseJID


class ParseJIDTests(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(parseJID("a@b/c").full(), "a@b/c")

    def test_invalid(self):
        for text in ("", None, "@", "a@", "a@b@c", "room@conference.localhost/"):
            self.assertIsNone(parseJID(text), text)

    def test_unassignedCodePointsInResource(self):
        """
        An address is a stringprep query: a resource with code points
        unassigned in Unicode 3.2 (an emoji) parses, prepped otherwise
        (NFKC); the node and domain stay strict, and prohibited characters
        are still refused.
        """
        parsed = parseJID("room@conference.localhost/\U0001F916 \uFF2A")
        self.assertEqual((parsed.user, parsed.host, parsed.resource),
                         ("room", "conference.localhost", "\U0001F916 J"))
        for text in ("\U0001F916@localhost/r", "room@conference.localhost/\U0001F916\u0000"):
            self.assertIsNone(parseJID(text), text)


class Recorder:
    def __init__(self):
        self.received = []

    def receive(self, stanza):
        self.received.append(stanza)


class RouterTests(unittest.TestCase):
    def setUp(self):
        self.router = Router(["localhost"])
        self.local = []
        self.router.localDelivery = self.local.append
        self.component = Recorder()
        self.router.addComponent("conference.localhost", self.component)

    def message(self, to, sender="a@localhost/r"):
        stanza = domish.Element(("jabber:client", "message"))
        stanza["to"] = to
        stanza["from"] = sender
        return stanza

    def test_component(self):
        self.router.route(self.message("room@conference.localhost"))
        self.assertEqual(len(self.component.received), 1)
        self.assertEqual(self.local, [])

    def test_local(self):
        self.router.route(self.message("b@localhost"))
        self.assertEqual(len(self.local), 1)

    def test_remoteDomainBounces(self):
        self.router.route(self.message("b@elsewhere.example"))
        self.assertEqual(len(self.local), 1)
        error = self.local[0]
        self.assertEqual(error["type"], "error")
        self.assertEqual(error["to"], "a@localhost/r")
        self.assertEqual(
            error.error.firstChildElement().name, "remote-server-not-found"
        )

    def test_malformedRecipient(self):
        self.router.route(self.message("a@b@c"))
        self.assertEqual(self.local[0].error.firstChildElement().name, "jid-malformed")

    def test_errorsAreNotBounced(self):
        stanza = self.message("b@elsewhere.example")
        stanza["type"] = "error"
        self.router.route(stanza)
        self.assertEqual(self.local, [])

    def test_failingComponentAnswersInternalServerError(self):
        class Broken:
            def receive(self, stanza):
                raise ValueError("boom")

        self.router.addComponent("broken.localhost", Broken())
        self.router.route(self.message("x@broken.localhost"))
        self.assertEqual(
            self.local[0].error.firstChildElement().name, "internal-server-error"
        )
        self.flushLoggedErrors(ValueError)

    def test_routeSerializedToSession(self):
        sent = []

        class Session:
            def send(self, data):
                sent.append(data)

        self.router.sessions["b@localhost/r"] = Session()
        self.router.routeSerialized("b@localhost/r", "<message/>", lambda: 1 / 0)
        self.assertEqual(sent, ["<message/>"])

    def test_routeSerializedFallsBack(self):
        self.router.routeSerialized(
            "b@localhost/gone", "<message/>", lambda: self.message("b@localhost/gone")
        )
        self.assertEqual(self.local[0]["to"], "b@localhost/gone")


class TextComponent(Recorder):
    domain = "gw.localhost"

    def __init__(self):
        Recorder.__init__(self)
        self.texts = []

    def receiveSerialized(self, data, build):
        self.texts.append(data)


class SerializedToComponentsTests(unittest.TestCase):
    """
    A component that takes serialized stanzas gets the fan-out text as it
    is; others get an element built from it.
    """

    def test_text(self):
        router = Router(["localhost"])
        text, plain = TextComponent(), Recorder()
        router.addComponent("gw.localhost", text)
        router.addComponent("conference.localhost", plain)
        built = []

        def build():
            element = domish.Element((None, "message"))
            element["to"] = "room@conference.localhost/nick"
            built.append(element)
            return element

        router.routeSerialized("user@gw.localhost/a@b/c", "<message/>", build)
        router.routeSerialized("gw.localhost", "<presence/>", build)
        router.routeSerialized("room@conference.localhost/nick", "<iq/>", build)
        self.assertEqual(text.texts, ["<message/>", "<presence/>"])
        self.assertEqual(plain.received, built)
        self.assertEqual(len(built), 1)
