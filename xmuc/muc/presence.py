"""
Occupant presence as the room sends it (XEP-0045 7.2.3, 7.2.4, 9): built
once per kind of recipient (C{'anon'} without real JIDs, C{'full'} with
them, C{'self'} for the occupant's own sessions with status 110), each
serialized once and sent to every session that sees it; the plain
available presence is cached on the occupant
(L{xmuc.muc.occupant.Occupant.cachedPresence}).  Also the occupant list
sent to joiners and answers to presence probes.
"""

from xmuc.muc import hooks
from xmuc.muc.occupant import Occupant
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import newStanza


def isVisible(room, occupant):
    """
    @return: whether others see C{occupant}'s presence (hook
        C{occupant-presence-visible}).
    """
    return room.hooks.fire(hooks.OCCUPANT_PRESENCE_VISIBLE, room=room, occupant=occupant) is not False


def buildPresence(room, occupant, variant, unavailable=False, codes=(), actor=None, reason=None,
                  newNick=None, payload=None, before=(), selfCodes=(), status110=True, jids=None):
    """
    Build the presence of C{occupant} as one kind of recipient sees it.

    @param variant: C{'anon'} (no real JID), C{'full'} (with real JIDs)
        or C{'room'} (the occupant itself: real JID, C{selfCodes}, 110).
    @param codes: status codes for everyone (before the item).
    @param actor: L{Occupant} or real JID str of who caused the change.
    @param newNick: the C{nick} attribute of the item (nick change).
    @param payload: children to broadcast instead of the occupant's
        last presence ones.
    @param before: elements put in the x before the item (destroy).
    @param status110: add status 110 to the C{'room'} variant (not for
        another session of the same user).
    @param jids: the real JIDs listed (one item each) in the C{'full'}
        and C{'room'} variants; default: every session of the occupant,
        as Prosody.
    @return: a presence element without C{to}.
    """
    presence = newStanza("presence", **{"from": occupant.occupantJID})
    if unavailable:
        presence["type"] = "unavailable"
    for child in occupant.payload if payload is None else payload:
        presence.addChild(child)
    room.hooks.fire(hooks.PRESENCE_BUILD, room=room, occupant=occupant, presence=presence)
    x = presence.addElement((ns.MUC_USER, "x"))
    for code in codes:
        x.addElement("status")["code"] = code
    if variant == "room":
        for code in selfCodes:
            x.addElement("status")["code"] = code
    for element in before:
        x.addChild(element)
    affiliation = occupant.affiliation
    if variant == "anon":
        jids = (None,)
    elif jids is None:
        jids = occupant.sessions
    for jid in jids:
        item = x.addElement("item")
        item["affiliation"] = affiliation
        item["role"] = occupant.role
        if jid is not None:
            item["jid"] = jid
        if newNick is not None:
            item["nick"] = newNick
        if isinstance(actor, Occupant):
            element = item.addElement("actor")
            element["nick"] = actor.nick
            if variant == "full":
                element["jid"] = actor.realJID
        elif actor is not None and variant == "full":
            # An actor outside the room has only a real JID: no empty
            # <actor/> for those who may not see it.
            item.addElement("actor")["jid"] = actor
        if reason:
            item.addElement("reason", content=reason)
    if variant == "room" and status110:
        x.addElement("status")["code"] = "110"
    return presence


def broadcastPresence(room, occupant, unavailable=False, codes=(), selfCodes=(), actor=None,
                      reason=None, newNick=None, payload=None, before=(), toSelf=True):
    """
    Send C{occupant}'s presence to every session of every occupant: one
    serialization per variant (without / with real JIDs), then only the
    C{to} differs.  The occupant's sessions get its own variant (with
    110).  Occupants whose presence is not visible (C{occupant-presence-visible})
    are only seen by themselves.
    """
    plain = not (unavailable or codes or actor or reason or newNick is not None or payload is not None or before)
    variants = {}

    def variant(kind):
        serialized = variants.get(kind)
        if serialized is None:
            if plain:
                serialized = occupant.cachedPresence(kind, lambda k: buildPresence(room, occupant, k))
            else:
                serialized = Serialized(buildPresence(room, 
                    occupant, kind, unavailable, codes, actor, reason, newNick, payload, before))
            variants[kind] = serialized
        return serialized

    if isVisible(room, occupant):
        for other in list(room.occupants.values()):
            if other is occupant:
                continue
            if room.canSeeRealJIDs(other):
                serialized = variant("full")
            elif other.bare == occupant.bare:
                for to in tuple(other.sessions):
                    sendSelfVariant(room, occupant, to, unavailable, codes, selfCodes, actor,
                                          reason, newNick, payload, before, withStatus110=False)
                continue
            else:
                serialized = variant("anon")
            for to in tuple(other.sessions):
                serialized.sendTo(room.router, to)
    if toSelf:
        sendToOwnSessions(room, occupant, unavailable, codes, selfCodes, actor, reason, newNick, payload, before)


