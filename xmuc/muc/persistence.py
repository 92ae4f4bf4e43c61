"""
Persistent rooms in C{server.storage.rooms}: the state of a persistent
room is stored whenever it changes (callers wait for L{saveRoom} before
acknowledging the change: durable before ack), rooms are rebuilt at
startup, and forgotten when destroyed or made temporary.

A change is all-or-nothing (L{saveChange}): the new state is applied in
memory, stored, and only then do its effects go out; when storage fails,
the room goes back to the state before (L{snapshotOf}, L{restoreSnapshot}).

Changes and saves of one room go one at a time (L{changeLock}): a change
made while the previous one is being stored is applied and stored only
once that one finished (stored and its effects sent, or restored), so a
failing save never restores a snapshot over a later change, and what is
stored is always a state the room really reached.
"""

import copy

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
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


def changeLock(room):
    """
    @return: the L{defer.DeferredLock} held while a change of C{room} is
        applied and stored (or the room saved).
    """
    lock = getattr(room, "changeLock", None)
    if lock is None:
        lock = room.changeLock = defer.DeferredLock()
    return lock


def _oneAtATime(room, function):
    """
    Call C{function()} once no other change or save of C{room} is under
    way, and hold the room's L{changeLock} until the Deferred it returns
    fired and the caller's callbacks on the result ran (the effects of a
    change go out before the next change is applied).

    When the room is free, C{function} runs now and its exceptions
    propagate to the caller (refusals before anything is stored); queued,
    they fail the returned Deferred.

    @param function: returns a Deferred (or a value).
    @return: a Deferred firing with the result of C{function}.
    """
    lock = changeLock(room)
    done = defer.Deferred()

    def finished(result):
        try:
            if isinstance(result, Failure):
                done.errback(result)
            else:
                done.callback(result)
        finally:
            lock.release()

    if not lock.locked:
        lock.acquire()
        try:
            result = function()
        except BaseException:
            lock.release()
            raise
        defer.maybeDeferred(lambda: result).addBoth(finished)
        return done

    def run(_):
        defer.maybeDeferred(function).addBoth(finished)

    lock.acquire().addCallback(run)
    return done


def saveRoom(room):
    """
    Store C{room} if persistent; forget it if it stopped being persistent.
    Waits for a change of the room being stored: the state stored is the
    one after it (or after its failure).

    @return: a Deferred firing once storage has it.
    """
    return _oneAtATime(room, lambda: _saveNow(room))


def _saveNow(room):
    """
    L{saveRoom}, holding the room's L{changeLock}.
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
    @return: a copy of what a change may modify in C{room}
        (configuration, affiliations, reserved nicks, subject, lock,
        feature state), for L{restoreSnapshot}.
    """
    return {
        "config": room.config.toDict(),
        "affiliations": dict(room.affiliations),
        "reservedNicks": dict(room.reservedNicks),
        "subject": (room.subject, room.subjectNick, room.subjectTime),
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
    room.subject, room.subjectNick, room.subjectTime = snapshot["subject"]
    room.locked = snapshot["locked"]
    room.extra.clear()
    room.extra.update(snapshot["extra"])


def saveChange(room, apply):
    """
    Make a change of C{room} all-or-nothing: take a snapshot, call
    C{apply()} (which changes the state in memory only: nothing sent),
    store the room; if storing fails, restore the snapshot.  While an
    earlier change of the room is being stored, all of this waits for it
    to finish: C{apply} should check what depends on the room's state
    (permissions, last owner...) itself, against the state it then finds.

    @param apply: callable changing the room's state; its exceptions
        (refusals) propagate before anything is stored (as a failed
        Deferred when the change had to wait).
    @return: a Deferred firing with L{None} once stored (send the effects
        in its callbacks: the next change waits for them), or failing with
        the storage error after the room was restored.
    """
    return _oneAtATime(room, lambda: _applyAndSave(room, apply))


def _applyAndSave(room, apply):
    """
    L{saveChange}, holding the room's L{changeLock}.
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

    return defer.maybeDeferred(_saveNow, room).addErrback(failed)


def deleteRoom(room):
    """
    Forget a destroyed C{room} in storage, once a change of it being
    stored finished (so that save cannot store the room again after this).

    @return: a Deferred firing once storage forgot C{room}.
    """
    return _oneAtATime(room, lambda: _deleteNow(room))


def _deleteNow(room):
    """
    L{deleteRoom}, holding the room's L{changeLock}.
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
