"""
What the XML streams xmuc accepts (client, server and component streams)
do alike: the hardened parser (L{xmuc.xmpp.xml}), the stanza size limit,
the stream error each refusal ends the stream with, stream ids, the domain
of a stream header, the condition of a stream error received, and how long
a closing stream may take.

L{GuardedXmlStream} holds the reading; each stream class adds its header,
its writing and what happens around a read (limits, timers).
"""

import binascii
import os

from twisted.words.protocols.jabber import xmlstream
from twisted.words.protocols.jabber.xmpp_stringprep import nameprep
from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.xml import MAX_ELEMENTS, ParserGuard, hardenParser

#: Seconds a closing stream may take before the TCP connection is aborted
#: (a peer that does not read would otherwise keep it open forever).
CLOSE_TIMEOUT = 10.0


def newStreamID(size=16):
    """
    @param size: how many random bytes it holds.
    @return: a fresh random stream id, in hexadecimal (dialback keys depend
        on it: it must not be guessable).
    """
    return binascii.hexlify(os.urandom(size)).decode("ascii")


def prepareDomain(text):
    """
    @param text: the domain a stream header names (C{to} or C{from}).
    @return: the nameprep'ed domain, or L{None}.
    """
    if not text:
        return None
    try:
        return nameprep.prepare(text)
    except (UnicodeError, ValueError, IndexError):
        return None


def streamErrorCondition(element, default="undefined-condition"):
    """
    @param element: a C{<stream:error/>} the peer sent.
    @param default: what to answer when it names no condition.
    @return: its condition name (RFC 6120 section 4.9.3), or C{default}.
    """
    for child in element.elements():
        if child.uri == ns.XMPP_STREAMS and child.name != "text":
            return child.name
    return default


class GuardedXmlStream(xmlstream.XmlStream):
    """
    An XML stream whose parser is hardened (L{hardenParser}) and whose
    stanzas are bounded in bytes (C{[server] max_stanza_size}).  Refusals
    go to C{authenticator.streamError(condition, text)}; every top-level
    element that passes goes to C{_handler} (the authenticator's
    C{elementReceived} unless a subclass sets another).

    A subclass sets C{maxStanzaSize} (and C{maxStanzaElements} to change
    the default), and reads with L{_parse} from its C{dataReceived}.

    @cvar parserNamespace: the stream's namespace, whose stanzas are built
        as C{jabber:client} (C{rename} of L{hardenParser}), or L{None}.
    @ivar closing: set once the stream is being closed; input is ignored.
    """

    closing = False
    maxStanzaElements = MAX_ELEMENTS
    parserNamespace = None

    def __init__(self, authenticator):
        xmlstream.XmlStream.__init__(self, authenticator)
        self._handler = authenticator.elementReceived

    def _initializeStream(self):
        xmlstream.XmlStream._initializeStream(self)
        # Stanza size accounting, in bytes given to this parser: where the
        # last top-level element ended, and how much was received.  A
        # stanza is everything between two ends; checking costs two integer
        # operations per stanza and per read.
        self._received = 0
        self._lastEnd = 0
        self.stream.maxStanzaSize = self.maxStanzaSize
        hardenParser(self.stream.parser, maxElements=self.maxStanzaElements, rename=self.parserNamespace)

    def detachParser(self):
        """
        Make the current parser inert: after STARTTLS or SASL success the
        rest of an already received buffer must not be acted upon (a
        plaintext injection would otherwise pass as protected data).
        """
        stream = self.stream
        if stream is not None:
            ignore = lambda *args: None
            stream.DocumentStartEvent = ignore
            stream.ElementEvent = ignore
            stream.DocumentEndEvent = ignore

    def _parse(self, stream, data):
        """
        Parse C{data}; input the parser refuses, or a stanza growing past
        C{maxStanzaSize}, ends the stream with its stream error.

        @param stream: the current parser (C{self.stream}): a restart
            during the parse (STARTTLS, SASL success) replaces it, and the
            data then belonged to the old one.
        """
        try:
            stream.parse(data)
        except domish.ParserError:
            # Twisted's parser stops a stanza past its maxStanzaSize with
            # a ParserError too.
            if stream.stanzaSize > stream.maxStanzaSize:
                self.authenticator.streamError("policy-violation", "stanza too large")
            else:
                self.authenticator.streamError("not-well-formed")
            return
        except ParserGuard as e:
            self.authenticator.streamError(e.condition, e.text)
            return
        if stream is self.stream and not self.closing:
            self._received += len(data)
            if self._received - self._lastEnd > self.maxStanzaSize:
                self.authenticator.streamError("policy-violation", "stanza too large")

    def onDocumentStart(self, rootElement):
        self._lastEnd = self.stream.parser.CurrentByteIndex
        self.authenticator.streamStarted(rootElement)

    def onElement(self, element):
        if self.closing:
            return
        end = self.stream.parser.CurrentByteIndex
        size = end - self._lastEnd
        self._lastEnd = end
        if size > self.maxStanzaSize:
            self.authenticator.streamError("policy-violation", "stanza too large")
            return
        self._handler(element)

    def onDocumentEnd(self):
        self.authenticator.streamEnded()
