"""
xmuc accepting external components (L{xmuc.component.accept}), over real
sockets: the handshake, stanzas between a component, local users and the
MUC, and what a component (or anyone on the component port) may do wrong,
each answered with its stream error while everything else keeps working.
"""

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.client import StreamClosed, connectClient
from tests.support.components import (
    ACCEPT,
    componentPort,
    componentSections,
    connectComponent,
    handshakeToken,
    secretOf,
)
from tests.support.wire import OVERRIDES, LoggedInClients, condition
from xmuc.config import ConfigError, validate
from xmuc.xmpp.serialized import Serialized

ROOM = "lounge@conference.localhost"


def _merged(*sections):
    result = {}
    for each in sections:
        for section, values in each.items():
            result.setdefault(section, {}).update(values)
    return result


class AcceptTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(OVERRIDES, componentSections())

    @defer.inlineCallbacks
    def streamErrorOf(self, component):
        """
        @return: Deferred firing with the stream error condition the
            component gets, once its connection is closed.
        """
        found = yield component.streamError()
        yield component.waitClosed()
        return found

    @defer.inlineCallbacks
    def assertComponentServed(self, component, domain="echo.localhost"):
        """
        C{component} still gets its domain's stanzas and routes its own: a
        ping to the server is answered.
        """
        component.send("<iq type='get' id='alive' from='%s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>" % (domain,))
        reply = yield self.until(component, lambda e: e.name == "iq" and e.getAttribute("id") == "alive")
        self.assertEqual(reply.getAttribute("type"), "result")

    # --- stanzas

    @defer.inlineCallbacks
    def test_chatBothWays(self):
        """
        A local user's message to a JID of the component's domain goes down
        the component stream (in its namespace); the component's answer
        reaches the user in jabber:client.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        alice.send("<message to='bot@echo.localhost' type='chat' id='m1'><body>hello</body></message>")
        got = yield self.until(bot, lambda e: e.name == "message")
        self.assertEqual(got.uri, ACCEPT)
        self.assertEqual(got.getAttribute("from"), "alice@localhost/r")
        self.assertEqual(got.getAttribute("to"), "bot@echo.localhost")
        self.assertEqual(str(got.body), "hello")
        bot.send(
            "<message from='bot@echo.localhost/x' to='alice@localhost/r' type='chat' id='m2'>"
            "<body>echo: hello</body><thread>t</thread></message>"
        )
        answer = yield self.until(alice, lambda e: e.name == "message")
        self.assertEqual(answer.uri, "jabber:client")
        self.assertEqual(answer.getAttribute("from"), "bot@echo.localhost/x")
        self.assertEqual(str(answer.body), "echo: hello")
        self.assertEqual(answer.body.uri, "jabber:client")

    @defer.inlineCallbacks
    def test_clientNamespaceStanza(self):
        """
        A stanza written in jabber:client on the component stream (some
        libraries do) is taken as in the stream's namespace.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.send(
            "<message xmlns='jabber:client' from='bot@echo.localhost' to='alice@localhost/r'>"
            "<body>in client</body></message>"
        )
        answer = yield self.until(alice, lambda e: e.name == "message")
        self.assertEqual(str(answer.body), "in client")

    @defer.inlineCallbacks
    def test_iqToTheServer(self):
        """
        The component's iq to the local server is answered, to the
        component.
        """
        bot = yield connectComponent(self, self.running)
        yield self.assertComponentServed(bot)

    @defer.inlineCallbacks
    def test_noFrom(self):
        """
        A stanza without C{from} is the component domain's (Prosody's
        compatibility rule).
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.send("<message to='alice@localhost/r' type='chat'><body>anonymous</body></message>")
        answer = yield self.until(alice, lambda e: e.name == "message")
        self.assertEqual(answer.getAttribute("from"), "echo.localhost")

    @defer.inlineCallbacks
    def test_noTo(self):
        """
        A stanza without C{to} gets C{bad-request}; the stream goes on.
        """
        bot = yield connectComponent(self, self.running)
        bot.send("<iq type='get' id='q' from='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = yield self.until(bot, lambda e: e.name == "iq")
        self.assertEqual(condition(reply), "bad-request")
        yield self.assertComponentServed(bot)

    @defer.inlineCallbacks
    def test_joinsARoom(self):
        """
        A user of the component joins a room of xmuc's MUC and chats there
        with a local user, both ways (the room's fan-out to the component
        goes through the serialize-once path).
        """
        alice = yield self.login("alice")
        self.assertIsNone((yield self.joinRoom(alice, ROOM, "Alice")))
        bot = yield connectComponent(self, self.running)
        bot.send(
            "<presence from='carl@echo.localhost/gw' to='%s/Carl'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
            % (ROOM,)
        )
        subject = yield self.until(bot, lambda e: e.name == "message" and e.subject is not None)
        self.assertEqual(subject.getAttribute("to"), "carl@echo.localhost/gw")
        joined = yield self.until(alice, lambda e: e.name == "presence" and e.getAttribute("from") == ROOM + "/Carl")
        self.assertIsNone(joined.getAttribute("type"))
        bot.send(
            "<message from='carl@echo.localhost/gw' to='%s' type='groupchat' id='g1'><body>hi from the gateway</body></message>"
            % (ROOM,)
        )
        said = yield self.until(alice, lambda e: e.name == "message" and e.getAttribute("type") == "groupchat")
        self.assertEqual((said.getAttribute("from"), str(said.body)), (ROOM + "/Carl", "hi from the gateway"))
        built = Serialized.built
        alice.send("<message to='%s' type='groupchat' id='g2'><body>welcome</body></message>" % (ROOM,))
        heard = yield self.until(
            bot, lambda e: e.name == "message" and e.getAttribute("from") == ROOM + "/Alice"
        )
        self.assertEqual(str(heard.body), "welcome")
        self.assertEqual(Serialized.built, built, "the fan-out text went down the stream as it was")
        self.assertEqual(heard.getAttribute("to"), "carl@echo.localhost/gw")

    @defer.inlineCallbacks
    def test_componentToComponent(self):
        """
        One component's stanza for another's domain reaches it.
        """
        echo = yield connectComponent(self, self.running, "echo.localhost")
        gateway = yield connectComponent(self, self.running, "gw.localhost")
        echo.send("<message from='a@echo.localhost' to='b@gw.localhost'><body>across</body></message>")
        got = yield self.until(gateway, lambda e: e.name == "message")
        self.assertEqual((got.getAttribute("from"), str(got.body)), ("a@echo.localhost", "across"))

    @defer.inlineCallbacks
    def test_notConnected(self):
        """
        A stanza for a configured component that is not connected gets
        what Prosody answers: C{remote-server-timeout} of type C{wait}.
        """
        alice = yield self.login("alice")
        alice.send("<iq type='get' id='q1' to='gw.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        reply = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual(condition(reply), "remote-server-timeout")
        self.assertEqual(reply.error.getAttribute("type"), "wait")

    @defer.inlineCallbacks
    def test_disconnectedAgain(self):
        """
        Once its component closed its stream, the domain's stanzas are
        bounced again.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.send("</stream:stream>")
        yield bot.waitClosed()
        alice.send("<iq type='get' id='q2' to='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual(condition(reply), "remote-server-timeout")

    # --- bad input

    @defer.inlineCallbacks
    def test_wrongSecret(self):
        """
        A wrong handshake gets C{not-authorized}; a connected component and
        a client are not affected.
        """
        alice = yield self.login("alice")
        good = yield connectComponent(self, self.running, "gw.localhost")
        bad = yield connectComponent(self, self.running, handshake=False)
        bad.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        header = yield bad.receive()
        bad.send("<handshake>%s</handshake>" % (handshakeToken(header.getAttribute("id"), "guess"),))
        self.assertEqual((yield self.streamErrorOf(bad)), "not-authorized")
        yield self.assertComponentServed(good, "gw.localhost")
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_handshakeOfAnotherStream(self):
        """
        The token is bound to the stream id: one computed for another
        stream's id is refused.
        """
        bad = yield connectComponent(self, self.running, handshake=False)
        bad.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        yield bad.receive()
        bad.send("<handshake>%s</handshake>" % (handshakeToken("another", secretOf("echo.localhost")),))
        self.assertEqual((yield self.streamErrorOf(bad)), "not-authorized")

    @defer.inlineCallbacks
    def test_spoofedFrom(self):
        """
        A C{from} outside the component's domain ends its stream with
        C{invalid-from}, and nothing reaches the user it pretends to be
        from; other components and clients carry on.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        good = yield connectComponent(self, self.running, "gw.localhost")
        bot = yield connectComponent(self, self.running)
        bot.send("<message from='alice@localhost/r' to='bob@localhost' type='chat'><body>I am alice</body></message>")
        self.assertEqual((yield self.streamErrorOf(bot)), "invalid-from")
        alice.send("<message to='bob@localhost/r' type='chat' id='real'><body>really me</body></message>")
        first = yield self.until(bob, lambda e: e.name == "message")
        self.assertEqual(str(first.body), "really me")
        yield self.assertComponentServed(good, "gw.localhost")

    @defer.inlineCallbacks
    def test_subdomainIsNotTheDomain(self):
        """
        A C{from} in another component's domain is as spoofed.
        """
        bot = yield connectComponent(self, self.running)
        bot.send("<message from='x@gw.localhost' to='localhost'><body>x</body></message>")
        self.assertEqual((yield self.streamErrorOf(bot)), "invalid-from")

    @defer.inlineCallbacks
    def test_stanzaBeforeHandshake(self):
        """
        A stanza before the handshake gets C{not-authorized} and is not
        routed.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running, handshake=False)
        bot.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        yield bot.receive()
        bot.send("<message from='echo.localhost' to='alice@localhost/r'><body>early</body></message>")
        self.assertEqual((yield self.streamErrorOf(bot)), "not-authorized")
        yield self.assertServed(alice)
        self.assertEqual([e for e in alice.received if e.name == "message"], [])

    @defer.inlineCallbacks
    def test_garbageBeforeHeader(self):
        """
        Bytes that are not XML, before any header, get C{not-well-formed}.
        """
        bot = yield connectComponent(self, self.running, handshake=False)
        bot.send(b"\x16\x03\x01\x02\x00 GET / HTTP/1.1\r\n\r\n")
        self.assertEqual((yield self.streamErrorOf(bot)), "not-well-formed")

    @defer.inlineCallbacks
    def test_malformedAfterHandshake(self):
        """
        Malformed XML from a connected component gets C{not-well-formed};
        its domain's stanzas are then bounced.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.send("<message from='echo.localhost' to='alice@localhost/r'><body></message>")
        self.assertEqual((yield self.streamErrorOf(bot)), "not-well-formed")
        alice.send("<iq type='get' id='q3' to='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual(condition(reply), "remote-server-timeout")

    @defer.inlineCallbacks
    def test_restrictedXML(self):
        """
        A comment (RFC 6120 section 11.1) gets C{restricted-xml}.
        """
        bot = yield connectComponent(self, self.running)
        bot.send("<!-- hello -->")
        self.assertEqual((yield self.streamErrorOf(bot)), "restricted-xml")

    @defer.inlineCallbacks
    def test_unknownDomain(self):
        """
        A header for a domain no component is configured for gets
        C{host-unknown}; so does a local host's.
        """
        for domain in ("nowhere.localhost", "localhost", "conference.localhost"):
            bot = yield connectComponent(self, self.running, handshake=False)
            bot.sendHeader(domain, version=None, ns=ACCEPT)
            self.assertEqual((yield self.streamErrorOf(bot)), "host-unknown", domain)

    @defer.inlineCallbacks
    def test_clientNamespace(self):
        """
        A client stream header on the component port gets
        C{invalid-namespace}.
        """
        bot = yield connectComponent(self, self.running, handshake=False)
        bot.sendHeader("echo.localhost")
        self.assertEqual((yield self.streamErrorOf(bot)), "invalid-namespace")

    @defer.inlineCallbacks
    def test_headerWithoutTo(self):
        """
        A header without C{to} gets C{improper-addressing}.
        """
        bot = yield connectComponent(self, self.running, handshake=False)
        bot.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
            " xmlns:stream='http://etherx.jabber.org/streams'>"
        )
        self.assertEqual((yield self.streamErrorOf(bot)), "improper-addressing")

    @defer.inlineCallbacks
    def test_oversizeStanza(self):
        """
        A stanza over C{[server] max_stanza_size} gets C{policy-violation}.
        """
        bot = yield connectComponent(self, self.running)
        size = self.running.server.config.get("server", "max_stanza_size")
        bot.send("<message from='echo.localhost' to='localhost'><body>%s</body></message>" % ("x" * size,))
        self.assertEqual((yield self.streamErrorOf(bot)), "policy-violation")

    @defer.inlineCallbacks
    def test_notAStanza(self):
        """
        A top-level element that is no stanza gets
        C{unsupported-stanza-type}.
        """
        bot = yield connectComponent(self, self.running)
        bot.send("<thing xmlns='urn:example'/>")
        self.assertEqual((yield self.streamErrorOf(bot)), "unsupported-stanza-type")

    @defer.inlineCallbacks
    def test_kickNew(self):
        """
        By default a second connection for a connected domain is refused
        with C{conflict}; the first one carries on.
        """
        alice = yield self.login("alice")
        first = yield connectComponent(self, self.running)
        second = yield connectComponent(self, self.running, handshake=False)
        second.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        header = yield second.receive()
        second.send("<handshake>%s</handshake>" % (handshakeToken(header.getAttribute("id"), secretOf("echo.localhost")),))
        self.assertEqual((yield self.streamErrorOf(second)), "conflict")
        alice.send("<message to='bot@echo.localhost' id='after'><body>still you</body></message>")
        got = yield self.until(first, lambda e: e.name == "message")
        self.assertEqual(got.getAttribute("id"), "after")


class KickOldTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(OVERRIDES, componentSections(conflict="kick_old"))

    @defer.inlineCallbacks
    def test_kickOld(self):
        """
        With C{conflict = kick_old}, a second connection replaces the first,
        which gets C{conflict}; the domain's stanzas go to the new one.
        """
        alice = yield self.login("alice")
        first = yield connectComponent(self, self.running)
        second = yield connectComponent(self, self.running)
        found = yield first.streamError()
        self.assertEqual(found, "conflict")
        alice.send("<message to='bot@echo.localhost' id='after'><body>new one</body></message>")
        got = yield self.until(second, lambda e: e.name == "message")
        self.assertEqual(got.getAttribute("id"), "after")
        with self.assertRaises(StreamClosed):
            yield first.receive(1)


class ConfigurationTests(unittest.TestCase):
    def test_secrets(self):
        """
        C{[components] secrets} is C{domain=secret} pairs.
        """
        config = validate({"components": {"secrets": "a.example=one, b.example=t=wo"}})
        self.assertEqual(config.get("components", "secrets"), {"a.example": "one", "b.example": "t=wo"})

    def test_badSecrets(self):
        """
        A pair without secret, or a domain twice, is a configuration error
        naming the key, and never shows a secret.
        """
        for value in ("a.example", "a.example=", "a.example=x a.example=y", "not a domain!=x"):
            with self.assertRaises(ConfigError) as raised:
                validate({"components": {"secrets": value}})
            self.assertEqual((raised.exception.section, raised.exception.key), ("components", "secrets"))
            self.assertNotIn("=y", str(raised.exception))

    def test_conflict(self):
        with self.assertRaises(ConfigError) as raised:
            validate({"components": {"conflict": "kick_both"}})
        self.assertEqual(raised.exception.key, "conflict")

    def test_listenWithoutSecrets(self):
        """
        Component listeners without any component domain are a
        configuration error naming C{listen}.
        """
        from xmuc.server import XmucServer

        config = validate(
            {
                "storage": {"backend": "memory"},
                "c2s": {"require_encryption": "false"},
                "components": {"listen": "tcp:0:interface=127.0.0.1"},
            }
        )
        with self.assertRaises(ConfigError) as raised:
            XmucServer(config)
        self.assertEqual((raised.exception.section, raised.exception.key), ("components", "listen"))

    def test_domainServedByXmuc(self):
        """
        A component domain that is a local host or the MUC's is refused
        when the server is built, naming the key.
        """
        from xmuc.server import XmucServer

        for domain in ("localhost", "conference.localhost"):
            config = validate(
                {
                    "storage": {"backend": "memory"},
                    "c2s": {"require_encryption": "false"},
                    "components": {"secrets": "%s=x" % (domain,)},
                }
            )
            with self.assertRaises(ConfigError) as raised:
                XmucServer(config)
            self.assertEqual((raised.exception.section, raised.exception.key), ("components", "secrets"))


class SendBacklogTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(
        OVERRIDES,
        componentSections(max_send_backlog="65536"),
        {"c2s": {"read_rate": "0"}},
    )

    @defer.inlineCallbacks
    def test_componentThatDoesNotRead(self):
        """
        A component that stops reading is cut off once what it was not
        able to take passes C{[components] max_send_backlog}: its domain's
        stanzas are bounced from then on, the server and its users carry
        on.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.transport.pauseProducing()
        entry = self.running.server.components.factory.components["echo.localhost"]
        body = "x" * 200000
        sent = 0
        while entry.link is not None and sent < 500:
            alice.send("<message to='bot@echo.localhost' type='chat'><body>%s</body></message>" % (body,))
            sent += 1
            yield task.deferLater(reactor, 0.01, lambda: None)
        self.assertIsNone(entry.link, "cut off after %d messages" % (sent,))
        alice.send("<iq type='get' id='after' to='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = yield self.until(alice, lambda e: e.name == "iq")
        self.assertEqual(condition(reply), "remote-server-timeout")
        bot.transport.resumeProducing()
        yield bot.waitClosed(30)


class ConnectionLimitTests(LoggedInClients, unittest.TestCase):
    """
    Connections to the component port before their handshake: capped per
    address and in total; a component that has done its handshake is not
    affected, and a new one still connects.
    """

    overrides = _merged(
        OVERRIDES,
        componentSections(max_connections_per_ip="2", max_unauthenticated="3"),
    )

    @defer.inlineCallbacks
    def idle(self, source="127.0.0.9"):
        """
        @return: Deferred firing with a connection to the component port
            from C{source}, its header sent and the server's read, no
            handshake.
        """
        yield self.running.server.components.listening
        client = yield connectClient(componentPort(self.running), "echo.localhost", source=source)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        client.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        header = yield client.receive()
        self.assertEqual(header.name, "stream")
        return client

    @defer.inlineCallbacks
    def test_perAddress(self):
        """
        Past C{[components] max_connections_per_ip} connections from one
        address, a new one gets C{policy-violation}; a component
        connecting from another address does its handshake and is served.
        """
        yield self.idle()
        yield self.idle()
        client = yield connectClient(componentPort(self.running), "echo.localhost", source="127.0.0.9")
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        found = yield client.streamError()
        self.assertEqual(found, "policy-violation")
        yield client.waitClosed()
        limits = self.running.server.components.factory.limits
        self.assertEqual(limits.connectionsFrom("127.0.0.9"), 2)
        bot = yield connectComponent(self, self.running)
        alice = yield self.login("alice")
        alice.send("<message to='bot@echo.localhost' type='chat' id='m1'><body>hello</body></message>")
        got = yield self.until(bot, lambda e: e.name == "message")
        self.assertEqual(str(got.body), "hello")

    @defer.inlineCallbacks
    def test_unauthenticatedOldestClosed(self):
        """
        Past C{[components] max_unauthenticated} connections without a
        handshake, the oldest is closed with C{policy-violation}; the new
        one completes its handshake, and a component already connected is
        not affected.
        """
        bot = yield connectComponent(self, self.running)
        first = yield self.idle("127.0.0.7")
        yield self.idle("127.0.0.8")
        third = yield self.idle("127.0.0.9")
        yield connectComponent(self, self.running, domain="gw.localhost")
        found = yield first.streamError()
        self.assertEqual(found, "policy-violation")
        self.assertFalse(third.closed.called)
        alice = yield self.login("alice")
        alice.send("<message to='bot@echo.localhost' type='chat' id='m1'><body>still</body></message>")
        got = yield self.until(bot, lambda e: e.name == "message")
        self.assertEqual(str(got.body), "still")


class ReadRateTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(
        OVERRIDES,
        componentSections(read_rate="100000", read_burst="4096"),
    )

    @defer.inlineCallbacks
    def test_fastComponentSlowedNotDropped(self):
        """
        A component sending faster than C{[components] read_rate} after
        C{read_burst} is not read for a while, again and again (300 kB at
        100 kB/s: several reads, each waiting for the rate); every stanza
        it sent is delivered, in order.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        body = "x" * 2000
        for number in range(150):
            bot.send(
                "<message from='bot@echo.localhost' to='alice@localhost/r' type='chat' id='m%d'>"
                "<body>%s</body></message>" % (number, body)
            )
        for number in range(150):
            got = yield self.until(alice, lambda e: e.name == "message", timeout=20)
            self.assertEqual((got.getAttribute("id"), str(got.body)), ("m%d" % (number,), body))
        (stream,) = [xs for xs in self.running.server.components.factory.streams if xs.authenticator.authenticated]
        self.assertGreater(stream.readRate.holds, 1)
