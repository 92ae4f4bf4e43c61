"""
Registering with a room (XEP-0045 7.10) and reserved nicknames.

C{jabber:iq:register} to the room's bare JID returns the C{muc#register}
form (or the registered nick); submitting it reserves the nick and makes
the user a member (an affiliation the user already has is kept), which
updates the user's occupants in the room; C{<remove/>} drops the nick and
the membership.  Both are all-or-nothing like the other room changes
(L{xmuc.muc.room.Room.changeAffiliation}): recorded, stored, and only then
sent (evictions, presences, notices, the result).  Unaffiliated users
may only register when the service allows it
(C{[muc] allow_unaffiliated_registration}), outcasts never.

A reserved nick (registered here, or set by an admin with the C{nick}
attribute of a C{muc#admin} item) belongs to its owner: anyone else
joining or changing nick to it gets C{conflict}, and whoever sits on it
when it gets reserved is removed (307, "This nickname is reserved").
C{disco#info} with node C{x-roomuser-item} tells the caller its reserved
nick.
"""

from twisted.internet import defer
from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.nicks import validNick
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID

NICK_FIELD = "muc#register_roomnick"
ROOMUSER_NODE = "x-roomuser-item"

#: The reason given to someone removed because its nick became reserved.
RESERVED_REASON = "This nickname is reserved"


def reservedBy(room, nick):
    """
    @return: the bare JID that reserved C{nick} in C{room}, or L{None}.
    """
    for bare, reserved in room.reservedNicks.items():
        if reserved == nick:
            return bare
    return None


def checkNotReservedByOther(room, nick, bare):
    """
    A reserved nick belongs to whoever reserved it.

    @raise StanzaError: C{conflict} when someone else than C{bare}
        reserved C{nick}.
    """
    holder = reservedBy(room, nick)
    if holder is not None and holder != bare:
        raise StanzaError("conflict", text="That nickname is reserved by someone else")


def evictSquatter(room, nick, bare):
    """
    C{nick} was just reserved for C{bare}: whoever else sits on it is
    removed (307, L{RESERVED_REASON}, no actor).
    """
    squatter = room.occupants.get(nick)
    if squatter is not None and squatter.bare != bare:
        room.setRole(squatter, "none", reason=RESERVED_REASON, codes=("307",))


def registrationForm():
    """
    @return: the C{muc#register} L{forms.Form} (the nick is required).
    """
    form = forms.Form("form", ns.MUC_REGISTER)
    form.add(NICK_FIELD, "text-single", "Nickname", required=True)
    return form


def _sender(stanza):
    sender = parseJID(stanza.getAttribute("from", ""))
    if sender is None:
        raise StanzaError("bad-request")
    return sender.userhost()


def checkMayRegister(room, bare):
    """
    Outcasts may not register (C{forbidden}); unaffiliated users only when
    the service allows it (C{registration-required}).
    """
    affiliation = room.getAffiliation(bare)
    if affiliation == "outcast":
        raise StanzaError("forbidden", text="You have been banned from this room")
    if affiliation == "none" and not room.service.allowUnaffiliatedRegistration:
        raise StanzaError("registration-required", text="Only members may register with this room")


def getRegistration(room, stanza, **kw):
    """
    The registered nick (C{<registered/>} and C{<username/>}), or the form.
    """
    bare = _sender(stanza)
    checkMayRegister(room, bare)
    query = domish.Element((ns.REGISTER, "query"))
    nick = room.reservedNicks.get(bare)
    if nick is not None:
        query.addElement("registered")
        query.addElement("username", content=nick)
    else:
        query.addChild(registrationForm().toElement())
    return query


def submittedNick(query):
    """
    Read the nick from a submitted registration form.

    @return: the nick (resourceprepped), or L{None} for a cancelled form.
    @raise StanzaError: C{bad-request} without a form or with another
        FORM_TYPE; C{not-acceptable} without a (valid) nick.
    """
    x = forms.findForm(query)
    if x is None:
        raise StanzaError("bad-request", text="Missing data form")
    kind, formType, fields = forms.parseForm(x)
    if kind == "cancel":
        return None
    if kind != "submit":
        raise StanzaError("bad-request", text="Not a submitted form")
    if formType != ns.MUC_REGISTER:
        raise StanzaError("bad-request", text="Form is not of type %s" % (ns.MUC_REGISTER,))
    nick = forms.single(fields.get(NICK_FIELD, []))
    if not nick:
        raise StanzaError("not-acceptable", text="A nickname is required")
    try:
        return validNick(nick)
    except StanzaError:
        raise StanzaError("not-acceptable", text="Invalid nickname")


