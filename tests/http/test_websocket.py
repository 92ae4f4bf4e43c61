"""
XMPP over WebSocket (RFC 7395) on a real HTTP listener, with autobahn's own
WebSocket client: the same stream as on TCP (SASL, binding, rooms, Stream
Management), the framing, the encryption rules behind a proxy, the
C{Origin} check, and each bad frame closing only its own stream.
"""

import os
import socket
import ssl

from twisted.internet import defer, threads
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from tests.support.client import (
    NS_CLIENT,
    NS_STREAMS,
    NS_TLS,
    AuthenticationFailed,
    StreamClosed,
    connectTestClient,
    errorCondition,
    firstChild,
    makeSelfSignedCertificate,
    mechanisms,
    startTestServer,
)
from tests.support.streammanagement import NS_SM, enable, isSM, receiveSkippingRequests
from tests.support.websocket import FRAMING, connectWebSocket, rawHandshake
from xmuc.http.websocket import declareNamespaces

ROOM = "lounge@conference.localhost"
MUC = "http://jabber.org/protocol/muc"
#: The server's C{<close/>}, as RFC 7395 3.6 writes it (Strophe.js compares
#: the text).
CLOSE = b'<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" />'


class WebSocketServer:
    """
    A started server with an HTTP listener, the accounts alice, bob and
    mallory (password C{secret}), the MUC on, rooms unlocked.

    @cvar http: C{[http]} keys over the listener.
    @cvar c2s: C{[c2s]} keys, C{server} C{[server]} keys.
    @cvar tls: whether the server has a certificate and requires
        encryption.
    """

    http = {}
    c2s = {}
    server = {}
    tls = False
    wss = False

    @defer.inlineCallbacks
    def setUp(self):
        listen = "tcp:0:interface=127.0.0.1"
        if self.wss:
            directory = os.path.abspath(self.mktemp())
            os.makedirs(directory)
            certificate, key = makeSelfSignedCertificate(directory)
            listen = "ssl:0:interface=127.0.0.1:privateKey=%s:certKey=%s" % (key, certificate)
        overrides = {
            "http": dict({"listen": listen}, **self.http),
            "muc": {"enabled": "true", "lock_new_rooms": "false"},
            "c2s": dict({"failed_login_delay": "0"}, **self.c2s),
            "server": dict(self.server),
        }
        self.running = yield startTestServer(self, overrides, tls=self.tls)
        port = yield self.running.server.http.listeners[0].listening
        self.port = port.getHost().port
        for user in ("alice", "bob", "mallory"):
            yield self.running.server.accounts.register(user, "localhost", "secret")

    @defer.inlineCallbacks
    def connect(self, **kwargs):
        """
        @return: a L{tests.support.websocket.WebSocketTestClient}, aborted
            at the end of the test if still open.
        """
        kwargs.setdefault("tls", self.wss)
        client = yield connectWebSocket(self.port, **kwargs)

        def cleanup():
            if not client.closed.called:
                client.carrier.transport.abortConnection()
            return client.waitClosed()

        self.addCleanup(cleanup)
        return client

    @defer.inlineCallbacks
    def loggedIn(self, user="alice", mechanism="SCRAM-SHA-256", resource="web", **kwargs):
        client = yield self.connect(**kwargs)
        yield client.login(user, "secret", resource, mechanism=mechanism)
        return client

    @defer.inlineCallbacks
    def assertServed(self, client):
        reply = yield client.iq(
            "<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (client.nextID(),)
        )
        self.assertEqual(reply["type"], "result")

    @defer.inlineCallbacks
    def until(self, client, predicate):
        while True:
            element = yield client.receive()
            if predicate(element):
                return element

    @defer.inlineCallbacks
    def assertStreamError(self, client, condition):
        """
        A stream error with C{condition} comes (after stanzas, if any),
        then the server's C{<close/>}, then the connection ends.
        """
        error = yield self.until(client, lambda e: e.uri == NS_STREAMS and e.name == "error")
        self.assertEqual(errorCondition(error), condition)
        yield self.assertFailure(client.receive(), StreamClosed)
        yield client.waitClosed()
        self.assertEqual(client.messages[-1], CLOSE)
        self.assertEqual(client.framingErrors, [])


