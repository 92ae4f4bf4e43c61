"""
Service discovery (XEP-0030) of the service and of rooms, and unique room
names (XEP-0045 10.1.4).

Rooms answer disco#info with their features (from the C{room-disco-features}
hook) and the C{muc#roominfo} form (C{room-disco-roominfo} hook); nodes go to
C{room-disco-info-node:<node>}.  The form shows the subject only to whom
L{xmuc.muc.subject.subjectShownTo} allows.  The service lists public,
unlocked rooms.
"""

from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.locking import isLocked
from xmuc.muc.subject import subjectOf, subjectShownTo
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID


def roomName(room):
    return room.config.name or room.jid.user


def roomFeatures(room):
    """
    @return: the sorted feature list of C{room}.
    """
    features = {ns.MUC, ns.MUC_STABLE_ID, ns.MUC_SELF_PING, ns.DISCO_INFO, ns.DISCO_ITEMS, ns.STANZA_ID,
                "muc_persistent" if room.config.persistent else "muc_temporary",
                "muc_public" if room.config.public else "muc_hidden"}
    room.hooks.fire(hooks.ROOM_DISCO_FEATURES, room=room, features=features)
    return sorted(features)


def roomInfoForm(room, showSubject=True):
    """
    @param showSubject: include the subject.
    @return: the C{muc#roominfo} form of C{room}.
    """
    form = forms.Form("result", ns.MUC_ROOMINFO)
    form.add("muc#roominfo_description", "text-single", "Description", [room.config.description])
    if showSubject:
        form.add("muc#roominfo_subject", "text-single", "Subject", [subjectOf(room).text or ""])
    form.add("muc#roominfo_occupants", "text-single", "Number of occupants", [str(len(room.occupants))])
    form.add("muc#roomconfig_roomname", "text-single", "Title", [roomName(room)])
    if room.config.lang:
        form.add("muc#roominfo_lang", "text-single", "Language", [room.config.lang])
    form.add("muc#roomconfig_changesubject", "boolean", "Allow participants to change the subject",
             ["1" if room.config.changeSubject else "0"])
    room.hooks.fire(hooks.ROOM_DISCO_ROOMINFO, room=room, form=form)
    return form


def roomInfo(room, stanza, occupant, **kw):
    node = stanza.firstChildElement().getAttribute("node")
    if node:
        result = room.hooks.fire(hooks.ROOM_DISCO_INFO_NODE + node, room=room, stanza=stanza, occupant=occupant)
        if result is None:
            # As Prosody: a node the room knows nothing about is empty.
            result = domish.Element((ns.DISCO_INFO, "query"))
            result["node"] = node
        return result
    query = domish.Element((ns.DISCO_INFO, "query"))
    identity = query.addElement("identity")
    identity["category"] = "conference"
    identity["type"] = "text"
    identity["name"] = roomName(room)
    for feature in roomFeatures(room):
        query.addElement("feature")["var"] = feature
    requester = parseJID(stanza.getAttribute("from", ""))
    showSubject = requester is not None and subjectShownTo(room, requester, occupant)
    query.addChild(roomInfoForm(room, showSubject).toElement())
    return query


def roomItems(room, stanza, occupant, **kw):
    """
    An empty list for everyone, as Prosody answers: who is in the room is
    told by presence, to occupants only (XEP-0045 6.5 makes listing
    occupants optional).  A node goes to C{room-disco-items-node:<node>}
    (empty when nobody answers).
    """
    query = domish.Element((ns.DISCO_ITEMS, "query"))
    node = stanza.firstChildElement().getAttribute("node")
    if node:
        result = room.hooks.fire(hooks.ROOM_DISCO_ITEMS_NODE + node, room=room, stanza=stanza, occupant=occupant)
        if result is not None:
            return result
        query["node"] = node
    return query


def serviceInfo(service, stanza, **kw):
    node = stanza.firstChildElement().getAttribute("node")
    if node:
        result = service.hooks.fire(hooks.SERVICE_DISCO_INFO_NODE + node, service=service, stanza=stanza)
        if result is None:
            raise StanzaError("item-not-found")
        return result
    query = domish.Element((ns.DISCO_INFO, "query"))
    identity = query.addElement("identity")
    identity["category"] = "conference"
    identity["type"] = "text"
    identity["name"] = service.title
    features = {ns.DISCO_INFO, ns.DISCO_ITEMS, ns.MUC, ns.MUC_UNIQUE, ns.MUC_STABLE_ID}
    service.hooks.fire(hooks.SERVICE_DISCO_FEATURES, service=service, features=features)
    for feature in sorted(features):
        query.addElement("feature")["var"] = feature
    return query


def serviceItems(service, stanza, **kw):
    query = domish.Element((ns.DISCO_ITEMS, "query"))
    node = stanza.firstChildElement().getAttribute("node")
    if node:
        result = service.hooks.fire(hooks.SERVICE_DISCO_ITEMS_NODE + node, service=service, stanza=stanza)
        return query if result is None else result
    for jid in sorted(service.rooms):
        room = service.rooms[jid]
        if room.config.public and not isLocked(room) and not room.destroyed:
            item = query.addElement("item")
            item["jid"] = jid
            item["name"] = roomName(room)
    return query


def uniqueName(service, **kw):
    unique = domish.Element((ns.MUC_UNIQUE, "unique"))
    unique.addContent(service.uniqueRoomName())
    return unique


def ping(service, stanza, **kw):
    """
    XEP-0199 ping of the service: an empty result.
    """
    service.replyFromService(stanza)
    return True


def install(service):
    service.hooks.add(hooks.ROOM_IQ_GET + ns.DISCO_INFO, roomInfo)
    service.hooks.add(hooks.ROOM_IQ_GET + ns.DISCO_ITEMS, roomItems)
    service.hooks.add(hooks.SERVICE_IQ_GET + ns.DISCO_INFO, serviceInfo)
    service.hooks.add(hooks.SERVICE_IQ_GET + ns.DISCO_ITEMS, serviceItems)
    service.hooks.add(hooks.SERVICE_IQ_GET + ns.MUC_UNIQUE, uniqueName)
    service.hooks.add(hooks.SERVICE_IQ_GET + ns.PING, ping)
