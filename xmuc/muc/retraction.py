"""
Moderated message retraction (XEP-0425): a moderator retracts a groupchat
message by the room's stanza-id (XEP-0359).

Version 0.3.0 of the XEP (C{urn:xmpp:message-moderate:1}):

    <iq type='set' to='room'>
      <moderate id='stanza-id' xmlns='urn:xmpp:message-moderate:1'>
        <retract xmlns='urn:xmpp:message-retract:1'/>
        <reason>optional</reason>
      </moderate>
    </iq>

and the older form still sent by some clients (C{urn:xmpp:message-moderate:0},
wrapped in a XEP-0422 C{<apply-to id=...  xmlns='urn:xmpp:fasten:0'/>}).
Both are accepted; the room answers in the version of the request.

The room checks that the requester is a moderator (an occupant with that
role; someone not in the room by the role its affiliation gives), finds the
message in the history or the archive (L{xmuc.muc.mam}), replaces it there
with a retracted stub (the message's addresses, stanza-id and occupant-id kept,
its content replaced by C{<retracted/>}: joiners and archive queries see
the retracted stub), then sends every occupant a groupchat message from the
room's bare JID saying which message was retracted, by whom and why (with a
fallback body for clients that do not know the XEP; it is kept in the
history and archive like any message) and answers the iq.  Retracting a
message already retracted is answered with a result and changes nothing
(the XEP says nothing of it; a client retrying must not fail).
"""

import time
import uuid

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from xmuc.muc import history, hooks, mam, removal
from xmuc.muc.occupantid import occupantID
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza, parseElement


FORBIDDEN_TEXT = "Only moderators are allowed to moderate other participants' messages"

#: Children of a retracted message kept in its retracted stub: they say which
#: message it was and who sent it, nothing of what it said.
TOMBSTONE_KEEPS = frozenset([(ns.STANZA_ID, "stanza-id"), (ns.OCCUPANT_ID, "occupant-id"), (ns.MUC_USER, "x")])


class Request:
    """
    A retraction request.

    @ivar stanzaID: the room's stanza-id of the message to retract.
    @ivar reason: the reason given (str) or L{None}.
    @ivar version: C{1} (XEP-0425 0.3.0) or C{0} (the fastening form).
    """

    def __init__(self, stanzaID, reason, version):
        self.stanzaID = stanzaID
        self.reason = reason
        self.version = version


class Actor:
    """
    The moderator retracting a message.

    @ivar by: its occupant JID (room/nick), or L{None} when it has none.
    @ivar occupantID: its occupant id (XEP-0421).
    """

    def __init__(self, by, occupantID):
        self.by = by
        self.occupantID = occupantID


def _child(element, uri, name):
    for found in element.elements(uri, name):
        return found
    return None


def _text(element):
    if element is None:
        return None
    text = str(element).strip()
    return text or None


def parseRequest(stanza):
    """
    @return: the L{Request} of a retraction iq, or L{None} when the iq is
        something else (another fastening, another element).
    @raise StanzaError: C{bad-request} without an id or a retraction.
    """
    child = stanza.firstChildElement()
    if child.uri == ns.MESSAGE_MODERATE_1 and child.name == "moderate":
        moderate, retract, version = child, _child(child, ns.MESSAGE_RETRACT_1, "retract"), 1
    elif child.uri == ns.FASTEN and child.name == "apply-to":
        moderate = _child(child, ns.MESSAGE_MODERATE_0, "moderate")
        if moderate is None:
            return None
        retract, version = _child(moderate, ns.MESSAGE_RETRACT_0, "retract"), 0
    else:
        return None
    stanzaID = child.getAttribute("id")
    if not stanzaID:
        raise StanzaError("bad-request", text="Missing message id")
    if retract is None:
        raise StanzaError("bad-request", text="Retract not found")
    return Request(stanzaID, _text(_child(moderate, moderate.uri, "reason")), version)


def moderatorOf(room, stanza, occupant):
    """
    @param occupant: the requester's occupant, or L{None} when it is not in
        the room: then the role its affiliation gives counts, and its
        reserved nick (if any) names it.
    @return: the L{Actor}.
    @raise StanzaError: C{forbidden} for anyone but a moderator.
    """
    if occupant is not None:
        role, bare, by = occupant.role, occupant.bare, occupant.occupantJID
    else:
        sender = JID(stanza["from"])
        bare = sender.userhost()
        role = room.defaultRole(sender, room.getAffiliation(bare))
        nick = room.reservedNicks.get(bare)
        by = "%s/%s" % (room.jidStr, nick) if nick else None
    if role != "moderator":
        raise StanzaError("forbidden", type="modify", text=FORBIDDEN_TEXT)
    return Actor(by, occupantID(room, bare))