class DeclareNamespacesTests(unittest.TestCase):
    """
    What the stream writes, made to stand alone (RFC 7395 3.3.3).
    """

    def test_stanza(self):
        self.assertEqual(
            declareNamespaces(b"<message to='a@b'><body>x</body></message>"),
            b"<message xmlns='jabber:client' to='a@b'><body>x</body></message>",
        )
        self.assertEqual(declareNamespaces(b"<presence/>"), b"<presence xmlns='jabber:client'/>")
        self.assertEqual(declareNamespaces(b"<iq>x</iq>"), b"<iq xmlns='jabber:client'>x</iq>")

    def test_declared(self):
        for element in (b"<r xmlns='urn:xmpp:sm:3'/>", b"<iq xmlns='jabber:client' id='1'/>",
                        b"<a:b xmlns:a='urn:x'/>", CLOSE):
            self.assertEqual(declareNamespaces(element), element)

    def test_valueLookingLikeDeclaration(self):
        """
        A value cannot hold a declaration: its quotes are escaped.
        """
        self.assertEqual(
            declareNamespaces(b"<message id='a xmlns=&apos;x&apos;'/>"),
            b"<message xmlns='jabber:client' id='a xmlns=&apos;x&apos;'/>",
        )

    def test_streamPrefix(self):
        self.assertEqual(
            declareNamespaces(b"<stream:features><sm xmlns='urn:xmpp:sm:3'/></stream:features>"),
            b"<stream:features xmlns:stream='%s'><sm xmlns='urn:xmpp:sm:3'/></stream:features>" % (NS_STREAMS.encode(),),
        )
        self.assertEqual(
            declareNamespaces(b"<stream:error/>"), b"<stream:error xmlns:stream='%s'/>" % (NS_STREAMS.encode(),)
        )


class LoginTests(WebSocketServer, unittest.TestCase):
    """
    The negotiation of a TCP stream, over a WebSocket.
    """

    @defer.inlineCallbacks
    def test_framing(self):
        """
        The server answers C{<open/>} with an C{<open/>} naming the host,
        a stream id and version 1.0; features and every later element come
        one per message, parsable alone with their namespaces declared;
        C{<close/>} is answered with C{<close/>}.
        """
        client = yield self.connect()
        features = yield client.openStream()
        opened = client.opens[0]
        self.assertEqual(opened.getAttribute("from"), "localhost")
        self.assertEqual(opened.getAttribute("version"), "1.0")
        self.assertTrue(opened.getAttribute("id"))
        self.assertEqual((features.uri, features.name), (NS_STREAMS, "features"))
        # No STARTTLS over a WebSocket (RFC 7395 3.1); no certificate
        # here, encryption not required: SASL is offered, PLAIN only
        # over TLS.
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        self.assertEqual(mechanisms(features), ["SCRAM-SHA-256", "SCRAM-SHA-1"])
        yield client.authenticate("alice", "secret", "SCRAM-SHA-256")
        self.assertEqual(len(client.opens), 2)
        jid = yield client.bind("web")
        self.assertEqual(jid, "alice@localhost/web")
        yield client.close()
        self.assertEqual(client.messages[-1], CLOSE)
        self.assertEqual(client.framingErrors, [])
        # Nothing else came: each message was one of those elements.
        self.assertEqual(len(client.messages), len(client.opens) + len(client.received) + 1)

    @defer.inlineCallbacks
    def test_scram(self):
        """
        SCRAM-SHA-256 and SCRAM-SHA-1 log in over a WebSocket.
        """
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
            client = yield self.loggedIn(mechanism=mechanism, resource=mechanism)
            self.assertEqual(client.jid, "alice@localhost/" + mechanism)
            yield self.assertServed(client)

    @defer.inlineCallbacks
    def test_wrongPassword(self):
        """
        A wrong password fails as on TCP.
        """
        client = yield self.connect()
        yield client.openStream()
        failure = yield self.assertFailure(
            client.authenticate("alice", "wrong", "SCRAM-SHA-256"), AuthenticationFailed
        )
        self.assertEqual(failure.condition, "not-authorized")

    @defer.inlineCallbacks
    def test_restartNeedsOpen(self):
        """
        After SASL success the client must open the stream again: a stanza
        instead is refused as a TCP stream refuses a stanza for a header.
        """
        client = yield self.connect()
        yield client.openStream()
        yield client._scram("SHA-256", "alice", "secret", "")
        client.send("<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>")
        yield self.assertStreamError(client, "invalid-namespace")
        self.assertEqual(len(client.opens), 2)

    @defer.inlineCallbacks
    def test_serverClosesAll(self):
        """
        What the server does to every client stream when it stops reaches
        WebSocket streams too: C{system-shutdown}, then C{<close/>}.
        """
        client = yield self.loggedIn()
        yield self.running.server.c2sFactory.disconnectAll("system-shutdown")
        yield self.assertStreamError(client, "system-shutdown")

    @defer.inlineCallbacks
    def test_closeBeforeOpen(self):
        """
        A C{<close/>} before any C{<open/>} ends the connection.
        """
        client = yield self.connect()
        client.sendRaw(("<close xmlns='%s'/>" % (FRAMING,)).encode("ascii"))
        yield client.waitClosed()


