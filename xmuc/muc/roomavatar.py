"""
Room avatars (XEP-0486, MUC Avatars), as Prosody's mod_vcard_muc: a room
has a vCard-temp (XEP-0054) whose photo is its avatar.

 - Anyone reads it with a vCard get to the room's bare JID (an empty
   C{<vCard/>} when the room has none, as accounts answer).
 - Owners set it with a vCard set to the room's bare JID (others get
   C{forbidden}); at most C{[server] vcard_max_size} bytes as serialized
   (C{not-acceptable}), with a base64 photo (C{bad-request}).  It is
   stored with the room (C{room.extra}) before the result: durable before
   ack.
 - The room's disco#info has the C{vcard-temp} feature and, while there is
   a photo, its SHA-1 in the C{muc#roominfo_avatarhash} field of the
   C{muc#roominfo} form.
 - When the photo changes, occupants get a presence from the room's bare
   JID with C{<x xmlns='vcard-temp:x:update'><photo>HASH</photo></x>}
   (empty C{<photo/>} once removed) and a status 104 message (clients read
   the room's disco#info again); a joiner gets that presence when the room
   has an avatar.
"""

from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.configform import notifyCodes
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import bareJID
from xmuc.xmpp.stanza import newStanza, parseElement
from xmuc.xmpp.vcard import photoHash

#: The keys of C{room.extra}: the vCard as serialized, and its photo hash.
VCARD_KEY = "vcard"
HASH_KEY = "avatarHash"


def avatarHash(room):
    """
    @return: the SHA-1 of the room's photo, or C{''} when it has none.
    """
    return room.extra.get(HASH_KEY, "")


def _vcardChild(stanza):
    child = stanza.firstChildElement()
    if child.name != "vCard":
        raise StanzaError("bad-request", text="Expected a vCard")
    return child


def getVCard(room, stanza, **kw):
    """
    C{room-iq-get:vcard-temp}: the room's vCard.
    """
    _vcardChild(stanza)
    stored = room.extra.get(VCARD_KEY)
    if stored is None:
        return domish.Element((ns.VCARD_TEMP, "vCard"))
    return parseElement(stored)


def setVCard(room, stanza, **kw):
    """
    C{room-iq-set:vcard-temp}: an owner sets the room's vCard; stored
    before the result, then occupants are told when the photo changed.
    """
    vcard = _vcardChild(stanza)
    if room.getAffiliation(bareJID(stanza.getAttribute("from"))) != "owner":
        raise StanzaError("forbidden", text="Only owners may change the room's vCard")
    xml = vcard.toXml()
    maxSize = room.service.server.config.get("server", "vcard_max_size")
    if len(xml.encode("utf-8")) > maxSize:
        raise StanzaError("not-acceptable", text="vCard larger than %d bytes" % (maxSize,))
    try:
        photo = photoHash(vcard)
    except ValueError as e:
        raise StanzaError("bad-request", text=str(e))
    changed = []

    def record():
        # Checked again: the sender may have lost ownership meanwhile.
        if room.getAffiliation(bareJID(stanza.getAttribute("from"))) != "owner":
            raise StanzaError("forbidden", text="Only owners may change the room's vCard")
        changed[:] = [photo != avatarHash(room)]
        room.extra[VCARD_KEY] = xml
        if photo:
            room.extra[HASH_KEY] = photo
        else:
            room.extra.pop(HASH_KEY, None)

    def effects(_):
        if changed[0] and not room.destroyed:
            room.broadcast(avatarPresence(room))
            notifyCodes(room, {"104"})
        return None

    return room.store.change(room, record, effects)


def avatarPresence(room):
    """
    @return: the presence of the room's bare JID telling its avatar hash
        (XEP-0153 style), without C{to}.
    """
    presence = newStanza("presence", **{"from": room.jidStr})
    update = presence.addElement((ns.VCARD_UPDATE, "x"))
    update.addElement("photo", content=avatarHash(room) or None)
    return presence


def tellJoiner(room, to, **kw):
    """
    C{occupant-joined}: a joiner learns the room's avatar hash, when it has
    one.
    """
    if avatarHash(room):
        presence = avatarPresence(room)
        presence["to"] = to
        room.route(presence)


def addFeature(room, features, **kw):
    """
    C{room-disco-features}: rooms serve vCards.
    """
    features.add(ns.VCARD_TEMP)


def addHashField(room, form, **kw):
    """
    C{room-disco-roominfo}: the avatar hash, while there is one.
    """
    photo = avatarHash(room)
    if photo:
        form.add("muc#roominfo_avatarhash", "text-multi", "Avatar hash", [photo])


def install(service):
    service.hooks.add(hooks.ROOM_IQ_GET + ns.VCARD_TEMP, getVCard)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.VCARD_TEMP, setVCard)
    service.hooks.add(hooks.OCCUPANT_JOINED, tellJoiner, priority=0)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.ROOM_DISCO_ROOMINFO, addHashField)
