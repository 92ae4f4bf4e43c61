"""
New rooms stay locked until their owner configures them (XEP-0045 10.1):
meanwhile only owners get in (or read the archive), others get
C{item-not-found}.  C{[muc] lock_new_rooms = false} turns this off.  Any
accepted owner form submit (even the empty instant-room one) unlocks.

Some clients never configure the rooms they create (Dino creates a room,
gets status 201 and submits nothing), which would keep everyone else out.
As Prosody's C{muc_room_lock_timeout}, a room still locked
C{[muc] lock_timeout} seconds after its creation (default 300; 0: never)
is unlocked with the default configuration: the lock holds a deadline,
checked when someone asks whether the room is locked, so no timer runs.
Whether a room is locked, and until when, is this module's state
(L{isLocked}), stored with the room.
"""

from twisted.logger import Logger

from xmuc.muc import hooks
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

log = Logger()


class _Lock:
    """
    @ivar locked: the room is new and not yet configured.
    @ivar expires: when the lock ends by itself, in seconds of the
        service's clock (L{None}: when configured only).
    """

    locked = False
    expires = None


def _lockOf(room):
    return room.state(__name__, _Lock)


def lockDeadline(service):
    """
    @return: when a room locked now unlocks by itself (seconds of the
        service's clock), or L{None} when C{[muc] lock_timeout} is 0.
    """
    if not service.lockTimeout:
        return None
    return service.clock.seconds() + service.lockTimeout


def isLocked(room):
    """
    @return: whether C{room} is locked (new, not yet configured, and its
        lock not yet timed out: then it is unlocked now).
    """
    lock = _lockOf(room)
    if lock.locked and lock.expires is not None and room.service.clock.seconds() >= lock.expires:
        lock.locked, lock.expires = False, None
        log.info("room {room} was not configured within {timeout} s of its creation: unlocked with the default "
                 "configuration", room=room.jidStr, timeout=room.service.lockTimeout)
    return lock.locked


def lockNewRoom(room, stanza, **kw):
    if stanza is not None and room.service.lockNewRooms:
        lock = _lockOf(room)
        lock.locked, lock.expires = True, lockDeadline(room.service)
    if stanza is not None:
        # Like Prosody: the creator's language is the room's.
        room.config.lang = stanza.getAttribute((ns.XML, "lang"), "")


def refuseWhileLocked(room, affiliation, **kw):
    """
    C{room-pre-enter}: only owners enter a locked room, or read its
    archive; checked first, so that the room tells others nothing.
    """
    if isLocked(room) and affiliation != "owner":
        error = StanzaError("item-not-found", text="This room is locked")
        # As Prosody: to others the room does not exist yet, so the service
        # answers.
        error.by = room.service.domain
        raise error


def unlock(room, **kw):
    lock = _lockOf(room)
    lock.locked, lock.expires = False, None


def saveLock(room, state, **kw):
    """
    C{room-state-save}: whether the room is locked, and until when.
    """
    locked = isLocked(room)
    state["locked"] = locked
    state["lockExpires"] = _lockOf(room).expires if locked else None


def loadLock(room, state, **kw):
    """
    C{room-loaded} and C{room-state-restore}: the lock as saved (a room
    saved locked without a deadline gets one from now).
    """
    lock = _lockOf(room)
    lock.locked = bool(state.get("locked", False))
    lock.expires = state.get("lockExpires") if lock.locked else None
    if lock.locked and lock.expires is None:
        lock.expires = lockDeadline(room.service)


def install(service):
    service.hooks.add(hooks.ROOM_CREATED, lockNewRoom, priority=10)
    service.hooks.add(hooks.ROOM_PRE_ENTER, refuseWhileLocked, priority=30)
    service.hooks.add(hooks.CONFIG_CHANGED, unlock, priority=100)
    service.hooks.add(hooks.ROOM_STATE_SAVE, saveLock)
    service.hooks.add(hooks.ROOM_LOADED, loadLock)
    service.hooks.add(hooks.ROOM_STATE_RESTORE, loadLock)
