"""
Persistent rooms in C{server.storage.rooms}: the state of a persistent
room is stored whenever it changes (callers wait for L{RoomStore.save}
before acknowledging the change: durable before ack), rooms are rebuilt at
startup (L{applyState}), and forgotten when destroyed or made temporary.

A change is all-or-nothing (L{RoomStore.change}): the new state is applied in
memory, stored, and only then do its effects go out; when storage fails,
the room goes back to the state before (L{snapshotOf}, L{restoreSnapshot}).

Changes and saves of one room go one at a time (a lock per room): a change
made while the previous one is being stored is applied and stored only
once that one finished (stored and its effects sent, or restored), so a
failing save never restores a snapshot over a later change, and what is
stored is always a state the room really reached.
"""

import copy

from twisted.internet import defer
from twisted.python.failure import Failure

from xmuc.muc import hooks


def stateOf(room):
    """
    @return: the JSON-serialisable state of C{room}; feature modules add
        theirs through C{room-state-save}.
    """
    state = {
        "config": room.config.toDict(),
        "affiliations": dict(room.affiliations),
        "reservedNicks": dict(room.reservedNicks),
        "extra": dict(room.extra),
    }
    room.hooks.fire(hooks.ROOM_STATE_SAVE, room=room, state=state)
    return state


class _StorageState:
    """
    What L{RoomStore} keeps about one room (C{room.state(RoomStore)}).

    @ivar lock: the L{defer.DeferredLock} held while a change of the room
        is applied and stored (or the room saved).
    @ivar stored: whether storage holds the room.
    """

    def __init__(self):
        self.lock = defer.DeferredLock()
        self.stored = False


def _storageState(room):
    return room.state(RoomStore, _StorageState)


class RoomStore:
    """
    The persistent rooms of one MUC service, in C{server.storage.rooms}:
    each L{xmuc.muc.room.Room} of the service saves and changes itself
    through it (C{room.store}).

    @ivar server: the server whose storage keeps the rooms (read when
        used: storage starts after the service is built).
    """

    def __init__(self, server):
        self.server = server

    @property
    def backend(self):
        """
        The L{xmuc.storage.interfaces.IRoomStore} provider of the server.
        """
        return self.server.storage.rooms

    def isStored(self, room):
        """
        @return: whether storage holds C{room} (after its last save).
        """
        return _storageState(room).stored

    def markStored(self, room):
        """
        C{room} was rebuilt from storage: storage holds it.
        """
        _storageState(room).stored = True

    def save(self, room):
        """
        Store C{room} if persistent; forget it if it stopped being
        persistent.  Waits for a change of the room being stored: the state
        stored is the one after it (or after its failure).

        @return: a Deferred firing once storage has it.
        """
        return _oneAtATime(room, lambda: self._saveNow(room))

    def _saveNow(self, room):
        """
        L{save}, holding the room's lock.
        """
        if room.destroyed:
            return defer.succeed(None)
        storage = _storageState(room)
        wasStored = storage.stored

        def failed(failure):
            storage.stored = wasStored
            return failure

        if room.config.persistent:
            storage.stored = True
            return self.backend.save(room.jidStr, stateOf(room)).addErrback(failed)
        if wasStored:
            storage.stored = False
            return self.backend.delete(room.jidStr).addErrback(failed)
        return defer.succeed(None)

    def change(self, room, record, effects):
        """
        Make a change of C{room} all-or-nothing: take a snapshot, call
        C{record()} (which changes the state in memory only: nothing sent),
        store the room, then call C{effects(None)} to send what the change
        causes; if storing fails, restore the snapshot and send nothing.
        While an earlier change of the room is being stored, all of this
        waits for it to finish: C{record} should check what depends on the
        room's state (permissions, last owner...) itself, against the state
        it then finds.

        @param record: callable changing the room's state; its exceptions
            (refusals) propagate before anything is stored (as a failed
            Deferred when the change had to wait).
        @param effects: callable taking the stored result (L{None}); the
            next change of the room waits for it.
        @return: a Deferred firing with the result of C{effects} once
            stored, or failing with the storage error after the room was
            restored.
        """
        return _oneAtATime(room, lambda: self._applyAndSave(room, record)).addCallback(effects)

    def _applyAndSave(self, room, record):
        """
        The recording and storing part of L{change}, holding the room's lock.
        """
        snapshot = snapshotOf(room)
        try:
            record()
        except BaseException:
            restoreSnapshot(room, snapshot)
            raise

        def failed(failure):
            if not room.destroyed:
                restoreSnapshot(room, snapshot)
            return failure

        return defer.maybeDeferred(self._saveNow, room).addErrback(failed)

    def delete(self, room):
        """
        Forget a destroyed C{room} in storage, once a change of it being
        stored finished (so that save cannot store the room again after
        this).

        @return: a Deferred firing once storage forgot C{room}.
        """
        return _oneAtATime(room, lambda: self._deleteNow(room))

    def _deleteNow(self, room):
        """
        L{delete}, holding the room's lock.
        """
        storage = _storageState(room)
        if storage.stored or room.config.persistent:
            storage.stored = False
            return self.backend.delete(room.jidStr)
        return defer.succeed(None)

    def storedRooms(self, domain):
        """
        @return: a Deferred firing with C{[(room JID str, state)]}: every
            stored room of C{domain}.
        """
        return self.backend.list(domain)


def _oneAtATime(room, function):
    """
    Call C{function()} once no other change or save of C{room} is under
    way, and hold the room's lock until the Deferred it returns fired and
    the caller's callbacks on the result ran (the effects of a change go
    out before the next change is applied).

    When the room is free, C{function} runs now and its exceptions
    propagate to the caller (refusals before anything is stored); queued,
    they fail the returned Deferred.

    @param function: returns a Deferred (or a value).
    @return: a Deferred firing with the result of C{function}.
    """
    lock = _storageState(room).lock
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


def _featuresState(room):
    """
    @return: what the features store of C{room} outside C{room.extra}
        (C{room-state-save}).
    """
    state = {}
    room.hooks.fire(hooks.ROOM_STATE_SAVE, room=room, state=state)
    return state


def snapshotOf(room):
    """
    @return: a copy of what a change may modify in C{room}
        (configuration, affiliations, reserved nicks, what the features
        store: C{room.extra} and C{room-state-save}), for
        L{restoreSnapshot}.
    """
    return {
        "config": room.config.toDict(),
        "affiliations": dict(room.affiliations),
        "reservedNicks": dict(room.reservedNicks),
        "features": copy.deepcopy(_featuresState(room)),
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
    room.hooks.fire(hooks.ROOM_STATE_RESTORE, room=room, state=snapshot["features"])
    room.extra.clear()
    room.extra.update(snapshot["extra"])


def applyState(room, state):
    """
    Give a room just built the stored C{state} (from L{stateOf}); feature
    modules read theirs in C{room-loaded}.
    """
    room.config.update(state.get("config", {}))
    room.affiliations.update(state.get("affiliations", {}))
    room.reservedNicks.update(state.get("reservedNicks", {}))
    room.extra.update(state.get("extra", {}))
