"""
What upload tests do over the wire: a server with HTTP and the upload
service on, slot requests over XMPP, and plain HTTP requests
(L{twisted.web.client.Agent}) against the URLs it gives.
"""

from io import BytesIO

from twisted.internet import defer, reactor
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from tests.support.wire import OVERRIDES, LoggedInClients

UPLOAD = "urn:xmpp:http:upload:0"

#: The wire test server with HTTP on an ephemeral port and the upload
#: service on.
UPLOAD_OVERRIDES = dict(
    OVERRIDES,
    http={"listen": "tcp:0:interface=127.0.0.1"},
    upload={"enabled": "true", "path": "upload", "max_size": "100000", "quota": "250000"},
)


class Response:
    """
    An HTTP answer read whole.

    @ivar code: the status.
    @ivar headers: the L{Headers}.
    @ivar body: the body (bytes).
    """

    def __init__(self, code, headers, body):
        self.code = code
        self.headers = headers
        self.body = body

    def header(self, name):
        """
        @return: the first value of header C{name} (str), or L{None}.
        """
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None


class UploadClients(LoggedInClients):
    """
    L{LoggedInClients} with the upload service, an HTTP client, and the
    steps of an upload.
    """

    overrides = UPLOAD_OVERRIDES
    uploadDomain = "upload.localhost"

    @defer.inlineCallbacks
    def setUp(self):
        yield LoggedInClients.setUp(self)
        yield self.running.server.upload.started
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.agent = Agent(reactor, pool=pool)
        self.addCleanup(pool.closeCachedConnections)

    @property
    def store(self):
        return self.running.server.upload.store

    def requestSlot(self, client, filename, size, contentType=None, to=None):
        """
        @return: Deferred firing with the reply to a slot request.
        """
        typed = " content-type='%s'" % (contentType,) if contentType else ""
        return client.iq(
            "<iq type='get' id='%s' to='%s'><request xmlns='%s' filename='%s' size='%d'%s/></iq>"
            % (client.nextID(), to or self.uploadDomain, UPLOAD, filename, size, typed))

    @defer.inlineCallbacks
    def slot(self, client, filename, size, contentType=None):
        """
        @return: Deferred firing with C{(put URL, get URL)} of a granted
            slot.
        """
        reply = yield self.requestSlot(client, filename, size, contentType)
        self.assertEqual(reply["type"], "result", reply.toXml())
        slot = reply.slot
        self.assertEqual(slot.uri, UPLOAD)
        return slot.put["url"], slot.get["url"]

    @defer.inlineCallbacks
    def http(self, method, url, body=None, headers=None):
        """
        @param headers: C{{name: value}} (str).
        @return: Deferred firing with the L{Response}.
        """
        sent = Headers({k.encode("ascii"): [v.encode("latin-1")] for k, v in (headers or {}).items()})
        producer = None
        if body is not None:
            producer = FileBodyProducer(BytesIO(body))
        response = yield self.agent.request(method, url.encode("ascii"), sent, producer)
        content = yield readBody(response)
        return Response(response.code, response.headers, content)

    @defer.inlineCallbacks
    def upload(self, client, filename, data, contentType="image/png"):
        """
        Request a slot and PUT C{data}.

        @return: Deferred firing with the GET URL.
        """
        put, get = yield self.slot(client, filename, len(data), contentType)
        response = yield self.http(b"PUT", put, data, {"Content-Type": contentType} if contentType else None)
        self.assertEqual(response.code, 201, response.body)
        return get