def roomStanzaID(room, message):
    """
    @return: the id of the stanza-id C{room} gave C{message}, or L{None}.
    """
    for sid in message.elements(ns.STANZA_ID, "stanza-id"):
        if sid.getAttribute("by") == room.jidStr:
            return sid.getAttribute("id")
    return None


def isRetracted(message):
    """
    @return: whether C{message} is already a retracted stub (of either version).
    """
    return _child(message, ns.MESSAGE_RETRACT_1, "retracted") is not None or _child(message, ns.MESSAGE_MODERATE_0, "moderated") is not None


# -- Finding the message -----------------------------------------------------------


def findInHistory(room, stanzaID):
    """
    @return: C{(entry, message element)} of the history entry of
        C{stanzaID}, or C{(None, None)}.
    """
    for entry in history.historyOf(room):
        text = entry.serialized.text("")
        # Parse only the likely one: stanza-ids are unique random strings.
        if stanzaID not in text:
            continue
        message = parseElement(text)
        if roomStanzaID(room, message) == stanzaID:
            return entry, message
    return None, None


def findArchived(room, stanzaID):
    """
    @return: Deferred firing with the archived message element of
        C{stanzaID}, or L{None}.
    """
    if not room.config.persistent:
        for record in mam.memoryArchive(room):
            if record.id == stanzaID:
                return defer.succeed(record.element(room))
        return defer.succeed(None)
    store = room.service.server.storage.archive
    d = store.recent(room.jidStr, store.maxPerRoom)

    def found(rows):
        for row in rows:
            if row["stanza_id"] == stanzaID:
                return parseElement(row["xml"])
        return None

    return d.addCallback(found)


# -- Retracted stubs ----------------------------------------------------------------------


def moderatedElement(uri, actor):
    """
    @return: C{<moderated by/>} in namespace C{uri}, with the moderator's
        occupant-id.
    """
    moderated = domish.Element((uri, "moderated"))
    if actor.by is not None:
        moderated["by"] = actor.by
    moderated.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = actor.occupantID
    return moderated


def retractedElement(request, actor, when):
    """
    @return: what replaces a retracted message's content, in the version of
        the request: C{<retracted stamp><moderated/><reason/></retracted>}
        (1) or C{<moderated><retracted stamp/><reason/></moderated>} (0).
    """
    if request.version == 1:
        outer = domish.Element((ns.MESSAGE_RETRACT_1, "retracted"))
        outer["stamp"] = stamp(when)
        outer.addChild(moderatedElement(ns.MESSAGE_MODERATE_1, actor))
    else:
        outer = moderatedElement(ns.MESSAGE_MODERATE_0, actor)
        outer.addElement((ns.MESSAGE_RETRACT_0, "retracted"))["stamp"] = stamp(when)
    if request.reason is not None:
        outer.addElement("reason", content=request.reason)
    return outer


def retractedStub(room, message, retracted):
    """
    @param message: the retracted message (as archived or in the history).
    @param retracted: its L{retractedElement}.
    @return: the retracted stub: C{message}'s attributes (no C{to}), stanza-id,
        occupant-id, sender item, and client delay, then C{retracted}.
    """
    kept = newStanza("message")
    for key, value in message.attributes.items():
        if key != "to":
            kept[key] = value
    for child in message.elements():
        if (child.uri, child.name) in TOMBSTONE_KEEPS or (
                child.uri == ns.DELAY and child.name == "delay" and child.getAttribute("from") != room.jidStr):
            kept.addChild(child)
    kept.addChild(retracted)
    return kept


def replaceArchived(room, stanzaID, archived, retracted):
    """
    Put the retracted stub of C{archived} in the archive.

    @return: Deferred firing once done.
    """
    if archived is None:
        return defer.succeed(None)
    text = retractedStub(room, archived, retracted).toXml()
    # Not a room change (RoomStore.change): the archive is a store of
    # its own, written here, and the room's stored state does not change.
    if room.config.persistent:
        return room.service.server.storage.archive.replace(room.jidStr, stanzaID, text)
    for record in mam.memoryArchive(room):
        if record.id == stanzaID:
            # The element had the sender item added: it is in the text now.
            record.xml, record.sender = text, None
    return defer.succeed(None)


