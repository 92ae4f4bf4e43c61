"""
Members-only rooms (XEP-0045 7.2.4, 9.3): only members, admins and owners
enter (others get C{registration-required}); switching a room to
members-only removes the unaffiliated occupants with status 322.
"""

from xmuc.muc import hooks
from xmuc.muc.affiliations import isMember
from xmuc.muc.configform import configField
from xmuc.xmpp.errors import StanzaError


def noRoleForStrangers(room, affiliation, **kw):
    """
    In a members-only room the unaffiliated have no role (Prosody).
    """
    if room.config.membersOnly and affiliation == "none":
        return "none"
    return None


def checkMembership(room, occupant, **kw):
    if room.config.membersOnly and not isMember(room, occupant.bare):
        raise StanzaError("registration-required", text="Membership is required to enter this room")


def removeNonMembers(room, changes, **kw):
    if changes.get("membersOnly"):
        for occupant in list(room.occupants.values()):
            if not isMember(room, occupant.bare):
                room.removeOccupant(occupant, codes=("322",))


def addFeature(room, features, **kw):
    features.add("muc_membersonly" if room.config.membersOnly else "muc_open")


def install(service):
    service.hooks.add(hooks.OCCUPANT_PRE_JOIN, checkMembership, priority=-5)
    service.hooks.add(hooks.OCCUPANT_DEFAULT_ROLE, noRoleForStrangers, priority=2)
    service.hooks.add(hooks.CONFIG_STORED, removeNonMembers)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    configField(service, "muc#roomconfig_membersonly", "membersOnly", "boolean", "Only allow members to join", 55)
