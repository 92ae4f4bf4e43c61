"""
The room subject (XEP-0045 8.1): set by moderators, or by participants
when C{muc#roomconfig_changesubject} allows; sent to every joiner after
the history (an empty C{<subject/>} when none is set).

As Prosody: a message with a subject and a body or a thread is a normal
message; setting the subject it already has (same text, same nick) is
silently ignored; once a subject has been set, joiners get it with a
C{<delay/>} stamped with the time it was set.  The subject, who set it and
when are this module's state (L{subjectOf}), stored with the room.
"""

import time

from twisted.logger import Logger

from xmuc.muc import hooks
from xmuc.muc.affiliations import belowMember
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza

log = Logger()

#: C{changeSubject}: participants may change the subject.
SETTINGS = {"changeSubject": False}


class RoomSubject:
    """
    The subject of a room (C{subjectOf(room)}), stored with the room.

    @ivar text: the subject text, L{None} when never set.
    @ivar nick: nick of who set it (L{None}: the room).
    @ivar time: when it was last set (seconds since the epoch), or L{None}
        if never.
    """

    def __init__(self):
        self.text = None
        self.nick = None
        self.time = None


def subjectOf(room):
    """
    @return: the L{RoomSubject} of C{room}.
    """
    return room.state(__name__, RoomSubject)


def subjectShownTo(room, jid, occupant):
    """
    Whether room information (disco#info) shows the subject to C{jid}:
    what a room talks about is for those who may see inside.  Anyone sees
    the subject of a public room open to all; a hidden or members-only
    room shows it only to its occupants and to its members, admins and
    owners.

    @param jid: the real JID asking (L{JID}).
    @param occupant: its occupant, or L{None} when it is not in the room.
    """
    if room.config.public and not room.config.membersOnly:
        return True
    return occupant is not None or not belowMember(room.getAffiliation(jid.userhost()))


def subjectMessage(room):
    """
    @return: the subject message as sent to joiners (no C{to}).
    """
    subject = subjectOf(room)
    sender = room.jidStr + "/" + subject.nick if subject.nick else room.jidStr
    message = newStanza("message", type="groupchat", **{"from": sender})
    message.addElement("subject", content=subject.text or "")
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
    (L{xmuc.muc.persistence.RoomStore.change}): the broadcast is the sender's
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
    current = subjectOf(room)
    if (current.text or "", current.nick) == new:
        return True

    def record():
        # Checked again against the room as it is now: an earlier change of
        # the room may have been stored meanwhile (e.g. the sender lost its
        # voice, or changesubject was turned off).
        checkMayChangeSubject(room, occupant)
        current.text, current.nick = new
        current.time = time.time()

    def effects(_):
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

    room.store.change(room, record, effects).addErrback(failed)
    return True


def sendSubject(room, occupant, **kw):
    message = subjectMessage(room)
    # The session that joined.
    message["to"] = kw.get("to") or occupant.realJID
    when = subjectOf(room).time
    if when is not None:
        delay = message.addElement((ns.DELAY, "delay"))
        delay["from"] = room.jidStr
        delay["stamp"] = stamp(when)
    room.route(message)


def saveSubject(room, state, **kw):
    """
    C{room-state-save}: the subject, who set it and when.
    """
    subject = subjectOf(room)
    state["subject"] = subject.text
    state["subjectNick"] = subject.nick
    if subject.time is not None:
        state["subjectTime"] = subject.time


def loadSubject(room, state, **kw):
    """
    C{room-loaded} and C{room-state-restore}: the subject as saved by
    L{saveSubject}.
    """
    subject = subjectOf(room)
    subject.text = state.get("subject")
    subject.nick = state.get("subjectNick")
    subject.time = state.get("subjectTime")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.GROUPCHAT_PRE_BROADCAST, changeSubject, priority=10)
    service.hooks.add(hooks.OCCUPANT_JOINED, sendSubject, priority=10)
    service.hooks.add(hooks.ROOM_STATE_SAVE, saveSubject)
    service.hooks.add(hooks.ROOM_LOADED, loadSubject)
    service.hooks.add(hooks.ROOM_STATE_RESTORE, loadSubject)
    configField(service, "muc#roomconfig_changesubject", "changeSubject", "boolean",
                "Allow participants to change the subject", 35)
