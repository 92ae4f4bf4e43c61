"""
Persistent rooms in C{server.storage.rooms}: the state of a persistent
room is stored whenever it changes (callers wait for L{saveRoom} before
acknowledging the change: durable before ack), rooms are rebuilt at
startup, and forgotten when destroyed or made temporary.

A change is all-or-nothing (L{saveChange}): the new state is applied in
memory, stored, and only then do its effects go out; when storage fails,
the room goes back to the state before (L{snapshotOf}, L{restoreSnapshot}).
"""

import copy

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
    wasStored = getattr(room, "stored", False)

    def failed(failure):
        room.stored = wasStored
        return failure

    if room.config.persistent:
        room.stored = True
        return _store(room).save(room.jidStr, stateOf(room)).addErrback(failed)
    if wasStored:
        room.stored = False
        return _store(room).delete(room.jidStr).addErrback(failed)
    return defer.succeed(None)


def snapshotOf(room):
    """
    @return: a copy of what a configuration or affiliation change may
        modify in C{room} (configuration, affiliations, reserved nicks,
        lock, feature state), for L{restoreSnapshot}.
    """
    return {
        "config": room.config.toDict(),
        "affiliations": dict(room.affiliations),
        "reservedNicks": dict(room.reservedNicks),
        "locked": room.locked,
        "extra": copy.deepcopy(room.extra),
    }


def restoreSnapshot(room, snapshot):
    """
    Put C{room} back in the state of C{snapshot} (from L{snapshotOf}).
    """
    room.config.update(snapshot["config"])
    room.affiliations.clear()
    room.affiliations.update(snapshot["affiliations"])
    room.reservedNicks.clear()
    room.reservedNicks.update(snapshot["reservedNicks"])
    room.locked = snapshot["locked"]
    room.extra.clear()
    room.extra.update(snapshot["extra"])


def saveChange(room, apply):
    """
    Make a change of C{room} all-or-nothing: take a snapshot, call
    C{apply()} (which changes the state in memory only: nothing sent),
    store the room; if storing fails, restore the snapshot.

    @param apply: callable changing the room's state; its exceptions
        (refusals) propagate before anything is stored.
    @return: a Deferred firing with L{None} once stored (send the effects
        then), or failing with the storage error after the room was
        restored.
    """
    snapshot = snapshotOf(room)
    try:
        apply()
    except BaseException:
        restoreSnapshot(room, snapshot)
        raise

    def failed(failure):
        if not room.destroyed:
            restoreSnapshot(room, snapshot)
        return failure

    return defer.maybeDeferred(room.save).addErrback(failed)


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
