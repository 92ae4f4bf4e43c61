"""
Password-protected rooms (XEP-0045 7.2.5, 10.2): joining needs
C{<password/>} in the join's muc x, else C{not-authorized}.  As in Prosody,
the room is protected exactly when its secret is not empty; submitting
C{muc#roomconfig_passwordprotectedroom} false clears the secret.
"""

from xmuc.xmpp import forms
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError


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


def addFeature(room, features, **kw):
    features.add("muc_passwordprotected" if room.config.password else "muc_unsecured")


def install(service):
    service.hooks.add("pre-join", checkPassword, priority=-20)
    service.hooks.add("config-form", addFields, priority=60)
    service.hooks.add("config-submitted", readFields, priority=60)
    service.hooks.add("disco-features", addFeature)
