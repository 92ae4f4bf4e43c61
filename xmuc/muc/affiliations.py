"""
Core affiliation rules: banned users stay out, and who may create rooms.
"""

from xmuc.xmpp.errors import StanzaError


def refuseOutcast(room, occupant, **kw):
    """
    Outcasts may not join (C{forbidden}).
    """
    if occupant.affiliation == "outcast":
        raise StanzaError("forbidden", text="You have been banned from this room")


def restrictCreation(service, creator, **kw):
    """
    With C{[muc] restrict_room_creation}, only server administrators
    create rooms (C{not-allowed}).
    """
    if service.restrictRoomCreation and (creator is None or not service.isAdmin(creator.userhost())):
        raise StanzaError("not-allowed", text="Room creation is restricted")


def install(service):
    service.hooks.add("pre-join", refuseOutcast, priority=-10)
    service.hooks.add("pre-create", restrictCreation)