def sendToOwnSessions(room, occupant, unavailable, codes, selfCodes, actor, reason, newNick, payload, before):
    """
    The occupant's own sessions get its room variant (with 110): while
    no C{payload} is imposed, each session its own presence (as
    Prosody), otherwise one stanza serialized once.
    """
    sessions = tuple(occupant.sessions)
    if len(sessions) == 1:
        sendSelfVariant(room, occupant, sessions[0], unavailable, codes, selfCodes, actor, reason,
                              newNick, payload, before)
    elif payload is None:
        for to in sessions:
            sendSelfVariant(room, occupant, to, unavailable, codes, selfCodes, actor, reason, newNick,
                                  occupant.sessions.get(to, occupant.payload), before)
    else:
        serialized = Serialized(buildPresence(room, occupant, "room", unavailable, codes, actor, reason,
                                                   newNick, payload, before, selfCodes))
        for to in sessions:
            serialized.sendTo(room.router, to)


def sendSelfVariant(room, occupant, to, unavailable, codes, selfCodes, actor, reason, newNick,
                     payload, before, withStatus110=True, jids=None):
    presence = buildPresence(room, occupant, "room", unavailable, codes, actor, reason, newNick,
                                  payload, before, selfCodes, withStatus110, jids)
    presence["to"] = to
    room.route(presence)


def sendPresenceOf(room, occupant, recipient, to=None):
    """
    Send C{occupant}'s current presence to occupant C{recipient} only
    (the join list).

    @param to: the one session of C{recipient} to send it to (real full
        JID str); default: all its sessions.
    """
    targets = (to,) if to is not None else tuple(recipient.sessions)
    if recipient.bare == occupant.bare and recipient is not occupant:
        for target in targets:
            sendSelfVariant(room, occupant, target, False, (), (), None, None, None, None, (),
                                  withStatus110=False)
        return
    kind = "full" if room.canSeeRealJIDs(recipient) else "anon"
    serialized = occupant.cachedPresence(kind, lambda k: buildPresence(room, occupant, k))
    for target in targets:
        serialized.sendTo(room.router, target)


def answerProbe(room, prober, nick, to=None):
    """
    Answer a presence probe from occupant C{prober} to C{room/nick}
    (C{nick} L{None}: the room's bare JID, meaning its own nick), as
    Prosody: the occupant's current presence (its own without 110), or
    for a nick reserved by someone not in the room an unavailable
    presence with the nick; nothing for an unknown nick.

    @param to: the probing session (real full JID str; default: the
        prober's primary session).
    """
    to = to or prober.realJID
    target = room.occupants.get(nick) if nick is not None else prober
    if target is prober:
        sendSelfVariant(room, prober, to, False, (), (), None, None, None,
                              prober.sessions.get(to, prober.payload), (), withStatus110=False)
    elif target is not None:
        sendPresenceOf(room, target, prober, to)
    else:
        for bare, reserved in room.reservedNicks.items():
            if reserved == nick:
                presence = newStanza("presence", type="unavailable", to=to,
                                     **{"from": room.jidStr + "/" + nick})
                item = presence.addElement((ns.MUC_USER, "x")).addElement("item")
                item["affiliation"] = room.getAffiliation(bare)
                item["role"] = "none"
                item["nick"] = nick
                if room.canSeeRealJIDs(prober):
                    item["jid"] = bare
                room.route(presence)
                break


def sendOccupantList(room, joiner, to=None):
    """
    Send the joiner the presence of every other occupant it may see.

    @param to: the joining session (real full JID str); default: every
        session of C{joiner}.
    """
    for other in list(room.occupants.values()):
        if other is joiner:
            continue
        if other.bare == joiner.bare or isVisible(room, other):
            sendPresenceOf(room, other, joiner, to)


def resendOccupantList(room, occupant):
    """
    Send C{occupant} the presence of everyone else again: its view of
    real JIDs changed (it gained or lost moderation through an
    affiliation change in a semi-anonymous room), as Prosody does.
    """
    for other in list(room.occupants.values()):
        if other.bare != occupant.bare and isVisible(room, other):
            sendPresenceOf(room, other, occupant)
    room.hooks.fire(hooks.OCCUPANT_LIST_SENT, room=room, occupant=occupant)
