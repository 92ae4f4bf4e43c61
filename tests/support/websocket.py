"""
An XMPP client over WebSocket (RFC 7395) for wire tests, on autobahn's own
WebSocket client.

L{WebSocketTestClient} is the TCP L{XMPPTestClient} (same login, SASL,
bind, iq helpers) with RFC 7395 framing: it sends C{<open/>} and
C{<close/>} instead of the stream header and footer, one element per
message with its namespace declared, and checks that every message it
receives is one complete element that parses alone (as a browser's
C{DOMParser} does it).  The server's C{<open/>} is handed to the helpers
as the stream header they expect (a C{stream:stream} element with its
attributes), its C{<close/>} as the stream's end.
"""

import re

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, endpoints, error, protocol, reactor
from twisted.python import failure
from twisted.words.xish import domish
from zope.interface import implementer
from twisted.internet.interfaces import ITransport

from tests.support.client import XMPPTestClient
from xmuc.http.websocket import ReactorTimer

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_CLIENT = "jabber:client"
NS_STREAMS = "http://etherx.jabber.org/streams"

_START = re.compile(r"^\s*<(message|presence|iq)([\s/>])")


class FramingError(Exception):
    """
    The server sent a WebSocket message that is not one complete,
    stand-alone element.
    """


def parseMessage(payload):
    """
    @param payload: one message (bytes).
    @return: its element, parsed alone: inside a wrapper that declares no
        namespace, so that what the element does not declare itself stays
        undeclared (C{uri} L{None}).
    @raise FramingError: when it is not exactly one complete element.
    """
    found = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: found.append(None)
    try:
        stream.parse(b"<wrapper>" + payload + b"</wrapper>")
    except domish.ParserError as e:
        raise FramingError("%r: %s" % (payload, e))
    if len(found) != 2 or found[1] is not None:
        raise FramingError("not one complete element: %r" % (payload,))
    if found[0].uri is None:
        raise FramingError("no namespace declared: %r" % (payload,))
    return found[0]


class WebSocketTestClient(XMPPTestClient):
    """
    L{XMPPTestClient} over a WebSocket.

    @ivar opens: the server's C{<open/>} elements, as sent.
    @ivar messages: every message received (bytes), in order.
    @ivar framingErrors: what L{parseMessage} found wrong, in order.
    @ivar carrier: the L{_Carrier} (autobahn protocol) under it.
    """

    def __init__(self, domain="localhost"):
        XMPPTestClient.__init__(self, domain)
        self.opens = []
        self.messages = []
        self.framingErrors = []
        self.carrier = None

    def _newParser(self):
        # Each message is parsed alone (messageReceived).
        pass

    def messageReceived(self, payload, isBinary):
        self.messages.append(payload)
        if isBinary:
            self.framingErrors.append("binary message %r" % (payload,))
            return
        try:
            element = parseMessage(payload)
        except FramingError as e:
            self.framingErrors.append(str(e))
            return
        if element.uri == FRAMING and element.name == "open":
            self.opens.append(element)
            header = domish.Element((NS_STREAMS, "stream"))
            header.attributes.update(element.attributes)
            self._headerReceived(header)
        elif element.uri == FRAMING and element.name == "close":
            self._documentEnded()
        else:
            self._elementReceived(element)

    def send(self, data):
        """
        Send one element: a L{domish.Element} (its namespace declared) or
        XML text, to which C{xmlns='jabber:client'} is added for a stanza
        written without it (as the TCP helpers write them).
        """
        if isinstance(data, domish.Element):
            data = data.toXml()
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        match = _START.match(data)
        if match is not None and not re.match(r"^\s*<[^>]*\sxmlns=", data):
            data = data[: match.end(1)] + " xmlns='%s'" % (NS_CLIENT,) + data[match.end(1) :]
        self.sendRaw(data.encode("utf-8"))

    def sendRaw(self, payload, isBinary=False):
        """
        Send one WebSocket message as is.
        """
        if self.carrier is not None and self.carrier.state == WebSocketClientProtocol.STATE_OPEN:
            self.carrier.sendMessage(payload, isBinary=isBinary)

    def sendHeader(self, to=None, version="1.0", ns=FRAMING):
        self.sendRaw(
            (
                "<open xmlns='%s' to='%s'%s/>"
                % (ns, to or self.domain, " version='%s'" % (version,) if version else "")
            ).encode("utf-8")
        )

    def close(self):
        """
        C{<close/>}, then wait for the connection to end.
        """
        if not self.closed.called:
            self.sendRaw(("<close xmlns='%s'/>" % (FRAMING,)).encode("ascii"))
        return self.waitClosed()


