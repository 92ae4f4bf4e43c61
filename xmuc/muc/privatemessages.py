"""
Private messages between occupants (XEP-0045 7.5), allowed per
C{muc#roomconfig_allowpm}: anyone, participants (and moderators),
moderators, or none.  Refused ones get C{forbidden}.
"""

from xmuc.muc.owner import configField
from xmuc.xmpp.errors import StanzaError

ALLOWED = {
    "anyone": ("visitor", "participant", "moderator"),
    "participants": ("participant", "moderator"),
    "moderators": ("moderator",),
    "none": (),
}


def checkPrivateMessage(room, sender, recipient, stanza, **kw):
    if stanza.name != "message":
        return None
    if sender.role not in ALLOWED.get(room.config.allowPM, ()):
        raise StanzaError("forbidden", text="Private messages are not allowed in this room")
    return None


def install(service):
    service.hooks.add("private-message", checkPrivateMessage)
    configField(service, "muc#roomconfig_allowpm", "allowPM", "list-single", "Allow private messages from", 30,
                options=[("anyone", "Everyone"), ("participants", "Participants"),
                         ("moderators", "Moderators"), ("none", "Nobody")])
