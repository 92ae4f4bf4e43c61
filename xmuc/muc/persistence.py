"""
Persistent rooms in C{server.storage.rooms}: the state of a persistent
room is stored whenever it changes (callers wait for L{saveRoom} before
acknowledging the change: durable before ack), rooms are rebuilt at
startup, and forgotten when destroyed or made temporary.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import internJID

log = Logger()


def stateOf(room):
    """
    @return: the JSON-serialisable state of C{room}; feature modules add
        theirs through C{room-state-save}.
    """
    state = {
        "config": room.config.toDict(),
        "affiliations": dict(room.affiliations),
        "reservedNicks": dict(room.reservedNicks),
        "subject": room.subject,
        "subjectNick": room.subjectNick,
        "locked": room.locked,
        "extra": dict(room.extra),
    }
    room.hooks.fire("room-state-save", room=room, state=state)
    return state


def _store(roomOrService):
    service = getattr(roomOrService, "service", roomOrService)
    return service.server.storage.rooms


def saveRoom(room):
    """
    Store C{room} if persistent; forget it if it stopped being persistent.

    @return: a Deferred firing once storage has it.
    """
    if room.destroyed:
        return defer.succeed(None)
    if room.config.persistent:
        room.stored = True
        return _store(room).save(room.jidStr, stateOf(room))
    if getattr(room, "stored", False):
        room.stored = False
        return _store(room).delete(room.jidStr)
    return defer.succeed(None)


def deleteRoom(room):
    """
    @return: a Deferred firing once storage forgot C{room}.
    """
    if getattr(room, "stored", False) or room.config.persistent:
        room.stored = False
        return _store(room).delete(room.jidStr)
    return defer.succeed(None)


def restoreRoom(service, roomJID, state):
    """
    Rebuild a stored room and add it to the service.

    @return: the L{xmuc.muc.room.Room}.
    """
    from xmuc.muc.room import Room

    room = Room(service, internJID(roomJID))
    room.config.update(state.get("config", {}))
    room.affiliations.update(state.get("affiliations", {}))
    room.reservedNicks.update(state.get("reservedNicks", {}))
    room.subject = state.get("subject")
    room.subjectNick = state.get("subjectNick")
    room.locked = bool(state.get("locked", False))
    room.extra.update(state.get("extra", {}))
    room.stored = True
    service.rooms[room.jidStr] = room
    service.hooks.fire("room-loaded", room=room, state=state)
    return room


@defer.inlineCallbacks
def loadRooms(service):
    """
    Rebuild every stored room of C{service}.

    @return: a Deferred firing with the number of rooms loaded.
    """
    stored = yield _store(service).list(service.domain)
    count = 0
    for roomJID, state in stored:
        if roomJID in service.rooms:
            continue
        try:
            restoreRoom(service, roomJID, state)
            count += 1
        except Exception:
            log.failure("could not restore room {room}", room=roomJID)
    return count


def install(service):
    pass
