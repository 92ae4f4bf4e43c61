"""
Admin and moderator use cases of XEP-0045 (sections 8 and 9, and the
affiliation lists of section 10), C{muc#admin}: getting and setting
affiliation lists, role lists, kicks, bans, voice and moderator grants.

A set request may carry several items: every item is parsed and checked
against the privileges of the requester before anything changes, so a
request is applied completely or not at all.  The effects on occupants
(roles recomputed, 301/321/307 removals, notices about people who are not
in the room) are the core's (L{xmuc.muc.affiliations.affiliationEffects},
L{xmuc.muc.room.Room.setRole}).  Affiliations and reserved nicks change in
memory, the room is stored, and only then do the effects go out and the iq
result: when storage fails the room is put back as it was, nobody saw
anything, and the requester gets an error.

Permissions (L{checkAffiliationChange}, L{checkRoleChange}) follow the
XEP's privilege tables:

 - owners (and server administrators) change any affiliation, but the
   last owner cannot give up ownership (C{conflict});
 - admins manage members and outcasts only: touching the admin or owner
   lists, or banning an admin or owner, is C{not-allowed};
 - anybody else gets C{not-allowed} (as with Prosody, which refuses every
   affiliation and role change with C{cancel}/C{not-allowed});
 - roles are changed by moderators (others get C{not-allowed}, as with
   Prosody); a role item naming nobody in the room is C{item-not-found}
   of type C{modify}; granting or revoking moderator status (kicking
   a moderator too) is for admins and owners; nobody changes the role of
   someone with a higher affiliation (C{not-allowed}).  Voice is revoked
   (role visitor) only from an occupant whose affiliation is below the
   moderator's, and never from an admin or owner (section 8.4).
   Otherwise, as with Prosody, equals may act on each other and on
   themselves (an owner may demote an admin to participant, kick another
   owner, or leave by kicking itself).
"""

from twisted.internet import defer
from twisted.words.protocols.jabber import xmpp_stringprep
from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.affiliations import AFFILIATION_RANK, AFFILIATIONS, affiliationEffects, recordAffiliation
from xmuc.muc.occupant import ROLE_RANK, ROLES
from xmuc.muc.register import checkNotReservedByOther, evictSquatter
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID

PRIVILEGED = ("owner", "admin")


class Requester:
    """
    Who sends a C{muc#admin} request, as the permission checks see it.

    @ivar jid: the real full JID (str).
    @ivar bare: the real bare JID (str).
    @ivar affiliation: the requester's affiliation in the room.
    @ivar occupant: its L{xmuc.muc.occupant.Occupant} in the room or
        L{None}.
    @ivar role: the occupant's role; for someone not in the room, the role
        its affiliation would give (admins and owners act as moderators).
    """

    def __init__(self, room, jid, occupant):
        self.jid = jid.full()
        self.bare = jid.userhost()
        self.affiliation = room.getAffiliation(self.bare)
        self.occupant = occupant
        if occupant is not None:
            self.role = occupant.role
        elif self.affiliation in PRIVILEGED:
            self.role = "moderator"
        else:
            self.role = "none"

    @property
    def actor(self):
        """
        What the broadcast names as C{<actor/>}: the occupant (nick, and
        real JID for those who may see it) or the real JID.
        """
        return self.occupant if self.occupant is not None else self.jid


def requesterOf(room, stanza, occupant):
    """
    @param occupant: the occupant of the sending full JID, or L{None}; then
        another session of the same user in the room stands for it (the
        XEP checks the bare JID), preferably a moderator.
    @return: a L{Requester}.
    """
    sender = parseJID(stanza.getAttribute("from", ""))
    if sender is None:
        raise StanzaError("bad-request")
    if occupant is None:
        sessions = sorted(room.occupantsOf(sender.userhost()), key=lambda o: -ROLE_RANK[o.role])
        occupant = sessions[0] if sessions else None
    return Requester(room, sender, occupant)


def _reason(item):
    for child in item.elements():
        if child.name == "reason":
            return str(child)
    return None


