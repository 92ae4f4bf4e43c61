"""
Mediated invitations (XEP-0045 7.8.2), as Prosody does them.

A message to the room whose C{muc#user} x starts with C{<invite to=.../>}
is relayed to the invitee from the room: the original message (minus its
MUC elements) plus C{<invite from=...><reason/></invite>}, the room
password, a C{jabber:x:conference} element and a plain body for old
clients.  In a semi-anonymous room the invitee (unless it would be a
moderator) sees the inviter's room JID, never its real JID.  Visitors may
not invite; in members-only rooms only admins and owners may (members too
with C{muc#roomconfig_allowinvites}), and the invitee becomes a member:
the membership is stored before the invitation goes out; when storage
fails the invitee stays what it was, the inviter gets
C{internal-server-error} and the invitation is not sent.
A C{<decline to=.../>} is relayed back to the inviter (to an occupant
when addressed to a room JID).  Direct invitations (XEP-0249) go from
user to user and never reach the room.
"""

from twisted.logger import Logger

from xmuc.muc import persistence
from xmuc.muc.occupant import AFFILIATION_RANK, ROLE_RANK
from xmuc.muc.owner import configField
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import copyElement

log = Logger()


def _reason(element):
    for child in element.elements():
        if child.name == "reason":
            return str(child)
    return ""


def _relayed(stanza, room, to):
    """
    A copy of C{stanza} from the room to C{to}, without MUC elements.
    """
    message = copyElement(stanza)
    for child in list(message.elements()):
        if child.name == "x" and child.uri in (ns.MUC, ns.MUC_USER):
            message.children.remove(child)
    message["from"] = room.jidStr
    message["to"] = to
    return message


def checkInviter(room, sender, occupant):
    """
    @raise StanzaError: C{forbidden} for visitors (or those who would be),
        and in members-only rooms for those who may not add members.
    """
    bare = sender.userhost()
    role = occupant.role if occupant is not None else room.defaultRole(sender, room.getAffiliation(bare))
    if ROLE_RANK.get(role, 0) <= ROLE_RANK["visitor"]:
        raise StanzaError("forbidden", type="auth")
    if room.config.membersOnly:
        required = "member" if room.config.allowInvites else "admin"
        if AFFILIATION_RANK[room.getAffiliation(bare)] < AFFILIATION_RANK[required]:
            raise StanzaError("forbidden", type="auth", text="You are not allowed to invite people to this room")


def relayInvite(room, stanza, sender, occupant, invite):
    invitee = parseJID(invite.getAttribute("to", ""))
    if invitee is None:
        raise StanzaError("jid-malformed", type="cancel")
    checkInviter(room, sender, occupant)
    reason = _reason(invite)
    message = _relayed(stanza, room, invitee.full())
    x = message.addElement((ns.MUC_USER, "x"))
    relayed = x.addElement("invite")
    inviter = sender.full()
    if (room.config.whois == "moderators" and occupant is not None
            and room.defaultRole(invitee, room.getAffiliation(invitee.userhost())) != "moderator"):
        inviter = occupant.occupantJID
    relayed["from"] = inviter
    relayed.addElement("reason", content=reason)
    if room.config.password:
        x.addElement("password", content=room.config.password)
    conference = message.addElement((ns.CONFERENCE, "x"))
    conference["jid"] = room.jidStr
    conference.addContent(reason)
    if message.body is None:
        message.addElement("body", content="%s invited you to the room %s%s" % (
            inviter, room.jidStr, " (%s)" % (reason,) if reason else ""))
    if room.config.membersOnly and AFFILIATION_RANK[room.getAffiliation(invitee.userhost())] <= 0:
        makeMemberAndSend(room, stanza, invitee.userhost(), occupant, inviter, message)
        return
    room.route(message)


def makeMemberAndSend(room, stanza, bare, occupant, inviter, message):
    """
    An invitation to a members-only room makes C{bare} a member: stored
    first, then the effects and the invitation; nothing but an error to
    the inviter when storage fails.
    """
    recorded = {}

    def record():
        recorded["old"] = room.recordAffiliation(bare, "member")

    def stored(_):
        room.affiliationEffects(bare, recorded["old"], "member", actor=occupant, reason="Invited by " + inviter)
        room.route(message)

    def failed(failure):
        log.failure("could not store the membership of an invitee of {room}", failure, room=room.jidStr)
        room.error(stanza, "internal-server-error")

    persistence.saveChange(room, record).addCallbacks(stored, failed)


def relayDecline(room, stanza, sender, decline):
    declinee = parseJID(decline.getAttribute("to", ""))
    if declinee is None:
        raise StanzaError("jid-malformed", type="cancel")
    reason = _reason(decline)
    target = declinee.full()
    if declinee.userhost() == room.jidStr and declinee.resource:
        occupant = room.occupants.get(declinee.resource)
        if occupant is not None:
            target = occupant.realJID
    message = _relayed(stanza, room, target)
    x = message.addElement((ns.MUC_USER, "x"))
    relayed = x.addElement("decline")
    relayed["from"] = sender.full()
    relayed.addElement("reason", content=reason)
    if message.body is None:
        message.addElement("body", content="%s declined your invite to the room %s%s" % (
            sender.full(), room.jidStr, " (%s)" % (reason,) if reason else ""))
    room.route(message)


def handleInvitations(room, stanza, occupant, **kw):
    """
    C{room-message}: the first element of a C{muc#user} x decides; an x
    with anything else is a C{bad-request}.
    """
    if stanza.getAttribute("type", "normal") != "normal":
        return None
    for x in stanza.elements(ns.MUC_USER, "x"):
        payload = x.firstChildElement()
        if payload is None:
            return None
        sender = parseJID(stanza["from"])
        if payload.name == "invite" and payload.getAttribute("to"):
            relayInvite(room, stanza, sender, occupant, payload)
        elif payload.name == "decline" and payload.getAttribute("to"):
            relayDecline(room, stanza, sender, payload)
        else:
            raise StanzaError("bad-request", type="cancel")
        return True
    return None


def install(service):
    service.hooks.add("room-message", handleInvitations)
    configField(service, "muc#roomconfig_allowinvites", "allowInvites", "boolean",
                "Allow members to invite new members", 33)
