"""
Ghosts: occupants whose client is gone.  An error bounced to the room by
an occupant's session tells its client is gone or unreachable; with one
of L{KICKABLE_ERRORS} (or without any condition) that session is removed
from the room, as Prosody does.
"""

from twisted.words.xish import domish

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
    message = "Kicked: " + (condition.replace("-", " ") if condition else "presence error")
    if text and room.config.whois == "anyone":
        message += ": " + text
    status = domish.Element((ns.CLIENT, "status"))
    status.addContent(message)
    codes = ("333",) if len(occupant.sessions) == 1 else ()
    sessions.leaveSession(room, occupant, to or occupant.realJID, payload=(status,), codes=codes)