class RoomTests(WebSocketServer, unittest.TestCase):
    """
    A room with one occupant over WebSocket and one over TCP.
    """

    @defer.inlineCallbacks
    def join(self, client, nick):
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, MUC))
        yield self.until(client, lambda e: e.name == "message" and e.subject is not None)

    @defer.inlineCallbacks
    def test_groupchatBothWays(self):
        """
        A groupchat message from the WebSocket occupant reaches the TCP
        one, and the other way round, each exactly as sent.
        """
        web = yield self.loggedIn("alice")
        tcp = yield connectTestClient(self, self.running)
        yield tcp.login("bob", "secret", "tcp")
        yield self.join(web, "alice")
        yield self.join(tcp, "bob")

        web.send("<message to='%s' type='groupchat' id='w1'><body>from the browser</body></message>" % (ROOM,))
        seen = yield self.until(tcp, lambda e: e.name == "message" and e.body is not None)
        self.assertEqual((seen["from"], str(seen.body)), (ROOM + "/alice", "from the browser"))

        tcp.send("<message to='%s' type='groupchat' id='t1'><body>from the app</body></message>" % (ROOM,))
        seen = yield self.until(
            web, lambda e: e.name == "message" and e.body is not None and e["from"] == ROOM + "/bob"
        )
        self.assertEqual(str(seen.body), "from the app")
        self.assertEqual(seen.uri, NS_CLIENT)
        self.assertEqual(web.framingErrors, [])


class StreamManagementTests(WebSocketServer, unittest.TestCase):
    """
    XEP-0198 over a WebSocket: enabled, then resumed on a new WebSocket
    after the first one was cut.
    """

    @defer.inlineCallbacks
    def test_resume(self):
        """
        A message sent while the WebSocket was cut comes on the new one,
        after C{<resumed/>}.
        """
        first = yield self.loggedIn("alice", resource="phone")
        enabled, _ = yield enable(first)
        previd = enabled.getAttribute("id")
        self.assertTrue(previd)
        first.carrier.transport.abortConnection()
        yield first.waitClosed()

        bob = yield connectTestClient(self, self.running)
        yield bob.login("bob", "secret", "tcp")
        bob.send("<message to='alice@localhost/phone' id='m1'><body>while away</body></message>")
        bob.send("<message to='alice@localhost/phone' id='m2'><body>still away</body></message>")
        yield self.assertServed(bob)

        second = yield self.connect()
        yield second.openStream()
        yield second.authenticate("alice", "secret", "SCRAM-SHA-256")
        second.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, previd))
        resumed = yield receiveSkippingRequests(second)
        self.assertTrue(isSM(resumed, "resumed"), resumed.toXml())
        # Both come again, each in a message of its own.
        first = yield self.until(second, lambda e: e.name == "message")
        following = yield self.until(second, lambda e: e.name == "message")
        self.assertEqual([str(first.body), str(following.body)], ["while away", "still away"])
        yield self.assertServed(second)
        self.assertEqual(second.framingErrors, [])


