"""
Occupant limits: C{muc#roomconfig_maxusers} per room, bounded by the
service-wide C{[muc] max_occupants} (0: none).  A full room answers
C{service-unavailable}; owners and admins still get in.
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp.errors import StanzaError

#: C{maxUsers}: the occupant limit, 0 for none (default: the service's
#: C{[muc] max_occupants}).
SETTING = "maxUsers"


def roomLimit(room):
    limits = [n for n in (room.config.maxUsers, room.service.maxOccupants) if n]
    return min(limits) if limits else 0


def checkRoomFull(room, occupant, **kw):
    existing = room.occupants.get(occupant.nick)
    if existing is not None and existing.bare == occupant.bare:
        # Another session of an occupant: no one more in the room.
        return
    limit = roomLimit(room)
    if limit and len(room.occupants) >= limit and occupant.affiliation not in ("owner", "admin"):
        raise StanzaError("service-unavailable", text="The room has reached its maximum number of occupants")


def install(service):
    declareSettings(service, {SETTING: service.maxOccupants})
    service.hooks.add(hooks.OCCUPANT_PRE_JOIN, checkRoomFull, priority=-40)
    configField(service, "muc#roomconfig_maxusers", "maxUsers", "integer",
                "Maximum number of occupants (0: no limit)", 40,
                maximum=lambda room: room.service.maxOccupants)
