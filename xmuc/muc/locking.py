"""
New rooms stay locked until their owner configures them (XEP-0045 10.1):
meanwhile only owners get in, others get C{item-not-found}.
C{[muc] lock_new_rooms = false} turns this off.  Any accepted owner form
submit (even the empty instant-room one) unlocks.  Whether a room is
locked is this module's state (L{isLocked}), stored with the room.
"""

from xmuc.muc import hooks
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError


class _Lock:
    """
    @ivar locked: the room is new and not yet configured.
    """

    locked = False


def _lockOf(room):
    return room.state(__name__, _Lock)


def isLocked(room):
    """
    @return: whether C{room} is locked (new, not yet configured).
    """
    return _lockOf(room).locked


def lockNewRoom(room, stanza, **kw):
    if stanza is not None and room.service.lockNewRooms:
        _lockOf(room).locked = True
    if stanza is not None:
        # Like Prosody: the creator's language is the room's.
        room.config.lang = stanza.getAttribute((ns.XML, "lang"), "")


def refuseWhileLocked(room, occupant, **kw):
    if isLocked(room) and occupant.affiliation != "owner":
        error = StanzaError("item-not-found", text="This room is locked")
        # As Prosody: to others the room does not exist yet, so the service
        # answers.
        error.by = room.service.domain
        raise error


def unlock(room, **kw):
    _lockOf(room).locked = False


def saveLock(room, state, **kw):
    """
    C{room-state-save}: whether the room is locked.
    """
    state["locked"] = isLocked(room)


def loadLock(room, state, **kw):
    """
    C{room-loaded} and C{room-state-restore}: the lock as saved.
    """
    _lockOf(room).locked = bool(state.get("locked", False))


def install(service):
    service.hooks.add(hooks.ROOM_CREATED, lockNewRoom, priority=10)
    service.hooks.add(hooks.OCCUPANT_PRE_JOIN, refuseWhileLocked, priority=-30)
    service.hooks.add(hooks.CONFIG_CHANGED, unlock, priority=100)
    service.hooks.add(hooks.ROOM_STATE_SAVE, saveLock)
    service.hooks.add(hooks.ROOM_LOADED, loadLock)
    service.hooks.add(hooks.ROOM_STATE_RESTORE, loadLock)
