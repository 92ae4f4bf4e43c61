"""
Telling the rest of the server which messages moderation took down: a
message a moderator retracted (L{xmuc.muc.retraction}), every message of a
destroyed room's history and archive (L{xmuc.muc.destroy}).  The server
event C{room-messages-removed} (L{xmuc.hooks.ROOM_MESSAGES_REMOVED})
carries them, as they were, so that what they linked to (files uploaded to
the server's upload service) goes with them, without the MUC knowing who
listens.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.hooks import ROOM_MESSAGES_REMOVED
from xmuc.muc import history, mam

log = Logger()


def _listening(room):
    return room.service.server.hooks.has(ROOM_MESSAGES_REMOVED)


def announce(room, messages):
    """
    Fire C{room-messages-removed} for C{messages} of C{room}.

    @param messages: the removed messages, serialized (list of str).
    @return: Deferred firing once every listener is done with them.
    """
    if not messages or not _listening(room):
        return defer.succeed(None)
    return room.service.server.hooks.fireAll(ROOM_MESSAGES_REMOVED, room=room.jidStr, messages=messages)


def retracted(room, message):
    """
    A moderator retracted C{message} (as it was before).

    @return: Deferred firing once the listeners are done with it.
    """
    return announce(room, [message.toXml()])


def destroyed(room):
    """
    C{room} is being destroyed: collect its history and archive (before
    the C{room-destroyed} handlers purge them: the archive read is queued
    first) and announce them.

    @return: Deferred firing once the listeners are done with them (a
        storage failure is logged, not passed on).
    """
    if not _listening(room):
        return defer.succeed(None)
    messages = [entry.serialized.text("") for entry in history.historyOf(room)]
    d = mam.records(room)

    def archived(records):
        return announce(room, messages + [record.text(room) for record in records])

    d.addCallback(archived)
    d.addErrback(lambda f: log.failure("could not read the messages of destroyed room {room}", f, room=room.jidStr))
    return d
