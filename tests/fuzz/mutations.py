"""
Mutations of seed stanzas, drawn with hypothesis.

A mutation picks an element of the stanza and changes one thing about it:
an attribute value (C{to}, C{from}, C{type}, C{id}, C{nick}, C{jid},
C{affiliation}, C{role}, C{var}, C{code}...), its text, its children
(removed, duplicated, reordered, or one grafted from another seed), its
namespace or its name.  Values come first from what the seeds themselves
use (so that a mutation keeps most of a stanza meaningful and reaches deep
code), then from edge cases: malformed addresses, huge and negative
numbers, impossible dates, empty strings, Unicode that nameprep, bidi
rules or UTF-16 handle differently, markup characters.

Hypothesis shrinks towards the first choices: fewer mutations, the root
element, the seed's own values.
"""

from hypothesis import strategies as st
from twisted.words.xish import domish

from tests.fuzz.seeds import DOMAIN, MUC_DOMAIN, slotBare, slotFull

XML_NS = "http://www.w3.org/XML/1998/namespace"

#: Attributes whose values matter to the server, mutated even where the
#: seed stanza does not have them.
ATTRIBUTES = (
    "to",
    "from",
    "type",
    "id",
    "nick",
    "jid",
    "affiliation",
    "role",
    "var",
    "code",
    "node",
    "name",
    "queryid",
    "mechanism",
    (XML_NS, "lang"),
)

#: The names of the stanzas.
STANZA_NAMES = ("message", "presence", "iq")

#: Every value XMPP defines for some attributes, whether or not the seeds
#: send it (an iq result to a room, a presence error from a client...).
KNOWN_VALUES = {
    "type": (
        "get", "set", "result", "error",
        "chat", "groupchat", "normal", "headline",
        "unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe",
        "submit", "cancel", "form",
        "auth", "modify", "wait", "continue",
    ),
    "affiliation": ("owner", "admin", "member", "outcast", "none"),
    "role": ("moderator", "participant", "visitor", "none"),
}

#: Attributes holding an address.
ADDRESS_ATTRIBUTES = ("to", "from", "jid", "by")

#: Attributes holding a timestamp.
DATE_ATTRIBUTES = ("since", "stamp")

#: Attributes holding a number (history limits, status codes...).
NUMBER_ATTRIBUTES = ("code", "maxchars", "maxstanzas", "seconds", "h", "max")

#: Attribute values and texts that are edge cases of any string.
ODD_STRINGS = (
    "",
    " ",
    "\t\n",
    "x" * 3000,
    "\u202eevil",
    "\u200b",
    "e\u0301",
    "\u00c5",
    "\u0130",
    "\u00df",
    "\ufb00",
    "\u2168",
    "\u3000",
    "\uff21\uff22",
    "\U0001f600",
    "\U0001d54f",
    "\U000e0041",
    "\ufeff",
    "\ufffd",
    "<&>'\"",
    "]]>",
    "a/b",
    "@",
    "/",
    "'\"<",
)

#: Addresses, well-formed or not.
ODD_ADDRESSES = (
    DOMAIN,
    MUC_DOMAIN,
    "room@" + MUC_DOMAIN,
    "room@%s/Romeo" % (MUC_DOMAIN,),
    "room@%s/" % (MUC_DOMAIN,),
    "ROOM@%s/Romeo" % (MUC_DOMAIN.upper(),),
    "room@%s/a/b" % (MUC_DOMAIN,),
    "room@%s/%s" % (MUC_DOMAIN, "n" * 1100),
    "%s@%s" % ("r" * 1100, MUC_DOMAIN),
    "room@%s." % (MUC_DOMAIN,),
    "nobody@" + DOMAIN,
    "nobody@%s/gone" % (DOMAIN,),
    "example.org",
    "user@example.org/r",
    "a@b..c",
    "/x",
    "@" + DOMAIN,
    "x@",
    "x@/y",
    "[::1]",
    "127.0.0.1",
    DOMAIN + ".",
    "\u00e9@" + DOMAIN,
    "\u2168@" + DOMAIN,
    "a b@" + DOMAIN,
    "room@%s/\u202e" % (MUC_DOMAIN,),
)

