"""
Serialize once, deliver many times.

A stanza going to many recipients differs between them only in its C{to}
attribute.  L{Serialized} keeps the XML text of the stanza without C{to}
and splices each recipient's address in, so a broadcast to N occupants
costs one serialization and N string joins; the router writes the text
straight to local sessions (L{xmuc.router.Router.routeSerialized}).

A XEP-0203 C{<delay/>} is added the same way, by a text splice
(L{withDelay}, L{Serialized.withDelay}): history entries and the stanzas a
resumed stream gets again keep the text they were serialized to.
"""

from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.stanza import parseElement


def delayText(sender, when):
    """
    @param sender: the JID (str) that delayed the stanza.
    @param when: POSIX time of the original sending.
    @return: the serialized XEP-0203 C{<delay/>}, exactly as domish writes
        it as a child of a C{jabber:client} stanza.
    """
    return "<delay xmlns='%s' from='%s' stamp='%s'/>" % (
        ns.DELAY,
        domish.escapeToXml(sender, 1),
        domish.escapeToXml(stamp(when), 1),
    )


def _withLastChild(text, name, childText):
    """
    @param text: a serialized element named C{name}, or what follows its
        C{"<name"}.
    @param childText: a serialized element, its namespace declared on it.
    @return: C{text} with C{childText} as its last child.
    """
    if text.endswith("/>"):
        # No children yet: "<name attrs/>" becomes "<name attrs>child</name>".
        return "%s>%s</%s>" % (text[:-2], childText, name)
    # The serializer closes a stanza of the default namespace with "</name>".
    end = len(text) - len(name) - 3
    return text[:end] + childText + text[end:]


def withDelay(text, name, sender, when):
    """
    @param text: a serialized stanza.
    @param name: its element name (C{'message'}, C{'presence'}...).
    @return: C{text} with a C{<delay/>} (see L{delayText}) as last child.
    """
    return _withLastChild(text, name, delayText(sender, when))


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

    def withDelay(self, sender, when):
        """
        The same stanza with a C{<delay/>} (see L{delayText}) after its
        other children: a text splice, not a serialization (L{made} does
        not change).

        @return: a new L{Serialized}.
        """
        spliced = Serialized.__new__(Serialized)
        spliced._head = self._head
        spliced._tail = _withLastChild(self._tail, self._head[1:], delayText(sender, when))
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
