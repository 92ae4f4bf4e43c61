"""
Mediated invitations (XEP-0045 7.8.2): an occupant sends the room a
message with C{<invite to=.../>}; the room relays it to the invitee (with
the room password, and a C{jabber:x:conference} element for old clients).
Declines are relayed back to the inviter.  In members-only rooms only
admins and owners invite (members too with C{muc#roomconfig_allowinvites}),
and the invitee becomes a member.  Direct invitations (XEP-0249) go from
user to user and never reach the room.
"""

from xmuc.muc.fanout import newStanza
from xmuc.muc.owner import configField
from xmuc.router import parseJID
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError


def mayInvite(room, occupant):
    if not room.config.membersOnly:
        return True
    affiliation = occupant.affiliation
    return affiliation in ("owner", "admin") or (affiliation == "member" and room.config.allowInvites)


def _reason(element):
    for child in element.elements():
        if child.name == "reason":
            return str(child)
    return None


def relayInvite(room, occupant, invite):
    invitee = parseJID(invite.getAttribute("to", ""))
    if invitee is None:
        raise StanzaError("jid-malformed", text="Invalid invitee JID")
    if not mayInvite(room, occupant):
        raise StanzaError("forbidden", text="You are not allowed to invite people to this room")
    if room.config.membersOnly and room.getAffiliation(invitee.userhost()) == "none":
        room.setAffiliation(invitee.userhost(), "member", actor=occupant)
        room.save()
    reason = _reason(invite)
    message = newStanza("message", to=invitee.full(), **{"from": room.jidStr})
    x = message.addElement((ns.MUC_USER, "x"))
    relayed = x.addElement("invite")
    relayed["from"] = occupant.realJID
    if reason:
        relayed.addElement("reason", content=reason)
    if room.config.password:
        x.addElement("password", content=room.config.password)
    message.addElement("body", content="%s invited you to the room %s%s" % (
        occupant.bare, room.jidStr, " (%s)" % (reason,) if reason else ""))
    conference = message.addElement((ns.CONFERENCE, "x"))
    conference["jid"] = room.jidStr
    if reason:
        conference["reason"] = reason
    if room.config.password:
        conference["password"] = room.config.password
    room.route(message)


def relayDecline(room, sender, decline):
    inviter = parseJID(decline.getAttribute("to", ""))
    if inviter is None:
        raise StanzaError("jid-malformed", text="Invalid inviter JID")
    message = newStanza("message", to=inviter.full(), **{"from": room.jidStr})
    x = message.addElement((ns.MUC_USER, "x"))
    relayed = x.addElement("decline")
    relayed["from"] = sender
    reason = _reason(decline)
    if reason:
        relayed.addElement("reason", content=reason)
    room.route(message)


def handleInvitations(room, stanza, occupant, **kw):
    """
    C{room-message}: invites and declines in a C{muc#user} x.
    """
    for x in stanza.elements(ns.MUC_USER, "x"):
        invites = list(x.elements(ns.MUC_USER, "invite"))
        declines = list(x.elements(ns.MUC_USER, "decline"))
        if not invites and not declines:
            continue
        if invites and occupant is None:
            raise StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat")
        for invite in invites:
            relayInvite(room, occupant, invite)
        for decline in declines:
            relayDecline(room, stanza["from"], decline)
        return True
    return None


def install(service):
    service.hooks.add("room-message", handleInvitations)
    configField(service, "muc#roomconfig_allowinvites", "allowInvites", "boolean",
                "Allow members to invite new members", 33)
