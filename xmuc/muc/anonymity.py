"""
Who sees real JIDs (C{muc#roomconfig_whois}): moderators only
(semi-anonymous, the default) or anyone (non-anonymous, status 100 on
join).  Switching sends 172 (now non-anonymous) or 173 (now
semi-anonymous) with the 104 notice.
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings

#: C{whois}: C{'moderators'} (semi-anonymous) or C{'anyone'}.
SETTINGS = {"whois": "moderators"}


def anonymityCodes(room, changes, **kw):
    if "whois" in changes:
        kw["codes"].add("172" if changes["whois"] == "anyone" else "173")


def addFeature(room, features, **kw):
    features.add("muc_nonanonymous" if room.config.whois == "anyone" else "muc_semianonymous")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.CONFIG_CHANGED, anonymityCodes)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    configField(service, "muc#roomconfig_whois", "whois", "list-single",
                "Addresses (JIDs) of room occupants may be viewed by:", 45,
                options=[("moderators", "Moderators only"), ("anyone", "Anyone")])
