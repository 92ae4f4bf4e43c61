"""
Who may create rooms: with C{[muc] restrict_room_creation}, only server
administrators (others get C{not-allowed}).  Names of destroyed rooms
stay buried meanwhile (L{xmuc.muc.tombstones}).
"""

from xmuc.muc import hooks
from xmuc.xmpp.errors import StanzaError


def restrictCreation(service, creator, **kw):
    """
    C{room-pre-create}: with C{[muc] restrict_room_creation}, only server
    administrators create rooms (C{not-allowed}).
    """
    if service.restrictRoomCreation and (creator is None or not service.isAdmin(creator.userhost())):
        raise StanzaError("not-allowed", text="Room creation is restricted")


def install(service):
    service.hooks.add(hooks.ROOM_PRE_CREATE, restrictCreation)
