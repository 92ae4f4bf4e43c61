"""
XEP-0156 discovery over a real HTTP listener: C{/.well-known/host-meta}
(XRD) and C{host-meta.json} (JRD) name the WebSocket URL, fetched as a web
page's script fetches them (cross-origin).
"""

import json

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.words.xish import domish

from tests.support.client import startTestServer

XRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
WEBSOCKET = "urn:xmpp:alt-connections:websocket"


class HostMetaServer:
    """
    A server with an HTTP listener; C{http} are its C{[http]} keys.
    """

    http = {}

    @defer.inlineCallbacks
    def setUp(self):
        overrides = {"http": dict({"listen": "tcp:0:interface=127.0.0.1"}, **self.http)}
        running = yield startTestServer(self, overrides, tls=False)
        port = yield running.server.http.listeners[0].listening
        self.port = port.getHost().port
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.agent = Agent(reactor, pool=pool)

    @defer.inlineCallbacks
    def get(self, path, headers=None):
        """
        @return: C{(response, body)}.
        """
        response = yield self.agent.request(
            b"GET",
            b"http://127.0.0.1:%d%s" % (self.port, path),
            Headers({k: [v] for k, v in (headers or {}).items()}),
        )
        body = yield readBody(response)
        return response, body

    def header(self, response, name):
        values = response.headers.getRawHeaders(name)
        return values[0] if values else None

    @defer.inlineCallbacks
    def links(self, headers=None):
        """
        Fetch both documents.

        @return: C{(XRD links, JRD links)}, each a list of C{(rel, href)}.
        """
        response, body = yield self.get(b"/.well-known/host-meta", headers)
        self.assertEqual(response.code, 200)
        self.assertEqual(self.header(response, b"access-control-allow-origin"), b"*")
        self.assertTrue(self.header(response, b"content-type").startswith(b"application/xrd+xml"))
        root = domish.elementStream()
        found = []
        root.DocumentStartEvent = lambda e: found.append(e)
        root.ElementEvent = lambda e: found.append(e)
        root.DocumentEndEvent = lambda: None
        root.parse(body)
        self.assertEqual((found[0].uri, found[0].name), (XRD, "XRD"))
        xrd = [(e["rel"], e["href"]) for e in found[1:] if (e.uri, e.name) == (XRD, "Link")]

        response, body = yield self.get(b"/.well-known/host-meta.json", headers)
        self.assertEqual(response.code, 200)
        self.assertEqual(self.header(response, b"access-control-allow-origin"), b"*")
        self.assertEqual(self.header(response, b"content-type"), b"application/json")
        jrd = [(link["rel"], link["href"]) for link in json.loads(body)["links"]]
        return xrd, jrd


class RequestHostTests(HostMetaServer, unittest.TestCase):
    """
    Without C{[http] external_url}: the URL the request was made to.
    """

    @defer.inlineCallbacks
    def test_fromHost(self):
        xrd, jrd = yield self.links()
        expected = [(WEBSOCKET, "ws://127.0.0.1:%d/xmpp-websocket" % (self.port,))]
        self.assertEqual(xrd, expected)
        self.assertEqual(jrd, expected)

    @defer.inlineCallbacks
    def test_forgedProto(self):
        """
        C{X-Forwarded-Proto} from a peer that is no trusted proxy changes
        nothing.
        """
        xrd, _ = yield self.links({b"X-Forwarded-Proto": b"https"})
        self.assertEqual(xrd, [(WEBSOCKET, "ws://127.0.0.1:%d/xmpp-websocket" % (self.port,))])

    @defer.inlineCallbacks
    def test_badHost(self):
        """
        A C{Host} that is no host name is not repeated: the listener's
        address is used.
        """
        xrd, _ = yield self.links({b"Host": b"x'/><evil"})
        self.assertEqual(xrd, [(WEBSOCKET, "ws://127.0.0.1:%d/xmpp-websocket" % (self.port,))])

    @defer.inlineCallbacks
    def test_notFound(self):
        response, _ = yield self.get(b"/nothing")
        self.assertEqual(response.code, 404)


class TrustedProxyTests(HostMetaServer, unittest.TestCase):
    """
    Behind a trusted proxy that terminates TLS, the URL is C{wss} on the
    host the client asked for.
    """

    http = {"trusted_proxies": "127.0.0.0/8"}

    @defer.inlineCallbacks
    def test_https(self):
        xrd, jrd = yield self.links({b"X-Forwarded-Proto": b"https", b"Host": b"chat.example.org"})
        self.assertEqual(xrd, [(WEBSOCKET, "wss://chat.example.org/xmpp-websocket")])
        self.assertEqual(jrd, xrd)


class ExternalURLTests(HostMetaServer, unittest.TestCase):
    """
    C{[http] external_url} is the public base URL, path included.
    """

    http = {"external_url": "https://example.org/chat/"}

    @defer.inlineCallbacks
    def test_externalURL(self):
        xrd, jrd = yield self.links({b"Host": b"internal:5280"})
        self.assertEqual(xrd, [(WEBSOCKET, "wss://example.org/chat/xmpp-websocket")])
        self.assertEqual(jrd, xrd)
