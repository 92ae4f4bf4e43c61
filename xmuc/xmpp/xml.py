"""
What xmuc adds to Twisted's XML layer (L{twisted.words.xish.domish}) so
that no peer can write markup into another peer's stream.

Two halves, both needed:

 - L{hardenParser} makes a stream parser refuse what XMPP forbids or what
   no honest peer sends: DTDs, comments, processing instructions, entity
   declarations (RFC 6120 section 11.1), nesting deeper than a limit, more
   elements in one stanza than a limit, and namespace names containing a
   quote, C{<}, C{>} or C{&}.
 - L{EscapingSerializer}, installed as domish's serializer by L{install}
   (done when L{xmuc.xmpp} is imported), escapes namespace names where
   domish writes them raw.  Every path that turns an element into text
   (C{toXml}, hence C{XmlStream.send}, fan-out, archives, offline storage)
   goes through it, so even an element built or loaded without the parser
   cannot emit unescaped text.
"""

from twisted.words.xish import domish

from xmuc.xmpp import ns

# Deepest element nesting accepted, stream root included.  Real stanzas
# stay far below (a MAM result of a forwarded message is under 10); the
# limit keeps recursive code (domish serialization, copying) well within
# Python's recursion limit whatever a client sends.
MAX_DEPTH = 100

# Most elements accepted in one top-level element (a stanza), itself
# included, unless configured otherwise ([server] max_stanza_elements).
# Building an element is most of what parsing costs (3 to 10 us each):
# the 62,000 empty elements that fit in 256 KiB held the one reactor
# thread for up to 0.66 s; 5,000 cost under 50 ms.  Real stanzas stay far
# below: a muc#admin list of a thousand members, or legacy bookmarks of a
# thousand rooms, are 1,000 to 3,000.  Twisted's own cap
# (ExpatElementStream.maxElementCount) is 100,000.
MAX_ELEMENTS = 5000

# Characters that would end or open markup inside the quoted namespace
# declarations every serializer writes.  None of them belongs in a real
# namespace name, and RFC 3986 forbids three of them in a URI anyway.
_UNSAFE_IN_NAMESPACE = frozenset("'\"<>&")


class ParserGuard(Exception):
    """
    Input the hardened parser refuses (L{hardenParser}).

    @cvar condition: the stream error condition it ends the stream with
        (RFC 6120 section 4.9.3).
    @cvar text: the explanation sent with it, or L{None}.
    """

    condition = "policy-violation"
    text = None


class RestrictedXML(ParserGuard):
    """
    The peer sent XML that XMPP forbids (DTD, comment, processing
    instruction, entity declaration).
    """

    # RFC 6120 section 4.9.3.18: "the entity has attempted to send
    # restricted XML features such as a comment, processing instruction,
    # DTD subset, or XML entity reference".
    condition = "restricted-xml"


class TooDeep(ParserGuard):
    """
    The peer nested elements deeper than the parser's limit.
    """

    text = "elements nested too deeply"


class TooManyElements(ParserGuard):
    """
    The peer sent more elements in one stanza than the parser's limit.
    """

    text = "too many elements in one stanza"


class UnsafeNamespace(ParserGuard):
    """
    The peer declared a namespace name containing a quote, C{<}, C{>} or
    C{&}.
    """

    text = "namespace names must not contain quotes, '<', '>' or '&'"


def _restricted(*args):
    raise RestrictedXML()


_DOMISH_START = domish.ExpatElementStream._onStartElement
_DOMISH_NAMESPACE = domish.ExpatElementStream._onStartNamespace

#: The names of stanzas (RFC 6120 section 8).
STANZA_NAMES = frozenset(("message", "presence", "iq"))
_Element = domish.Element
_newElement = domish.Element.__new__


