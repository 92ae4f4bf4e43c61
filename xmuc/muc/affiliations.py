"""
The affiliation model (XEP-0045 5.2): the affiliations and their ranks,
recording a change, its effects on occupants (new roles, removals with
301 or 321), the notices to occupants about someone not in the room
(XEP-0045 9.3, 9.4), and banned users kept out.
"""

from xmuc.muc import hooks, presence
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza

#: Affiliations, the most privileged first.
AFFILIATIONS = ("owner", "admin", "member", "none", "outcast")

#: Affiliations from least to most privileged.
AFFILIATION_RANK = {"outcast": -1, "none": 0, "member": 1, "admin": 2, "owner": 3}


def belowMember(affiliation):
    """
    @return: whether C{affiliation} is below member (C{'none'} or
        C{'outcast'}): no membership.
    """
    return AFFILIATION_RANK[affiliation] < AFFILIATION_RANK["member"]


def isMember(room, bare):
    """
    @return: whether C{bare} is a member of C{room}, or more.
    """
    return not belowMember(room.getAffiliation(bare))


def recordAffiliation(room, bare, affiliation, reason=None):
    """
    Change the affiliation of C{bare} in the model only: nothing is
    sent; C{affiliation-recorded} lets features change the stored state
    that goes with it.

    @param reason: the reason given with the change, or L{None}.
    @return: the previous affiliation.
    @raise StanzaError: C{bad-request} for an unknown affiliation.
    """
    if affiliation not in AFFILIATIONS:
        raise StanzaError("bad-request", text="Unknown affiliation")
    old = room.affiliations.get(bare, "none")
    if affiliation == "none":
        room.affiliations.pop(bare, None)
    else:
        room.affiliations[bare] = affiliation
    room.hooks.fire(hooks.AFFILIATION_RECORDED, room=room, bare=bare, old=old, new=affiliation, reason=reason)
    return old


def affiliationEffects(room, bare, old, affiliation, actor=None, reason=None, notify=True):
    """
    The effects of the affiliation of C{bare} having changed from C{old}
    to C{affiliation}, as Prosody: occupants of that JID get the role
    of their new affiliation (presence broadcast with C{actor}/C{reason});
    outcasts are removed with status 301, and in a members-only room
    those who lose membership with status 321.  When nobody of that JID
    is in the room, occupants who may see real JIDs get a message with
    the item (XEP-0045 9.3/9.4 notices).  Fires C{affiliation-changed}.
    """
    present = room.occupantsOf(bare)
    for occupant in present:
        if affiliation == "outcast":
            room.removeOccupant(occupant, codes=("301",), actor=actor, reason=reason)
        elif room.config.membersOnly and belowMember(affiliation):
            room.removeOccupant(occupant, codes=("321",), actor=actor, reason=reason)
        else:
            oldRole = occupant.role
            occupant.role = room.defaultRole(occupant.jid, room.getAffiliation(bare))
            presence.broadcastPresence(room, occupant, actor=actor, reason=reason)
            if oldRole != occupant.role:
                room.hooks.fire(hooks.ROLE_CHANGED, room=room, occupant=occupant, old=oldRole, new=occupant.role, actor=actor, reason=reason)
                if not room.config.nonAnonymous and "moderator" in (oldRole, occupant.role):
                    presence.resendOccupantList(room, occupant)
    if not present and notify and old != affiliation:
        notifyNonOccupants(room, bare, affiliation, reason)
    room.hooks.fire(hooks.AFFILIATION_CHANGED, room=room, bare=bare, old=old, new=affiliation, actor=actor, reason=reason, nick=room.reservedNicks.get(bare))
    return old


def notifyNonOccupants(room, bare, affiliation, reason=None):
    """
    Tell occupants who may see real JIDs that the affiliation of
    C{bare} (not in the room) changed.
    """
    message = newStanza("message", **{"from": room.jidStr})
    x = message.addElement((ns.MUC_USER, "x"))
    # The status an occupant of that JID would have been removed with.
    if affiliation == "outcast":
        x.addElement("status")["code"] = "301"
    elif room.config.membersOnly and belowMember(affiliation):
        x.addElement("status")["code"] = "321"
    item = x.addElement("item")
    item["jid"] = bare
    item["affiliation"] = affiliation
    if reason:
        item.addElement("reason", content=reason)
    room.broadcast(message, room.canSeeRealJIDs)


def refuseOutcast(room, affiliation, **kw):
    """
    C{room-pre-enter}: outcasts may not join, nor read the archive
    (C{forbidden}), even where membership is required (XEP-0045 7.2.7, a
    banned user is told so before anything else).
    """
    if affiliation == "outcast":
        raise StanzaError("forbidden", text="You have been banned from this room")


def refuseInvitingOutcast(room, invitee, **kw):
    """
    C{room-pre-invite}: an invitation never lifts a ban (C{forbidden}):
    only admins and owners change the outcast list (XEP-0045 9.2), and an
    invitation to a members-only room would otherwise make the outcast a
    member.
    """
    if room.getAffiliation(invitee.userhost()) == "outcast":
        raise StanzaError("forbidden", type="auth", text="You may not invite someone banned from this room")


def install(service):
    service.hooks.add(hooks.ROOM_PRE_ENTER, refuseOutcast, priority=20)
    service.hooks.add(hooks.ROOM_PRE_INVITE, refuseInvitingOutcast, priority=10)
