"""
Building, copying and parsing stanzas on domish, for what Twisted does not
provide (L{twisted.words.protocols.jabber.xmlstream.toResponse} builds the
replies, L{resultFor} adds their payload).
"""

from twisted.words.protocols.jabber import xmlstream
from twisted.words.xish import domish

from xmuc.xmpp import ns


def newStanza(name, **attributes):
    """
    A new top-level stanza in C{jabber:client}.

    @param name: C{'message'}, C{'presence'} or C{'iq'}.
    @param attributes: its attributes; those given as L{None} are left out.
    @return: the L{domish.Element}.
    """
    element = domish.Element((ns.CLIENT, name), ns.CLIENT)
    for key, value in attributes.items():
        if value is not None:
            element[key] = value
    return element


def resultFor(stanza, child=None):
    """
    The C{result} iq answering C{stanza}: addressed back to its sender, from
    its recipient, with its id.

    @param stanza: an iq C{get} or C{set}.
    @param child: the payload of the result, or L{None} for an empty one.
    @return: the L{domish.Element}.
    """
    result = xmlstream.toResponse(stanza, "result")
    if child is not None:
        result.addChild(child)
    return result


def copyElement(element):
    """
    Deep copy of a domish element (text children included).

    @return: the new L{domish.Element}.
    """
    copy = domish.Element(
        (element.uri, element.name), element.defaultUri, dict(element.attributes), dict(element.localPrefixes)
    )
    for child in element.children:
        if isinstance(child, domish.Element):
            copy.addChild(copyElement(child))
        else:
            copy.addContent(child)
    return copy


def clientCopy(element, inherited=ns.CLIENT):
    """
    A deep copy of C{element} with every namespace explicit, to be nested in
    another stanza (a C{<forwarded/>}).

    Stanzas built by the server may leave the C{jabber:client} namespace
    implicit (C{uri} L{None}), which the stream's default namespace fills
    in at the top level, but not once nested.

    @param element: a L{domish.Element}.
    @param inherited: the namespace of the parent.
    @return: the new L{domish.Element}.
    """
    uri = element.uri if element.uri is not None else inherited
    defaultUri = element.defaultUri if element.defaultUri is not None else uri
    copy = domish.Element((uri, element.name), defaultUri, dict(element.attributes), dict(element.localPrefixes))
    for child in element.children:
        if isinstance(child, domish.Element):
            copy.addChild(clientCopy(child, defaultUri))
        else:
            copy.addContent(child)
    return copy


#: The parent of the parsed element: the client stream's default namespace
#: and its C{stream} prefix, as in the text a client stream writes.
_WRAPPER = "<wrapper xmlns='%s' xmlns:stream='%s'>" % (ns.CLIENT, ns.STREAMS)


def parseElement(text):
    """
    Parse one serialized element (e.g. an archived message), in the
    namespace context of a client stream.

    @param text: the XML text (str or UTF-8 bytes).
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
        stream.parse(_WRAPPER)
        stream.parse(text.encode("utf-8") if isinstance(text, str) else text)
        stream.parse("</wrapper>")
    except Exception as e:
        raise ValueError("not XML: %s" % (e,))
    if not found:
        raise ValueError("no element")
    return found[0]
