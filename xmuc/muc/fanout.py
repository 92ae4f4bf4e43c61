"""
Serialize once, deliver many times.

A stanza going to many occupants differs between recipients only in its
C{to} attribute.  L{Serialized} keeps the XML text of the stanza without
C{to} and splices each recipient's address in, so a broadcast to N
occupants costs one serialization and N string joins; the router writes
the text straight to local sessions (L{xmuc.router.Router.routeSerialized}).
"""

from twisted.words.xish import domish

from xmuc.xmpp import ns


def copyElement(element, parent=None):
    """
    Deep copy of a domish element (text children included).

    @return: the new L{domish.Element}.
    """
    copy = domish.Element((element.uri, element.name), element.defaultUri, dict(element.attributes), dict(element.localPrefixes))
    for child in element.children:
        if isinstance(child, domish.Element):
            copy.addChild(copyElement(child, copy))
        else:
            copy.addContent(child)
    return copy


def newStanza(name, **attributes):
    """
    A new top-level stanza in C{jabber:client}.

    @param name: C{'message'}, C{'presence'} or C{'iq'}.
    """
    element = domish.Element((ns.CLIENT, name), ns.CLIENT)
    for key, value in attributes.items():
        if value is not None:
            element[key] = value
    return element


class Serialized:
    """
    A stanza serialized once, addressable to many recipients.

    Only the text is kept, not the element: occupants' cached presences and
    history entries live as long as the room, and an element tree costs
    several times its text in memory.  The rare recipient that is not a
    connected session gets an element parsed back from the text (L{build}).

    @cvar made: how many stanzas were serialized here so far, for tests and
        benchmarks that check what a fan-out costs (one per variant).
    @cvar built: how many elements L{build} made (the slow path).
    """

    made = 0
    built = 0

    __slots__ = ("_head", "_tail")

    def __init__(self, element):
        """
        @param element: the stanza, without C{to}; it is serialized now, so
            later changes to it are not seen.
        """
        Serialized.made += 1
        text = element.toXml(defaultUri=ns.CLIENT)
        start = "<" + element.name
        # The serializer always starts with "<name" followed by attributes.
        self._head = start
        self._tail = text[len(start):]

    def withLastChild(self, childText):
        """
        The same stanza with one more child, already serialized, after the
        others (e.g. the C{<delay/>} of a history entry): a text splice, not
        a serialization (L{made} does not change).

        @param childText: the serialized child (its attribute values
            escaped by the caller, its namespace declared on it).
        @return: a new L{Serialized}.
        """
        spliced = Serialized.__new__(Serialized)
        spliced._head = self._head
        if self._tail.endswith("/>"):
            # No children yet: "<name attrs/>" becomes "<name attrs>child</name>".
            spliced._tail = "%s>%s</%s>" % (self._tail[:-2], childText, self._head[1:])
        else:
            # The serializer closes a stanza of the default namespace with "</name>".
            close = "</%s>" % (self._head[1:],)
            spliced._tail = self._tail[:-len(close)] + childText + close
        return spliced

    def text(self, to):
        """
        @param to: the recipient's JID (str).
        @return: the serialized stanza addressed to C{to}.
        """
        return "%s to='%s'%s" % (self._head, domish.escapeToXml(to, 1), self._tail)

    def build(self, to):
        """
        @return: a fresh element addressed to C{to} (for the slow path),
            parsed from the text.
        """
        Serialized.built += 1
        return parseElement(self.text(to))

    def sendTo(self, router, to):
        """
        Deliver to C{to} through C{router}.
        """
        router.routeSerialized(to, self.text(to), lambda: self.build(to))


def parseElement(text):
    """
    Parse one serialized element (e.g. an archived message).

    @return: the L{domish.Element}.
    @raise ValueError: when C{text} is not one well-formed element.
    """
    found = []
    stream = domish.elementStream()
    # A wrapper root: the stream parser hands out its complete children.
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    try:
        stream.parse("<wrapper xmlns='jabber:client'>")
        stream.parse(text.encode("utf-8") if isinstance(text, str) else text)
        stream.parse("</wrapper>")
    except Exception as e:
        raise ValueError("not XML: %s" % (e,))
    if not found:
        raise ValueError("no element")
    return found[0]
