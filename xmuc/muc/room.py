"""
The room core: occupants, the entry points of the stanzas a room
receives, joining and leaving, and the affiliation/role model.  Everything
a feature adds (passwords, history, the configuration form...) hooks into
the events documented in L{xmuc.muc.hooks}; presence rendering, sessions,
iqs to occupants, private and groupchat messages have modules of their own.

Useful API for feature modules:

 - L{Room.getAffiliation}, L{Room.changeAffiliation}, L{Room.setRole},
   L{Room.defaultRole}: the affiliation/role model and its effects;
 - L{xmuc.muc.presence.broadcastPresence}: an occupant's presence to
   everyone (with status codes, actor and reason),
   L{xmuc.muc.presence.sendPresenceOf}: to one occupant;
 - L{Room.removeOccupant}: take someone out (kick, ban, shutdown);
 - L{Room.broadcast}: a stanza from the room to every occupant (or those a
   predicate accepts), e.g. C{room.broadcast(msg, room.canSeeRealJIDs)};
 - L{Room.canSeeRealJIDs}: whether an occupant may see real JIDs;
 - L{Room.save}: store a persistent room (Deferred);
 - L{Room.state}: the runtime state of a feature about the room
   (L{xmuc.muc.featurestate}).
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.muc import affiliations, ghosts, groupchat, hooks, nicks, occupantiqs, presence, privatemessages, sessions
from xmuc.muc.destroy import destroy as destroyRoom
from xmuc.muc.featurestate import FeatureState
from xmuc.muc.nicks import checkNickFree, validNick
from xmuc.muc.occupant import NOT_IN_ROOM, ROLES, Occupant, mucElement
from xmuc.muc.roomconfig import RoomConfig
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import resultFor

log = Logger()


class Room(FeatureState):
    """
    One chat room.

    @ivar service: the L{xmuc.muc.service.MUCService}.
    @ivar hooks: the service's L{xmuc.hooks.HookRegistry} (events: L{xmuc.muc.hooks}).
    @ivar jid: the room's bare JID (L{JID}); C{jidStr} the same as str.
    @ivar config: the L{RoomConfig}: the settings the features declared.
    @ivar occupants: C{{nick: Occupant}}, in join order.
    @ivar occupantsByJID: C{{real full JID str: Occupant}}, every session
        of every occupant.
    @ivar affiliations: C{{bare JID str: 'owner'|'admin'|'member'|'outcast'}}
        ('none' is never stored).
    @ivar reservedNicks: C{{bare JID str: nick}} (registered nicknames).
    @ivar destroyed: the room was destroyed; it ignores everything.
    @ivar extra: JSON-serialisable state of feature modules (stored).
    @ivar store: the L{xmuc.muc.persistence.RoomStore} keeping the room.
    """

    def __init__(self, service, jid, store):
        self.service = service
        self.hooks = service.hooks
        self.router = service.router
        self.store = store
        self.jid = jid
        self.jidStr = jid.userhost()
        self.config = RoomConfig(service.roomSettings)
        self.occupants = {}
        self.occupantsByJID = {}
        self.affiliations = {}
        self.reservedNicks = {}
        self.destroyed = False
        self.extra = {}
        self._featureState = {}

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
        The role an occupant with C{affiliation} gets (hook C{occupant-default-role}
        first).

        @param jid: the real full JID (L{JID}).
        @return: a role string (C{'none'} for outcasts).
        """
        role = self.hooks.fire(hooks.OCCUPANT_DEFAULT_ROLE, room=self, jid=jid, affiliation=affiliation)
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
        Change the affiliation of C{bare} in memory and apply its effects
        at once (L{xmuc.muc.affiliations}), without storing it: a change
        that must be durable before anyone sees it goes through
        L{changeAffiliation}.  Permission checks are the caller's job.

        @param bare: bare JID string.
        @param affiliation: one of L{xmuc.muc.affiliations.AFFILIATIONS}.
        @param actor: the L{Occupant} acting, a real JID string, or L{None}.
        @param reason: text or L{None}.
        @param notify: send the notice about non-occupants.
        @return: the previous affiliation.
        """
        old = affiliations.recordAffiliation(self, bare, affiliation, reason)
        affiliations.affiliationEffects(self, bare, old, affiliation, actor, reason, notify)
        return old

    def changeAffiliation(self, bare, affiliation, actor=None, reason=None, nick=None):
        """
        Change the affiliation of C{bare} all-or-nothing
        (L{xmuc.muc.persistence.RoomStore.change}): recorded in memory,
        stored, and only then its effects sent
        (L{xmuc.muc.affiliations.affiliationEffects});
        nothing is sent when the room was destroyed meanwhile.

        @param affiliation: the new affiliation, or a callable returning
            it, called with the stored affiliation once earlier changes of
            the room are stored: it checks what depends on the room's state
            (raising L{StanzaError} to refuse) and may record more of the
            change (a reserved nick).
        @param nick: the nick this change reserves for C{bare}: whoever
            else sits on it is removed before the effects (hook
            C{nick-reserved}).
        @return: a Deferred firing with C{(old, new)} once stored and the
            effects sent.
        """
        change = []

        def record():
            stored = self.affiliations.get(bare, "none")
            new = affiliation(stored) if callable(affiliation) else affiliation
            change[:] = [affiliations.recordAffiliation(self, bare, new, reason), new]

        def effects(_):
            old, new = change
            if not self.destroyed:
                if nick is not None:
                    self.hooks.fire(hooks.NICK_RESERVED, room=self, bare=bare, nick=nick)
                affiliations.affiliationEffects(self, bare, old, new, actor=actor, reason=reason)
            return old, new

        return self.store.change(self, record, effects)

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
            presence.broadcastPresence(self, occupant, codes=codes, actor=actor, reason=reason)
        self.hooks.fire(hooks.ROLE_CHANGED, room=self, occupant=occupant, old=old, new=role, actor=actor, reason=reason)

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
                    ghosts.kickForError(self, occupant, stanza, sender.full())
            elif kind == "unavailable":
                if occupant is not None:
                    sessions.leaveSession(self, occupant, sender.full(), stanza)
            elif kind is None or kind == "available":
                if occupant is None:
                    if nick is None:
                        raise StanzaError("jid-malformed", text="A nickname is required")
                    if mucElement(stanza) is None:
                        raise StanzaError("item-not-found", text=NOT_IN_ROOM)
                    self.join(stanza, sender, nick, created)
                elif nick == occupant.nick and mucElement(stanza) is not None:
                    self.rejoin(occupant, stanza, sender.full())
                elif nick is None or nick == occupant.nick:
                    self.updatePresence(occupant, stanza, sender.full())
                elif len(occupant.sessions) > 1:
                    sessions.moveSession(self, occupant, sender, nick, stanza)
                else:
                    nicks.changeNick(self, occupant, nick, stanza, sender.full())
            elif kind == "probe":
                if occupant is None:
                    raise StanzaError("not-acceptable", type="cancel", text=NOT_IN_ROOM)
                presence.answerProbe(self, occupant, nick, sender.full())
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
        session (L{xmuc.muc.sessions.joinSession}); someone else's nick is a C{conflict}.

        @raise StanzaError: when refused.
        @return: the new (or joined) L{Occupant}.
        """
        nick = validNick(nick)
        bare = sender.userhost()
        affiliation = self.getAffiliation(bare)
        occupant = Occupant(self, nick, sender, self.defaultRole(sender, affiliation))
        selfCodes = []
        if created:
            selfCodes.append("201")
        # Refusals (locked, banned, members-only, password...) come first,
        # the nick conflict last, as in Prosody.
        self.checkEntry(sender, stanza)
        changed = self.hooks.fire(hooks.OCCUPANT_PRE_JOIN, room=self, occupant=occupant, stanza=stanza)
        if isinstance(changed, str) and changed != nick:
            occupant.nick = validNick(changed)
        existing = checkNickFree(self, occupant.nick, bare)
        if self.config.whois == "anyone":
            selfCodes.append("100")
        if self.config.logging:
            selfCodes.append("170")
        if occupant.nick != nick:
            selfCodes.append("210")
        if existing is not None:
            return sessions.joinSession(self, existing, stanza, sender, selfCodes)
        occupant.setPresence(stanza)
        self.occupants[occupant.nick] = occupant
        self.occupantsByJID[occupant.realJID] = occupant
        presence.sendOccupantList(self, occupant)
        self.hooks.fire(hooks.OCCUPANT_LIST_SENT, room=self, occupant=occupant, to=occupant.realJID)
        presence.broadcastPresence(self, occupant, selfCodes=selfCodes)
        self.hooks.fire(hooks.OCCUPANT_JOINED, room=self, occupant=occupant, stanza=stanza, to=occupant.realJID, firstSession=True)
        return occupant

    def checkEntry(self, jid, stanza, occupant=None):
        """
        Apply the room's entry rules (hook C{room-pre-enter}) to someone
        who would enter the room, or read what its occupants read.

        @param jid: the real full JID (L{JID}).
        @param stanza: the join presence, or the reader's request.
        @param occupant: the reader's L{Occupant} if it is in the room.
        @raise StanzaError: the refusal of the first rule that refuses.
        """
        self.hooks.fire(hooks.ROOM_PRE_ENTER, room=self, jid=jid, affiliation=self.getAffiliation(jid.userhost()),
                        stanza=stanza, occupant=occupant)

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
        presence.sendOccupantList(self, occupant, to)
        self.hooks.fire(hooks.OCCUPANT_LIST_SENT, room=self, occupant=occupant, to=to)
        presence.broadcastPresence(self, occupant)
        self.hooks.fire(hooks.OCCUPANT_JOINED, room=self, occupant=occupant, stanza=stanza, rejoin=True, to=to, firstSession=False)

    def updatePresence(self, occupant, stanza, to=None):
        """
        An occupant's session changed its show/status: broadcast it (others
        see the primary session's presence, each session its own).

        @param to: the session (real full JID str; default: the primary).
        """
        occupant.setPresence(stanza, to)
        presence.broadcastPresence(self, occupant)
        self.hooks.fire(hooks.OCCUPANT_PRESENCE_UPDATED, room=self, occupant=occupant, stanza=stanza)

    def removeOccupant(self, occupant, codes=(), actor=None, reason=None, stanza=None, payload=None,
                       before=(), selfCodes=()):
        """
        Take C{occupant} out of the room: everyone (itself included, with
        110) gets its unavailable presence with C{codes}; fires C{occupant-left}; an
        emptied room is handed to the service.

        @param stanza: the occupant's unavailable presence (its status text
            is broadcast), or L{None}.
        """
        if self.occupants.get(occupant.nick) is not occupant:
            return
        if payload is None:
            payload = tuple(c for c in stanza.elements() if c.name == "status") if stanza is not None else ()
        occupant.role = "none"
        presence.broadcastPresence(self, occupant, unavailable=True, codes=codes, selfCodes=selfCodes, actor=actor,
                                   reason=reason, payload=payload, before=before)
        self.forgetOccupant(occupant, stanza)
        if not self.occupants:
            self.service.roomEmptied(self)

    def forgetOccupant(self, occupant, stanza=None):
        """
        C{occupant} is out of the room with all its sessions (its presence
        already sent); fires C{occupant-left}.
        """
        del self.occupants[occupant.nick]
        for to in occupant.sessions:
            self.occupantsByJID.pop(to, None)
        self.hooks.fire(hooks.OCCUPANT_LEFT, room=self, occupant=occupant, stanza=stanza)

    def removeAllOccupants(self, codes=()):
        """
        Take every occupant out at once (service shutdown): each gets its
        own unavailable presence with C{codes} and sees every other occupant
        leave, since all are still in the room while the presences go out.
        """
        occupants = list(self.occupants.values())
        for occupant in occupants:
            role, occupant.role = occupant.role, "none"
            presence.broadcastPresence(self, occupant, unavailable=True, codes=codes, payload=())
            # The others' presences are still built as seen by this role.
            occupant.role = role
        for occupant in occupants:
            occupant.role = "none"
            self.forgetOccupant(occupant)
        if occupants:
            self.service.roomEmptied(self)

    # -- Messages ----------------------------------------------------------------

    def handleMessage(self, stanza, sender, nick):
        """
        A message to the room or to C{room/nick}.
        """
        kind = stanza.getAttribute("type", "normal")
        occupant = self.occupantsByJID.get(sender.full())
        try:
            if kind == "error":
                if occupant is not None and ghosts.isKickableError(stanza):
                    ghosts.kickForError(self, occupant, stanza, sender.full())
                return
            if nick is None:
                if kind == "groupchat":
                    groupchat.handleGroupchat(self, occupant, stanza)
                elif not self.hooks.fire(hooks.ROOM_MESSAGE, room=self, stanza=stanza, occupant=occupant):
                    raise StanzaError("service-unavailable", type="cancel")
            else:
                privatemessages.routePrivateMessage(self, occupant, nick, stanza)
        except StanzaError as e:
            self.error(stanza, e)

    # -- IQs -----------------------------------------------------------------------

    def handleIq(self, stanza, sender, nick):
        """
        An iq to the room (hooks C{room-iq-get:<ns>}/C{room-iq-set:<ns>}) or to an
        occupant (forwarded to its real JID, XEP-0045 7.5 / XEP-0410 self-ping).
        """
        kind = stanza.getAttribute("type")
        occupant = self.occupantsByJID.get(sender.full())
        if nick is not None:
            return occupantiqs.handleIqToOccupant(self, stanza, sender, occupant, nick)
        if kind not in ("get", "set"):
            return
        child = stanza.firstChildElement()
        if child is None:
            return self.error(stanza, "bad-request")
        try:
            result = self.hooks.fire((hooks.ROOM_IQ_GET if kind == "get" else hooks.ROOM_IQ_SET) + child.uri, room=self, stanza=stanza, occupant=occupant)
        except StanzaError as e:
            return self.error(stanza, e)
        if result is None:
            return self.error(stanza, "service-unavailable")
        if result is True:
            return
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
            log.failure("iq to room {room} failed", failure, room=self.jidStr)
            self.error(stanza, "internal-server-error")

    # -- Lifecycle --------------------------------------------------------------------

    def save(self):
        """
        Store the room if it is persistent (remove it from storage if it
        stopped being so).

        @return: a Deferred firing once the state is durable.
        """
        return self.store.save(self)

    def destroy(self, reason=None, alternate=None, password=None):
        """
        Destroy the room (L{xmuc.muc.destroy.destroy}).

        @return: a Deferred firing once storage forgot it.
        """
        return destroyRoom(self, reason, alternate, password)
