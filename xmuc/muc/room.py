"""
The room core: occupants, affiliations, roles, and routing of the stanzas
a room receives.  Everything a feature adds (passwords, history, the
owner form...) hooks into the events documented in L{xmuc.muc.hooks}.

Useful API for feature modules:

 - L{Room.getAffiliation}, L{Room.setAffiliation}, L{Room.setRole},
   L{Room.defaultRole}: the affiliation/role model and its effects;
 - L{Room.broadcastPresence}: an occupant's presence to everyone (with
   status codes, actor and reason), L{Room.sendPresenceOf}: to one occupant;
 - L{Room.removeOccupant}: take someone out (kick, ban, shutdown);
 - L{Room.broadcast}: a stanza from the room to every occupant (or those a
   predicate accepts), e.g. C{room.broadcast(msg, room.canSeeRealJIDs)};
 - L{Room.canSeeRealJIDs}: whether an occupant may see real JIDs;
 - L{Room.save}: store a persistent room (Deferred).
"""

import uuid

from twisted.words.protocols.jabber import xmpp_stringprep
from twisted.words.xish import domish

from xmuc.muc.occupant import AFFILIATION_RANK, Occupant
from xmuc.muc.roomconfig import RoomConfig
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import copyElement, newStanza, resultFor

AFFILIATIONS = ("owner", "admin", "member", "none", "outcast")
ROLES = ("moderator", "participant", "visitor", "none")


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