def _items(stanza):
    query = stanza.firstChildElement()
    return [child for child in query.elements() if child.name == "item" and child.uri == ns.MUC_ADMIN]


# -- Permissions -------------------------------------------------------------------


def checkAffiliationChange(actorAffiliation, old, new):
    """
    May someone with C{actorAffiliation} change an affiliation from C{old}
    to C{new}?  (The last-owner rule is checked on the whole request, by
    L{checkOwnersRemain}.)

    @raise StanzaError: C{not-allowed} (Prosody refuses every affiliation
        change with it).
    """
    if actorAffiliation == "owner":
        return
    if actorAffiliation != "admin":
        raise StanzaError("not-allowed", text="You are not allowed to change affiliations")
    if new in PRIVILEGED:
        raise StanzaError("not-allowed", text="Only owners may grant admin or owner status")
    if old in PRIVILEGED:
        if new == "outcast":
            raise StanzaError("not-allowed", text="You may not ban someone with a higher affiliation")
        raise StanzaError("not-allowed", text="Only owners may change the affiliation of admins and owners")


def checkRoleChange(requester, target, targetAffiliation, new):
    """
    May C{requester} (a L{Requester}) give occupant C{target} the role
    C{new}?

    @raise StanzaError: C{not-allowed}.
    """
    if requester.role != "moderator":
        # As Prosody: every refused role change is cancel/not-allowed.
        raise StanzaError("not-allowed", text="Only moderators may change roles")
    # Prosody's rules (may_set_role): nothing against a higher
    # affiliation, moderator status given or taken (kicks of moderators
    # too) only by admins and owners.  Equals may act on each other and
    # on themselves: an owner may demote an admin, kick another owner or
    # itself.
    if AFFILIATION_RANK[targetAffiliation] > AFFILIATION_RANK[requester.affiliation]:
        raise StanzaError("not-allowed", text="You may not do this to someone with a higher affiliation")
    if "moderator" in (target.role, new) and requester.affiliation not in PRIVILEGED:
        raise StanzaError("not-allowed", text="Only admins and owners may grant or revoke moderator status")
    if new == "visitor" and target.role != "visitor":
        # Section 8.4: "A moderator MUST NOT be able to revoke voice from a
        # user whose affiliation is at or above the moderator's level. In
        # addition, a service MUST NOT allow the voice privileges of an
        # admin or owner to be removed by anyone".
        if targetAffiliation in PRIVILEGED:
            raise StanzaError("not-allowed", text="Admins and owners keep their voice")
        if AFFILIATION_RANK[targetAffiliation] >= AFFILIATION_RANK[requester.affiliation]:
            raise StanzaError("not-allowed", text="You may not revoke the voice of someone with your affiliation or more")


def checkOwnersRemain(room, changes):
    """
    The room keeps at least one owner: refuse (C{conflict}) a request that
    would leave none.

    @param changes: C{[(bare, new affiliation)]} in request order.
    """
    owners = set(room.owners())
    if not owners:
        return
    for bare, affiliation in changes:
        if affiliation == "owner":
            owners.add(bare)
        else:
            owners.discard(bare)
    if not owners:
        raise StanzaError("conflict", text="The room must keep at least one owner")


# -- Parsing -----------------------------------------------------------------------


class AffiliationChange:
    """
    One affiliation item of a set request, parsed and checked.
    """

    def __init__(self, bare, affiliation, nick, reason):
        self.bare = bare
        self.affiliation = affiliation
        self.nick = nick
        self.reason = reason

    def record(self, room):
        """
        Change the affiliation and the reserved nick in the model only.
        """
        if self.nick is not None:
            room.reservedNicks[self.bare] = self.nick
        if self.affiliation == "none":
            # As Prosody: an outcast keeps its reserved nick (listed with
            # the ban); only losing every affiliation forgets it.
            room.reservedNicks.pop(self.bare, None)
        self.old = recordAffiliation(room, self.bare, self.affiliation, self.reason)

    def apply(self, room, actor):
        """
        The effects, once stored: whoever else sits on the reserved nick is
        removed, occupants of the JID get their new role (or are removed).
        """
        if self.nick is not None:
            evictSquatter(room, self.nick, self.bare)
        affiliationEffects(room, self.bare, self.old, self.affiliation, actor=actor, reason=self.reason)