class BadFrameTests(WebSocketServer, unittest.TestCase):
    """
    Each bad message closes its own stream with the stream error RFC 6120
    / RFC 7395 give it; another client's stream goes on.
    """

    server = {"max_stanza_size": "4096"}

    @defer.inlineCallbacks
    def setUp(self):
        yield WebSocketServer.setUp(self)
        self.bystander = yield self.loggedIn("bob", resource="bystander")

    @defer.inlineCallbacks
    def closedWith(self, condition, send, loggedIn=True):
        """
        Log mallory in (or only open her stream), let C{send} send
        something bad, check she gets C{condition} and bob is still served.
        """
        if loggedIn:
            client = yield self.loggedIn("mallory")
        else:
            client = yield self.connect()
            yield client.openStream()
        send(client)
        yield self.assertStreamError(client, condition)
        yield self.assertServed(self.bystander)

    def test_binary(self):
        """
        A binary message: C{unsupported-encoding} (RFC 7395 3.2: text only).
        """
        return self.closedWith(
            "unsupported-encoding",
            lambda c: c.sendRaw(b"<message xmlns='jabber:client'/>", isBinary=True),
        )

    def test_splitStanza(self):
        """
        A stanza split over two messages: C{not-well-formed} (RFC 7395
        3.3.3: one complete element per message), at the first half.
        """

        def send(client):
            client.sendRaw(b"<message xmlns='jabber:client' to='bob@localhost'><body>hal")
            client.sendRaw(b"f</body></message>")

        return self.closedWith("not-well-formed", send)

    def test_stanzaAndAHalf(self):
        """
        A stanza and the start of the next one: C{not-well-formed}.
        """
        return self.closedWith(
            "not-well-formed",
            lambda c: c.sendRaw(b"<presence xmlns='jabber:client'/><presence xmlns='jabber:client'"),
        )

    def test_twoStanzas(self):
        """
        Two stanzas in one message: C{not-well-formed}.
        """
        return self.closedWith(
            "not-well-formed",
            lambda c: c.sendRaw(
                b"<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>"
            ),
        )

    def test_oversize(self):
        """
        A message over C{[server] max_stanza_size}: C{policy-violation},
        as a stanza that size on TCP.
        """
        body = "x" * 5000
        return self.closedWith(
            "policy-violation",
            lambda c: c.send("<message to='bob@localhost'><body>%s</body></message>" % (body,)),
        )

    def test_huge(self):
        """
        A message far over any stanza size is refused by the WebSocket
        layer before it is buffered whole, still with a stream error.
        """
        return self.closedWith("policy-violation", lambda c: c.sendRaw(b"<a>" + b"x" * 200000 + b"</a>"))

    def test_notWellFormed(self):
        """
        A message that is no XML: C{not-well-formed}.
        """
        return self.closedWith("not-well-formed", lambda c: c.sendRaw(b"<message xmlns='jabber:client'><</message>"))

    def test_notAStanza(self):
        """
        An element that is no stanza after binding:
        C{unsupported-stanza-type}, as on TCP.
        """
        return self.closedWith(
            "unsupported-stanza-type", lambda c: c.sendRaw(b"<thing xmlns='urn:example:thing'/>")
        )

    def test_notAStanzaBeforeLogin(self):
        """
        Before authentication, an element that is no negotiation step:
        C{not-authorized}, as on TCP.
        """
        return self.closedWith(
            "not-authorized", lambda c: c.sendRaw(b"<thing xmlns='urn:example:thing'/>"), loggedIn=False
        )

    @defer.inlineCallbacks
    def test_firstNotOpen(self):
        """
        A stream must start with C{<open/>}: anything else first is
        C{invalid-namespace}, as a TCP stream not starting with a header.
        """
        client = yield self.connect()
        client.sendRaw(b"<message xmlns='jabber:client' to='bob@localhost'/>")
        yield self.assertStreamError(client, "invalid-namespace")
        yield self.assertServed(self.bystander)

    @defer.inlineCallbacks
    def test_openWithWrongHost(self):
        """
        An C{<open/>} for a host not served: C{host-unknown}, as on TCP.
        """
        client = yield self.connect()
        client.sendHeader(to="elsewhere.example")
        yield self.assertStreamError(client, "host-unknown")


