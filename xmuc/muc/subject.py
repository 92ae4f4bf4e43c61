"""
The room subject (XEP-0045 8.1): set by moderators, or by participants
when C{muc#roomconfig_changesubject} allows; sent to every joiner after
the history (an empty C{<subject/>} when none is set).

As Prosody: a message with a subject and a body or a thread is a normal
message; setting the subject it already has (same text, same nick) is
silently ignored; once a subject has been set, joiners get it with a
C{<delay/>} stamped with the time it was set (C{room.subjectTime}, stored
with the room).
"""

import time

from twisted.logger import Logger

from xmuc.muc import persistence
from xmuc.muc.owner import configField
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza

log = Logger()


def subjectMessage(room):
    """
    @return: the subject message as sent to joiners (no C{to}).
    """
    sender = room.jidStr + "/" + room.subjectNick if room.subjectNick else room.jidStr
    message = newStanza("message", type="groupchat", **{"from": sender})
    message.addElement("subject", content=room.subject or "")
    return message


def checkMayChangeSubject(room, occupant):
    """
    Moderators change the subject; participants too when the room allows it.

    @raise StanzaError: C{forbidden}.
    """
    if not (occupant.role == "moderator" or (room.config.changeSubject and occupant.role == "participant")):
        raise StanzaError("forbidden", text="You are not allowed to change the subject")


def changeSubject(room, occupant, stanza, **kw):
    """
    A groupchat message with a subject and no body changes the subject.

    The change is all-or-nothing like the other room changes
    (L{persistence.saveChange}): the broadcast is the sender's
    acknowledgement, so in a persistent room it goes out once the subject
    is stored (subject changes are rare: this costs nothing noticeable);
    when storing fails, the subject is left as it was and the sender gets
    C{internal-server-error}.  In a temporary room there is nothing to
    store and the broadcast goes out at once (unless another change of the
    room is being stored: then after it).
    """
    subject = None
    for child in stanza.elements():
        if child.name in ("body", "thread"):
            return None
        if child.name == "subject":
            subject = child
    if subject is None:
        return None
    checkMayChangeSubject(room, occupant)
    new = (str(subject), occupant.nick)
    if (room.subject or "", room.subjectNick) == new:
        return True

    def apply():
        # Checked again against the room as it is now: an earlier change of
        # the room may have been stored meanwhile (e.g. the sender lost its
        # voice, or changesubject was turned off).
        checkMayChangeSubject(room, occupant)
        room.subject, room.subjectNick = new
        room.subjectTime = time.time()

    def stored(_):
        if room.destroyed:
            return
        message = subjectMessage(room)
        if stanza.getAttribute("id"):
            message["id"] = stanza["id"]
        room.broadcast(message)

    def failed(failure):
        if failure.check(StanzaError):
            room.error(stanza, failure.value)
            return
        log.failure("could not save {room}", failure, room=room.jidStr)
        room.error(stanza, "internal-server-error")

    persistence.saveChange(room, apply).addCallbacks(stored, failed)
    return True


def sendSubject(room, occupant, **kw):
    message = subjectMessage(room)
    # The session that joined.
    message["to"] = kw.get("to") or occupant.realJID
    when = room.subjectTime
    if when is not None:
        delay = message.addElement((ns.DELAY, "delay"))
        delay["from"] = room.jidStr
        delay["stamp"] = stamp(when)
    room.route(message)


def saveSubjectTime(room, state, **kw):
    if room.subjectTime is not None:
        state["subjectTime"] = room.subjectTime


def loadSubjectTime(room, state, **kw):
    room.subjectTime = state.get("subjectTime")


def install(service):
    service.hooks.add("groupchat-message", changeSubject, priority=10)
    service.hooks.add("joined", sendSubject, priority=10)
    service.hooks.add("room-state-save", saveSubjectTime)
    service.hooks.add("room-loaded", loadSubjectTime)
    configField(service, "muc#roomconfig_changesubject", "changeSubject", "boolean",
                "Allow participants to change the subject", 35)
