"""
Iqs to an occupant (XEP-0045 7.5, Prosody's C{handle_iq_to_occupant}):
forwarded to the occupant's real JID under an id of the room's, whose
answer goes back to the requester from the occupant's room JID; vCard and
PubSub requests go to the occupant's bare JID.  A ping to one's own
occupant JID is answered by the room (XEP-0410 self-ping).
"""

import uuid

from xmuc.muc import hooks
from xmuc.muc.occupant import NOT_IN_ROOM
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import copyElement

#: Namespaces whose requests go to the occupant's bare JID (its account).
ACCOUNT_NAMESPACES = (ns.VCARD_TEMP, ns.VCARD4, ns.PUBSUB)

#: Beyond this many unanswered forwarded iqs, a room forgets them all.
MAX_FORWARDED = 1000


class ForwardedIqs(dict):
    """
    The iqs a room forwarded to occupants and not yet answered
    (C{room.state(ForwardedIqs)}): C{{our id: (requester real JID, their
    id, destination real JID, target nick)}}.
    """


def handleIqToOccupant(room, stanza, sender, occupant, nick):
    """
    An iq from C{sender} (real full L{JID}; C{occupant} its occupant or
    L{None}) to C{room/nick}: a request is forwarded (private-message
    rules apply), an answer to a forwarded one goes back to its requester.
    """
    kind = stanza.getAttribute("type")
    forwardedIqs = room.state(ForwardedIqs, ForwardedIqs)
    if kind in ("result", "error"):
        # The answer is addressed to the nick the requester had when it
        # asked; it may have changed nick since: the id alone (ours,
        # unguessable) and the answering JID tell where the answer goes.
        forwarded = forwardedIqs.pop(stanza.getAttribute("id"), None)
        if forwarded is None or forwarded[2] != sender.full() and forwarded[2] != sender.userhost():
            return
        requester, originalID, _, targetNick = forwarded
        requesterOccupant = room.occupantsByJID.get(requester)
        if requesterOccupant is None:
            return
        reply = copyElement(stanza)
        # From the occupant the request went to, also when its server
        # answered for it (from its bare JID, no occupant of its own).
        reply["from"] = room.jidStr + "/" + targetNick
        reply["to"] = requester
        reply["id"] = originalID
        return room.route(reply)
    if kind not in ("get", "set"):
        return
    if not stanza.getAttribute("id"):
        # RFC 6120 8.2.3: "the 'id' attribute is REQUIRED for IQ stanzas";
        # without one the answer could not be matched to the request.
        return room.error(stanza, StanzaError("bad-request", text="An iq needs an id"))
    target = room.occupants.get(nick)
    if occupant is None:
        return room.error(stanza, StanzaError("not-acceptable", type="cancel", text=NOT_IN_ROOM))
    if target is None:
        return room.error(stanza, StanzaError("item-not-found", text="Recipient not in room"))
    child = stanza.firstChildElement()
    if target is occupant and kind == "get" and child is not None and child.uri == ns.PING:
        return room.reply(stanza)
    try:
        room.hooks.fire(hooks.PRIVATE_MESSAGE_PRE_ROUTE, room=room, sender=occupant, recipient=target, stanza=stanza)
    except StanzaError as e:
        return room.error(stanza, e)
    forwardID = uuid.uuid4().hex
    destination = target.realJID
    if child is not None and child.uri in ACCOUNT_NAMESPACES:
        destination = target.bare
    if len(forwardedIqs) > MAX_FORWARDED:
        forwardedIqs.clear()
    forwardedIqs[forwardID] = (sender.full(), stanza.getAttribute("id"), destination, target.nick)
    forwarded = copyElement(stanza)
    forwarded["from"] = occupant.occupantJID
    forwarded["to"] = destination
    forwarded["id"] = forwardID
    room.route(forwarded)
