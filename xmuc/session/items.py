"""
Roster items (as stored by L{xmuc.storage.interfaces.IRosterStore}) and the
subscription states of RFC 6121 section 3.

An item is a dict C{name, subscription, ask, groups, pending_in}.  A
subscription request from someone who is not in the user's roster is stored
as a I{hidden} item: subscription C{none}, no C{ask}, no name, no groups
and C{pending_in} set.  Hidden items are not shown in roster results or
pushes (RFC 6121 3.1.3: the request does not add the contact to the
roster); answering the request (C{subscribed}) makes the item visible,
refusing it deletes it.
"""

import hashlib

from twisted.words.xish import domish

from xmuc.xmpp import ns

#: Subscription states in which the contact receives the user's presence.
FROM_STATES = frozenset(("from", "both"))
#: Subscription states in which the user receives the contact's presence.
TO_STATES = frozenset(("to", "both"))

_WITH_TO = {"none": "to", "from": "both", "to": "to", "both": "both"}
_WITHOUT_TO = {"none": "none", "from": "from", "to": "none", "both": "from"}
_WITH_FROM = {"none": "from", "to": "both", "from": "from", "both": "both"}
_WITHOUT_FROM = {"none": "none", "to": "to", "from": "none", "both": "to"}


def newItem():
    """
    @return: a fresh item with no subscription.
    """
    return dict(name=None, subscription="none", ask=None, groups=[], pending_in=False)


def hasFrom(item):
    return item is not None and item["subscription"] in FROM_STATES


def hasTo(item):
    return item is not None and item["subscription"] in TO_STATES


def withTo(item, present):
    """
    Set or clear the "to" half of the subscription of C{item} in place.
    """
    item["subscription"] = (_WITH_TO if present else _WITHOUT_TO)[item["subscription"]]


def withFrom(item, present):
    """
    Set or clear the "from" half of the subscription of C{item} in place.
    """
    item["subscription"] = (_WITH_FROM if present else _WITHOUT_FROM)[item["subscription"]]


def isVisible(item):
    """
    @return: whether C{item} belongs in the roster the client sees (it is
        not only a pending inbound subscription request).
    """
    return not (
        item["subscription"] == "none"
        and item["ask"] is None
        and item["pending_in"]
        and item["name"] is None
        and not item["groups"]
    )


def shown(item):
    """
    @return: what the client sees of C{item} (a comparable tuple), or
        L{None} when it is not in the visible roster.
    """
    if item is None or not isVisible(item):
        return None
    return (item["name"], item["subscription"], item["ask"], tuple(item["groups"]))


def isEmpty(item):
    """
    @return: whether C{item} carries nothing worth storing once it is no
        longer visible (a refused or withdrawn request).
    """
    return (
        item["subscription"] == "none"
        and item["ask"] is None
        and not item["pending_in"]
        and item["name"] is None
        and not item["groups"]
    )


def itemElement(contact, item):
    """
    The C{<item/>} of a roster result or push.

    @param contact: the contact's bare JID (str).
    @param item: the item dict, or L{None} for a removal
        (C{subscription='remove'}).
    @return: a L{domish.Element}.
    """
    element = domish.Element((ns.ROSTER, "item"))
    element["jid"] = contact
    if item is None:
        element["subscription"] = "remove"
        return element
    if item["name"] is not None:
        element["name"] = item["name"]
    element["subscription"] = item["subscription"]
    if item["ask"]:
        element["ask"] = item["ask"]
    for group in item["groups"]:
        element.addElement("group", content=group)
    return element


def rosterQuery(roster):
    """
    The C{<query/>} of a roster result: every visible item, sorted by JID.

    @param roster: C{{contact: item}}.
    @return: a L{domish.Element}.
    """
    query = domish.Element((ns.ROSTER, "query"))
    for contact in sorted(roster):
        item = roster[contact]
        if isVisible(item):
            query.addChild(itemElement(contact, item))
    return query


def rosterVersion(roster):
    """
    The roster version (XEP-0237) of a roster: a digest of what the client
    sees of it, so that it changes exactly when a result would differ.
    XEP-0237 section 6 leaves the form of the version to the server ("a
    hash of the roster contents" is one of its examples); a digest needs no
    counter stored beside the roster.

    @param roster: C{{contact: item}}.
    @return: the version string.
    """
    digest = hashlib.sha1()
    for contact in sorted(roster):
        seen = shown(roster[contact])
        if seen is not None:
            digest.update(repr((contact, seen)).encode("utf-8"))
    return digest.hexdigest()