#: Numbers as XMPP carries them: in text, any size, any sign.
ODD_NUMBERS = (
    "0",
    "1",
    "-1",
    "-0",
    "007",
    "+5",
    " 3 ",
    "2147483648",
    "-2147483649",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "1e9999",
    "1.5",
    "NaN",
    "inf",
    "0x1f",
    "\u0663",
    "\u00b9",
)

#: Timestamps (XEP-0082) and things that look like them.
ODD_DATES = (
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0000-00-00T00:00:00Z",
    "2026-13-45T25:61:61Z",
    "2026-02-30T00:00:00Z",
    "2026-12-07T00:00:00+99:99",
    "2026-12-07T00:00:00.9999999999999Z",
    "2026-12-07",
    "yesterday",
)

#: Namespaces nobody serves, and a few near misses.
ODD_NAMESPACES = (
    "",
    "urn:fuzz",
    "jabber:client",
    "jabber:server",
    "http://jabber.org/protocol/muc#",
    "http://jabber.org/protocol/MUC",
    "urn:xmpp:mam:1",
    "urn:xmpp:mam:99",
)

#: Text that XML 1.0 forbids even as a character reference: the stream
#: must end with not-well-formed, nothing else.
ILLEGAL_TEXT = ("\x01", "\ufffe")

# Characters XML 1.0 allows in text.
_XML_CHARACTERS = st.characters(
    exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
)
_TEXT = st.text(_XML_CHARACTERS, max_size=40)


class Vocabulary:
    """
    What the seed stanzas contain, to draw plausible values from.

    @ivar attributes: C{{attribute key: sorted list of values seen}}.
    @ivar texts: the texts seen, sorted.
    @ivar namespaces: the namespaces seen, sorted.
    @ivar names: the element names seen, sorted.
    @ivar donors: every element of every seed stanza (never changed: they
        are copied when grafted).
    """

    def __init__(self, stanzas, accounts):
        attributes = {}
        texts = set()
        namespaces = set()
        names = set()
        self.donors = []
        for stanza in stanzas:
            for element in walk(stanza):
                self.donors.append(element)
                names.add(element.name)
                if element.uri is not None:
                    namespaces.add(element.uri)
                for key, value in element.attributes.items():
                    attributes.setdefault(key, set()).add(value)
                for child in element.children:
                    if isinstance(child, str) and child.strip():
                        texts.add(child)
        self.attributes = {key: sorted(values) for key, values in attributes.items()}
        self.texts = sorted(texts)
        self.namespaces = sorted(namespaces)
        self.names = sorted(names)
        self.addresses = [slotBare(n) for n in range(accounts)] + [
            slotFull((n, 0)) for n in range(accounts)
        ]
        seenAddresses = {
            value
            for key in ADDRESS_ATTRIBUTES
            for value in self.attributes.get(key, ())
            if "@" in value
        }
        self.bares = sorted({address.split("/")[0] for address in seenAddresses})
        self.domains = sorted({address.split("/")[0].split("@")[1] for address in seenAddresses})

    def attributeValues(self, key):
        """
        @return: a strategy for values of attribute C{key}.
        """
        name = key[1] if isinstance(key, tuple) else key
        choices = []
        seen = self.attributes.get(key)
        if seen:
            choices.append(st.sampled_from(seen))
        if name in KNOWN_VALUES:
            choices.append(st.sampled_from(KNOWN_VALUES[name]))
        if name in ADDRESS_ATTRIBUTES:
            choices.append(st.sampled_from(self.addresses))
            choices.append(st.sampled_from(ODD_ADDRESSES))
            choices.append(self.composedAddresses())
        if name in NUMBER_ATTRIBUTES:
            choices.append(st.sampled_from(ODD_NUMBERS))
        if name in DATE_ATTRIBUTES:
            choices.append(st.sampled_from(ODD_DATES))
        choices.append(st.sampled_from(ODD_STRINGS))
        choices.append(_TEXT)
        return st.one_of(choices)

    def composedAddresses(self):
        """
        @return: a strategy for addresses made of a seen bare address and
            an odd resource (a room nickname), or of an odd localpart and
            a seen domain.
        """
        parts = st.sampled_from(ODD_STRINGS) | _TEXT
        return st.one_of(
            st.builds(lambda bare, resource: "%s/%s" % (bare, resource), st.sampled_from(self.bares), parts),
            st.builds(lambda user, domain: "%s@%s" % (user, domain), parts, st.sampled_from(self.domains)),
        )

    def textValues(self):
        """
        @return: a strategy for the text of an element.
        """
        return st.one_of(
            st.sampled_from(self.texts),
            st.sampled_from(ODD_NUMBERS),
            st.sampled_from(ODD_DATES),
            st.sampled_from(self.addresses),
            st.sampled_from(ODD_ADDRESSES),
            self.composedAddresses(),
            st.sampled_from(ODD_STRINGS),
            _TEXT,
            st.sampled_from(ILLEGAL_TEXT),
        )

    def namespaceValues(self):
        return st.one_of(
            st.sampled_from(self.namespaces),
            st.sampled_from(ODD_NAMESPACES),
            st.sampled_from(ODD_STRINGS),
        )

    def nameValues(self):
        return st.sampled_from(self.names)


