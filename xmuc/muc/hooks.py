"""
Named extension points of the MUC service: the catalogue of the events
fired on L{xmuc.muc.service.MUCService.hooks} (an L{xmuc.hooks.HookRegistry}
bound to L{MUC_EVENTS}, so that a name outside this catalogue fails).

The room core (L{xmuc.muc.room}) knows how to keep occupants and route
stanzas; everything a room I{feature} does (passwords, members-only rooms,
history, the configuration form, disco...) lives in its own module that
registers handlers here.  Handlers of one event run in order of decreasing
priority (ties: registration order).  A handler may:

 - raise L{StanzaError} to refuse what is happening (the room turns it
   into an error reply to the stanza that caused it);
 - return a value other than L{None} to stop the event:
   L{xmuc.hooks.HookRegistry.fire} returns that value and later handlers
   are not called;
 - return L{None} to let the next handler run.

Every handler is called with keyword arguments only, so that new arguments
can be added later; handlers should accept C{**kw}.  The names follow
Prosody's scheme, C{<object>-[pre-]<event>}: a C{pre-} event may refuse,
the others tell what happened.  A name ending with C{":"} is a family of
events, completed by a namespace, a node or a field name.

The C{room} argument is always the L{xmuc.muc.room.Room}; the C{service}
argument the L{xmuc.muc.service.MUCService}.  Events marked I{extension
point} are fired for extensions: no module of xmuc listens to them.
"""

# -- Rooms ----------------------------------------------------------------------

#: C{(service, roomJID, stanza, creator)}: a join presence would create room
#: C{roomJID} (str); C{creator} is the real JID (L{JID}).  Raise to refuse
#: (restricted creation, tombstones).
ROOM_PRE_CREATE = "room-pre-create"

#: C{(room, stanza)}: a new room exists (not yet joined); features set
#: their defaults (e.g. locking).  C{stanza} is the creating presence or
#: L{None} (rooms rebuilt from storage fire L{ROOM_LOADED} instead).
ROOM_CREATED = "room-created"

#: C{(room, state)}: a persistent room was rebuilt from storage; C{state}
#: is the stored dict (see L{ROOM_STATE_SAVE}).
ROOM_LOADED = "room-loaded"

#: C{(room, state)}: add module state to the dict C{state} about to be
#: stored (or kept in case a change fails to be stored: see
#: L{ROOM_STATE_RESTORE}).
ROOM_STATE_SAVE = "room-state-save"

#: C{(room, state)}: a change of the room failed to be stored: put back
#: what you save in L{ROOM_STATE_SAVE} from C{state}, saved before the
#: change.
ROOM_STATE_RESTORE = "room-state-restore"

#: C{(room)}: the last occupant left; return C{True} to keep the room in
#: memory.  Extension point.
ROOM_EMPTIED = "room-emptied"

#: C{(room, reason, alternate)}: the room was destroyed (its occupants are
#: out); forget it.
ROOM_DESTROYED = "room-destroyed"

#: C{(room, stanza, occupant)}: a non-groupchat message to the room's bare
#: JID (invitations, declines, voice requests).  C{occupant} is the
#: sender's occupant or L{None}.  Return C{True} when handled.
ROOM_MESSAGE = "room-message"

#: C{(room, sender, occupant, invitee)}: occupant C{occupant} (C{sender}:
#: the real full L{JID} of its session) invites C{invitee} (L{JID}),
#: XEP-0045 7.8.2; raise to refuse.
ROOM_PRE_INVITE = "room-pre-invite"

#: C{(room, stanza, occupant, invitee, inviter, message)}: the invitation
#: C{message} to C{invitee} (L{JID}) is built (C{inviter}: the JID it
#: names): add to it, or return C{True} after taking over sending it.
ROOM_INVITE = "room-invite"

#: C{room-iq-get:<namespace>(room, stanza, occupant)} and
#: C{room-iq-set:<namespace>}: an iq to the room's bare JID whose child has
#: C{<namespace>}.  Return the reply element, a Deferred firing with it, or
#: C{True} when the handler sent the reply itself.  Raise L{StanzaError}
#: for an error reply.
ROOM_IQ_GET = "room-iq-get:"
ROOM_IQ_SET = "room-iq-set:"

#: C{room-disco-info-node:<node>(room, stanza, occupant)}: disco#info with
#: a node (e.g. C{x-roomuser-item}); return the reply.
ROOM_DISCO_INFO_NODE = "room-disco-info-node:"

#: C{room-disco-items-node:<node>(room, stanza, occupant)}: disco#items
#: with a node (e.g. the ad-hoc commands node); return the reply.
ROOM_DISCO_ITEMS_NODE = "room-disco-items-node:"