class _ElementLimits:
    """
    Counts element depth and the elements of the current stanza around the
    parser's element handlers: L{TooDeep} beyond C{maxDepth},
    L{TooManyElements} beyond C{maxElements}.  Two integer operations per
    element.
    """

    def __init__(self, parser, maxDepth, maxElements):
        self.depth = 0
        self.elements = 0
        self.rename = None
        self.renaming = False
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self._start = parser.StartElementHandler
        self._end = parser.EndElementHandler
        stream = getattr(self._start, "__self__", None)
        if getattr(self._start, "__func__", None) is _DOMISH_START and stream.__class__ is domish.ExpatElementStream:
            # domish's own stream: its element building, inlined.
            self.stream = stream
            parser.StartElementHandler = self.startBuilding
            parser.EndElementHandler = self.endBuilding
            parser.CharacterDataHandler = self.text
        else:
            parser.StartElementHandler = self.startElement
            parser.EndElementHandler = self.endElement

    def startElement(self, name, attributes):
        depth = self.depth = self.depth + 1
        if depth > self.maxDepth:
            raise TooDeep()
        if depth == 2:
            # A stanza (a child of the stream root) starts.
            self.elements = 1
        else:
            self.elements += 1
            if self.elements > self.maxElements:
                raise TooManyElements()
        self._start(name, attributes)

    def startBuilding(self, name, attributes):
        """
        L{startElement} followed by what
        L{domish.ExpatElementStream._onStartElement} does (the same
        element, the same stream state), in one call: this runs for every
        element received.
        """
        depth = self.depth = self.depth + 1
        if depth > self.maxDepth:
            raise TooDeep()
        stream = self.stream
        # expat gives "uri name" for a namespaced name, "name" otherwise.
        space = name.rfind(" ")
        if space < 0:
            uri = ""
        else:
            uri = name[:space]
            name = name[space + 1 :]
        if depth == 2:
            self.elements = 1
            self.renaming = self.rename is not None and name in STANZA_NAMES
        else:
            self.elements += 1
            if self.elements > self.maxElements:
                raise TooManyElements()
        if attributes:
            for key in [key for key in attributes if " " in key]:
                attributeURI, _, attributeName = key.rpartition(" ")
                attributes[(attributeURI, attributeName)] = attributes.pop(key)
        element = _newElement(_Element)
        element.localPrefixes = prefixes = stream.localPrefixes
        element.uri = uri
        element.name = name
        defaultUri = stream.defaultNsStack[-1]
        if defaultUri is None and uri not in prefixes.values():
            # xmlns='' (domish.Element's rule for a missing default).
            defaultUri = uri
        if self.renaming and depth > 2:
            rename = self.rename
            if uri == rename:
                uri = element.uri = ns.CLIENT
            if defaultUri == rename:
                defaultUri = ns.CLIENT
        element.defaultUri = defaultUri
        element.attributes = attributes
        element.children = []
        element.parent = None
        stream.localPrefixes = {}
        if stream.documentStarted == 1:
            stream.elementCount += 1
            if stream.elementCount > stream.maxElementCount:
                raise domish.ParserError("Maximum element count exceeded")
            current = stream.currElem
            if current is not None:
                current.children.append(element)
                element.parent = current
            stream.currElem = element
        else:
            stream.documentStarted = 1
            stream.DocumentStartEvent(element)

    def endElement(self, name):
        self.depth -= 1
        self._end(name)

    def endBuilding(self, name):
        """
        L{endElement} with L{domish.ExpatElementStream._onEndElement}
        inlined.
        """
        self.depth -= 1
        stream = self.stream
        current = stream.currElem
        if current is None:
            stream.DocumentEndEvent()
        elif current.parent is None:
            stream.ElementEvent(current)
            stream.currElem = None
            stream.elementCount = 0
            stream.stanzaSize = 0
        else:
            stream.currElem = current.parent

    def text(self, data):
        """
        L{domish.ExpatElementStream._onCdata} inlined: text joins the
        current element's last text child, or starts a new one.
        """
        current = self.stream.currElem
        if current is not None:
            children = current.children
            if children and isinstance(children[-1], str):
                children[-1] = children[-1] + data
            else:
                children.append(data)


def _refuseUnsafeNamespaces(parser):
    declared = parser.StartNamespaceDeclHandler
    stream = getattr(declared, "__self__", None)

    if getattr(declared, "__func__", None) is _DOMISH_NAMESPACE and stream.__class__ is domish.ExpatElementStream:
        # domish's own stream: its bookkeeping, inlined.

        def startNamespace(prefix, uri):
            if uri and not _UNSAFE_IN_NAMESPACE.isdisjoint(uri):
                raise UnsafeNamespace()
            if prefix is None:
                stream.defaultNsStack.append(uri)
            else:
                stream.localPrefixes[prefix] = uri

    else:

        def startNamespace(prefix, uri):
            if uri and not _UNSAFE_IN_NAMESPACE.isdisjoint(uri):
                raise UnsafeNamespace()
            declared(prefix, uri)

    parser.StartNamespaceDeclHandler = startNamespace