class Room:
    """
    One chat room.

    @ivar service: the L{xmuc.muc.service.MUCService}.
    @ivar hooks: the service's L{xmuc.muc.hooks.HookRegistry}.
    @ivar jid: the room's bare JID (L{JID}); C{jidStr} the same as str.
    @ivar config: the L{RoomConfig}.
    @ivar occupants: C{{nick: Occupant}}, in join order.
    @ivar occupantsByJID: C{{real full JID str: Occupant}}, every session
        of every occupant.
    @ivar affiliations: C{{bare JID str: 'owner'|'admin'|'member'|'outcast'}}
        ('none' is never stored).
    @ivar reservedNicks: C{{bare JID str: nick}} (registered nicknames).
    @ivar subject: the subject text, L{None} when never set.
    @ivar subjectNick: nick of who set the subject (L{None}: the room).
    @ivar subjectTime: when the subject was last set (seconds since the
        epoch), or L{None} if never.
    @ivar locked: new room not yet configured: only owners may enter.
    @ivar destroyed: the room was destroyed; it ignores everything.
    @ivar extra: JSON-serialisable state of feature modules (stored).
    """

    def __init__(self, service, jid):
        self.service = service
        self.hooks = service.hooks
        self.router = service.router
        self.jid = jid
        self.jidStr = jid.userhost()
        self.config = RoomConfig(service.defaultHistoryLength, service.maxOccupants)
        self.occupants = {}
        self.occupantsByJID = {}
        self.affiliations = {}
        self.reservedNicks = {}
        self.subject = None
        self.subjectNick = None
        self.subjectTime = None
        self.locked = False
        self.destroyed = False
        self.extra = {}
        # Forwarded iq ids: {our id: (requester real JID, their id, target real JID)}
        self._forwardedIqs = {}

    def __repr__(self):
        return "<Room %s (%d occupants)>" % (self.jidStr, len(self.occupants))

    # -- Model: affiliations and roles -------------------------------------

    def getAffiliation(self, bare):
        """
        @param bare: a bare JID string.
        @return: the affiliation, C{'none'} when there is none; server
            administrators are owners of every room.
        """
        if self.service.isAdmin(bare):
            return "owner"
        return self.affiliations.get(bare, "none")

    def owners(self):
        """
        @return: the bare JIDs with the owner affiliation (stored ones).
        """
        return [bare for bare, affiliation in self.affiliations.items() if affiliation == "owner"]

    def defaultRole(self, jid, affiliation):
        """
        The role an occupant with C{affiliation} gets (hook C{default-role}
        first).

        @param jid: the real full JID (L{JID}).
        @return: a role string (C{'none'} for outcasts).
        """
        role = self.hooks.fire("default-role", room=self, jid=jid, affiliation=affiliation)
        if role is not None:
            return role
        if affiliation in ("owner", "admin"):
            return "moderator"
        if affiliation == "outcast":
            return "none"
        return "participant"

    def canSeeRealJIDs(self, occupant):
        """
        @return: whether C{occupant} may see the real JIDs of others
            (non-anonymous room, or moderator of a semi-anonymous one).
        """
        return self.config.whois == "anyone" or occupant.role == "moderator"

    def occupantsOf(self, bare):
        """
        @return: the occupants whose real bare JID is C{bare}.
        """
        return [o for o in self.occupants.values() if o.bare == bare]

    def setAffiliation(self, bare, affiliation, actor=None, reason=None, notify=True):
        """
        Change the affiliation of C{bare} and apply its effects like
        Prosody (L{recordAffiliation} then L{affiliationEffects}).
        Permission checks and storage are the caller's job (L{save}); to
        change nothing visible unless storage succeeds, call
        L{recordAffiliation}, L{save}, then L{affiliationEffects}.

        @param bare: bare JID string.
        @param affiliation: one of L{AFFILIATIONS}.
        @param actor: the L{Occupant} acting, a real JID string, or L{None}.
        @param reason: text or L{None}.
        @param notify: send the notice about non-occupants.
        @return: the previous affiliation.
        """
        old = self.recordAffiliation(bare, affiliation)
        self.affiliationEffects(bare, old, affiliation, actor, reason, notify)
        return old

    def recordAffiliation(self, bare, affiliation):
        """
        Change the affiliation of C{bare} in the model only: nothing is
        sent and no hook fires.

        @return: the previous affiliation.
        @raise StanzaError: C{bad-request} for an unknown affiliation.
        """
        if affiliation not in AFFILIATIONS:
            raise StanzaError("bad-request", text="Unknown affiliation")
        old = self.affiliations.get(bare, "none")
        if affiliation == "none":
            self.affiliations.pop(bare, None)
        else:
            self.affiliations[bare] = affiliation
        return old

    def affiliationEffects(self, bare, old, affiliation, actor=None, reason=None, notify=True):
        """
        The effects of the affiliation of C{bare} having changed from C{old}
        to C{affiliation}, as Prosody: occupants of that JID get the role
        of their new affiliation (presence broadcast with C{actor}/C{reason});
        outcasts are removed with status 301, and in a members-only room
        those who lose membership with status 321.  When nobody of that JID
        is in the room, occupants who may see real JIDs get a message with
        the item (XEP-0045 9.3/9.4 notices).  Fires C{affiliation-changed}.
        """
        present = self.occupantsOf(bare)
        for occupant in present:
            if affiliation == "outcast":
                self.removeOccupant(occupant, codes=("301",), actor=actor, reason=reason)
            elif self.config.membersOnly and AFFILIATION_RANK[affiliation] < AFFILIATION_RANK["member"]:
                self.removeOccupant(occupant, codes=("321",), actor=actor, reason=reason)
            else:
                oldRole = occupant.role
                occupant.role = self.defaultRole(occupant.jid, self.getAffiliation(bare))
                self.broadcastPresence(occupant, actor=actor, reason=reason)
                if oldRole != occupant.role:
                    self.hooks.fire("role-changed", room=self, occupant=occupant, old=oldRole, new=occupant.role, actor=actor, reason=reason)
                    if not self.config.nonAnonymous and "moderator" in (oldRole, occupant.role):
                        self.resendOccupantList(occupant)
        if not present and notify and old != affiliation:
            self.notifyAffiliation(bare, affiliation, reason)
        self.hooks.fire("affiliation-changed", room=self, bare=bare, old=old, new=affiliation, actor=actor, reason=reason, nick=self.reservedNicks.get(bare))
        return old

    def resendOccupantList(self, occupant):
        """
        Send C{occupant} the presence of everyone else again: its view of
        real JIDs changed (it gained or lost moderation through an
        affiliation change in a semi-anonymous room), as Prosody does.
        """
        for other in list(self.occupants.values()):
            if other.bare != occupant.bare and self.presenceVisible(other):
                self.sendPresenceOf(other, occupant)
        self.hooks.fire("occupant-list-sent", room=self, occupant=occupant)

    def notifyAffiliation(self, bare, affiliation, reason=None):
        """
        Tell occupants who may see real JIDs that the affiliation of
        C{bare} (not in the room) changed.
        """
        message = newStanza("message", **{"from": self.jidStr})
        x = message.addElement((ns.MUC_USER, "x"))
        # The status an occupant of that JID would have been removed with.
        if affiliation == "outcast":
            x.addElement("status")["code"] = "301"
        elif self.config.membersOnly and AFFILIATION_RANK[affiliation] < AFFILIATION_RANK["member"]:
            x.addElement("status")["code"] = "321"
        item = x.addElement("item")
        item["jid"] = bare
        item["affiliation"] = affiliation
        if reason:
            item.addElement("reason", content=reason)
        self.broadcast(message, self.canSeeRealJIDs)

    def setRole(self, occupant, role, actor=None, reason=None, codes=()):
        """
        Change an occupant's role and broadcast it; role C{'none'} removes
        it from the room (a kick: add status 307 in C{codes}).  Fires
        C{role-changed}.  Permission checks are the caller's job.
        """
        if role not in ROLES:
            raise StanzaError("bad-request", text="Unknown role")
        old = occupant.role
        if role == "none":
            self.removeOccupant(occupant, codes=codes, actor=actor, reason=reason)
        else:
            occupant.role = role
            self.broadcastPresence(occupant, codes=codes, actor=actor, reason=reason)
        self.hooks.fire("role-changed", room=self, occupant=occupant, old=old, new=role, actor=actor, reason=reason)

    # -- Sending -------------------------------------------------------------

    def route(self, stanza):
        """
        Send a stanza from the room (its C{from} already set).
        """
        self.router.route(stanza)

    def reply(self, stanza, result=None):
        """
        Send an iq result for C{stanza}.

        @param result: optional child element of the result.
        """
        self.route(resultFor(stanza, result))

    def error(self, stanza, error, echoMUC=False):
        """
        Answer C{stanza} with an error from the room (C{by} the room JID,
        unless the L{StanzaError} has a C{by} attribute of its own).

        @param error: a L{StanzaError} or a condition string.
        @param echoMUC: add an empty C{<x xmlns='...muc'/>} (join errors).
        """
        if stanza.getAttribute("type") == "error":
            return
        reply = errorReply(stanza, error, by=getattr(error, "by", None) or self.jidStr, payload=False)
        if echoMUC:
            reply.addElement((ns.MUC, "x"))
        self.route(reply)

    def broadcast(self, stanza, include=None):
        """
        Send C{stanza} (no C{to}; C{from} set) to every session of every
        occupant, serialized once.

        @param include: optional predicate on L{Occupant}.
        @return: the L{Serialized} stanza (for reuse, e.g. by history).
        """
        serialized = Serialized(stanza)
        for occupant in list(self.occupants.values()):
            if include is None or include(occupant):
                for to in occupant.sessions:
                    serialized.sendTo(self.router, to)
        return serialized

    def sendToSessions(self, stanza, occupant):
        """
        Send C{stanza} (no C{to}) to every session of C{occupant}, serialized
        once.
        """
        serialized = Serialized(stanza)
        for to in list(occupant.sessions):
            serialized.sendTo(self.router, to)

    def presenceVisible(self, occupant):
        """
        @return: whether others see C{occupant}'s presence (hook
            C{presence-visible}).
        """
        return self.hooks.fire("presence-visible", room=self, occupant=occupant) is not False

    def buildPresence(self, occupant, variant, unavailable=False, codes=(), actor=None, reason=None,
                      newNick=None, payload=None, before=(), selfCodes=(), status110=True, jids=None):
        """
        Build the presence of C{occupant} as one kind of recipient sees it.

        @param variant: C{'anon'} (no real JID), C{'full'} (with real JIDs)
            or C{'self'} (the occupant itself: real JID, C{selfCodes}, 110).
        @param codes: status codes for everyone (before the item).
        @param actor: L{Occupant} or real JID str of who caused the change.
        @param newNick: the C{nick} attribute of the item (nick change).
        @param payload: children to broadcast instead of the occupant's
            last presence ones.
        @param before: elements put in the x before the item (destroy).
        @param status110: add status 110 to the C{'self'} variant (not for
            another session of the same user).
        @param jids: the real JIDs listed (one item each) in the C{'full'}
            and C{'self'} variants; default: every session of the occupant,
            as Prosody.
        @return: a presence element without C{to}.
        """
        presence = newStanza("presence", **{"from": occupant.occupantJID})
        if unavailable:
            presence["type"] = "unavailable"
        for child in occupant.payload if payload is None else payload:
            presence.addChild(child)
        self.hooks.fire("build-presence", room=self, occupant=occupant, presence=presence)
        x = presence.addElement((ns.MUC_USER, "x"))
        for code in codes:
            x.addElement("status")["code"] = code
        if variant == "self":
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
        if variant == "self" and status110:
            x.addElement("status")["code"] = "110"
        return presence

    def broadcastPresence(self, occupant, unavailable=False, codes=(), selfCodes=(), actor=None,
                          reason=None, newNick=None, payload=None, before=(), toSelf=True):
        """
        Send C{occupant}'s presence to every session of every occupant: one
        serialization per variant (without / with real JIDs), then only the
        C{to} differs.  The occupant's sessions get its own variant (with
        110).  Occupants whose presence is not visible (C{presence-visible})
        are only seen by themselves.
        """
        plain = not (unavailable or codes or actor or reason or newNick is not None or payload is not None or before)
        variants = {}

        def variant(kind):
            serialized = variants.get(kind)
            if serialized is None:
                if plain:
                    serialized = occupant.cachedPresence(kind, lambda k: self.buildPresence(occupant, k))
                else:
                    serialized = Serialized(self.buildPresence(
                        occupant, kind, unavailable, codes, actor, reason, newNick, payload, before))
                variants[kind] = serialized
            return serialized

        if self.presenceVisible(occupant):
            for other in list(self.occupants.values()):
                if other is occupant:
                    continue
                if self.canSeeRealJIDs(other):
                    serialized = variant("full")
                elif other.bare == occupant.bare:
                    for to in tuple(other.sessions):
                        self._sendSelfVariant(occupant, to, unavailable, codes, selfCodes, actor,
                                              reason, newNick, payload, before, withStatus110=False)
                    continue
                else:
                    serialized = variant("anon")
                for to in tuple(other.sessions):
                    serialized.sendTo(self.router, to)
        if toSelf:
            self._sendToSessions(occupant, unavailable, codes, selfCodes, actor, reason, newNick, payload, before)

    def _sendToSessions(self, occupant, unavailable, codes, selfCodes, actor, reason, newNick, payload, before):
        """
        The occupant's own sessions get its self variant (with 110): while
        no C{payload} is imposed, each session its own presence (as
        Prosody), otherwise one stanza serialized once.
        """
        sessions = tuple(occupant.sessions)
        if len(sessions) == 1:
            self._sendSelfVariant(occupant, sessions[0], unavailable, codes, selfCodes, actor, reason,
                                  newNick, payload, before)
        elif payload is None:
            for to in sessions:
                self._sendSelfVariant(occupant, to, unavailable, codes, selfCodes, actor, reason, newNick,
                                      occupant.sessions.get(to, occupant.payload), before)
        else:
            serialized = Serialized(self.buildPresence(occupant, "self", unavailable, codes, actor, reason,
                                                       newNick, payload, before, selfCodes))
            for to in sessions:
                serialized.sendTo(self.router, to)

    def _sendSelfVariant(self, occupant, to, unavailable, codes, selfCodes, actor, reason, newNick,
                         payload, before, withStatus110=True, jids=None):
        presence = self.buildPresence(occupant, "self", unavailable, codes, actor, reason, newNick,
                                      payload, before, selfCodes, withStatus110, jids)
        presence["to"] = to
        self.route(presence)

    def sendPresenceOf(self, occupant, recipient, to=None):
        """
        Send C{occupant}'s current presence to occupant C{recipient} only
        (the join list).

        @param to: the one session of C{recipient} to send it to (real full
            JID str); default: all its sessions.
        """
        targets = (to,) if to is not None else tuple(recipient.sessions)
        if recipient.bare == occupant.bare and recipient is not occupant:
            for target in targets:
                self._sendSelfVariant(occupant, target, False, (), (), None, None, None, None, (),
                                      withStatus110=False)
            return
        kind = "full" if self.canSeeRealJIDs(recipient) else "anon"
        serialized = occupant.cachedPresence(kind, lambda k: self.buildPresence(occupant, k))
        for target in targets:
            serialized.sendTo(self.router, target)

    def answerProbe(self, prober, nick, to=None):
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
        target = self.occupants.get(nick) if nick is not None else prober
        if target is prober:
            self._sendSelfVariant(prober, to, False, (), (), None, None, None,
                                  prober.sessions.get(to, prober.payload), (), withStatus110=False)
        elif target is not None:
            self.sendPresenceOf(target, prober, to)
        else:
            for bare, reserved in self.reservedNicks.items():
                if reserved == nick:
                    presence = newStanza("presence", type="unavailable", to=to,
                                         **{"from": self.jidStr + "/" + nick})
                    item = presence.addElement((ns.MUC_USER, "x")).addElement("item")
                    item["affiliation"] = self.getAffiliation(bare)
                    item["role"] = "none"
                    item["nick"] = nick
                    if self.canSeeRealJIDs(prober):
                        item["jid"] = bare
                    self.route(presence)
                    break

    # -- Presence --------------------------------------------------------------

    def handlePresence(self, stanza, sender, nick, created=False):
        """
        A presence to the room (C{nick} L{None}) or to C{room/nick}.

        @param sender: the real full JID (L{JID}).
        @param created: this presence created the room (status 201).
        """
        kind = stanza.getAttribute("type")
        occupant = self.occupantsByJID.get(sender.full())
        try:
            if kind == "error":
                if occupant is not None:
                    self.kickForError(occupant, stanza, sender.full())
            elif kind == "unavailable":
                if occupant is not None:
                    self.leaveSession(occupant, sender.full(), stanza)
            elif kind is None or kind == "available":
                if occupant is None:
                    if nick is None:
                        raise StanzaError("jid-malformed", text="A nickname is required")
                    if _mucX(stanza) is None:
                        raise StanzaError("item-not-found", text="You are not currently connected to this chat")
                    self.join(stanza, sender, nick, created)
                elif nick == occupant.nick and _mucX(stanza) is not None:
                    self.rejoin(occupant, stanza, sender.full())
                elif nick is None or nick == occupant.nick:
                    self.updatePresence(occupant, stanza, sender.full())
                else:
                    self.changeNick(occupant, nick, stanza, sender)
            elif kind == "probe":
                if occupant is None:
                    raise StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat")
                self.answerProbe(occupant, nick, sender.full())
            elif kind in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
                # Rooms take no subscriptions; Prosody answers so.
                raise StanzaError("service-unavailable")
            else:
                raise StanzaError("bad-request")
        except StanzaError as e:
            self.error(stanza, e, echoMUC=occupant is None)

    def join(self, stanza, sender, nick, created=False):
        """
        Let C{sender} in as C{nick}.  When C{nick} is the occupant of
        another session of the same user, C{sender} joins it as one more
        session (L{joinSession}); someone else's nick is a C{conflict}.

        @raise StanzaError: when refused.
        @return: the new (or joined) L{Occupant}.
        """
        nick = validNick(nick)
        bare = sender.userhost()
        affiliation = self.getAffiliation(bare)
        occupant = Occupant(self, nick, sender, self.defaultRole(sender, affiliation))
        occupant.joinStanza = stanza
        selfCodes = []
        if created:
            selfCodes.append("201")
        # Refusals (banned, members-only, password, locked...) come first,
        # the nick conflict last, as in Prosody.
        changed = self.hooks.fire("pre-join", room=self, occupant=occupant, stanza=stanza)
        if isinstance(changed, str) and changed != nick:
            occupant.nick = validNick(changed)
        existing = self.occupants.get(occupant.nick)
        if existing is not None and existing.bare != bare:
            raise StanzaError("conflict", text="That nickname is already in use")
        if self.config.whois == "anyone":
            selfCodes.append("100")
        if self.config.logging:
            selfCodes.append("170")
        if occupant.nick != nick:
            selfCodes.append("210")
        if existing is not None:
            return self.joinSession(existing, stanza, sender, selfCodes)
        occupant.setPresence(stanza)
        self.occupants[occupant.nick] = occupant
        self.occupantsByJID[occupant.realJID] = occupant
        self.sendOccupantList(occupant)
        self.hooks.fire("occupant-list-sent", room=self, occupant=occupant, to=occupant.realJID)
        self.broadcastPresence(occupant, selfCodes=selfCodes)
        self.hooks.fire("joined", room=self, occupant=occupant, stanza=stanza, to=occupant.realJID, firstSession=True)
        # Kept for the join only: a parsed presence is kilobytes per occupant.
        occupant.joinStanza = None
        return occupant

    def joinSession(self, occupant, stanza, sender, selfCodes=()):
        """
        Another session of C{occupant}'s user joins under its nick, as with
        Prosody's multi-session occupants: the session gets the occupant
        list; everyone (the occupant's sessions with 110) gets the
        occupant's presence, which lists one item per real JID for those who
        may see them; history and subject go to the new session only
        (C{joined} with C{to} and C{firstSession=False}).

        @param sender: the session's real full JID (L{JID}).
        @return: C{occupant}.
        """
        to = sender.full()
        occupant.addSession(sender, stanza)
        self.occupantsByJID[to] = occupant
        occupant.joinStanza = stanza
        self.sendOccupantList(occupant, to)
        self.hooks.fire("occupant-list-sent", room=self, occupant=occupant, to=to)
        self.broadcastPresence(occupant, selfCodes=selfCodes)
        self.hooks.fire("joined", room=self, occupant=occupant, stanza=stanza, to=to, firstSession=False)
        occupant.joinStanza = None
        return occupant

    def rejoin(self, occupant, stanza, to=None):
        """
        An occupant joins again under the same nick (its client lost track,
        e.g. after a reconnection): like Prosody, the session gets the
        occupant list, its presence, history and subject again; the others
        see a presence update.

        @param to: the session that joins again (real full JID str;
            default: the primary one).
        """
        to = to or occupant.realJID
        occupant.setPresence(stanza, to)
        occupant.joinStanza = stanza
        self.sendOccupantList(occupant, to)
        self.hooks.fire("occupant-list-sent", room=self, occupant=occupant, to=to)
        self.broadcastPresence(occupant)
        self.hooks.fire("joined", room=self, occupant=occupant, stanza=stanza, rejoin=True, to=to, firstSession=False)
        occupant.joinStanza = None

    def sendOccupantList(self, joiner, to=None):
        """
        Send the joiner the presence of every other occupant it may see.

        @param to: the joining session (real full JID str); default: every
            session of C{joiner}.
        """
        for other in list(self.occupants.values()):
            if other is joiner:
                continue
            if other.bare == joiner.bare or self.presenceVisible(other):
                self.sendPresenceOf(other, joiner, to)

    def updatePresence(self, occupant, stanza, to=None):
        """
        An occupant's session changed its show/status: broadcast it (others
        see the primary session's presence, each session its own).

        @param to: the session (real full JID str; default: the primary).
        """
        occupant.setPresence(stanza, to)
        self.broadcastPresence(occupant)
        self.hooks.fire("presence-updated", room=self, occupant=occupant, stanza=stanza)

    def changeNick(self, occupant, nick, stanza, sender=None):
        """
        Change an occupant's nick (status 303), XEP-0045 7.6.  A session of
        a multi-session occupant moves alone (L{moveSession}).

        @param sender: the session asking (L{JID}); default: the primary.
        @raise StanzaError: C{conflict} when taken, or a hook's refusal.
        """
        if sender is not None and len(occupant.sessions) > 1:
            return self.moveSession(occupant, sender, nick, stanza)
        nick = validNick(nick)
        if nick in self.occupants:
            raise StanzaError("conflict", text="That nickname is already in use")
        self.hooks.fire("pre-nick-change", room=self, occupant=occupant, nick=nick, stanza=stanza)
        oldNick = occupant.nick
        self.broadcastPresence(occupant, unavailable=True, codes=("303",), newNick=nick, payload=())
        del self.occupants[oldNick]
        occupant.nick = nick
        self.occupants[nick] = occupant
        occupant.setPresence(stanza)
        # A nick change sent as a join (with the muc x) resynchronises the
        # client as Prosody does: occupant list, presence, history, subject.
        resync = _mucX(stanza) is not None
        to = sender.full() if sender is not None else occupant.realJID
        if resync:
            self.sendOccupantList(occupant, to)
            self.hooks.fire("occupant-list-sent", room=self, occupant=occupant, to=to)
        self.broadcastPresence(occupant)
        self.hooks.fire("nick-changed", room=self, occupant=occupant, oldNick=oldNick)
        if resync:
            occupant.joinStanza = stanza
            self.hooks.fire("joined", room=self, occupant=occupant, stanza=stanza, rejoin=True, to=to, firstSession=False)
            occupant.joinStanza = None

    def moveSession(self, occupant, sender, nick, stanza):
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
        target = self.occupants.get(nick)
        if target is not None and target.bare != occupant.bare:
            raise StanzaError("conflict", text="That nickname is already in use")
        self.hooks.fire("pre-nick-change", room=self, occupant=occupant, nick=nick, stanza=stanza)
        to = sender.full()
        occupant.removeSession(to)
        self._sendSelfVariant(occupant, to, True, ("303",), (), None, None, nick, (), (), jids=(to,))
        self.broadcastPresence(occupant)
        if target is None:
            target = Occupant(self, nick, sender, occupant.role)
            target.setPresence(stanza)
            self.occupants[nick] = target
        else:
            target.addSession(sender, stanza)
        self.occupantsByJID[to] = target
        self.broadcastPresence(target)
        # The session still sees the occupant it left.
        self.sendPresenceOf(occupant, target, to)

    def leaveSession(self, occupant, to, stanza=None, payload=None, codes=()):
        """
        Session C{to} of C{occupant} leaves.  With its last session the
        occupant leaves (L{removeOccupant}); otherwise, as Prosody, the
        occupant stays: the session gets its unavailable presence (110)
        and everyone the occupant's presence without that real JID.

        @param stanza: the session's unavailable presence, or L{None}.
        @param payload: children of the unavailable presence (default: the
            status of C{stanza}).
        """
        if len(occupant.sessions) == 1:
            return self.removeOccupant(occupant, codes=codes, stanza=stanza, payload=payload)
        if payload is None:
            payload = tuple(c for c in stanza.elements() if c.name == "status") if stanza is not None else ()
        occupant.removeSession(to)
        self.occupantsByJID.pop(to, None)
        self._sendSelfVariant(occupant, to, True, codes, (), None, None, None, payload, (), jids=(to,))
        self.broadcastPresence(occupant)

    def removeOccupant(self, occupant, codes=(), actor=None, reason=None, stanza=None, payload=None,
                       before=(), selfCodes=()):
        """
        Take C{occupant} out of the room: everyone (itself included, with
        110) gets its unavailable presence with C{codes}; fires C{left}; an
        emptied room is handed to the service.

        @param stanza: the occupant's unavailable presence (its status text
            is broadcast), or L{None}.
        """
        if self.occupants.get(occupant.nick) is not occupant:
            return
        if payload is None:
            payload = tuple(c for c in stanza.elements() if c.name == "status") if stanza is not None else ()
        occupant.role = "none"
        self.broadcastPresence(occupant, unavailable=True, codes=codes, selfCodes=selfCodes, actor=actor,
                               reason=reason, payload=payload, before=before)
        del self.occupants[occupant.nick]
        for to in occupant.sessions:
            self.occupantsByJID.pop(to, None)
        self.hooks.fire("left", room=self, occupant=occupant, stanza=stanza)
        if not self.occupants:
            self.service.roomEmptied(self)

    def removeAllOccupants(self, codes=()):
        """
        Take every occupant out at once (service shutdown): each gets its
        own unavailable presence with C{codes} and sees every other occupant
        leave, since all are still in the room while the presences go out.
        """
        occupants = list(self.occupants.values())
        for occupant in occupants:
            role, occupant.role = occupant.role, "none"
            self.broadcastPresence(occupant, unavailable=True, codes=codes, payload=())
            # The others' presences are still built as seen by this role.
            occupant.role = role
        for occupant in occupants:
            occupant.role = "none"
            del self.occupants[occupant.nick]
            for to in occupant.sessions:
                self.occupantsByJID.pop(to, None)
            self.hooks.fire("left", room=self, occupant=occupant, stanza=None)
        if occupants:
            self.service.roomEmptied(self)

    def kickForError(self, occupant, stanza, to=None):
        """
        Remove C{occupant}'s session C{to}, whose client bounced C{stanza}
        (an error) to the room: its client is gone or unreachable.  As
        Prosody: a status text C{Kicked: <condition with spaces>} (the error
        text is added in non-anonymous rooms), and status 333 when the
        occupant leaves with it (its last session).
        """
        condition, text = errorConditionOf(stanza)
        message = "Kicked: " + (condition.replace("-", " ") if condition else "presence error")
        if text and self.config.whois == "anyone":
            message += ": " + text
        status = domish.Element((ns.CLIENT, "status"))
        status.addContent(message)
        codes = ("333",) if len(occupant.sessions) == 1 else ()
        self.leaveSession(occupant, to or occupant.realJID, payload=(status,), codes=codes)

    # -- Messages ----------------------------------------------------------------

    def handleMessage(self, stanza, sender, nick):
        """
        A message to the room or to C{room/nick}.
        """
        kind = stanza.getAttribute("type", "normal")
        occupant = self.occupantsByJID.get(sender.full())
        try:
            if kind == "error":
                if occupant is not None and isKickableError(stanza):
                    self.kickForError(occupant, stanza, sender.full())
                return
            if nick is None:
                if kind == "groupchat":
                    self.handleGroupchat(occupant, stanza)
                elif not self.hooks.fire("room-message", room=self, stanza=stanza, occupant=occupant):
                    raise StanzaError("service-unavailable", type="cancel")
            else:
                self.handlePrivateMessage(occupant, nick, stanza)
        except StanzaError as e:
            self.error(stanza, e)

    def handleGroupchat(self, occupant, stanza):
        if occupant is None:
            raise StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat")
        if self.hooks.fire("groupchat-message", room=self, occupant=occupant, stanza=stanza):
            return
        self.broadcastMessage(occupant, stanza)

    def broadcastMessage(self, occupant, stanza):
        """
        Send a groupchat message of C{occupant} to everyone, from
        C{room/nick}, with a stanza-id by the room (a stanza-id by the room
        in the original is a forgery and dropped).

        @return: the message element as broadcast (no C{to}).
        """
        message = newStanza("message", type="groupchat", id=stanza.getAttribute("id"), **{"from": occupant.occupantJID})
        lang = stanza.getAttribute((ns.XML, "lang"))
        if lang:
            message[(ns.XML, "lang")] = lang
        for child in stanza.elements():
            if child.uri == ns.STANZA_ID and child.name == "stanza-id" and child.getAttribute("by") == self.jidStr:
                continue
            if child.uri == ns.OCCUPANT_ID:
                continue
            message.addChild(child)
        self.hooks.fire("build-message", room=self, occupant=occupant, message=message)
        stanzaID = str(uuid.uuid4())
        sid = message.addElement((ns.STANZA_ID, "stanza-id"))
        sid["id"] = stanzaID
        sid["by"] = self.jidStr
        serialized = self.broadcast(message)
        self.hooks.fire("groupchat-broadcast", room=self, occupant=occupant, message=message, stanzaID=stanzaID,
                        serialized=serialized)
        return message

    def handlePrivateMessage(self, occupant, nick, stanza):
        if occupant is None:
            raise StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat")
        if stanza.getAttribute("type") == "groupchat":
            raise StanzaError("bad-request")
        recipient = self.occupants.get(nick)
        if recipient is None:
            raise StanzaError("item-not-found", text="Recipient not in room")
        self.hooks.fire("private-message", room=self, sender=occupant, recipient=recipient, stanza=stanza)
        message = copyElement(stanza)
        for child in list(message.elements()):
            if (child.name == "x" and child.uri in (ns.MUC, ns.MUC_USER)) or child.uri == ns.OCCUPANT_ID:
                message.children.remove(child)
        message.addElement((ns.MUC_USER, "x"))
        self.hooks.fire("build-message", room=self, occupant=occupant, message=message)
        message["from"] = occupant.occupantJID
        if len(recipient.sessions) == 1:
            message["to"] = recipient.realJID
            self.route(message)
        else:
            # Every session of the recipient, as Prosody.
            message.attributes.pop("to", None)
            self.sendToSessions(message, recipient)

    # -- IQs -----------------------------------------------------------------------

    def handleIq(self, stanza, sender, nick):
        """
        An iq to the room (hooks C{iq-get:<ns>}/C{iq-set:<ns>}) or to an
        occupant (forwarded to its real JID, XEP-0045 7.5 / XEP-0410 self-ping).
        """
        kind = stanza.getAttribute("type")
        occupant = self.occupantsByJID.get(sender.full())
        if nick is not None:
            return self._iqToOccupant(stanza, sender, occupant, nick)
        if kind not in ("get", "set"):
            return
        child = stanza.firstChildElement()
        if child is None:
            return self.error(stanza, "bad-request")
        try:
            result = self.hooks.fire("iq-%s:%s" % (kind, child.uri), room=self, stanza=stanza, occupant=occupant)
        except StanzaError as e:
            return self.error(stanza, e)
        if result is None:
            return self.error(stanza, "service-unavailable")
        if result is True:
            return
        from twisted.internet import defer

        d = defer.maybeDeferred(lambda: result)
        d.addCallback(self._sendIqResult, stanza)
        d.addErrback(self._iqFailed, stanza)

    def _sendIqResult(self, result, stanza):
        if result is True:
            return
        self.reply(stanza, result)

    def _iqFailed(self, failure, stanza):
        if failure.check(StanzaError):
            self.error(stanza, failure.value)
        else:
            from twisted.logger import Logger

            Logger().failure("iq to room {room} failed", failure, room=self.jidStr)
            self.error(stanza, "internal-server-error")

    def _iqToOccupant(self, stanza, sender, occupant, nick):
        kind = stanza.getAttribute("type")
        target = self.occupants.get(nick)
        if kind in ("result", "error"):
            forwarded = self._forwardedIqs.pop(stanza.getAttribute("id"), None)
            if forwarded is None or target is None or forwarded[2] != sender.full() and forwarded[2] != sender.userhost():
                return
            requester, originalID, _, targetNick = forwarded
            requesterOccupant = self.occupantsByJID.get(requester)
            if requesterOccupant is None:
                return
            reply = copyElement(stanza)
            # From the occupant the request went to, also when its server
            # answered for it (from its bare JID, no occupant of its own).
            reply["from"] = self.jidStr + "/" + targetNick
            reply["to"] = requester
            reply["id"] = originalID
            return self.route(reply)
        if kind not in ("get", "set"):
            return
        if occupant is None:
            return self.error(stanza, StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat"))
        if target is None:
            return self.error(stanza, StanzaError("item-not-found", text="Recipient not in room"))
        child = stanza.firstChildElement()
        if target is occupant and kind == "get" and child is not None and child.uri == ns.PING:
            return self.reply(stanza)
        try:
            self.hooks.fire("private-message", room=self, sender=occupant, recipient=target, stanza=stanza)
        except StanzaError as e:
            return self.error(stanza, e)
        forwardID = uuid.uuid4().hex
        destination = target.realJID
        if child is not None and child.uri in (ns.VCARD_TEMP, ns.VCARD4, ns.PUBSUB):
            destination = target.bare
        if len(self._forwardedIqs) > 1000:
            self._forwardedIqs.clear()
        self._forwardedIqs[forwardID] = (sender.full(), stanza.getAttribute("id"), destination, target.nick)
        forwarded = copyElement(stanza)
        forwarded["from"] = occupant.occupantJID
        forwarded["to"] = destination
        forwarded["id"] = forwardID
        self.route(forwarded)

    # -- Lifecycle --------------------------------------------------------------------

    def save(self):
        """
        Store the room if it is persistent (remove it from storage if it
        stopped being so).

        @return: a Deferred firing once the state is durable.
        """
        from xmuc.muc import persistence

        return persistence.saveRoom(self)

    def destroy(self, reason=None, alternate=None, password=None):
        """
        Destroy the room (XEP-0045 10.9): every occupant gets unavailable
        presence with C{<destroy/>}; the room leaves the service and storage.

        @return: a Deferred firing once storage forgot it.
        """
        destroy = domish.Element((ns.MUC_USER, "destroy"))
        if alternate:
            destroy["jid"] = alternate
        if reason:
            destroy.addElement("reason", content=reason)
        if password:
            destroy.addElement("password", content=password)
        self.destroyed = True
        for occupant in list(self.occupants.values()):
            # Everyone is out at once: each gets only its own presence
            # (as Prosody), not the others leaving.
            occupant.role = "none"
            self._sendToSessions(occupant, True, (), (), None, None, None, (), (destroy,))
            del self.occupants[occupant.nick]
            for to in occupant.sessions:
                self.occupantsByJID.pop(to, None)
            self.hooks.fire("left", room=self, occupant=occupant, stanza=None)
        self.hooks.fire("room-destroyed", room=self, reason=reason, alternate=alternate)
        return self.service.forgetRoom(self)


def _mucX(stanza):
    for child in stanza.elements(ns.MUC, "x"):
        return child
    return None


#: Error conditions that tell the sender's client is gone or unreachable: an
#: occupant bouncing a message error with one of these (or without any
#: condition) is removed from the room, as Prosody does.  Other errors (e.g.
#: a refused private message) leave it in.
KICKABLE_ERRORS = frozenset([
    "gone", "internal-server-error", "item-not-found", "jid-malformed",
    "recipient-unavailable", "redirect", "remote-server-not-found",
    "remote-server-timeout", "service-unavailable",
])


def errorConditionOf(stanza):
    """
    @param stanza: a stanza of type C{error}.
    @return: C{(condition, text)} of its C{<error/>}; either may be L{None}.
    """
    condition = text = None
    for error in stanza.elements():
        if error.name != "error":
            continue
        for child in error.elements(ns.XMPP_STANZAS):
            if child.name == "text":
                text = str(child)
            elif condition is None:
                condition = child.name
        break
    return condition, text


def isKickableError(stanza):
    """
    @return: whether an error from an occupant means its client is gone
        (see L{KICKABLE_ERRORS}).
    """
    condition, _ = errorConditionOf(stanza)
    return condition is None or condition in KICKABLE_ERRORS
