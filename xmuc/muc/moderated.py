"""
Moderated rooms (XEP-0045 8.x): unaffiliated occupants join as visitors
and visitors may not speak (C{forbidden}).
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp.errors import StanzaError

#: C{moderated}: only participants and moderators may speak.
SETTINGS = {"moderated": False}


def visitorsInModeratedRooms(room, affiliation, **kw):
    if room.config.moderated and affiliation == "none":
        return "visitor"
    return None


def refuseVisitors(room, occupant, stanza, **kw):
    if occupant.role == "visitor":
        raise StanzaError("forbidden", text="You do not currently have permission to speak in this chat")


def addFeature(room, features, **kw):
    features.add("muc_moderated" if room.config.moderated else "muc_unmoderated")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.OCCUPANT_DEFAULT_ROLE, visitorsInModeratedRooms)
    service.hooks.add(hooks.GROUPCHAT_PRE_BROADCAST, refuseVisitors, priority=50)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    configField(service, "muc#roomconfig_moderatedroom", "moderated", "boolean",
                "Moderated (require permission to speak)", 50)
