"""
Password-protected rooms (XEP-0045 7.2.5, 10.2): joining needs
C{<password/>} in the join's muc x, else C{not-authorized} (owners and
admins need none).  As in Prosody, the room is protected exactly when its
secret is not empty; submitting C{muc#roomconfig_passwordprotectedroom}
false clears the secret.

An invitation carries the password only when its sender knows it: an
owner (it is in the configuration form), or an occupant whose user gave
the current password when entering (L{KnownPasswords}); never an admin who
came in without it, and no longer anyone after the password changed.
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


class KnownPasswords(dict):
    """
    C{{bare JID: the password it gave}} of the users in a room who
    entered with a password (C{room.state(KnownPasswords, KnownPasswords)}).
    """


def rememberGivenPassword(room, occupant, stanza, **kw):
    """
    C{occupant-joined}: the user now knows the password it entered with.
    """
    given = joinPassword(stanza)
    if given is not None and given == room.config.password:
        room.state(KnownPasswords, KnownPasswords)[occupant.bare] = given


def forgetGivenPassword(room, occupant, **kw):
    """
    C{occupant-left}: the user is no longer in the room (under any nick).
    """
    if not room.occupantsOf(occupant.bare):
        room.state(KnownPasswords, KnownPasswords).pop(occupant.bare, None)


def knowsPassword(room, occupant):
    """
    @return: whether C{occupant} knows the room's current password.
    """
    secret = room.config.password
    return occupant.affiliation == "owner" or room.state(KnownPasswords, KnownPasswords).get(occupant.bare) == secret


def checkPassword(room, affiliation, stanza, occupant, **kw):
    """
    C{room-pre-enter}: the join must give the password (owners and admins
    need not); an occupant, who entered with it, reads the archive, but
    nobody else can give it to an archive query (C{not-authorized}).
    """
    secret = room.config.password
    if (secret and occupant is None and affiliation not in ("owner", "admin")
            and joinPassword(stanza) != secret):
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


def addToInvite(room, message, occupant, **kw):
    """
    C{room-invite}: the invitation carries the room password (XEP-0045
    7.8.2: "If the room is password-protected, the room MUST include the
    password"), when the inviter knows it: the room does not hand its
    password to whoever asks it to invite.
    """
    if room.config.password and knowsPassword(room, occupant):
        for x in message.elements(ns.MUC_USER, "x"):
            x.addElement("password", content=room.config.password)


def addFeature(room, features, **kw):
    features.add("muc_passwordprotected" if room.config.password else "muc_unsecured")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.ROOM_PRE_ENTER, checkPassword)
    service.hooks.add(hooks.CONFIG_FORM, addFields, priority=60)
    service.hooks.add(hooks.CONFIG_SUBMITTED, readFields, priority=60)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.OCCUPANT_JOINED, rememberGivenPassword)
    service.hooks.add(hooks.OCCUPANT_LEFT, forgetGivenPassword)
    # Before the invitation may be sent (members-only rooms).
    service.hooks.add(hooks.ROOM_INVITE, addToInvite, priority=10)
