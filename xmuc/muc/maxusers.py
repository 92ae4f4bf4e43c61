"""
Occupant limits: C{muc#roomconfig_maxusers} per room, bounded by the
service-wide C{[muc] max_occupants} (0: none).  A full room answers
C{service-unavailable}; owners and admins still get in.

The form offers the limit as a list-single, the type XEP-0045's form
registry gives C{muc#roomconfig_maxusers} (clients with typed form
templates refuse the whole form otherwise), with the choices of its
example form (10.1.3) that the service allows; any number up to the
service's limit is accepted all the same.
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp.errors import StanzaError

#: C{maxUsers}: the occupant limit, 0 for none (default: the service's
#: C{[muc] max_occupants}).
SETTING = "maxUsers"


#: The limits offered (XEP-0045 10.1.3's example form), besides C{none}.
CHOICES = (10, 20, 30, 50, 100)


def limitOptions(room):
    """
    @return: the C{[(value, label)]} choices of the room's limit: those of
        L{CHOICES} the service allows, the service's own limit (or C{none}
        when it has none), and the room's current limit so that the form
        shows it.
    """
    ceiling = room.service.maxOccupants
    numbers = {n for n in CHOICES if not ceiling or n <= ceiling}
    if ceiling:
        numbers.add(ceiling)
    if room.config.maxUsers:
        numbers.add(room.config.maxUsers)
    options = [(str(n), None) for n in sorted(numbers)]
    if not ceiling or not room.config.maxUsers:
        options.append(("none", "No limit" if not ceiling else "The service's limit"))
    return options


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
                "Maximum number of occupants", 40, options=limitOptions,
                maximum=lambda room: room.service.maxOccupants)
