"""
Mediated invitations (XEP-0045 7.8.2), as Prosody does them, and the
declines that answer them.

A message to the room whose C{muc#user} x starts with C{<invite to=.../>}
is relayed to the invitee from the room: the original message (minus its
MUC elements) plus C{<invite from=...><reason/></invite>}, the room
password (when the inviter knows it, L{xmuc.muc.password}), a
C{jabber:x:conference} element and a plain body for old clients.  In a
semi-anonymous room the invitee (unless it would be a moderator) sees the
inviter's room JID, never its real JID.

Only occupants invite ("It can be useful to invite another user to a room
in which one is an occupant"): anyone else gets C{not-acceptable}, as a
groupchat message from outside the room; visitors get C{forbidden}.
Features take part as in Prosody: C{room-pre-invite} may refuse an
invitation (members-only rooms, L{xmuc.muc.membersonly}; outcasts, whom an
invitation never lets in, L{xmuc.muc.affiliations}), and C{room-invite}
adds to it (the password) or sends it itself (after making the invitee a
member).

The room remembers the invitations it relayed until the invitee enters
(at most L{MAX_INVITEES} invitees, L{MAX_INVITERS} inviters each, the
oldest forgotten first).  A C{<decline to=.../>} is relayed only from
someone invited, to the inviter it names (by the JID the invitation
showed, its real JID or bare JID): a new message from the room with the
decline, its reason and a plain body, nothing else of what the decliner
wrote.  Anyone else's decline gets C{item-not-found}.  Direct invitations
(XEP-0249) go from user to user and never reach the room.
"""

import collections

from xmuc.muc import hooks
from xmuc.muc.occupant import NOT_IN_ROOM, ROLE_RANK
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import copyElement, newStanza

#: Invitees a room remembers invitations for.
MAX_INVITEES = 200

#: Inviters remembered per invitee.
MAX_INVITERS = 10


class PendingInvitations(collections.OrderedDict):
    """
    The invitations a room relayed that were neither declined nor used
    (C{room.state(PendingInvitations, PendingInvitations)}):
    C{{invitee bare JID: {inviter as the invitation named it: inviter's
    real full JID}}}, the least recently invited first.
    """

    def remember(self, invitee, shown, inviter):
        """
        Remember that C{inviter} (named C{shown} in the invitation)
        invited C{invitee}, forgetting the oldest beyond the bounds.
        """
        inviters = self.pop(invitee, None) or collections.OrderedDict()
        inviters.pop(shown, None)
        inviters[shown] = inviter
        while len(inviters) > MAX_INVITERS:
            inviters.popitem(last=False)
        self[invitee] = inviters
        while len(self) > MAX_INVITEES:
            self.popitem(last=False)

    def take(self, invitee, declinee):
        """
        Forget the invitation of C{invitee} by the inviter C{declinee}
        names.

        @param declinee: the L{JID} the decline is addressed to.
        @return: the inviter's real full JID (str), or L{None} when
            C{invitee} has no invitation from it.
        """
        inviters = self.get(invitee)
        if not inviters:
            return None
        named = declinee.full()
        for shown, inviter in list(inviters.items()):
            if named in (shown, inviter) or (not declinee.resource and named == parseJID(inviter).userhost()):
                del inviters[shown]
                if not inviters:
                    del self[invitee]
                return inviter
        return None


def pendingInvitations(room):
    """
    @return: the L{PendingInvitations} of C{room}.
    """
    return room.state(PendingInvitations, PendingInvitations)


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


def checkInviter(room, sender, occupant, invitee):
    """
    @raise StanzaError: C{not-acceptable} for someone not in the room,
        C{forbidden} for visitors, or a refusal of C{room-pre-invite}.
    """
    if occupant is None:
        raise StanzaError("not-acceptable", type="cancel", text=NOT_IN_ROOM)
    if ROLE_RANK.get(occupant.role, 0) <= ROLE_RANK["visitor"]:
        raise StanzaError("forbidden", type="auth", text="Visitors may not invite")
    room.hooks.fire(hooks.ROOM_PRE_INVITE, room=room, sender=sender, occupant=occupant, invitee=invitee)


def relayInvite(room, stanza, sender, occupant, invite):
    invitee = parseJID(invite.getAttribute("to", ""))
    if invitee is None:
        raise StanzaError("jid-malformed", type="cancel")
    checkInviter(room, sender, occupant, invitee)
    reason = _reason(invite)
    message = _relayed(stanza, room, invitee.full())
    x = message.addElement((ns.MUC_USER, "x"))
    relayed = x.addElement("invite")
    inviter = sender.full()
    if (room.config.whois == "moderators"
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
    pendingInvitations(room).remember(invitee.userhost(), inviter, sender.full())
    if not room.hooks.fire(hooks.ROOM_INVITE, room=room, stanza=stanza, occupant=occupant, invitee=invitee,
                           inviter=inviter, message=message):
        room.route(message)


def relayDecline(room, stanza, sender, decline):
    declinee = parseJID(decline.getAttribute("to", ""))
    if declinee is None:
        raise StanzaError("jid-malformed", type="cancel")
    inviter = pendingInvitations(room).take(sender.userhost(), declinee)
    if inviter is None:
        raise StanzaError("item-not-found", type="cancel", text="You have no invitation from them to decline")
    reason = _reason(decline)
    message = newStanza("message", to=inviter, **{"from": room.jidStr})
    relayed = message.addElement((ns.MUC_USER, "x")).addElement("decline")
    relayed["from"] = sender.full()
    relayed.addElement("reason", content=reason)
    message.addElement("body", content="%s declined your invite to the room %s%s" % (
        sender.full(), room.jidStr, " (%s)" % (reason,) if reason else ""))
    room.route(message)


def forgetUsedInvitations(room, occupant, **kw):
    """
    C{occupant-joined}: the invitee came in; its invitations are used.
    """
    pendingInvitations(room).pop(occupant.bare, None)


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
    service.hooks.add(hooks.OCCUPANT_JOINED, forgetUsedInvitations)
