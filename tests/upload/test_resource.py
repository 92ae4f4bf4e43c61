"""
The HTTP side of uploads (L{xmuc.upload.resource}) over real sockets: a
slot requested over XMPP, its PUT and GET over HTTP, the headers that keep
a file inert in a browser, CORS, and every bad PUT refused with its status
and nothing written.
"""

import os
import time

from twisted.internet import defer, endpoints, protocol, reactor, task
from twisted.trial import unittest
from twisted.web.iweb import UNKNOWN_LENGTH

from tests.support.upload import UploadClients
from xmuc.upload import slots


class ChunkedProducer:
    """
    A body of unknown length: the client sends it chunked, without
    C{Content-Length}.
    """

    length = UNKNOWN_LENGTH

    def __init__(self, data):
        self.data = data

    def startProducing(self, consumer):
        consumer.write(self.data)
        return defer.succeed(None)

    def stopProducing(self):
        pass

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass


class Collect(protocol.Protocol):
    def connectionMade(self):
        self.received = b""
        self.lost = defer.Deferred()

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.lost.callback(None)


@defer.inlineCallbacks
def waitFor(predicate, tries=500):
    """
    Let the reactor run until C{predicate()} is true (the server handles
    what a raw connection sent in its own time).
    """
    for _ in range(tries):
        if predicate():
            return
        yield task.deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("never happened")


class TransferTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_roundTrip(self):
        """
        What is PUT is what a GET returns, with the slot's type, its length,
        C{nosniff}, a Content-Security-Policy allowing no script and
        sandboxing the file, CORS for any origin, and C{inline} for an
        image.
        """
        alice = yield self.login("alice")
        data = os.urandom(100000)
        get = yield self.upload(alice, "photo.png", data, "image/png")
        response = yield self.http(b"GET", get)
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, data)
        self.assertEqual(response.header(b"content-type"), b"image/png")
        self.assertEqual(response.header(b"x-content-type-options"), b"nosniff")
        policy = response.header(b"content-security-policy").decode()
        self.assertIn("default-src 'none'", policy)
        self.assertIn("sandbox", policy)
        self.assertNotIn("script", policy)
        self.assertEqual(response.header(b"access-control-allow-origin"), b"*")
        self.assertTrue(response.header(b"content-disposition").startswith(b"inline;"))

    @defer.inlineCallbacks
    def test_attachment(self):
        """
        Types a browser would run or render as a page (HTML, SVG) are
        served as attachments, named in UTF-8 (RFC 8187).
        """
        alice = yield self.login("alice")
        dispositions = []
        for name, contentType in (("pagé.html", "text/html"), ("i.svg", "image/svg+xml"), ("x.bin", None)):
            get = yield self.upload(alice, name, b"<script>alert(1)</script>", contentType)
            response = yield self.http(b"GET", get)
            dispositions.append(response.header(b"content-disposition"))
            self.assertTrue(dispositions[-1].startswith(b"attachment;"), dispositions[-1])
            self.assertEqual(response.header(b"content-type"), (contentType or slots.DEFAULT_TYPE).encode())
        self.assertIn(b"filename*=UTF-8''pag%C3%A9.html", dispositions[0])

    @defer.inlineCallbacks
    def test_head(self):
        """
        HEAD gives the GET's headers and no body.
        """
        alice = yield self.login("alice")
        get = yield self.upload(alice, "a.png", b"abc")
        response = yield self.http(b"HEAD", get)
        self.assertEqual((response.code, response.body), (200, b""))
        self.assertEqual(response.header(b"content-type"), b"image/png")
        self.assertEqual(response.header(b"x-content-type-options"), b"nosniff")

    @defer.inlineCallbacks
    def test_preflight(self):
        """
        A browser's CORS preflight for the PUT is answered: any origin,
        the methods and the Content-Type header.
        """
        alice = yield self.login("alice")
        put, _ = yield self.slot(alice, "a.png", 3, "image/png")
        response = yield self.http(b"OPTIONS", put, headers={
            "Origin": "https://web.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(response.code, 204)
        self.assertEqual(response.header(b"access-control-allow-origin"), b"*")
        self.assertIn(b"PUT", response.header(b"access-control-allow-methods"))
        self.assertIn(b"content-type", response.header(b"access-control-allow-headers").lower())
        self.assertEqual(self.store.files, {})

    @defer.inlineCallbacks
    def test_typeless(self):
        """
        A slot requested without a type takes any PUT Content-Type and
        serves the type its name gives.
        """
        alice = yield self.login("alice")
        put, get = yield self.slot(alice, "notes.txt", 3)
        response = yield self.http(b"PUT", put, b"abc", {"Content-Type": "application/x-whatever"})
        self.assertEqual(response.code, 201)
        response = yield self.http(b"GET", get)
        self.assertEqual(response.header(b"content-type"), b"text/plain")


class RefusalTests(UploadClients, unittest.TestCase):
    """
    Each bad PUT gets its status and leaves the upload directory as it
    was.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield UploadClients.setUp(self)
        self.alice = yield self.login("alice")
        self.before = sorted(os.listdir(self.store.directory))

    def assertNothingWritten(self):
        self.assertEqual(sorted(os.listdir(self.store.directory)), self.before)
        self.assertEqual(self.store.files, {})
        self.assertEqual(self.store.busy, set())

    @defer.inlineCallbacks
    def refused(self, code, url, body=b"abc", headers=None):
        response = yield self.http(b"PUT", url, body, headers if headers is not None else {"Content-Type": "image/png"})
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header(b"access-control-allow-origin"), b"*")
        self.assertNothingWritten()
        return response

    @defer.inlineCallbacks
    def test_wrongSignature(self):
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        signature = put.rsplit("signature=", 1)[1]
        forged = "0" * len(signature) if signature[0] != "0" else "1" * len(signature)
        yield self.refused(403, put.replace(signature, forged))
        yield self.refused(403, put.split("?")[0])
        yield self.refused(403, put.replace("size=3", "size=4"), b"abcd")

    @defer.inlineCallbacks
    def test_otherName(self):
        """
        The signature covers the name: the same query on another name is
        refused.
        """
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        yield self.refused(403, put.replace("/a.png?", "/b.png?"))

    @defer.inlineCallbacks
    def test_expired(self):
        service = self.running.server.upload
        slot = slots.Slot(slots.newToken(), "a.png", 3, "image/png", True, "alice@localhost", int(time.time()) - 1)
        yield self.refused(403, service.baseURL + slot.path() + "?" + slot.query(service.secret))

    @defer.inlineCallbacks
    def test_tooLong(self):
        """
        A body longer than the slot: 413.
        """
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        yield self.refused(413, put, b"abcd")

    @defer.inlineCallbacks
    def test_tooShort(self):
        """
        A body shorter than the slot: 400.
        """
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        yield self.refused(400, put, b"ab")
        yield self.refused(400, put, b"")

    @defer.inlineCallbacks
    def test_noLength(self):
        """
        A chunked body, without Content-Length: 411.
        """
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        response = yield self.agent.request(b"PUT", put.encode(), None, ChunkedProducer(b"abc"))
        self.assertEqual(response.code, 411)
        self.assertNothingWritten()

    @defer.inlineCallbacks
    def test_otherType(self):
        """
        A slot requested for a type takes only that type.
        """
        put, _ = yield self.slot(self.alice, "a.png", 3, "image/png")
        yield self.refused(400, put, headers={"Content-Type": "text/html"})
        yield self.refused(400, put, headers={})

    @defer.inlineCallbacks
    def test_secondPut(self):
        """
        A slot is used once: a second PUT is a conflict and the first
        file stays.
        """
        put, get = yield self.slot(self.alice, "a.png", 3, "image/png")
        response = yield self.http(b"PUT", put, b"one", {"Content-Type": "image/png"})
        self.assertEqual(response.code, 201)
        response = yield self.http(b"PUT", put, b"two", {"Content-Type": "image/png"})
        self.assertEqual(response.code, 409)
        response = yield self.http(b"GET", get)
        self.assertEqual(response.body, b"one")

    @defer.inlineCallbacks
    def test_notFound(self):
        """
        GET of an unknown token, of a known token with another name, of
        paths that are not C{token/name} (traversal included): 404.
        """
        get = yield self.upload(self.alice, "a.png", b"abc")
        base = self.running.server.upload.baseURL
        token = get.split("/")[-2]
        for path in (slots.newToken() + "/a.png", token + "/b.png", token, token + "/a.png/x",
                     "..%2Fsecret/a", "../secret", token + "/..%2F..%2Fsecret", "secret"):
            response = yield self.http(b"GET", base + path)
            self.assertEqual(response.code, 404, path)
            self.assertNotIn(self.running.server.upload.secret, response.body)

    @defer.inlineCallbacks
    def test_methods(self):
        """
        Other methods are refused (twisted.web: 405 for a method it knows,
        501 for others) and change nothing.
        """
        get = yield self.upload(self.alice, "a.png", b"abc")
        for method, code in ((b"POST", 405), (b"DELETE", 501)):
            response = yield self.http(method, get, b"")
            self.assertEqual(response.code, code, method)
        response = yield self.http(b"GET", get)
        self.assertEqual(response.body, b"abc")


class StreamingTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_streamedToUploadDirectory(self):
        """
        A body arriving is written to the upload directory as it comes
        (not served yet); a second PUT of the slot meanwhile is a
        conflict; the client leaving before the end leaves nothing.
        """
        alice = yield self.login("alice")
        put, get = yield self.slot(alice, "a.png", 100000, "image/png")
        token = get.split("/")[-2]
        path = put.split("/", 3)[3]
        port = self.running.server.http.listeners[0].port.getHost().port
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        raw = yield endpoints.connectProtocol(endpoint, Collect())
        raw.transport.write(("PUT /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                             "Content-Length: 100000\r\n\r\n" % (path,)).encode() + b"x" * 50000)
        part = os.path.join(self.store.directory, token + ".part")
        yield waitFor(lambda: os.path.exists(part) and os.path.getsize(part) == 50000)
        self.assertNotIn(token, self.store.files)
        response = yield self.http(b"PUT", put, b"y" * 100000, {"Content-Type": "image/png"})
        self.assertEqual(response.code, 409)
        response = yield self.http(b"GET", get)
        self.assertEqual(response.code, 404)
        raw.transport.loseConnection()
        yield raw.lost
        yield waitFor(lambda: not self.store.taken(token) and not os.path.exists(part))
        response = yield self.http(b"PUT", put, b"z" * 100000, {"Content-Type": "image/png"})
        self.assertEqual(response.code, 201)


class RestartTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_restart(self):
        """
        After a restart on the same configuration, stored files are served
        at the same path and a PUT URL signed before it is still good.
        """
        from xmuc.testing.server import startServer

        alice = yield self.login("alice")
        get = yield self.upload(alice, "kept.png", b"kept")
        put, pending = yield self.slot(alice, "later.png", 5, "image/png")
        oldBase = self.running.server.upload.baseURL
        yield alice.close()
        yield self.running.stop()
        again = yield startServer(self.running.server.config.path)
        self.addCleanup(again.stop)
        yield again.server.upload.started
        newBase = again.server.upload.baseURL
        response = yield self.http(b"GET", get.replace(oldBase, newBase))
        self.assertEqual((response.code, response.body), (200, b"kept"))
        response = yield self.http(b"PUT", put.replace(oldBase, newBase), b"later", {"Content-Type": "image/png"})
        self.assertEqual(response.code, 201)
        response = yield self.http(b"GET", pending.replace(oldBase, newBase))
        self.assertEqual(response.body, b"later")


class PlainSiteTests(UploadClients, unittest.TestCase):
    """
    The resource on a site without L{uploadRequestFactory}: twisted.web
    buffers the body, the resource checks it and copies it in.
    """

    @defer.inlineCallbacks
    def setUp(self):
        from twisted.web import server as webserver

        from xmuc.upload.resource import UploadResource

        yield UploadClients.setUp(self)
        site = webserver.Site(UploadResource(self.running.server.upload))
        port = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(site)
        self.addCleanup(port.stopListening)
        self.base = "http://127.0.0.1:%d/" % (port.getHost().port,)
        self.alice = yield self.login("alice")

    @defer.inlineCallbacks
    def plainSlot(self, name, size, contentType="image/png"):
        put, get = yield self.slot(self.alice, name, size, contentType)
        upload = self.running.server.upload.baseURL
        return put.replace(upload, self.base), get.replace(upload, self.base)

    @defer.inlineCallbacks
    def test_stored(self):
        put, get = yield self.plainSlot("a.png", 100000)
        data = os.urandom(100000)
        response = yield self.http(b"PUT", put, data, {"Content-Type": "image/png"})
        self.assertEqual(response.code, 201)
        response = yield self.http(b"GET", get)
        self.assertEqual(response.body, data)

    @defer.inlineCallbacks
    def test_refused(self):
        """
        The same checks, after the body: wrong length, wrong signature,
        second PUT.
        """
        put, _ = yield self.plainSlot("a.png", 3)
        for url, body, code in ((put, b"ab", 400), (put, b"abcd", 413), (put.replace("size=3", "size=2"), b"ab", 403)):
            response = yield self.http(b"PUT", url, body, {"Content-Type": "image/png"})
            self.assertEqual(response.code, code)
        self.assertEqual(self.store.files, {})
        response = yield self.http(b"PUT", put, b"abc", {"Content-Type": "image/png"})
        self.assertEqual(response.code, 201)
        response = yield self.http(b"PUT", put, b"abc", {"Content-Type": "image/png"})
        self.assertEqual(response.code, 409)