def hardenParser(parser, maxDepth=MAX_DEPTH, maxElements=MAX_ELEMENTS, rename=None):
    """
    Make an expat parser set up by L{domish.ExpatElementStream} raise
    L{RestrictedXML}, L{TooDeep}, L{TooManyElements} or
    L{UnsafeNamespace} (out of its C{parse}) on input a stream must
    refuse.

    @param parser: the stream's C{pyexpat} parser, its handlers already
        set.
    @param maxDepth: the deepest nesting accepted, the stream root
        included.
    @param maxElements: the most elements accepted in one child of the
        stream root (a stanza), itself included.
    @param rename: the stream's namespace (C{jabber:server},
        C{jabber:component:accept}), for streams whose stanzas the server
        handles as C{jabber:client}: the descendants of each stanza
        (C{message}, C{presence}, C{iq}) get C{jabber:client} instead of it
        as they are built, so that moving a stanza to C{jabber:client}
        only changes the stanza itself (L{stanzaToClient}).  The stanza
        keeps the stream's namespace, for the stream to check.
    """
    parser.StartDoctypeDeclHandler = _restricted
    parser.CommentHandler = _restricted
    parser.ProcessingInstructionHandler = _restricted
    parser.EntityDeclHandler = _restricted
    _refuseUnsafeNamespaces(parser)
    limits = _ElementLimits(parser, maxDepth, maxElements)
    if rename is not None:
        if parser.StartElementHandler != limits.startBuilding:
            raise ValueError("renaming needs domish's expat stream")
        limits.rename = rename


def stanzaToClient(stanza, streamNamespace):
    """
    Move a stanza read on a stream whose parser renames (L{hardenParser}
    with C{rename=streamNamespace}) to C{jabber:client}: its descendants
    already are, so only the stanza changes.

    @return: C{stanza}.
    """
    if stanza.uri == streamNamespace:
        stanza.uri = ns.CLIENT
    if stanza.defaultUri == streamNamespace:
        stanza.defaultUri = ns.CLIENT
    return stanza


def _escape(uri):
    return domish.escapeToXml(uri, 1)


class EscapingSerializer(domish._ListSerializer):
    """
    domish's serializer, with every namespace name escaped as an attribute
    value.  domish writes C{xmlns='...'} and C{xmlns:p='...'} without
    escaping, so a namespace name holding C{'<} would end the attribute
    and open markup of the sender's choosing in every recipient's stream.
    The rest is domish's algorithm unchanged, with a lean path for the
    elements that use no prefix (nearly every stanza): L{_writePlain}.

    @cvar lean: whether the lean path is taken when it applies (the same
        text either way).
    """

    lean = True

    def serialize(self, elem, closeElement=1, defaultUri=""):
        write = self.writelist.append

        if self.lean and closeElement and not self.writelist and elem.__class__ is domish.Element:
            # A whole element, the first thing written: most stanzas are
            # written by the lean path, to the same text.
            parts = []
            if _writePlain(elem, defaultUri, self.prefixes, parts.append):
                write("".join(parts))
                return

        if isinstance(elem, domish.SerializedXML):
            write(elem)
            return

        if isinstance(elem, str):
            write(domish.escapeToXml(elem))
            return

        name = elem.name
        uri = elem.uri
        defaultUri, currentDefaultUri = elem.defaultUri, defaultUri

        for p, u in elem.localPrefixes.items():
            self.prefixes[u] = p
        self.prefixStack.append(list(elem.localPrefixes.keys()))

        if defaultUri is None:
            defaultUri = currentDefaultUri

        if uri is None:
            uri = defaultUri

        prefix = None
        if uri != defaultUri or uri in self.prefixes:
            prefix = self.getPrefix(uri)
            inScope = self.prefixInScope(prefix)

        if not prefix:
            write("<%s" % (name,))
        else:
            write("<%s:%s" % (prefix, name))
            if not inScope:
                write(" xmlns:%s='%s'" % (prefix, _escape(uri)))
                self.prefixStack[-1].append(prefix)
                inScope = True

        if defaultUri != currentDefaultUri and (uri != defaultUri or not prefix or not inScope):
            write(" xmlns='%s'" % (_escape(defaultUri),))

        for p, u in elem.localPrefixes.items():
            write(" xmlns:%s='%s'" % (p, _escape(u)))

        for k, v in elem.attributes.items():
            if isinstance(k, tuple):
                attrUri, attrName = k
                attrPrefix = self.getPrefix(attrUri)
                if not self.prefixInScope(attrPrefix):
                    write(" xmlns:%s='%s'" % (attrPrefix, _escape(attrUri)))
                    self.prefixStack[-1].append(attrPrefix)
                write(" %s:%s='%s'" % (attrPrefix, attrName, domish.escapeToXml(v, 1)))
            else:
                write(" %s='%s'" % (k, domish.escapeToXml(v, 1)))

        if closeElement == 0:
            write(">")
            return

        if elem.children:
            write(">")
            for c in elem.children:
                self.serialize(c, defaultUri=defaultUri)
            if not prefix:
                write("</%s>" % (name,))
            else:
                write("</%s:%s>" % (prefix, name))
        else:
            write("/>")

        self.prefixStack.pop()