#: C{(room, features)}: add feature strings to the set C{features} of the
#: room's disco#info.
ROOM_DISCO_FEATURES = "room-disco-features"

#: C{(room, form)}: add fields to the C{muc#roominfo} form of the room's
#: disco#info.
ROOM_DISCO_ROOMINFO = "room-disco-roominfo"

# -- Occupants ------------------------------------------------------------------

#: C{(room, jid, affiliation)}: the role for an occupant (C{jid}: real full
#: L{JID}) when it joins or its affiliation changes.  Return a role string
#: to decide; the core falls back to moderator for owners and admins,
#: participant otherwise.
OCCUPANT_DEFAULT_ROLE = "occupant-default-role"

#: C{(room, jid, affiliation, stanza, occupant)}: the room's entry rules.
#: May C{jid} (real full L{JID}, with C{affiliation} in the room) see
#: inside the room: enter it (C{stanza} is its join presence) or read what
#: its occupants read (C{stanza} is the request, e.g. an archive query:
#: XEP-0313 "A MUC archive MUST check that the user requesting the archive
#: has the right to enter it")?  C{occupant} is the requester's occupant
#: when it is in the room already, else L{None}.  Raise L{StanzaError} to
#: refuse (C{item-not-found} for a locked room, C{forbidden} for outcasts,
#: C{registration-required}, C{not-authorized}...), through
#: L{xmuc.muc.room.Room.checkEntry}, which fires it.
ROOM_PRE_ENTER = "room-pre-enter"

#: C{(room, occupant, stanza)}: C{occupant} (an L{Occupant} not yet in the
#: room: nick, jid, role and affiliation set) wants to enter and passed
#: the entry rules (L{ROOM_PRE_ENTER}).  Raise L{StanzaError} to refuse
#: (C{conflict}, C{service-unavailable}...).  Return a str to make the
#: core change the nick to it (status 210 is sent).
OCCUPANT_PRE_JOIN = "occupant-pre-join"

#: C{(room, occupant, to)}: the joiner's session C{to} (real full JID str)
#: got the presence of every visible occupant, and not yet its own: send
#: more presence here (offline members).
OCCUPANT_LIST_SENT = "occupant-list-sent"

#: C{(room, occupant, stanza, to, firstSession)}: the joiner and the others
#: got the join presence.  History (priority 20) and the subject (priority
#: 10) are sent from here, to the session C{to} (real full JID str) that
#: joined.  C{firstSession} is C{False} when C{to} joined an occupant of the
#: same user already in the room under that nick (multi-session occupants,
#: L{xmuc.muc.sessions}).  Also fired with C{rejoin=True} when a session
#: sends a join presence again under its nick (client resynchronisation:
#: list, presence, history, subject again).
OCCUPANT_JOINED = "occupant-joined"

#: C{(room, occupant, nick, stanza)}: C{occupant} asks for C{nick}; raise
#: to refuse (C{conflict}...).
OCCUPANT_PRE_NICK_CHANGE = "occupant-pre-nick-change"

#: C{(room, occupant, oldNick)}: the occupant changed nick; already
#: broadcast.  Extension point.
OCCUPANT_NICK_CHANGED = "occupant-nick-changed"

#: C{(room, occupant, stanza)}: an occupant changed its presence
#: (show/status); already broadcast.  Extension point.
OCCUPANT_PRESENCE_UPDATED = "occupant-presence-updated"

#: C{(room, occupant)}: return C{False} to keep C{occupant}'s presence from
#: other occupants (the occupant always sees its own presence).
OCCUPANT_PRESENCE_VISIBLE = "occupant-presence-visible"

#: C{(room, occupant, stanza)}: the occupant left (or was removed) with all
#: its sessions; already broadcast (one session of several leaving fires
#: nothing).  C{stanza} is the unavailable presence or L{None} when removed
#: by the room.  Extension point.
OCCUPANT_LEFT = "occupant-left"

#: C{(room, bare, old, new, actor, reason, nick)}: the affiliation of
#: C{bare} changed (occupants already updated).  Extension point.
AFFILIATION_CHANGED = "affiliation-changed"

#: C{(room, bare, old, new, reason)}: the affiliation of C{bare} changed
#: in memory (C{reason}: the one given with the change, or L{None}), not
#: yet stored: record what goes with it in the room's stored state
#: (C{room.extra}), and send nothing, since a storage failure puts the room
#: back as it was.
AFFILIATION_RECORDED = "affiliation-recorded"

#: C{(room, item, bare, affiliation)}: C{item} (the C{<item/>} of C{bare},
#: with C{affiliation} and C{jid} set) is added to an affiliation list
#: (XEP-0045 9.5, 10.5...): add to it (a ban's C{<reason/>}).
AFFILIATION_LIST_ITEM = "affiliation-list-item"

