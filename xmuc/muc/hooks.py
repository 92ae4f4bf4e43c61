"""
Named extension points of the MUC service: the catalogue of the events
fired on L{xmuc.muc.service.MUCService.hooks} (an L{xmuc.hooks.HookRegistry}).

The room core (L{xmuc.muc.room}) knows how to keep occupants and route
stanzas; everything a room I{feature} does (passwords, members-only rooms,
history, the owner form, disco...) lives in its own module that registers
handlers here.  Handlers of one event run in order of decreasing priority
(ties: registration order).  A handler may:

 - raise L{StanzaError} to refuse what is happening (the room turns it
   into an error reply to the stanza that caused it);
 - return a value other than L{None} to stop the event: L{xmuc.hooks.HookRegistry.fire}
   returns that value and later handlers are not called;
 - return L{None} to let the next handler run.

Every handler is called with keyword arguments only, so that new arguments
can be added later; handlers should accept C{**kw}.

Events (the C{room} argument is always the L{xmuc.muc.room.Room}):

C{pre-create(service, roomJID, stanza, creator)}
    A join presence would create room C{roomJID} (str); C{creator} is the
    real JID (L{JID}).  Raise to refuse (restricted creation, tombstones).
C{room-created(room, stanza)}
    A new room exists (not yet joined); features set their defaults
    (e.g. locking).  C{stanza} is the creating presence or L{None} (rooms
    created by loading from storage fire C{room-loaded} instead).
C{room-loaded(room, state)}
    A persistent room was rebuilt from storage; C{state} is the stored dict
    (see C{room-state-save}).
C{default-role(room, jid, affiliation)}
    Role for an occupant (C{jid}: real full L{JID}) when it joins or its
    affiliation changes.  Return a role string to decide; the core falls
    back to moderator for owners/admins, participant otherwise.
C{pre-join(room, occupant, stanza)}
    C{occupant} (an L{Occupant} not yet in the room: nick, jid, role and
    affiliation set) wants to enter.  Raise L{StanzaError} to refuse
    (C{not-authorized}, C{registration-required}, C{forbidden}, C{conflict}...).
    Return anything else than None to make the core change the nick:
    a str is taken as the new nick (status 210 is sent).
C{presence-visible(room, occupant)}
    Return C{False} to keep C{occupant}'s presence from other occupants
    (the occupant always sees its own presence).
C{build-presence(room, occupant, presence)}
    An occupant's presence is being built (once per recipient variant),
    before its C{muc#user} x: add payload (occupant-id).
C{build-message(room, occupant, message)}
    A groupchat or private message of C{occupant} is being built, before
    the room's stanza-id: add payload (occupant-id).
C{occupant-list-sent(room, occupant, to)}
    The joiner's session C{to} (real full JID str) got the presence of
    every visible occupant, and not yet its own: send more presence here
    (offline members).
C{joined(room, occupant, stanza, to, firstSession)}
    The joiner and the others got the join presence.  History (priority
    20) and the subject (priority 10) are sent from here, to the session
    C{to} (real full JID str) that joined.  C{firstSession} is C{False} when
    C{to} joined an occupant of the same user already in the room under
    that nick (multi-session occupants, L{xmuc.muc.occupant.Occupant.sessions}).
    Also fired with C{rejoin=True} when a session sends a join presence
    again under its nick (client resynchronisation: list, presence,
    history, subject again).
C{pre-nick-change(room, occupant, nick, stanza)}
    C{occupant} asks for C{nick}; raise to refuse (C{conflict}...).
C{nick-changed(room, occupant, oldNick)}
C{presence-updated(room, occupant, stanza)}
    An occupant changed its presence (show/status); already broadcast.
C{left(room, occupant, stanza)}
    The occupant left (or was removed) with all its sessions; already
    broadcast (one session of several leaving fires nothing).  C{stanza} is the
    unavailable presence or L{None} when removed by the room.
C{groupchat-message(room, occupant, stanza)}
    An occupant sends a groupchat message.  Raise to refuse; return C{True}
    when handled (the subject module handles C{<subject/>}).  Otherwise the
    core broadcasts it.
C{groupchat-broadcast(room, occupant, message, stanzaID, serialized)}
    C{message} (the element as broadcast, from C{room/nick}, with the
    stanza-id) went to every occupant as C{serialized} (its
    L{xmuc.muc.fanout.Serialized}: reuse the text rather than serialize
    again); history keeps it here.
C{private-message(room, sender, recipient, stanza)}
    Occupant C{sender} sends a private message (or iq) to occupant
    C{recipient}; raise to refuse.
C{room-message(room, stanza, occupant)}
    A non-groupchat message to the room's bare JID (invitations, declines,
    voice requests).  C{occupant} is the sender's occupant or L{None}.
    Return C{True} when handled.
C{iq-get:<namespace>(room, stanza, occupant)} / C{iq-set:<namespace>(...)}
    An iq to the room's bare JID whose child has C{<namespace>}.  Return the
    reply element, a Deferred firing with it, or C{True} when the handler
    sent the reply itself.  Raise L{StanzaError} for an error reply.
C{disco-info-node:<node>(room, stanza, occupant)}
    disco#info with a node (e.g. C{x-roomuser-item}); return the reply.
C{disco-features(room, features)}
    Add feature strings to the set C{features} of the room's disco#info.
C{disco-roominfo(room, form)}
    Add fields to the C{muc#roominfo} L{xmuc.xmpp.forms.Form}.
C{config-form(room, form, actor)}
    Add fields to the C{muc#roomconfig} form an owner asked for.
C{config-submitted(room, fields, changes, actor)}
    Read your fields from C{fields} (C{{var: [values]}}, only what was
    submitted) and record new values in C{changes} (C{{config attribute:
    value}}); raise L{StanzaError} C{not-acceptable} naming the field on bad
    values.  Nothing is applied before every handler has run.
C{config-changed(room, changes, old, codes, actor)}
    The changes were applied to C{room.config} (C{old}: previous values of
    the changed attributes) but are not yet stored: change more room state
    here (e.g. unlock) and send nothing, since a storage failure puts the
    room back in its state before the submit (configuration, affiliations,
    reserved nicks, lock, C{room.extra}).  Add status codes to the set
    C{codes} (104 is added by the core when the change is visible to
    occupants); the message to occupants goes out after the iq result.
C{config-stored(room, changes, old, codes, actor)}
    The changed configuration is stored: send its effects here (occupants
    removed from a room made members-only, presences of roles now or no
    longer broadcast); C{codes} may still be added to.
C{affiliation-changed(room, bare, old, new, actor, reason, nick)}
    The affiliation of C{bare} changed (occupants already updated).
C{role-changed(room, occupant, old, new, actor, reason)}
C{room-destroyed(room, reason, alternate)}
C{room-state-save(room, state)}
    Add module state to the dict C{state} about to be stored.
C{room-emptied(room)}
    The last occupant left; return C{True} to keep the room in memory.

Service-level events (C{service} is the L{xmuc.muc.service.MUCService}):

C{service-iq-get:<namespace>(service, stanza, sender)} / C{service-iq-set:...}
    An iq to the service domain itself; return the result child, or
    C{True} after replying (L{MUCService.replyFromService}); raise
    L{StanzaError} for an error.
C{service-disco-features(service, features)}
    Add features to the service's disco#info.
"""

