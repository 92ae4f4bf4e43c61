"""
Room nicknames: what a valid nick is (XEP-0045 7.2.1: the resource part
of the occupant's JID, strictly resourceprepped), and the nick conflict
when someone joins or changes nick to a nick an occupant holds (7.2.8),
and changing nick (7.6).
Nicks reserved by registration have their rules in L{xmuc.muc.register}.
"""

from twisted.words.protocols.jabber import xmpp_stringprep

from xmuc.muc import hooks, presence
from xmuc.muc.occupant import mucElement
from xmuc.xmpp.errors import StanzaError


def validNick(nick):
    """
    @return: the nick after strict resourceprep.
    @raise StanzaError: C{jid-malformed} when it is empty or invalid,
        C{not-allowed} when it is only white space.
    """
    if not nick:
        raise StanzaError("jid-malformed", text="A nickname is required")
    try:
        prepped = xmpp_stringprep.resourceprep.prepare(nick)
    except (UnicodeError, ValueError):
        raise StanzaError("jid-malformed", text="Nickname must pass strict validation")
    if not prepped or len(prepped.encode("utf-8")) > 1023:
        raise StanzaError("jid-malformed", text="Nickname must pass strict validation")
    if not prepped.strip():
        raise StanzaError("not-allowed", text="Invisible Nicknames are forbidden")
    return prepped


def occupantByNick(room, nick):
    """
    The occupant of C{nick} as a client wrote it in a payload (a form
    field, an item): a nickname that only differs by preparation is the
    same occupant.

    @return: the L{xmuc.muc.occupant.Occupant} or L{None}.
    """
    occupant = room.occupants.get(nick)
    if occupant is not None:
        return occupant
    try:
        # Strict, as for joining: no occupant holds a nick it refuses.
        prepped = xmpp_stringprep.resourceprep.prepare(nick)
    except (UnicodeError, ValueError):
        return None
    return room.occupants.get(prepped)


def checkNickFree(room, nick, bare=None):
    """
    XEP-0045 7.2.8: "If the room already contains another user with the
    nickname desired by the user seeking to enter the room [...], the
    service MUST deny access to the room and inform the user of the
    conflict"; 7.6 says the same of a nick change.  Another session of
    the same user is no conflict (it joins that occupant) when C{bare} is
    given.

    @param bare: the real bare JID asking for C{nick}, or L{None} when any
        occupant holding C{nick} is a conflict.
    @return: the occupant holding C{nick} (one of C{bare}'s) or L{None}.
    @raise StanzaError: C{conflict}.
    """
    holder = room.occupants.get(nick)
    if holder is not None and (bare is None or holder.bare != bare):
        raise StanzaError("conflict", text="That nickname is already in use")
    return holder


def changeNick(room, occupant, nick, stanza, to):
    """
    Change the nick of an occupant with one session (status 303),
    XEP-0045 7.6; sessions of a multi-session occupant move alone
    (L{xmuc.muc.sessions.moveSession}).

    @param to: the session asking (real full JID str).
    @raise StanzaError: C{conflict} when taken, or a hook's refusal.
    """
    nick = validNick(nick)
    checkNickFree(room, nick)
    room.hooks.fire(hooks.OCCUPANT_PRE_NICK_CHANGE, room=room, occupant=occupant, nick=nick, stanza=stanza)
    oldNick = occupant.nick
    presence.broadcastPresence(room, occupant, unavailable=True, codes=("303",), newNick=nick, payload=())
    del room.occupants[oldNick]
    occupant.nick = nick
    room.occupants[nick] = occupant
    occupant.setPresence(stanza)
    # A nick change sent as a join (with the muc x) resynchronises the
    # client as Prosody does: occupant list, presence, history, subject.
    resync = mucElement(stanza) is not None
    if resync:
        presence.sendOccupantList(room, occupant, to)
        room.hooks.fire(hooks.OCCUPANT_LIST_SENT, room=room, occupant=occupant, to=to)
    presence.broadcastPresence(room, occupant)
    room.hooks.fire(hooks.OCCUPANT_NICK_CHANGED, room=room, occupant=occupant, oldNick=oldNick)
    if resync:
        room.hooks.fire(hooks.OCCUPANT_JOINED, room=room, occupant=occupant, stanza=stanza, rejoin=True, to=to, firstSession=False)