def replaceInHistory(room, stanzaID, retracted):
    """
    Put the retracted stub of C{stanzaID}'s history entry in its place (with the
    entry's time and delay).
    """
    entry, message = findInHistory(room, stanzaID)
    if entry is None:
        return
    entries = history.historyOf(room)
    for index, candidate in enumerate(entries):
        if candidate is entry:
            entries[index] = history.makeEntry(room, retractedStub(room, message, retracted), entry.when)
            return


# -- Announcing --------------------------------------------------------------------------


def fallbackBody(request):
    text = "A message was retracted by a moderator."
    if request.reason:
        text += " Reason: " + request.reason
    return text


def retractionMessage(room, request, actor):
    """
    @return: the message telling occupants that the message was
        retracted (no stanza-id yet), in the version of the request.
    """
    message = newStanza("message", type="groupchat", id=uuid.uuid4().hex, **{"from": room.jidStr})
    if request.version == 1:
        retract = message.addElement((ns.MESSAGE_RETRACT_1, "retract"))
        retract["id"] = request.stanzaID
        retract.addChild(moderatedElement(ns.MESSAGE_MODERATE_1, actor))
        if request.reason is not None:
            retract.addElement("reason", content=request.reason)
        retractNS = ns.MESSAGE_RETRACT_1
    else:
        applyTo = message.addElement((ns.FASTEN, "apply-to"))
        applyTo["id"] = request.stanzaID
        moderated = applyTo.addChild(moderatedElement(ns.MESSAGE_MODERATE_0, actor))
        moderated.addElement((ns.MESSAGE_RETRACT_0, "retract"))
        if request.reason is not None:
            moderated.addElement("reason", content=request.reason)
        retractNS = ns.MESSAGE_RETRACT_0
    message.addElement((ns.FALLBACK, "fallback"))["for"] = retractNS
    message.addElement("body", content=fallbackBody(request))
    return message


def archiveRetraction(room, message, stanzaID, when):
    """
    Archive the retraction message as L{mam.archive} does an occupant's
    (no sender: the room sent it).
    """
    if not mam.archivingEnabled(room):
        return
    if room.config.persistent:
        store = room.service.server.storage.archive
        store.append(room.jidStr, stanzaID, when, "", message.toXml()).addErrback(
            lambda f: mam.log.failure("could not archive a message of {room}", f, room=room.jidStr))
        return
    mam.memoryArchive(room).append(mam.Record(stanzaID, when, "", message.toXml()))


def announce(room, request, actor):
    """
    Send every occupant the retraction message, with the room's stanza-id;
    keep it in the history and archive.
    """
    message = retractionMessage(room, request, actor)
    stanzaID = str(uuid.uuid4())
    sid = message.addElement((ns.STANZA_ID, "stanza-id"))
    sid["id"] = stanzaID
    sid["by"] = room.jidStr
    serialized = room.broadcast(message)
    history.remember(room=room, occupant=None, message=message, stanzaID=stanzaID, serialized=serialized)
    archiveRetraction(room, message, stanzaID, time.time())


# -- The request ---------------------------------------------------------------------------


def retract(room, request, actor, archived):
    """
    Retract the message found (C{archived}: its archived element or
    L{None}), or refuse.

    @return: Deferred firing with L{None} (an empty iq result).
    """
    _, historic = findInHistory(room, request.stanzaID)
    found = archived if archived is not None else historic
    if found is None:
        raise StanzaError("item-not-found")
    if isRetracted(found):
        return None
    retracted = retractedElement(request, actor, time.time())
    d = replaceArchived(room, request.stanzaID, archived, retracted)

    def replaced(_):
        replaceInHistory(room, request.stanzaID, retracted)
        announce(room, request, actor)
        # What it linked to goes too (files uploaded here), before the
        # moderator's answer.
        return removal.retracted(room, found)

    return d.addCallback(replaced)


def handleRequest(room, stanza, occupant, **kw):
    """
    C{room-iq-set} of both versions: retract a message.
    """
    request = parseRequest(stanza)
    if request is None:
        return None
    actor = moderatorOf(room, stanza, occupant)
    d = findArchived(room, request.stanzaID)
    d.addCallback(lambda archived: retract(room, request, actor, archived))
    return d


def addFeatures(room, features, **kw):
    features.add(ns.MESSAGE_MODERATE_0)
    features.add(ns.MESSAGE_MODERATE_1)


def install(service):
    service.hooks.add(hooks.ROOM_IQ_SET + ns.MESSAGE_MODERATE_1, handleRequest)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.FASTEN, handleRequest)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeatures)