class _NotPlain(Exception):
    """
    An element needs domish's general algorithm (see L{_writePlain}).
    """


#: The namespace of C{xml:lang}: domish always binds it to C{xml}.
_XML = ns.XML


def _escapeText(text):
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escapeAttribute(text):
    text = _escapeText(text)
    if "'" in text:
        text = text.replace("'", "&apos;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def _writePlain(elem, defaultUri, prefixes, write):
    """
    Serialize C{elem} as L{EscapingSerializer} would, when it and its
    descendants use no prefix: each element in its own default namespace
    (declared with C{xmlns} where it changes), no prefixed attribute but
    C{xml:lang} and the like (C{xml} is always in scope), no element in a
    namespace that the serializer binds to a prefix (C{prefixes}: the
    stream's, and C{xml}).  The same text, without the prefix bookkeeping
    that costs most of a stanza's serialization.

    @param defaultUri: the default namespace in scope.
    @param prefixes: C{{namespace: prefix}} of the serializer.
    @param write: what takes each piece of text.
    @return: whether C{elem} was written; when not (it needs the general
        algorithm), what was passed to C{write} is to be discarded.
    """
    try:
        _plain(elem, defaultUri, prefixes, write)
    except _NotPlain:
        return False
    return True


def toText(element, defaultUri="", prefixes=None, prefixesInScope=None):
    """
    C{element.toXml(...)} with the same arguments, without making a
    serializer when the lean path applies (see L{_writePlain}).

    @return: the serialized element (str).
    """
    if EscapingSerializer.lean and element.__class__ is domish.Element:
        parts = []
        if _writePlain(element, defaultUri, prefixes or {}, parts.append):
            return "".join(parts)
    return element.toXml(prefixes=prefixes, defaultUri=defaultUri, prefixesInScope=prefixesInScope)


def _plain(elem, currentDefaultUri, prefixes, write):
    if elem.localPrefixes:
        raise _NotPlain()
    defaultUri = elem.defaultUri
    if defaultUri is None:
        defaultUri = currentDefaultUri
    uri = elem.uri
    if uri is None:
        uri = defaultUri
    if uri != defaultUri or uri in prefixes or uri == _XML:
        raise _NotPlain()
    name = elem.name
    if defaultUri != currentDefaultUri:
        write("<%s xmlns='%s'" % (name, _escapeAttribute(defaultUri)))
    else:
        write("<" + name)
    for k, v in elem.attributes.items():
        if k.__class__ is str:
            write(" %s='%s'" % (k, _escapeAttribute(v)))
        elif k[0] == _XML:
            # xml:lang: the serializer always has that prefix in scope.
            write(" xml:%s='%s'" % (k[1], _escapeAttribute(v)))
        else:
            raise _NotPlain()
    children = elem.children
    if not children:
        write("/>")
        return
    write(">")
    for c in children:
        kind = c.__class__
        if kind is str:
            write(_escapeText(c))
        elif kind is domish.Element:
            _plain(c, defaultUri, prefixes, write)
        else:
            # Serialized XML, a str subclass, another element class.
            raise _NotPlain()
    write("</%s>" % (name,))


def install():
    """
    Make L{EscapingSerializer} the serializer of every
    L{domish.Element.toXml} call in the process.
    """
    domish.SerializerClass = EscapingSerializer
