"""
Ghosts: occupants whose client is gone.  An error bounced to the room by
an occupant's session tells its client is gone or unreachable; with one
of L{KICKABLE_ERRORS} (or without any condition) that session is removed
from the room, as Prosody does.  When the server reports that a remote
domain cannot be reached (the server event C{s2s-domain-failed}: a
stream to it could not be set up, or was lost without being closed),
every occupant from that domain leaves at once (L{removeDomain}): what
the room sent them may be lost, and they would stay as ghosts until a
later bounce.

XEP-0045, "Ghost Users" (implementation notes): a service SHOULD remove a
user when it receives a delivery-related error in relation to a stanza it
sent to the user; "Service removes user because of error response"
(service use cases): the removal presence carries status 333, for the
user and the other occupants alike, for "a technical problem (e.g. s2s
link failure)".
"""

from twisted.words.xish import domish

from xmuc.hooks import S2S_DOMAIN_FAILED
from xmuc.muc import sessions
from xmuc.xmpp import ns

#: Error conditions that tell the sender's client is gone or unreachable: an
#: occupant bouncing a message error with one of these (or without any
#: condition) is removed from the room, as Prosody does.  Other errors (e.g.
#: a refused private message) leave it in.
KICKABLE_ERRORS = frozenset([
    "gone", "internal-server-error", "item-not-found", "jid-malformed",
    "recipient-unavailable", "redirect", "remote-server-not-found",
    "remote-server-timeout", "service-unavailable",
])


def errorConditionOf(stanza):
    """
    @param stanza: a stanza of type C{error}.
    @return: C{(condition, text)} of its C{<error/>}; either may be L{None}.
    """
    condition = text = None
    for error in stanza.elements():
        if error.name != "error":
            continue
        for child in error.elements(ns.XMPP_STANZAS):
            if child.name == "text":
                text = str(child)
            elif condition is None:
                condition = child.name
        break
    return condition, text


def isKickableError(stanza):
    """
    @return: whether an error from an occupant means its client is gone
        (see L{KICKABLE_ERRORS}).
    """
    condition, _ = errorConditionOf(stanza)
    return condition is None or condition in KICKABLE_ERRORS


def kickForError(room, occupant, stanza, to=None):
    """
    Remove C{occupant}'s session C{to}, whose client bounced C{stanza}
    (an error) to the room: its client is gone or unreachable.  As
    Prosody: a status text C{Kicked: <condition with spaces>} (the error
    text is added in non-anonymous rooms), and status 333 when the
    occupant leaves with it (its last session).
    """
    if occupant.role == "none":
        # Already on its way out: this is the bounce of the unavailable
        # presence its removal sent (a server that cannot be reached
        # answers at once), and it must not leave a second time.
        return
    condition, text = errorConditionOf(stanza)
    status = _kickedStatus(room, condition, text)
    codes = ("333",) if len(occupant.sessions) == 1 else ()
    sessions.leaveSession(room, occupant, to or occupant.realJID, payload=(status,), codes=codes)


def _kickedStatus(room, condition, text=None):
    """
    @return: the C{<status/>} of a removal for an error, as Prosody writes
        it: C{Kicked: <condition with spaces>}, and the error text in
        non-anonymous rooms.
    """
    message = "Kicked: " + (condition.replace("-", " ") if condition else "presence error")
    if text and room.config.whois == "anyone":
        message += ": " + text
    status = domish.Element((ns.CLIENT, "status"))
    status.addContent(message)
    return status


def removeDomain(service, domain, condition="remote-server-not-found"):
    """
    The server stream to C{domain} failed: every occupant whose real JID
    is on C{domain} leaves its rooms, with status 333 and the status text
    of an error C{condition} (XEP-0045: removed "due to a technical
    problem (e.g. s2s link failure)").  Its sessions all share the
    domain, so the whole occupant goes.

    @param service: the L{xmuc.muc.service.MUCService}.
    @param domain: the remote domain (str, lower case as in JIDs).
    @param condition: the stanza error condition the failure amounts to
        (C{remote-server-not-found}, C{remote-server-timeout}).
    @return: how many occupants were removed.
    """
    removed = 0
    for room in list(service.rooms.values()):
        gone = [occupant for occupant in room.occupants.values() if occupant.jid.host == domain]
        for occupant in gone:
            # A removal's presences may bounce at once and take another
            # occupant of the domain out before its turn.
            if room.occupants.get(occupant.nick) is occupant:
                room.removeOccupant(occupant, codes=("333",), payload=(_kickedStatus(room, condition),))
                removed += 1
    return removed


def install(service):
    def domainFailed(domain, condition, **kw):
        removeDomain(service, domain, condition)

    service.server.hooks.add(S2S_DOMAIN_FAILED, domainFailed)
