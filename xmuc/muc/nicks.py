"""
Room nicknames: what a valid nick is (XEP-0045 7.2.1: the resource part
of the occupant's JID, strictly resourceprepped), and the nick conflict
when someone joins or changes nick to a nick an occupant holds (7.2.9).
Nicks reserved by registration have their rules in L{xmuc.muc.register}.
"""

from twisted.words.protocols.jabber import xmpp_stringprep

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


def checkNickFree(room, nick, bare=None):
    """
    XEP-0045 7.2.9: "If the room already contains another user with the
    nickname desired by the user seeking to enter the room [...] the
    service MUST deny access to the room and inform the user of the
    conflict".  Another session of the same user is no conflict (it joins
    that occupant) when C{bare} is given.

    @param bare: the real bare JID asking for C{nick}, or L{None} when any
        occupant holding C{nick} is a conflict.
    @return: the occupant holding C{nick} (one of C{bare}'s) or L{None}.
    @raise StanzaError: C{conflict}.
    """
    holder = room.occupants.get(nick)
    if holder is not None and (bare is None or holder.bare != bare):
        raise StanzaError("conflict", text="That nickname is already in use")
    return holder