@implementer(ITransport)
class _MessageTransport:
    """
    What the XMPP client writes to: L{WebSocketTestClient.send} goes around
    it; the closing and aborting go to the WebSocket.
    """

    def __init__(self, carrier):
        self.carrier = carrier

    def write(self, data):
        self.carrier.sendMessage(data)

    def writeSequence(self, data):
        self.write(b"".join(data))

    def loseConnection(self):
        self.carrier.sendClose(1000)

    def abortConnection(self):
        self.carrier.transport.abortConnection()

    def getPeer(self):
        return self.carrier.transport.getPeer()

    def getHost(self):
        return self.carrier.transport.getHost()


class _Carrier(WebSocketClientProtocol):
    """
    The autobahn protocol under a L{WebSocketTestClient}.
    """

    def onConnect(self, response):
        self.factory.response = response

    def onOpen(self):
        client = self.factory.client
        client.carrier = self
        client.makeConnection(_MessageTransport(self))
        self.factory.opened.callback(client)

    def onMessage(self, payload, isBinary):
        self.factory.client.messageReceived(payload, isBinary)

    def _connectionLost(self, reason):
        WebSocketClientProtocol._connectionLost(self, reason)
        call, self.closeHandshakeTimeoutCall = self.closeHandshakeTimeoutCall, None
        if call is not None and call.active():
            call.cancel()

    def onClose(self, wasClean, code, reason):
        self.factory.closeCode = code
        opened = self.factory.opened
        if not opened.called:
            opened.errback(failure.Failure(error.ConnectionRefusedError("%s %s" % (code, reason))))
            return
        client = self.factory.client
        if not client.closed.called:
            client.connectionLost(failure.Failure(error.ConnectionDone()))


def connectWebSocket(port, domain="localhost", path="/xmpp-websocket", origin=None,
                     protocols=("xmpp",), headers=None, host="127.0.0.1", source=None):
    """
    Open an XMPP WebSocket to a test server's HTTP listener.

    @param origin: the C{Origin} header, or L{None} for none.
    @param headers: more request headers (C{{'X-Forwarded-For': ...}}).
    @param source: the local address to connect from, or L{None}.
    @return: Deferred firing with a L{WebSocketTestClient} once the
        handshake is done (failing when it is refused).
    """
    factory = WebSocketClientFactory(
        "ws://%s:%d%s" % (host, port, path),
        origin=origin,
        protocols=list(protocols),
        headers=headers or {},
    )
    factory.protocol = _Carrier
    factory._batched_timer = ReactorTimer(reactor)
    factory.client = WebSocketTestClient(domain)
    factory.opened = defer.Deferred()
    factory.response = None
    factory.closeCode = None
    endpoint = endpoints.TCP4ClientEndpoint(
        reactor, host, port, bindAddress=(source, 0) if source is not None else None
    )
    d = endpoint.connect(factory)
    d.addCallback(lambda _: factory.opened)
    return d


class _StatusLine(protocol.Protocol):
    def __init__(self):
        self.data = b""
        self.done = defer.Deferred()

    def dataReceived(self, data):
        self.data += data

    def connectionLost(self, reason):
        self.done.callback(self.data)


@defer.inlineCallbacks
def rawHandshake(port, headers, path="/xmpp-websocket"):
    """
    Send a WebSocket opening handshake by hand and read the whole answer
    (the server closes the connection after a refusal).

    @param headers: C{{name: value}} added to a valid handshake (a value
        of L{None} removes the header).
    @return: Deferred firing with C{(status code, raw answer)}.
    """
    request = {
        "Host": "127.0.0.1:%d" % (port,),
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "xmpp",
    }
    request.update(headers)
    text = "GET %s HTTP/1.1\r\n%s\r\n" % (
        path,
        "".join("%s: %s\r\n" % (k, v) for k, v in request.items() if v is not None),
    )
    reader = _StatusLine()
    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    connected = yield endpoints.connectProtocol(endpoint, reader)
    connected.transport.write(text.encode("ascii"))
    timeout = reactor.callLater(10, connected.transport.abortConnection)
    answer = yield reader.done
    if timeout.active():
        timeout.cancel()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return status, answer
