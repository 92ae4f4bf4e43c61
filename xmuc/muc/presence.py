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


class PresenceChange:
    """
    What an occupant's presence tells beyond its current state: leaving,
    status codes, who did it and why, a new nick, imposed payload.

    @ivar unavailable: the presence is of type C{unavailable}.
    @ivar codes: status codes for everyone (before the item).
    @ivar selfCodes: status codes for the occupant's own sessions only.
    @ivar actor: L{Occupant} or real JID str of who caused the change.
    @ivar reason: text or L{None}.
    @ivar newNick: the C{nick} attribute of the item (nick change).
    @ivar payload: children to send instead of the occupant's last
        presence ones, or L{None}.
    @ivar before: elements put in the x before the item (destroy).
    """

    __slots__ = ("unavailable", "codes", "selfCodes", "actor", "reason", "newNick", "payload", "before")

    def __init__(self, unavailable=False, codes=(), selfCodes=(), actor=None, reason=None, newNick=None,
                 payload=None, before=()):
        self.unavailable = unavailable
        self.codes = codes
        self.selfCodes = selfCodes
        self.actor = actor
        self.reason = reason
        self.newNick = newNick
        self.payload = payload
        self.before = before

    @property
    def plain(self):
        """
        Whether this is the occupant's plain current presence (cacheable).
        """
        return not (self.unavailable or self.codes or self.actor or self.reason or self.newNick is not None
                    or self.payload is not None or self.before)

    def withPayload(self, payload):
        """
        @return: the same change with C{payload} imposed.
        """
        return PresenceChange(self.unavailable, self.codes, self.selfCodes, self.actor, self.reason,
                              self.newNick, payload, self.before)


#: The occupant's current presence, nothing more.
CURRENT = PresenceChange()


def buildPresence(room, occupant, variant, change=CURRENT, status110=True, jids=None):
    """
    Build the presence of C{occupant} as one kind of recipient sees it.

    @param variant: C{'anon'} (no real JID), C{'full'} (with real JIDs)
        or C{'self'} (the occupant itself: real JID, its own codes, 110).
    @param change: the L{PresenceChange} told.
    @param status110: add status 110 to the C{'self'} variant (not for
        another session of the same user).
    @param jids: the real JIDs listed (one item each) in the C{'full'}
        and C{'self'} variants; default: every session of the occupant,
        as Prosody.
    @return: a presence element without C{to}.
    """
    actor, reason, newNick = change.actor, change.reason, change.newNick
    presence = newStanza("presence", **{"from": occupant.occupantJID})
    if change.unavailable:
        presence["type"] = "unavailable"
    for child in occupant.payload if change.payload is None else change.payload:
        # Not addChild: it would make the kept payload element's parent
        # this presence, so every occupant would pin the last presence
        # built for it (a whole element tree) as long as it is in the room.
        presence.children.append(child)
    room.hooks.fire(hooks.PRESENCE_BUILD, room=room, occupant=occupant, presence=presence)
    x = presence.addElement((ns.MUC_USER, "x"))
    for code in change.codes:
        x.addElement("status")["code"] = code
    if variant == "self":
        for code in change.selfCodes:
            x.addElement("status")["code"] = code
    for element in change.before:
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
    if variant == "self" and status110:
        x.addElement("status")["code"] = "110"
    return presence


def broadcastPresence(room, occupant, unavailable=False, codes=(), selfCodes=(), actor=None,
                      reason=None, newNick=None, payload=None, before=(), toSelf=True):
    """
    Send C{occupant}'s presence to every session of every occupant: one
    serialization per variant (without / with real JIDs), then only the
    C{to} differs.  The occupant's sessions get its own variant (with
    110).  Occupants whose presence is not visible
    (C{occupant-presence-visible}) are only seen by themselves.  The
    arguments are those of L{PresenceChange}.
    """
    change = PresenceChange(unavailable, codes, selfCodes, actor, reason, newNick, payload, before)
    plain = change.plain
    variants = {}

    def variant(kind):
        serialized = variants.get(kind)
        if serialized is None:
            if plain:
                serialized = occupant.cachedPresence(kind, lambda k: buildPresence(room, occupant, k))
            else:
                serialized = Serialized(buildPresence(room, occupant, kind, change))
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
                    sendSelfVariant(room, occupant, to, change, status110=False)
                continue
            else:
                serialized = variant("anon")
            for to in tuple(other.sessions):
                serialized.sendTo(room.router, to)
    if toSelf:
        sendToOwnSessions(room, occupant, change)


def sendToOwnSessions(room, occupant, change):
    """
    The occupant's own sessions get its self variant (with 110): while
    no payload is imposed, each session its own presence (as Prosody),
    otherwise one stanza serialized once.

    @param change: the L{PresenceChange} told.
    """
    sessions = tuple(occupant.sessions)
    if len(sessions) == 1:
        sendSelfVariant(room, occupant, sessions[0], change)
    elif change.payload is None:
        for to in sessions:
            sendSelfVariant(room, occupant, to, change.withPayload(occupant.sessions.get(to, occupant.payload)))
    else:
        serialized = Serialized(buildPresence(room, occupant, "self", change))
        for to in sessions:
            serialized.sendTo(room.router, to)


def sendSelfVariant(room, occupant, to, change, status110=True, jids=None):
    """
    Send session C{to} the self variant of C{occupant}'s presence (see
    L{buildPresence}).
    """
    presence = buildPresence(room, occupant, "self", change, status110, jids)
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
            sendSelfVariant(room, occupant, target, CURRENT, status110=False)
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
        sendSelfVariant(room, prober, to, PresenceChange(payload=prober.sessions.get(to, prober.payload)),
                        status110=False)
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
