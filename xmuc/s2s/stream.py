"""
The XML stream of a server-to-server connection, either direction: the
parser guards and the stanza size limit of every accepted stream
(L{xmuc.xmpp.stream.GuardedXmlStream}), the
C{jabber:server} header with the dialback prefix, stream errors, and the
namespace change of stanzas crossing between C{jabber:server} and
C{jabber:client} (the parser builds payloads as C{jabber:client},
L{xmuc.xmpp.xml.stanzaToClient} moves the stanza).

What a stream does with what it reads is its negotiator's business:
L{xmuc.s2s.incoming.IncomingNegotiator} for a peer that connected to us,
L{xmuc.s2s.outgoing.OutgoingNegotiator} for a connection we opened.
"""

from twisted.internet import defer
from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.xish import domish

from xmuc.c2s.limits import LimitedStream
from xmuc.xmpp import ns
from xmuc.xmpp.stream import CLOSE_TIMEOUT, GuardedXmlStream
from xmuc.xmpp.xml import toText

def domainOf(address):
    """
    @param address: a JID string (C{user@host/resource}).
    @return: its domain part, as written (cheap: no parsing).
    """
    return address.partition("/")[0].rpartition("@")[2]


class ServerXmlStream(LimitedStream, GuardedXmlStream):
    """
    One server-to-server connection.

    @ivar negotiator: what handles the stream's events (this stream's
        L{xmlstream.XmlStream.authenticator}).
    @ivar tls: whether TLS is active.
    @ivar closing: set once the stream is being closed; input is ignored.
    @ivar closedCleanly: once the connection is lost, whether the stream
        was closed first (by either side).
    @ivar lastActive: when something was last read or written (for the
        idle timeout).
    @ivar inputGate: the L{xmuc.c2s.limits.InputGate}, L{ReadRate
        <xmuc.c2s.limits.ReadRate>} and L{OutputMonitor
        <xmuc.c2s.limits.OutputMonitor>} of the connection, set by the
        manager's limits once connected (C{[s2s]} keys; L{None} for one
        refused).
    """

    tls = False
    closedCleanly = False
    # Stanzas are handled as jabber:client (stanzaToClient): their
    # payloads are built so.
    parserNamespace = ns.SERVER

    def __init__(self, negotiator, manager):
        """
        @param negotiator: what handles the stream's events.
        @param manager: the L{xmuc.s2s.manager.S2SManager}: its limits and
            clock, and its set of open streams (C{streams}).
        """
        GuardedXmlStream.__init__(self, negotiator)
        self.negotiator = negotiator
        self.namespace = ns.SERVER
        self.prefixes = {ns.STREAMS: "stream", ns.DIALBACK: "db"}
        self.maxStanzaSize = manager.maxStanzaSize
        self.clock = manager.clock
        self.lastActive = self.clock.seconds()
        self._streams = manager.streams
        self._manager = manager
        self._closeTimer = None
        self.lost = defer.Deferred()

    def connectionMade(self):
        self._streams.add(self)
        xmlstream.XmlStream.connectionMade(self)

    # --- reading

    def restart(self):
        """
        Forget the parser state: a new stream header comes next (after TLS
        or SASL success).
        """
        self.detachParser()
        self.reset()

    def dataReceived(self, data):
        if self.closing:
            return
        limits = self._manager.limits
        # What this input makes the server write to congested server
        # streams is what backpressure holds this connection's input for.
        limits.reading = self
        self.lastActive = self.clock.seconds()
        try:
            self._parse(self.stream, data)
        finally:
            limits.reading = None
        if self.readRate is not None and not self.closing:
            self.readRate.consumed(len(data))

    # --- writing

    def sendHeader(self, sender=None, recipient=None, sid=None):
        """
        Our stream header: C{jabber:server}, version 1.0, the dialback
        prefix declared (XEP-0220 section 2.1.1).
        """
        attributes = ""
        for name, value in (("from", sender), ("to", recipient), ("id", sid)):
            if value:
                attributes += " %s='%s'" % (name, domish.escapeToXml(value, 1))
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s' xmlns:db='%s'%s"
            " version='1.0'>" % (ns.SERVER, ns.STREAMS, ns.DIALBACK, attributes)
        )
        self._headerSent = True

    def sendStanza(self, element):
        """
        Write a stanza of the server (C{jabber:client} elements): serialized
        without a default namespace, it is C{jabber:server} on this stream.
        """
        self.writeText(toText(element, defaultUri=ns.CLIENT))

    def writeText(self, text):
        """
        Write an already serialized stanza (the fan-out path); past a full
        buffer it counts against the connection's backlog.
        """
        self.lastActive = self.clock.seconds()
        data = text.encode("utf-8")
        self.transport.write(data)
        if self.outputCongested:
            self.output.written(len(data))

    def send(self, obj):
        """
        Write an element or XML text (negotiation, stream errors); text
        counts against the backlog past a full buffer, as L{writeText}.
        """
        xmlstream.XmlStream.send(self, obj)
        if self.outputCongested and not domish.IElement.providedBy(obj):
            self.output.written(len(obj))

    def streamError(self, condition, text=None):
        """
        Send a stream error (our header first, if not sent yet) and close.
        """
        if self.closing:
            return
        self.negotiator.failing(condition, text)
        if not self._headerSent:
            self.sendHeader(*self.negotiator.headerAddresses())
        self.closing = True
        self._manager.limits.closing(self)
        self.send(error.StreamError(condition, text).getElement())
        self.sendFooter()
        self.transport.loseConnection()
        self._abortLater()

    def close(self):
        """
        Close the stream without an error.
        """
        if self.closing:
            return
        self.closing = True
        self._manager.limits.closing(self)
        if self._headerSent:
            self.sendFooter()
        self.transport.loseConnection()
        self._abortLater()

    def _abortLater(self):
        if self._manager.aborting:
            # The server's stop is past its deadline.
            self.transport.abortConnection()
            return
        if not self._manager.running:
            # Stopping: the manager waits for this stream, and aborts it
            # at its deadline.
            return
        if self._closeTimer is None:
            self._closeTimer = self.clock.callLater(CLOSE_TIMEOUT, self.transport.abortConnection)

    def connectionLost(self, reason):
        # Whether either side had closed the stream, then: nothing more
        # may be written or scheduled for it.
        self.closedCleanly = self.closing
        self.closing = True
        self._streams.discard(self)
        self._manager.limits.gone(self)
        xmlstream.XmlStream.connectionLost(self, reason)
        if self._closeTimer is not None and self._closeTimer.active():
            self._closeTimer.cancel()
        self.negotiator.connectionLost(reason)
        self.lost.callback(None)


def firstChild(element, uri, name):
    """
    @return: the first child of C{element} with that name, or L{None}.
    """
    for child in element.elements():
        if child.uri == uri and child.name == name:
            return child
    return None