class RoleChange:
    """
    One role item of a set request, parsed and checked.
    """

    def __init__(self, occupant, role, reason):
        self.occupant = occupant
        self.role = role
        self.reason = reason

    def record(self, room):
        """
        Roles are not stored: nothing to record.
        """

    def apply(self, room, actor):
        if room.occupants.get(self.occupant.nick) is not self.occupant:
            return
        if self.role == self.occupant.role:
            return
        codes = ("307",) if self.role == "none" else ()
        if actor is self.occupant and self.role == "none":
            # Kicking oneself: as with Prosody, the actor is gone from the
            # room by the time the presence is built, so none is named.
            actor = None
        room.setRole(self.occupant, self.role, actor=actor, reason=self.reason, codes=codes)


def parseNick(nick):
    """
    @return: the nick after resourceprep.
    @raise StanzaError: C{bad-request} when it is not a valid nick.
    """
    try:
        prepped = xmpp_stringprep.resourceprep.prepare(nick)
    except (UnicodeError, ValueError):
        raise StanzaError("bad-request", text="Invalid nickname")
    if not prepped or not prepped.strip():
        raise StanzaError("bad-request", text="Invalid nickname")
    return prepped


def parseItem(room, requester, item):
    """
    Read one C{<item/>} of a set request and check that C{requester} may
    apply it.

    @return: an L{AffiliationChange} or a L{RoleChange}.
    @raise StanzaError: C{bad-request} for a malformed item, or the
        permission error.
    """
    affiliation = item.getAttribute("affiliation")
    role = item.getAttribute("role")
    jidText = item.getAttribute("jid")
    nick = item.getAttribute("nick")
    if (affiliation is None) == (role is None):
        raise StanzaError("bad-request", text="An item needs either an affiliation or a role")
    bare = None
    if jidText is not None:
        jid = parseJID(jidText)
        # Twisted reads '@host' as the domain 'host': an empty node is an error.
        if jid is None or (jid.user is None and "@" in jidText):
            raise StanzaError("bad-request", text="Invalid JID")
        bare = jid.userhost()
    if nick is not None:
        nick = parseNick(nick)
    reason = _reason(item)
    if affiliation is not None:
        if affiliation not in AFFILIATIONS:
            raise StanzaError("bad-request", text="Unknown affiliation")
        if bare is None:
            # Some clients name the occupant by nick only; as with Prosody,
            # the nick is then reserved for that JID (listed with the item).
            occupant = room.occupants.get(nick) if nick is not None else None
            if occupant is None:
                raise StanzaError("bad-request", text="An affiliation item needs a jid")
            bare = occupant.bare
        old = room.affiliations.get(bare, "none")
        checkAffiliationChange(requester.affiliation, old, affiliation)
        if nick is not None:
            checkNotReservedByOther(room, nick, bare)
        return AffiliationChange(bare, affiliation, nick, reason)
    if role not in ROLES:
        raise StanzaError("bad-request", text="Unknown role")
    if nick is not None:
        target = room.occupants.get(nick)
    elif bare is not None:
        present = room.occupantsOf(bare)
        target = present[0] if present else None
    else:
        raise StanzaError("bad-request", text="A role item needs a nick")
    if target is None:
        raise StanzaError("item-not-found", type="modify", text="No such occupant")
    checkRoleChange(requester, target, target.affiliation, role)
    return RoleChange(target, role, reason)


# -- Handlers ----------------------------------------------------------------------


