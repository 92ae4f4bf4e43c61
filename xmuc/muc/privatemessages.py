"""
Private messages between occupants (XEP-0045 7.5): routed from the
sender's room JID to every session of the recipient, and allowed per
C{muc#roomconfig_allowpm}: anyone, participants (and moderators),
moderators, or none.  Refused ones get C{forbidden}.  Iqs to an occupant
(L{xmuc.muc.occupantiqs}) reach its client the same way, so the same rule
applies to them, but for reading the public data of its account (vCard,
PubSub: avatars), which its server answers and its client never sees.
"""

from xmuc.hooks import ACCOUNT_BLOCKS
from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.occupant import NOT_IN_ROOM
from xmuc.muc.occupantiqs import ACCOUNT_NAMESPACES
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import copyElement

ALLOWED = {
    "anyone": ("visitor", "participant", "moderator"),
    "participants": ("participant", "moderator"),
    "moderators": ("moderator",),
    "none": (),
}

#: C{allowPM}: who may send private messages: C{'anyone'},
#: C{'participants'}, C{'moderators'}, C{'none'}.
SETTINGS = {"allowPM": "anyone"}


def readsAccount(stanza):
    """
    @return: whether C{stanza} is an iq reading the public data of the
        occupant's account (a get in L{ACCOUNT_NAMESPACES}).
    """
    if stanza.name != "iq" or stanza.getAttribute("type") != "get":
        return False
    child = stanza.firstChildElement()
    return child is not None and child.uri in ACCOUNT_NAMESPACES


def checkPrivateMessage(room, sender, recipient, stanza, **kw):
    """
    C{private-message-pre-route}: C{muc#roomconfig_allowpm} decides, for
    messages and iqs alike.

    @raise StanzaError: C{forbidden}.
    """
    if readsAccount(stanza):
        return None
    if sender.role not in ALLOWED.get(room.config.allowPM, ()):
        raise StanzaError("forbidden", text="Private messages are not allowed in this room")
    return None


def routePrivateMessage(room, occupant, nick, stanza):
    """
    A message of C{occupant} (L{None}: the sender is not in the room) to
    C{room/nick}: checked (hook C{private-message-pre-route}), stripped of MUC
    elements and client occupant ids, and sent from the sender's room JID
    to every session of the recipient.

    @raise StanzaError: for refusals.
    """
    if occupant is None:
        raise StanzaError("not-acceptable", type="cancel", text=NOT_IN_ROOM)
    if stanza.getAttribute("type") == "groupchat":
        raise StanzaError("bad-request")
    recipient = room.occupants.get(nick)
    if recipient is None:
        raise StanzaError("item-not-found", text="Recipient not in room")
    room.hooks.fire(hooks.PRIVATE_MESSAGE_PRE_ROUTE, room=room, sender=occupant, recipient=recipient, stanza=stanza)
    # XEP-0191 3.5: a blocked sender's messages are not delivered; only the
    # room knows the real JID behind the nickname, so it asks the
    # recipient's server (the session manager answers for local accounts).
    if room.service.server.hooks.fire(ACCOUNT_BLOCKS, account=recipient.bare, contact=occupant.bare):
        raise StanzaError("service-unavailable", type="cancel")
    message = copyElement(stanza)
    for child in list(message.elements()):
        if (child.name == "x" and child.uri in (ns.MUC, ns.MUC_USER)) or child.uri == ns.OCCUPANT_ID:
            message.children.remove(child)
    message.addElement((ns.MUC_USER, "x"))
    room.hooks.fire(hooks.MESSAGE_BUILD, room=room, occupant=occupant, message=message)
    message["from"] = occupant.occupantJID
    if len(recipient.sessions) == 1:
        message["to"] = recipient.realJID
        room.route(message)
    else:
        # Every session of the recipient, as Prosody.
        message.attributes.pop("to", None)
        sendToSessions(room, message, recipient)


def sendToSessions(room, stanza, occupant):
    """
    Send C{stanza} (no C{to}) to every session of C{occupant}, serialized
    once.
    """
    serialized = Serialized(stanza)
    for to in list(occupant.sessions):
        serialized.sendTo(room.router, to)


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.PRIVATE_MESSAGE_PRE_ROUTE, checkPrivateMessage)
    configField(service, "muc#roomconfig_allowpm", "allowPM", "list-single", "Allow private messages from", 30,
                options=[("anyone", "Everyone"), ("participants", "Participants"),
                         ("moderators", "Moderators"), ("none", "Nobody")])