class EncryptionTests(WebSocketServer, unittest.TestCase):
    """
    With C{[c2s] require_encryption}, plain C{ws} from the client itself
    never gets to authenticate; C{https} as a trusted proxy reports it does.
    """

    tls = True
    http = {"trusted_proxies": "127.0.0.1"}

    @defer.inlineCallbacks
    def test_plainRefused(self):
        """
        Plain C{ws}: no mechanism offered, no STARTTLS either, and an
        attempt to authenticate fails with C{encryption-required}.
        """
        client = yield self.connect()
        features = yield client.openStream()
        self.assertEqual(mechanisms(features), [])
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        failure = yield self.assertFailure(
            client.authenticate("alice", "secret", "PLAIN"), AuthenticationFailed
        )
        self.assertEqual(failure.condition, "encryption-required")

    @defer.inlineCallbacks
    def test_trustedProxyHTTPS(self):
        """
        C{X-Forwarded-Proto: https} from a trusted proxy: the client used
        TLS up to the proxy; it logs in.
        """
        client = yield self.loggedIn(mechanism="PLAIN", headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(client.jid, "alice@localhost/web")

    @defer.inlineCallbacks
    def test_trustedProxyHTTP(self):
        """
        C{X-Forwarded-Proto: http} from the trusted proxy: refused.
        """
        client = yield self.connect(headers={"X-Forwarded-Proto": "http"})
        features = yield client.openStream()
        self.assertEqual(mechanisms(features), [])


class SecureWebSocketTests(WebSocketServer, unittest.TestCase):
    """
    C{wss} (an C{ssl:} HTTP listener) meets C{require_encryption} by
    itself: PLAIN is offered as on a TCP stream after STARTTLS.
    """

    tls = True
    wss = True

    @defer.inlineCallbacks
    def test_login(self):
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIn("PLAIN", mechanisms(features))
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        yield client.authenticate("alice", "secret", "PLAIN")
        jid = yield client.bind("secure")
        self.assertEqual(jid, "alice@localhost/secure")
        yield self.assertServed(client)
        yield client.close()
        self.assertEqual(client.framingErrors, [])

    @defer.inlineCallbacks
    def test_browserALPN(self):
        """
        A client offering ALPN C{h2} and C{http/1.1}, as browsers do,
        completes the TLS handshake with one of them (the choice of the
        C{ssl:} listener is Twisted Web's, not the XMPP streams').
        """

        def handshake(port):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2", "http/1.1"])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with context.wrap_socket(raw) as tls:
                    return tls.selected_alpn_protocol()

        agreed = yield threads.deferToThread(handshake, self.port)
        self.assertIn(agreed, ("h2", "http/1.1"))


class UntrustedProxyTests(WebSocketServer, unittest.TestCase):
    """
    C{X-Forwarded-Proto} from anyone else is not believed.
    """

    tls = True
    http = {"trusted_proxies": "192.0.2.1"}

    @defer.inlineCallbacks
    def test_forgedHTTPS(self):
        client = yield self.connect(headers={"X-Forwarded-Proto": "https"})
        features = yield client.openStream()
        self.assertEqual(mechanisms(features), [])


class HandshakeTests(WebSocketServer, unittest.TestCase):
    """
    The opening handshake: C{Origin} against C{[http] allowed_origins},
    the C{xmpp} subprotocol.
    """

    http = {"allowed_origins": "https://chat.example.org, http://localhost:8080"}

    @defer.inlineCallbacks
    def test_originRefused(self):
        """
        A page from another origin gets C{403 Forbidden}.
        """
        status, answer = yield rawHandshake(self.port, {"Origin": "https://evil.example"})
        self.assertEqual(status, 403, answer)
        status, _ = yield rawHandshake(self.port, {"Origin": "null"})
        self.assertEqual(status, 403)

    @defer.inlineCallbacks
    def test_originAllowed(self):
        """
        A listed origin (in any case, with or without a trailing slash)
        opens a stream.
        """
        client = yield self.loggedIn(origin="https://Chat.Example.org")
        self.assertEqual(client.jid, "alice@localhost/web")
        self.assertEqual(client.carrier.factory.response.protocol, "xmpp")
        other = yield self.loggedIn(origin="http://localhost:8080/", resource="other")
        yield self.assertServed(other)

    @defer.inlineCallbacks
    def test_subprotocolRequired(self):
        """
        Without the C{xmpp} subprotocol: C{400 Bad Request}.
        """
        status, answer = yield rawHandshake(self.port, {"Sec-WebSocket-Protocol": None})
        self.assertEqual(status, 400)
        status, _ = yield rawHandshake(self.port, {"Sec-WebSocket-Protocol": "mqtt"})
        self.assertEqual(status, 400)


class AnyOriginTests(WebSocketServer, unittest.TestCase):
    """
    Without C{[http] allowed_origins}, any origin may connect.
    """

    @defer.inlineCallbacks
    def test_anyOrigin(self):
        client = yield self.loggedIn(origin="https://anywhere.example")
        yield self.assertServed(client)
        # A page opened from a file.
        client = yield self.loggedIn(origin="null", resource="file")
        yield self.assertServed(client)


class ClientAddressTests(WebSocketServer, unittest.TestCase):
    """
    The address logged for a client (the failed-login line fail2ban reads)
    is the one a trusted proxy forwarded, never one anybody else claims.
    """

    http = {"trusted_proxies": "127.0.0.1"}

    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)
        return WebSocketServer.setUp(self)

    @defer.inlineCallbacks
    def failLogin(self, **kwargs):
        client = yield self.connect(**kwargs)
        yield client.openStream()
        yield self.assertFailure(client.authenticate("alice", "wrong", "SCRAM-SHA-256"), AuthenticationFailed)
        return [
            formatEvent(e)
            for e in self.events
            if e.get("log_namespace") == "xmuc.c2s.connectionlog" and "failed login" in formatEvent(e)
        ]

    @defer.inlineCallbacks
    def test_forwarded(self):
        lines = yield self.failLogin(headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("failed login from 203.0.113.7 "), lines[0])

    @defer.inlineCallbacks
    def test_noHeader(self):
        lines = yield self.failLogin()
        self.assertTrue(lines[0].startswith("failed login from 127.0.0.1 "), lines[0])


