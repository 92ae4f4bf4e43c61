"""
Members-only rooms (XEP-0045 7.2.4, 9.3): only members, admins and owners
enter (others get C{registration-required}) or read the archive (others
get C{forbidden}); switching a room to members-only removes the
unaffiliated occupants with status 322.  Only admins and owners invite
(members too with C{muc#roomconfig_allowinvites}), and an invitation makes
an unaffiliated invitee a member: the membership is stored before the
invitation goes out; when storage fails the invitee stays what it was, the
inviter gets C{internal-server-error} and the invitation is not sent.
"""

from twisted.logger import Logger

from xmuc.muc import hooks
from xmuc.muc.affiliations import AFFILIATION_RANK, belowMember, isMember
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp.errors import StanzaError

log = Logger()

#: C{membersOnly}: only members (and above) may join; C{allowInvites}:
#: members (not only admins) may invite to a members-only room.
SETTINGS = {"membersOnly": False, "allowInvites": False}


def noRoleForStrangers(room, affiliation, **kw):
    """
    In a members-only room the unaffiliated have no role (Prosody).
    """
    if room.config.membersOnly and affiliation == "none":
        return "none"
    return None


def checkMembership(room, affiliation, stanza, **kw):
    """
    C{room-pre-enter}: a non-member's join gets C{registration-required}
    (XEP-0045 7.2.6), its archive query C{forbidden} (XEP-0313: "In a
    members-only chat room, only owners, admins or members can query a
    room archive").
    """
    if room.config.membersOnly and belowMember(affiliation):
        if stanza.name == "presence":
            raise StanzaError("registration-required", text="Membership is required to enter this room")
        raise StanzaError("forbidden", text="Membership is required to read this room")


def removeNonMembers(room, changes, **kw):
    if changes.get("membersOnly"):
        for occupant in list(room.occupants.values()):
            if not isMember(room, occupant.bare):
                room.removeOccupant(occupant, codes=("322",))


def checkInviter(room, sender, **kw):
    """
    C{room-pre-invite}: XEP-0045 7.8.2: "Invitation privileges in
    members-only rooms SHOULD be restricted to room admins; if a member
    without privileges to edit the member list attempts to invite another
    user, the service SHOULD return a <forbidden/> error" (members may
    invite too when the room allows it, as Prosody).

    @raise StanzaError: C{forbidden}.
    """
    if room.config.membersOnly:
        required = "member" if room.config.allowInvites else "admin"
        if AFFILIATION_RANK[room.getAffiliation(sender.userhost())] < AFFILIATION_RANK[required]:
            raise StanzaError("forbidden", type="auth", text="You are not allowed to invite people to this room")


def makeInviteeMember(room, stanza, occupant, invitee, inviter, message, **kw):
    """
    C{room-invite}: XEP-0045 7.8.2: "If the room is members-only, the
    service MAY also add the invitee to the member list"; xmuc does, as
    Prosody: stored first, then the effects and the invitation, and
    nothing but an error to the inviter when storage fails.
    """
    bare = invitee.userhost()
    # Only the unaffiliated: outcasts are never invited (an invitation
    # does not lift a ban, L{xmuc.muc.affiliations.refuseInvitingOutcast}).
    if not (room.config.membersOnly and room.getAffiliation(bare) == "none"):
        return None

    def failed(failure):
        log.failure("could not store the membership of an invitee of {room}", failure, room=room.jidStr)
        room.error(stanza, "internal-server-error")

    d = room.changeAffiliation(bare, "member", actor=occupant, reason="Invited by " + inviter)
    d.addCallbacks(lambda _: room.route(message), failed)
    return True


def addFeature(room, features, **kw):
    features.add("muc_membersonly" if room.config.membersOnly else "muc_open")


def install(service):
    declareSettings(service, SETTINGS)
    service.hooks.add(hooks.ROOM_PRE_ENTER, checkMembership, priority=10)
    service.hooks.add(hooks.OCCUPANT_DEFAULT_ROLE, noRoleForStrangers, priority=2)
    service.hooks.add(hooks.CONFIG_STORED, removeNonMembers)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.ROOM_PRE_INVITE, checkInviter)
    service.hooks.add(hooks.ROOM_INVITE, makeInviteeMember)
    configField(service, "muc#roomconfig_membersonly", "membersOnly", "boolean", "Only allow members to join", 55)
    configField(service, "muc#roomconfig_allowinvites", "allowInvites", "boolean",
                "Allow members to invite new members", 33)
