"""
Password-protected rooms (XEP-0045 7.2.5, 10.2): joining needs
C{<password/>} in the join's muc x, else C{not-authorized}.  As in Prosody,
the room is protected exactly when its secret is not empty; submitting
C{muc#roomconfig_passwordprotectedroom} false clears the secret.
"""

from xmuc.muc import hooks
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError

#: C{password}: the room secret, C{''} for none.
SETTINGS = {"password": ""}


def joinPassword(stanza):
    """
    @return: the C{<password/>} text of a join presence, or L{None}.
    """
    for x in stanza.elements(ns.MUC, "x"):
        for password in x.elements(ns.MUC, "password"):
            return str(password)
    return None


def checkPassword(room, occupant, stanza, **kw):
    secret = room.config.password
    if secret and occupant.affiliation not in ("owner", "admin") and joinPassword(stanza) != secret:
        raise StanzaError("not-authorized", text="A password is required to enter this room")


def addFields(room, form, **kw):
    form.add("muc#roomconfig_passwordprotectedroom", "boolean", "Password protected",
             ["1" if room.config.password else "0"])
    form.add("muc#roomconfig_roomsecret", "text-private", "Password",
             [room.config.password] if room.config.password else [])


def readFields(room, fields, changes, **kw):
    secret = room.config.password
    if "muc#roomconfig_roomsecret" in fields:
        secret = forms.single(fields["muc#roomconfig_roomsecret"])
    if "muc#roomconfig_passwordprotectedroom" in fields:
        protected = forms.boolean(fields["muc#roomconfig_passwordprotectedroom"], "muc#roomconfig_passwordprotectedroom")
        if not protected:
            secret = ""
        elif not secret:
            raise StanzaError("not-acceptable", text="Invalid value for muc#roomconfig_roomsecret: a password is required")
    changes["password"] = secret


def addToInvite(room, message, **kw):
    """
    C{room-invite}: the invitation carries the room password (XEP-0045
    7.8.2), as Prosody.
    """
    if room.config.password:
        for x in message.elements(ns.MUC_USER, "x"):
            x.addElement("password", content=room.config.password)


def addFeature(room, features, **kw):
    features.add("muc_passwordprotected" if room.config.password else "muc_unsecured")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.OCCUPANT_PRE_JOIN, checkPassword, priority=-20)
    service.hooks.add(hooks.CONFIG_FORM, addFields, priority=60)
    service.hooks.add(hooks.CONFIG_SUBMITTED, readFields, priority=60)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    # Before the invitation may be sent (members-only rooms).
    service.hooks.add(hooks.ROOM_INVITE, addToInvite, priority=10)