def setRegistration(room, stanza, **kw):
    """
    Register (form submit) or unregister (C{<remove/>}), all-or-nothing
    like the other room changes (L{xmuc.muc.room.Room.changeAffiliation}): the nick and
    the affiliation change in memory, the room is stored, and only then is
    whoever sits on the nick removed, the affiliation's effects (presences,
    notice) sent and the result returned.  When storage fails, the room is
    put back as it was, nobody sees anything and the requester gets
    C{internal-server-error}.

    @return: a Deferred firing with L{None} (the empty result) once stored.
    """
    bare = _sender(stanza)
    # Refusals in the order Prosody gives them: who may register, then
    # what the form says.
    checkMayRegister(room, bare)
    query = stanza.firstChildElement()
    if any(True for child in query.elements() if child.name == "remove"):
        return _saveRegistration(room, bare, None)
    nick = submittedNick(query)
    if nick is None:
        # A cancelled form changes nothing (XEP-0004).
        return defer.succeed(None)
    return _saveRegistration(room, bare, nick)


def _saveRegistration(room, bare, nick):
    """
    Record a registration of C{bare} with C{nick} (or its removal when
    C{nick} is L{None}), store the room, then send the effects.

    @return: the Deferred of L{xmuc.muc.room.Room.changeAffiliation},
        firing with L{None} after the effects went out.
    """

    def registered(stored):
        # Checked again against the room as it is now: an earlier change of
        # the room may have been stored meanwhile (persistence applies the
        # changes of a room one at a time), e.g. the user was banned or
        # someone else reserved the nick.
        checkMayRegister(room, bare)
        if nick is None:
            room.reservedNicks.pop(bare, None)
            # Only the membership registration gave goes; a higher one stays.
            return "none" if stored == "member" else stored
        checkNotReservedByOther(room, nick, bare)
        room.reservedNicks[bare] = nick
        return "member" if stored == "none" else stored

    # The result (no payload) follows: durable before ack.
    return room.changeAffiliation(bare, registered, nick=nick).addCallback(lambda _: None)


def refuseReservedNick(room, occupant, **kw):
    """
    C{occupant-pre-join}: a nick reserved by someone else is taken (C{conflict}).
    """
    checkNotReservedByOther(room, occupant.nick, occupant.bare)


def refuseReservedNickChange(room, occupant, nick, **kw):
    checkNotReservedByOther(room, nick, occupant.bare)


def onNickReserved(room, bare, nick, **kw):
    evictSquatter(room, nick, bare)


def reservedNickInfo(room, stanza, **kw):
    """
    C{disco#info} node C{x-roomuser-item}: the caller's reserved nick as
    an identity (nothing when it has none).
    """
    query = domish.Element((ns.DISCO_INFO, "query"))
    query["node"] = ROOMUSER_NODE
    nick = room.reservedNicks.get(_sender(stanza))
    if nick is not None:
        identity = query.addElement("identity")
        identity["category"] = "conference"
        identity["name"] = nick
        identity["type"] = "text"
    return query


def addFeature(room, features, **kw):
    features.add(ns.REGISTER)


def install(service):
    service.hooks.add(hooks.ROOM_IQ_GET + ns.REGISTER, getRegistration)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.REGISTER, setRegistration)
    # After the ban, membership and password refusals (password has the
    # same priority and is installed first); the lock (-30) and the
    # occupant limit (-40) come later, and the conflict with an occupant's
    # nick last of all (the core, after every hook).
    service.hooks.add(hooks.OCCUPANT_PRE_JOIN, refuseReservedNick, priority=-20)
    service.hooks.add(hooks.OCCUPANT_PRE_NICK_CHANGE, refuseReservedNickChange)
    service.hooks.add(hooks.NICK_RESERVED, onNickReserved)
    service.hooks.add(hooks.ROOM_DISCO_INFO_NODE + ROOMUSER_NODE, reservedNickInfo)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