#: C{(room, occupant, old, new, actor, reason)}: an occupant's role
#: changed; already broadcast.
ROLE_CHANGED = "role-changed"

#: C{(room, bare, nick)}: a stored change reserved C{nick} for C{bare}; its
#: effects go out now, this first (whoever else sits on the nick is
#: removed).
NICK_RESERVED = "nick-reserved"

# -- Stanzas built by the room ----------------------------------------------------

#: C{(room, occupant, presence)}: an occupant's presence is being built
#: (once per recipient variant), before its C{muc#user} x: add payload
#: (occupant-id).
PRESENCE_BUILD = "presence-build"

#: C{(room, occupant, message)}: a groupchat or private message of
#: C{occupant} is being built, before the room's stanza-id: add payload
#: (occupant-id).
MESSAGE_BUILD = "message-build"

#: C{(room, occupant, stanza)}: an occupant sends a groupchat message.
#: Raise to refuse; return C{True} when handled (the subject module handles
#: C{<subject/>}).  Otherwise the core broadcasts it.
GROUPCHAT_PRE_BROADCAST = "groupchat-pre-broadcast"

#: C{(room, occupant, message, stanzaID, serialized)}: C{message} (the
#: element as broadcast, from C{room/nick}, with the stanza-id) went to
#: every occupant as C{serialized} (its L{xmuc.xmpp.serialized.Serialized}: reuse
#: the text rather than serialize again); history keeps it here.
GROUPCHAT_BROADCAST = "groupchat-broadcast"

#: C{(room, sender, recipient, stanza)}: occupant C{sender} sends a private
#: message (or iq) to occupant C{recipient}; raise to refuse.
PRIVATE_MESSAGE_PRE_ROUTE = "private-message-pre-route"

# -- Configuration form -------------------------------------------------------------

#: C{(room, form, actor)}: add fields to the C{muc#roomconfig} form an
#: owner asked for.
CONFIG_FORM = "config-form"

#: C{(room, fields, changes, actor)}: read your fields from C{fields}
#: (C{{var: [values]}}, only what was submitted) and record new values in
#: C{changes} (C{{config attribute: value}}); raise L{StanzaError}
#: C{not-acceptable} naming the field on bad values.  Nothing is applied
#: before every handler has run.
CONFIG_SUBMITTED = "config-submitted"

#: C{config-submitted:<var>(room, values, fields, changes, actor)}: field
#: C{<var>} was submitted with C{values} (fired from L{CONFIG_SUBMITTED} at
#: the field's place in the form; see L{xmuc.muc.configform.configField}).
CONFIG_FIELD_SUBMITTED = "config-submitted:"

#: C{(room, changes, old, codes, actor)}: the changes were applied to
#: C{room.config} (C{old}: previous values of the changed attributes) but
#: are not yet stored: change more room state here (e.g. unlock) and send
#: nothing, since a storage failure puts the room back in its state before
#: the submit.  Add status codes to the set C{codes} (104 is added by the
#: core when the change is visible to occupants); the message to occupants
#: goes out after the iq result.
CONFIG_CHANGED = "config-changed"

#: C{(room, changes, old, codes, actor)}: the changed configuration is
#: stored: send its effects here (occupants removed from a room made
#: members-only, presences of roles now or no longer broadcast); C{codes}
#: may still be added to.
CONFIG_STORED = "config-stored"

# -- The service ------------------------------------------------------------------------

#: C{service-iq-get:<namespace>(service, stanza, sender)} and
#: C{service-iq-set:<namespace>}: an iq to the service domain itself;
#: return the result child, or C{True} after replying; raise L{StanzaError}
#: for an error.
SERVICE_IQ_GET = "service-iq-get:"
SERVICE_IQ_SET = "service-iq-set:"

#: C{service-disco-info-node:<node>(service, stanza)} and
#: C{service-disco-items-node:<node>}: disco#info or disco#items of the
#: service with a node (its ad-hoc commands); return the reply.
SERVICE_DISCO_INFO_NODE = "service-disco-info-node:"
SERVICE_DISCO_ITEMS_NODE = "service-disco-items-node:"

#: C{(service, features)}: add features to the service's disco#info.
SERVICE_DISCO_FEATURES = "service-disco-features"

#: C{(service, stanza, sender)}: an iq result or error to the service
#: domain itself (the answer to an iq the service sent); return C{True}
#: when it was yours.
SERVICE_IQ_RESPONSE = "service-iq-response"

#: C{(service)}: the link to the host server is up again after being down
#: (the service runs as an external component, L{xmuc.component.connect}):
#: occupants may have left meanwhile without the service hearing it.
LINK_RESTORED = "link-restored"

#: Every event of the MUC service.
MUC_EVENTS = frozenset(value for name, value in list(globals().items()) if name.isupper() and isinstance(value, str))