def walk(element):
    """
    @return: C{element} and its descendant elements, in document order.
    """
    found = [element]
    for child in element.elements():
        found.extend(walk(child))
    return found


def copyElement(element):
    """
    @return: a deep copy of C{element}, without a parent.
    """
    copy = domish.Element((element.uri, element.name), element.defaultUri)
    copy.attributes = dict(element.attributes)
    for child in element.children:
        if isinstance(child, domish.Element):
            copy.addChild(copyElement(child))
        else:
            copy.addContent(child)
    return copy


def _setAttribute(data, vocabulary, node):
    keys = sorted(node.attributes, key=repr)
    keys += [key for key in ATTRIBUTES if key not in node.attributes]
    key = data.draw(st.sampled_from(keys), label="attribute")
    value = data.draw(st.none() | vocabulary.attributeValues(key), label="value")
    if value is None:
        node.attributes.pop(key, None)
    else:
        node.attributes[key] = value


def _setText(data, vocabulary, node):
    text = data.draw(vocabulary.textValues(), label="text")
    node.children = [child for child in node.children if not isinstance(child, str)]
    node.children.insert(data.draw(st.integers(0, len(node.children)), label="at"), text)


def _removeChild(data, vocabulary, node):
    if node.children:
        del node.children[data.draw(st.integers(0, len(node.children) - 1), label="child")]


def _duplicateChild(data, vocabulary, node):
    elements = list(node.elements())
    if elements:
        child = elements[data.draw(st.integers(0, len(elements) - 1), label="child")]
        times = data.draw(st.integers(1, 3), label="times")
        for _ in range(times):
            node.addChild(copyElement(child))


def _reorderChildren(data, vocabulary, node):
    node.children = data.draw(st.permutations(node.children), label="order")


def _graftChild(data, vocabulary, node):
    donor = data.draw(st.sampled_from(vocabulary.donors), label="donor")
    copy = copyElement(donor)
    node.children.insert(data.draw(st.integers(0, len(node.children)), label="at"), copy)
    copy.parent = node


def _setNamespace(data, vocabulary, node):
    uri = data.draw(vocabulary.namespaceValues(), label="namespace")
    node.uri = node.defaultUri = uri


def _rename(data, vocabulary, node):
    if node.parent is None:
        # Another kind of stanza; anything else only ends the stream
        # (unsupported-stanza-type), which one in a few rounds shows.
        names = st.sampled_from(STANZA_NAMES) | vocabulary.nameValues()
    else:
        names = vocabulary.nameValues()
    node.name = data.draw(names, label="name")


#: The mutations, most useful first (hypothesis shrinks towards the first).
MUTATIONS = (
    _setAttribute,
    _setText,
    _removeChild,
    _duplicateChild,
    _reorderChildren,
    _graftChild,
    _setNamespace,
    _rename,
)


def mutate(data, vocabulary, stanza):
    """
    Apply one to four mutations to a copy of C{stanza}.

    @param data: hypothesis's C{st.data()} object.
    @param vocabulary: the L{Vocabulary} of the seeds.
    @param stanza: the seed stanza (left unchanged).
    @return: the mutated copy.
    """
    root = copyElement(stanza)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        nodes = walk(root)
        node = nodes[data.draw(st.integers(0, len(nodes) - 1), label="element")]
        mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
        mutation(data, vocabulary, node)
    return root