class UntrustedAddressTests(ClientAddressTests):
    """
    C{X-Forwarded-For} from a peer that is no trusted proxy is ignored.
    """

    http = {}

    @defer.inlineCallbacks
    def test_forwarded(self):
        lines = yield self.failLogin(headers={"X-Forwarded-For": "203.0.113.7"})
        self.assertTrue(lines[0].startswith("failed login from 127.0.0.1 "), lines[0])


class ForwardedLimitsTests(WebSocketServer, unittest.TestCase):
    """
    Behind a trusted proxy the per-address connection limit counts each
    forwarded client, not the proxy.
    """

    http = {"trusted_proxies": "127.0.0.1"}
    c2s = {"max_connections_per_ip": "1"}

    @defer.inlineCallbacks
    def test_perClient(self):
        """
        Two clients behind the proxy connect; a second connection of one
        of them is refused with C{policy-violation}.
        """
        first = yield self.connect(headers={"X-Forwarded-For": "203.0.113.7"})
        yield first.openStream()
        other = yield self.connect(headers={"X-Forwarded-For": "203.0.113.8"})
        yield other.openStream()
        again = yield self.connect(headers={"X-Forwarded-For": "203.0.113.7"})
        again.sendHeader()
        yield self.assertStreamError(again, "policy-violation")
