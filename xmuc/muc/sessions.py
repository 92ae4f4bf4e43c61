"""
Multi-session occupants, as Prosody's: several sessions (real full JIDs)
of one user share an occupant under one nick.  A session joins an
occupant, moves alone to another nick, or leaves it while the others stay.
"""

from xmuc.muc import hooks, presence
from xmuc.muc.nicks import checkNickFree, validNick
from xmuc.muc.occupant import Occupant
from xmuc.muc.presence import PresenceChange


def joinSession(room, occupant, stanza, sender, selfCodes=()):
    """
    Another session of C{occupant}'s user joins under its nick, as with
    Prosody's multi-session occupants: the session gets the occupant
    list; everyone (the occupant's sessions with 110) gets the
    occupant's presence, which lists one item per real JID for those who
    may see them; history and subject go to the new session only
    (C{occupant-joined} with C{to} and C{firstSession=False}).

    @param sender: the session's real full JID (L{JID}).
    @return: C{occupant}.
    """
    to = sender.full()
    occupant.addSession(sender, stanza)
    room.occupantsByJID[to] = occupant
    presence.sendOccupantList(room, occupant, to)
    room.hooks.fire(hooks.OCCUPANT_LIST_SENT, room=room, occupant=occupant, to=to)
    presence.broadcastPresence(room, occupant, selfCodes=selfCodes)
    room.hooks.fire(hooks.OCCUPANT_JOINED, room=room, occupant=occupant, stanza=stanza, to=to, firstSession=False)
    return occupant


def moveSession(room, occupant, sender, nick, stanza):
    """
    One session of a multi-session occupant asks for another nick: as
    Prosody, the session alone moves.  It sees its old nick go as a nick
    change (303, 110); the others see the old occupant stay with one
    session less and the session appear under C{nick}, as a new
    occupant or one more session of the same user's occupant there.

    @param sender: the session's real full JID (L{JID}).
    @raise StanzaError: C{conflict} when someone else has C{nick}, or a
        hook's refusal.
    """
    nick = validNick(nick)
    target = checkNickFree(room, nick, occupant.bare)
    room.hooks.fire(hooks.OCCUPANT_PRE_NICK_CHANGE, room=room, occupant=occupant, nick=nick, stanza=stanza)
    to = sender.full()
    occupant.removeSession(to)
    change = PresenceChange(unavailable=True, codes=("303",), newNick=nick, payload=())
    presence.sendSelfVariant(room, occupant, to, change, jids=(to,))
    presence.broadcastPresence(room, occupant)
    if target is None:
        target = Occupant(room, nick, sender, occupant.role)
        target.setPresence(stanza)
        room.occupants[nick] = target
    else:
        target.addSession(sender, stanza)
    room.occupantsByJID[to] = target
    presence.broadcastPresence(room, target)
    # The session still sees the occupant it left.
    presence.sendPresenceOf(room, occupant, target, to)


def leaveSession(room, occupant, to, stanza=None, payload=None, codes=()):
    """
    Session C{to} of C{occupant} leaves.  With its last session the
    occupant leaves (L{xmuc.muc.room.Room.removeOccupant}); otherwise, as Prosody, the
    occupant stays: the session gets its unavailable presence (110)
    and everyone the occupant's presence without that real JID.

    @param stanza: the session's unavailable presence, or L{None}.
    @param payload: children of the unavailable presence (default: the
        status of C{stanza}).
    """
    if len(occupant.sessions) == 1:
        return room.removeOccupant(occupant, codes=codes, stanza=stanza, payload=payload)
    if payload is None:
        payload = tuple(c for c in stanza.elements() if c.name == "status") if stanza is not None else ()
    occupant.removeSession(to)
    room.occupantsByJID.pop(to, None)
    change = PresenceChange(unavailable=True, codes=codes, payload=payload)
    presence.sendSelfVariant(room, occupant, to, change, jids=(to,))
    presence.broadcastPresence(room, occupant)
