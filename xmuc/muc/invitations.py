"""
Mediated invitations (XEP-0045 7.8.2), as Prosody does them.

A message to the room whose C{muc#user} x starts with C{<invite to=.../>}
is relayed to the invitee from the room: the original message (minus its
MUC elements) plus C{<invite from=...><reason/></invite>}, the room
password, a C{jabber:x:conference} element and a plain body for old
clients.  In a semi-anonymous room the invitee (unless it would be a
moderator) sees the inviter's room JID, never its real JID.  Visitors may
not invite.  Features take part as in Prosody: C{room-pre-invite} may
refuse an invitation (members-only rooms, L{xmuc.muc.membersonly}), and
C{room-invite} adds to it (the password, L{xmuc.muc.password}) or sends
it itself (after making the invitee a member).
A C{<decline to=.../>} is relayed back to the inviter (to an occupant
when addressed to a room JID).  Direct invitations (XEP-0249) go from
user to user and never reach the room.
"""

from xmuc.muc import hooks
from xmuc.muc.occupant import ROLE_RANK
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import copyElement


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
        or a refusal of C{room-pre-invite}.
    """
    bare = sender.userhost()
    role = occupant.role if occupant is not None else room.defaultRole(sender, room.getAffiliation(bare))
    if ROLE_RANK.get(role, 0) <= ROLE_RANK["visitor"]:
        raise StanzaError("forbidden", type="auth")
    room.hooks.fire(hooks.ROOM_PRE_INVITE, room=room, sender=sender, occupant=occupant)


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
    conference = message.addElement((ns.CONFERENCE, "x"))
    conference["jid"] = room.jidStr
    conference.addContent(reason)
    if message.body is None:
        message.addElement("body", content="%s invited you to the room %s%s" % (
            inviter, room.jidStr, " (%s)" % (reason,) if reason else ""))
    if not room.hooks.fire(hooks.ROOM_INVITE, room=room, stanza=stanza, occupant=occupant, invitee=invitee,
                           inviter=inviter, message=message):
        room.route(message)


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
    service.hooks.add(hooks.ROOM_MESSAGE, handleInvitations)
