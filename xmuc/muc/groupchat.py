"""
Groupchat messages (XEP-0045 7.4): an occupant's message goes to every
occupant from its room JID, with a C{<stanza-id/>} by the room (XEP-0359);
features add payload (occupant-id) and keep it (history, archive) through
hooks.  What only the room may write is dropped from the occupant's
message before it is relayed, kept or archived (L{writtenByRoom}).
"""

import uuid

from xmuc.muc import hooks
from xmuc.muc.occupant import NOT_IN_ROOM
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import newStanza


def writtenByRoom(room, child):
    """
    Whether C{child} of an occupant's message is something only the room
    may write, a forgery when a client sends it: MUC protocol elements
    (the C{muc#user} x with items, real JIDs and status codes; as
    Prosody's C{filter_muc_x}), occupant ids (XEP-0421: the room sets
    them), and a stanza-id claiming to be the room's (XEP-0359: entities
    "which encounter a <stanza-id/> element where the 'by' attribute
    matches the 'by' attribute they would otherwise set, MUST delete that
    element"), compared as prepared JIDs, so in any letter case.
    """
    if child.uri in (ns.MUC, ns.MUC_USER, ns.OCCUPANT_ID):
        return True
    if child.uri == ns.STANZA_ID and child.name == "stanza-id":
        by = parseJID(child.getAttribute("by", ""))
        return by is not None and by.full() == room.jidStr
    return False


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
    C{room/nick}, with a stanza-id by the room; what only the room may
    write in the original is a forgery and dropped (L{writtenByRoom}).

    @return: the message element as broadcast (no C{to}).
    """
    message = newStanza("message", type="groupchat", id=stanza.getAttribute("id"), **{"from": occupant.occupantJID})
    lang = stanza.getAttribute((ns.XML, "lang"))
    if lang:
        message[(ns.XML, "lang")] = lang
    for child in stanza.elements():
        if not writtenByRoom(room, child):
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
