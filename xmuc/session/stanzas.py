"""
Small stanza builders and helpers shared by the session manager modules.
"""

from twisted.words.xish import domish

#: Presence types that manage subscriptions (RFC 6121 section 3).
SUBSCRIPTION_TYPES = frozenset(("subscribe", "subscribed", "unsubscribe", "unsubscribed"))


def retarget(stanza, to):
    """
    A shallow copy of C{stanza} addressed to C{to}.

    The original is left untouched (it may be stored as a session's last
    presence, or kept by a component); the children are shared, which is
    safe because nobody modifies a stanza's payload after it was sent.

    @param stanza: a L{domish.Element}.
    @param to: the new C{to} (str).
    @return: a new L{domish.Element}.
    """
    copy = domish.Element((stanza.uri, stanza.name), stanza.defaultUri)
    copy.attributes = dict(stanza.attributes)
    copy.attributes["to"] = to
    copy.children = list(stanza.children)
    return copy


def presence(sender, to, type=None):
    """
    Build a server-generated presence.

    @param sender: the C{from} (str).
    @param to: the C{to} (str).
    @param type: the C{type} or L{None} for available.
    @return: a new L{domish.Element}.
    """
    element = domish.Element((None, "presence"))
    element["from"] = sender
    element["to"] = to
    if type is not None:
        element["type"] = type
    return element


def parsePriority(stanza):
    """
    The priority of an available presence (RFC 6121 4.7.2.3): an integer
    from -128 to 127, 0 when missing or invalid.

    @param stanza: the presence.
    @return: an int.
    """
    for child in stanza.elements():
        if child.name == "priority":
            try:
                value = int(str(child).strip())
            except ValueError:
                return 0
            return max(-128, min(127, value))
    return 0


def onlyChild(stanza):
    """
    @return: the single child element of an iq, or L{None} when there is
        not exactly one (RFC 6120 8.2.3: a get or set has one payload).
    """
    found = None
    for child in stanza.elements():
        if found is not None:
            return None
        found = child
    return found
