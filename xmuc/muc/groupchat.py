"""
Groupchat messages (XEP-0045 7.4): an occupant's message goes to every
occupant from its room JID, with a C{<stanza-id/>} by the room (XEP-0359);
features add payload (occupant-id) and keep it (history, archive) through
hooks.
"""

import uuid

from xmuc.muc import hooks
from xmuc.muc.occupant import NOT_IN_ROOM
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza


def handleGroupchat(room, occupant, stanza):
    """
    A groupchat message to the room: features may handle it first (hook
    C{groupchat-pre-broadcast}: the subject), otherwise it is broadcast.

    @raise StanzaError: when the sender is not in the room, or a refusal.
    """
    # An occupant with role none is being removed: it no longer speaks.
    if occupant is None or occupant.role == "none":
        raise StanzaError("not-acceptable", type="cancel", text=NOT_IN_ROOM)
    if room.hooks.fire(hooks.GROUPCHAT_PRE_BROADCAST, room=room, occupant=occupant, stanza=stanza):
        return
    broadcastMessage(room, occupant, stanza)


def broadcastMessage(room, occupant, stanza):
    """
    Send a groupchat message of C{occupant} to everyone, from
    C{room/nick}, with a stanza-id by the room (a stanza-id by the room
    in the original is a forgery and dropped).

    @return: the message element as broadcast (no C{to}).
    """
    message = newStanza("message", type="groupchat", id=stanza.getAttribute("id"), **{"from": occupant.occupantJID})
    lang = stanza.getAttribute((ns.XML, "lang"))
    if lang:
        message[(ns.XML, "lang")] = lang
    for child in stanza.elements():
        if child.uri == ns.STANZA_ID and child.name == "stanza-id" and child.getAttribute("by") == room.jidStr:
            continue
        if child.uri == ns.OCCUPANT_ID:
            continue
        message.addChild(child)
    room.hooks.fire(hooks.MESSAGE_BUILD, room=room, occupant=occupant, message=message)
    stanzaID = str(uuid.uuid4())
    sid = message.addElement((ns.STANZA_ID, "stanza-id"))
    sid["id"] = stanzaID
    sid["by"] = room.jidStr
    serialized = room.broadcast(message)
    room.hooks.fire(hooks.GROUPCHAT_BROADCAST, room=room, occupant=occupant, message=message, stanzaID=stanzaID,
                    serialized=serialized)
    return message