def setItems(room, stanza, occupant, **kw):
    """
    C{room-iq-set} of C{muc#admin}: check every item, record the affiliation
    changes, store the room, then apply the effects (notices and presences
    go out before the result).  Nothing happens when storage fails.
    """
    items = _items(stanza)
    if not items:
        raise StanzaError("bad-request", text="No items")
    checked = {}

    def check():
        """
        Check the request against the room as it is now.
        """
        requester = requesterOf(room, stanza, occupant)
        changes = [parseItem(room, requester, item) for item in items]
        reserving = {}
        for change in changes:
            if isinstance(change, AffiliationChange) and change.nick is not None:
                if reserving.setdefault(change.nick, change.bare) != change.bare:
                    raise StanzaError("conflict", text="One nickname reserved for two users")
        checkOwnersRemain(room, [(c.bare, c.affiliation) for c in changes if isinstance(c, AffiliationChange)])
        checked["changes"], checked["actor"] = changes, requester.actor
        return changes

    def applyAll(_):
        for change in checked["changes"]:
            change.apply(room, checked["actor"])
        # The result (no payload) follows: durable before ack.
        return None

    if not any(isinstance(change, AffiliationChange) for change in check()):
        # Roles only: nothing to store.
        return defer.succeed(applyAll(None))

    def recordAll():
        # Checked again: an earlier change of the room may have been stored
        # meanwhile (persistence applies the changes of a room one at a
        # time), e.g. the requester lost its affiliation.
        for change in check():
            change.record(room)

    return room.store.change(room, recordAll, applyAll)


def mayGetAffiliationList(room, requester, affiliation):
    """
    Whether C{requester} may fetch the list of C{affiliation}, as Prosody's
    C{handle_admin_query_get_command}: admins and owners get the lists up
    to their own affiliation; in a members-only room where everyone sees
    real JIDs, members (in the room or not) get every list, outcasts
    included. Nobody else, whatever their role: XEP-0045 only says members
    MAY get the list "if allowed in accordance with room configuration",
    and Prosody has no C{muc#roomconfig_getmemberlist}, so neither has
    xmuc's form (see tests/interop/FINDINGS.md).

    @param room: the room asked.
    @param requester: who asks (its C{affiliation} counts).
    @param affiliation: the list asked for.
    @return: C{True} if the list may be returned.
    """
    rank = AFFILIATION_RANK[requester.affiliation]
    if rank >= AFFILIATION_RANK["admin"] and rank >= AFFILIATION_RANK[affiliation]:
        return True
    return room.config.membersOnly and room.config.whois == "anyone" and rank >= AFFILIATION_RANK["member"]


def getItems(room, stanza, occupant, **kw):
    """
    C{room-iq-get} of C{muc#admin}: an affiliation list (with reserved nicks) or
    a role list (moderators only).
    """
    requester = requesterOf(room, stanza, occupant)
    items = _items(stanza)
    if not items:
        raise StanzaError("bad-request", text="No item")
    affiliation = items[0].getAttribute("affiliation")
    role = items[0].getAttribute("role")
    query = domish.Element((ns.MUC_ADMIN, "query"))
    if affiliation is not None and role is None:
        if affiliation not in AFFILIATIONS:
            raise StanzaError("bad-request", text="Unknown affiliation")
        if not mayGetAffiliationList(room, requester, affiliation):
            raise StanzaError("forbidden", text="You are not allowed to see this list")
        for bare, value in sorted(room.affiliations.items()):
            if value == affiliation:
                element = query.addElement("item")
                element["affiliation"] = affiliation
                element["jid"] = bare
                nick = room.reservedNicks.get(bare)
                if nick is not None:
                    element["nick"] = nick
                room.hooks.fire(hooks.AFFILIATION_LIST_ITEM, room=room, item=element, bare=bare, affiliation=affiliation)
        return query
    if role is not None and affiliation is None:
        if role not in ROLES:
            raise StanzaError("bad-request", text="Unknown role")
        if requester.role != "moderator":
            raise StanzaError("forbidden", text="Only moderators may see role lists")
        for other in room.occupants.values():
            if other.role == role:
                element = query.addElement("item")
                element["affiliation"] = other.affiliation
                element["role"] = other.role
                element["jid"] = other.realJID
                element["nick"] = other.nick
        return query
    raise StanzaError("bad-request", text="An item needs either an affiliation or a role")


def install(service):
    service.hooks.add(hooks.ROOM_IQ_GET + ns.MUC_ADMIN, getItems)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.MUC_ADMIN, setItems)
