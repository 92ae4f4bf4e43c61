"""
XMPP over WebSocket (RFC 7395) at C{/xmpp-websocket}.

The WebSocket is only a transport: each connection gets the very
L{ClientXmlStream} and L{ClientAuthenticator} a TCP client gets (SASL,
binding, Stream Management, limits, logging), under a
L{WebSocketTransport} that translates the framing, the one thing RFC 7395
changes:

  - the stream header and footer are the stand-alone elements
    C{<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>} and C{<close/>}
    (section 3.3.2, 3.6); a stream restart after SASL is a new C{<open/>};
  - every message holds exactly one complete top-level element, parsable
    as a document of its own, namespaces declared (3.3.3): each write of
    the stream (one element: every writer of a client stream writes one
    per call) is one message, with C{xmlns='jabber:client'} /
    C{xmlns:stream} added where the TCP stream relies on its header;
  - messages are text (3.2); TLS is the WebSocket's (C{wss}), never
    STARTTLS (3.1).

Incoming, the client's C{<open/>} becomes a stream header fed to the
stream's parser and C{<close/>} its end tag, so the parser and everything
after it work as on TCP.  A message that is not one complete element, a
binary message, or one over C{[server] max_stanza_size} closes the stream
with a stream error; the connection alone is affected.
"""

import re
import struct

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import error as netError, interfaces
from twisted.logger import Logger
from twisted.python import failure
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.c2s.stream import ClientAuthenticator, ClientXmlStream
from xmuc.http.proxy import clientAddress
from xmuc.xmpp import ns
from xmuc.xmpp.xml import ParserGuard, hardenParser

log = Logger()

#: The WebSocket subprotocol of RFC 7395 (section 3.1).
SUBPROTOCOL = "xmpp"

#: The path browsers connect to (the one XEP-0156 discovery advertises).
PATH = b"xmpp-websocket"

_STANZA_DEFAULT = b" xmlns='" + ns.CLIENT.encode("ascii") + b"'"
_STREAM_PREFIX = b" xmlns:stream='" + ns.STREAMS.encode("ascii") + b"'"

#: The header of a final text frame of each size below 126 (RFC 6455 5.2).
_SHORT_HEADS = [bytes((0x81, size)) for size in range(126)]

#: Our C{<close/>}, written as RFC 7395's examples write it (section 3.6):
#: Strophe.js (Converse.js) recognises it by comparing the text.
_CLOSE = ('<close xmlns="%s" />' % (ns.FRAMING,)).encode("ascii")


def declareNamespaces(element):
    """
    Make one serialized top-level element stand alone (RFC 7395 3.3.3:
    "namespace declarations ... MUST be included"): a stanza written
    without its default namespace (it had the TCP stream's) gets
    C{xmlns='jabber:client'}, a C{stream:} element its prefix declaration.

    @param element: the bytes of one element, as the stream's serializer
        wrote them (attributes in single quotes, C{'} and C{"} escaped in
        values, so that C{ xmlns='} or C{ xmlns="} can only be a
        declaration).
    @return: the bytes to send.
    """
    end = element.find(b">")
    head = element[:end]
    nameEnd = head.find(b" ")
    if nameEnd == -1:
        nameEnd = end - 1 if head.endswith(b"/") else end
    if head.startswith(b"<stream:"):
        if b" xmlns:stream='" in head:
            return element
        return element[:nameEnd] + _STREAM_PREFIX + element[nameEnd:]
    if b" xmlns='" in head or b' xmlns="' in head or b":" in head[:nameEnd]:
        return element
    return element[:nameEnd] + _STANZA_DEFAULT + element[nameEnd:]


