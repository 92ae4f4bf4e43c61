"""
New rooms stay locked until their owner configures them (XEP-0045 10.1):
meanwhile only owners get in, others get C{item-not-found}.
C{[muc] lock_new_rooms = false} turns this off.  Any accepted owner form
submit (even the empty instant-room one) unlocks.
"""

from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError


def lockNewRoom(room, stanza, **kw):
    if stanza is not None and room.service.lockNewRooms:
        room.locked = True
    if stanza is not None:
        # Like Prosody: the creator's language is the room's.
        room.config.lang = stanza.getAttribute((ns.XML, "lang"), "")


def refuseWhileLocked(room, occupant, **kw):
    if room.locked and occupant.affiliation != "owner":
        error = StanzaError("item-not-found", text="This room is locked")
        # As Prosody: to others the room does not exist yet, so the service
        # answers.
        error.by = room.service.domain
        raise error


def unlock(room, **kw):
    room.locked = False


def install(service):
    service.hooks.add("room-created", lockNewRoom, priority=10)
    service.hooks.add("pre-join", refuseWhileLocked, priority=-30)
    service.hooks.add("config-changed", unlock, priority=100)