@implementer(interfaces.ITransport, interfaces.IPushProducer, interfaces.IConsumer)
class WebSocketTransport:
    """
    What the XML stream of a WebSocket connection writes to and pauses:
    each element it writes becomes one text message; flow control, the
    connection's end and addresses are the underlying TCP (or TLS)
    connection's.

    @ivar protocol: the L{XMPPWebSocketProtocol}.
    @ivar peer: the client's address (from a trusted proxy's
        C{X-Forwarded-For} when behind one).
    """

    def __init__(self, protocol, peer):
        self.protocol = protocol
        self.peer = peer

    def write(self, data):
        """
        Send C{data}, one complete top-level element (every writer of a
        client stream writes one element per call), as one text message.

        This is the fan-out's path: the frame (RFC 6455 5.2: final, text,
        unmasked from a server, no extension negotiated) is written here
        rather than by autobahn's C{sendMessage}, which costs five times
        as much (mostly formatting debug log arguments it then drops).
        """
        protocol = self.protocol
        if protocol.state != WebSocketServerProtocol.STATE_OPEN:
            return
        data = declareNamespaces(data)
        if protocol.send_queue:
            # autobahn has frames waiting (a synchronous write): after them.
            protocol.sendMessage(data)
            return
        size = len(data)
        if size < 126:
            head = _SHORT_HEADS[size]
        elif size < 65536:
            head = struct.pack("!BBH", 0x81, 126, size)
        else:
            head = struct.pack("!BBQ", 0x81, 127, size)
        protocol.transport.write(head + data)

    def writeSequence(self, data):
        self.write(b"".join(data))

    def loseConnection(self):
        if self.protocol.state == WebSocketServerProtocol.STATE_OPEN:
            self.protocol.sendClose(1000)

    def abortConnection(self):
        transport = self.protocol.transport
        if transport is not None:
            transport.abortConnection()

    def getPeer(self):
        return self.peer

    def getHost(self):
        return self.protocol.transport.getHost()

    def setTcpNoDelay(self, enabled):
        # The TLS wrapper has no such method; its TCP transport does.
        transport = self.protocol.transport
        setNoDelay = getattr(transport, "setTcpNoDelay", None)
        if setNoDelay is None:
            setNoDelay = getattr(getattr(transport, "transport", None), "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(enabled)

    # Flow control is the TCP connection's: the stream's input gate pauses
    # reading it, its output monitor learns when its buffer is full.

    def pauseProducing(self):
        self.protocol.transport.pauseProducing()

    def resumeProducing(self):
        self.protocol.transport.resumeProducing()

    def stopProducing(self):
        self.protocol.transport.stopProducing()

    def registerProducer(self, producer, streaming):
        transport = self.protocol.transport
        # twisted.web's channel was the producer of the connection until
        # the upgrade.
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        transport.registerProducer(producer, streaming)

    def unregisterProducer(self):
        transport = self.protocol.transport
        if transport is not None:
            transport.unregisterProducer()


class WebSocketXmlStream(ClientXmlStream):
    """
    A client stream whose input comes in WebSocket messages: each must
    hold exactly one complete element (RFC 7395 3.3.3).  (Messages held
    while the whole server is overloaded, L{xmuc.c2s.limits}, are parsed
    together afterwards, as TCP data is: that check is then skipped.)

    @ivar elementsParsed: how many top-level elements were parsed.
    @ivar framed: whether the data being parsed is one client message (not
        a translated C{<open/>} or C{<close/>}).
    """

    # RFC 7395 3.1: TLS is the WebSocket's (wss), never STARTTLS.
    startTLSAllowed = False
    elementsParsed = 0
    framed = False

    def onElement(self, element):
        self.elementsParsed += 1
        ClientXmlStream.onElement(self, element)

    def _parse(self, stream, data):
        if not self.framed:
            return ClientXmlStream._parse(self, stream, data)
        before = self.elementsParsed
        ClientXmlStream._parse(self, stream, data)
        if self.closing or stream is not self.stream:
            # Closed, or a restart (SASL success): what remained of the
            # message belonged to the old parser.
            return
        complete = stream.currElem is None and data.rstrip().endswith(b">")
        if self.elementsParsed - before != 1 or not complete:
            if self.elementsParsed == before and stream.currElem is None and not data.strip():
                # Whitespace only: nothing to act upon.
                return
            self.authenticator.streamError(
                "not-well-formed",
                "each WebSocket message must hold exactly one complete element (RFC 7395 3.3.3)",
            )

    def sendHeader(self):
        """
        Our stream header: an C{<open/>} (RFC 7395 3.3.2).
        """
        host = self.thisEntity.host if self.thisEntity else None
        self.send(
            "<open xmlns='%s'%s id='%s' version='1.0' xml:lang='en'/>"
            % (
                ns.FRAMING,
                " from='%s'" % (domish.escapeToXml(host, 1),) if host else "",
                self.sid,
            )
        )
        self._headerSent = True

    def sendFooter(self):
        """
        Our stream's end: a C{<close/>} (RFC 7395 3.6).
        """
        self.write(_CLOSE)


def _parseAlone(data):
    """
    @param data: a client message (bytes).
    @return: its one element, parsed as a document of its own with the
        stream parser's guards, or L{None} when it is no well-formed
        element (or holds more than one).
    """
    found = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = found.append
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: found.append(None)
    hardenParser(stream.parser)
    try:
        stream.parse(data)
    except (domish.ParserError, ParserGuard):
        return None
    if len(found) != 2 or found[1] is not None:
        return None
    return found[0]


#: The start of a framing element of the client: C{<open} or C{<close}.
_FRAMING_START = re.compile(rb"^\s*<(open|close)[\s/>]")


class XMPPWebSocketProtocol(WebSocketServerProtocol):
    """
    One WebSocket connection carrying one client stream.

    @ivar xmlstream: the L{WebSocketXmlStream} once the handshake is done.
    @ivar secure: whether the client reached us over TLS (C{wss}, or
        C{https} at a trusted proxy).
    @ivar client: the client's address.
    """

    xmlstream = None
    secure = False
    client = None
    _headerParser = None

    def onConnect(self, request):
        """
        The handshake: C{Origin} checked against C{[http]
        allowed_origins}, the C{xmpp} subprotocol required.

        @raise ConnectionDeny: C{403} for an origin not allowed, C{400}
            without the C{xmpp} subprotocol.
        """
        http = self.factory.http
        headers = request.headers
        origin = headers.get("origin")
        if http.allowedOrigins and origin is not None:
            if origin.strip().rstrip("/").lower() not in http.allowedOrigins:
                raise ConnectionDeny(403, "origin not allowed")
        if SUBPROTOCOL not in request.protocols:
            raise ConnectionDeny(400, "the WebSocket subprotocol 'xmpp' is required (RFC 7395)")
        peer = self.transport.getPeer()
        peerHost = getattr(peer, "host", None)
        proxies = http.proxies
        forwarded = headers.get("x-forwarded-for")
        host = proxies.clientHost(peerHost, [forwarded] if forwarded else []) if peerHost else None
        self.client = clientAddress(peer, host) if host else peer
        self.secure = proxies.isSecure(
            peerHost,
            interfaces.ISSLTransport(self.transport, None) is not None,
            headers.get("x-forwarded-proto"),
        )
        return SUBPROTOCOL

    def onOpen(self):
        """
        The handshake is done: the connection gets the client stream a TCP
        connection gets (its own authenticator, the c2s factory's limits
        and bootstraps), encrypted when the WebSocket is.
        """
        c2s = self.factory.c2s
        authenticator = ClientAuthenticator(c2s, c2s.clock)
        xs = WebSocketXmlStream(authenticator)
        xs.factory = c2s
        c2s.installBootstraps(xs)
        xs.tls = self.secure
        self.xmlstream = xs
        xs.makeConnection(WebSocketTransport(self, self.client))

    def onMessage(self, payload, isBinary):
        """
        One client message: an C{<open/>} (when the stream starts or
        restarts) becomes a stream header for the stream's parser, a
        C{<close/>} its end tag, anything else is parsed as one element.
        """
        xs = self.xmlstream
        if xs is None or xs.closing:
            return
        if isBinary:
            # RFC 7395 3.2: "Data frame messages in the XMPP subprotocol
            # MUST be of the text type".
            return xs.authenticator.streamError(
                "unsupported-encoding", "binary WebSocket messages are not XMPP (RFC 7395 3.2)"
            )
        if len(payload) > xs.maxStanzaSize:
            return xs.authenticator.streamError("policy-violation", "stanza too large")
        framing = _FRAMING_START.match(payload)
        expectingOpen = self._headerParser is not xs.stream
        if framing is not None:
            element = _parseAlone(payload)
            if element is None:
                return xs.authenticator.streamError("not-well-formed")
            if element.uri == ns.FRAMING and element.name == "close":
                if expectingOpen:
                    return xs.authenticator.close(why="client closed the stream")
                return self._feed(xs, b"</stream:stream>", framed=False)
            if element.uri == ns.FRAMING and element.name == "open" and expectingOpen:
                self._headerParser = xs.stream
                return self._feed(xs, _streamHeader(element), framed=False)
        if expectingOpen:
            # As on TCP, where the first element must be the stream header.
            return xs.authenticator.streamError(
                "invalid-namespace", "the stream starts with <open xmlns='%s'/>" % (ns.FRAMING,)
            )
        self._feed(xs, payload, framed=True)

    def _feed(self, xs, data, framed):
        """
        Give C{data} to the stream as TCP data would be.

        @param framed: whether C{data} is a client message (checked to
            hold exactly one element) rather than a translated header or
            end tag.
        """
        xs.framed = framed
        try:
            xs.dataReceived(data)
        finally:
            xs.framed = False

    def _max_message_size_exceeded(self, size, maximum, reason):
        # autobahn's hook for a message over maxMessagePayloadSize: the
        # client learns why from a stream error before the connection is
        # failed.
        xs = self.xmlstream
        if xs is not None and not xs.closing:
            xs.authenticator.streamError("policy-violation", "stanza too large")
        WebSocketServerProtocol._max_message_size_exceeded(self, size, maximum, reason)

    def _connectionLost(self, reason):
        WebSocketServerProtocol._connectionLost(self, reason)
        # autobahn leaves this one scheduled (it does nothing once the
        # connection is gone, but keeps the reactor busy).
        call, self.closeHandshakeTimeoutCall = self.closeHandshakeTimeoutCall, None
        if call is not None and call.active():
            call.cancel()

    def onClose(self, wasClean, code, reason):
        """
        The WebSocket is closed: the stream's connection is lost, cleanly
        when the stream was closed first (else a resumable session
        hibernates, as when a TCP connection drops).
        """
        xs, self.xmlstream = self.xmlstream, None
        if xs is None:
            return
        why = netError.ConnectionDone if xs.closing else netError.ConnectionLost
        xs.connectionLost(failure.Failure(why("WebSocket closed (%s)" % (code,))))


def _streamHeader(opening):
    """
    @param opening: the client's C{<open/>} element.
    @return: the equivalent TCP stream header (bytes) for the stream's
        parser: the same C{to}, C{from}, C{version} and C{xml:lang}.
    """
    attributes = []
    for key, value in opening.attributes.items():
        if isinstance(key, tuple):
            if key == (ns.XML, "lang"):
                attributes.append(" xml:lang='%s'" % (domish.escapeToXml(value, 1),))
            continue
        if key in ("to", "from", "version", "id"):
            attributes.append(" %s='%s'" % (key, domish.escapeToXml(value, 1)))
    return (
        "<stream:stream xmlns='%s' xmlns:stream='%s'%s>" % (ns.CLIENT, ns.STREAMS, "".join(attributes))
    ).encode("utf-8")


class ReactorTimer:
    """
    autobahn's timer interface (C{call_later}) on the reactor itself: one
    L{IDelayedCall} per timeout, gone once cancelled.  autobahn's default
    groups timeouts in shared buckets whose calls stay scheduled after
    every timeout in them was cancelled.
    """

    def __init__(self, clock):
        self.clock = clock

    def call_later(self, delay, function, *args, **kwargs):
        return self.clock.callLater(delay, function, *args, **kwargs)


class XMPPWebSocketFactory(WebSocketServerFactory):
    """
    Builds the WebSocket protocol of each connection.

    @ivar http: the L{xmuc.http.site.HTTPFrontend}.
    @ivar c2s: the L{xmuc.c2s.stream.ClientStreamFactory} whose streams
        the WebSocket connections carry.
    """

    protocol = XMPPWebSocketProtocol

    def __init__(self, http, c2s):
        WebSocketServerFactory.__init__(self)
        self._batched_timer = ReactorTimer(c2s.clock)
        self.http = http
        self.c2s = c2s
        self.setProtocolOptions(
            # Larger messages are refused before they are buffered whole;
            # up to this bound, [server] max_stanza_size is checked (with
            # a stream error) as on TCP.
            maxMessagePayloadSize=2 * c2s.maxStanzaSize + 4096,
            maxFramePayloadSize=2 * c2s.maxStanzaSize + 4096,
            # Origins are checked in onConnect, "null" (a page from a file
            # or a sandbox) like any other.
            allowNullOrigin=True,
            # No compression (WebSocketTransport.write frames messages
            # itself) and no fragmentation: the default, said here.
            perMessageCompressionAccept=lambda offers: None,
            autoFragmentSize=0,
            # A protocol error gets a close frame, not a dropped connection.
            failByDrop=False,
            # The c2s negotiation timeout applies after the handshake.
            openHandshakeTimeout=10,
            closeHandshakeTimeout=5,
        )


def websocketResource(http, c2s):
    """
    @param http: the L{xmuc.http.site.HTTPFrontend}.
    @param c2s: the L{xmuc.c2s.stream.ClientStreamFactory}.
    @return: the resource to serve at L{PATH}.
    """
    return WebSocketResource(XMPPWebSocketFactory(http, c2s))
