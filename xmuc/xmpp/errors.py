"""
Stanza error replies.

Errors carry the RFC 6120 condition and, for old clients (and the seed
scripts), the legacy numeric C{code}; both come from Twisted's
L{StanzaError}.
"""

from twisted.words.protocols.jabber.error import StanzaError
from twisted.words.protocols.jabber.xmlstream import toResponse

__all__ = ["StanzaError", "errorReply", "isError"]


def errorReply(stanza, condition, text=None, by=None, type=None, payload=True):
    """
    Build the error reply to C{stanza}: addresses swapped, same id,
    C{type='error'}, an C{<error/>} child.

    @param stanza: the offending stanza (L{domish.Element}).
    @param condition: the RFC 6120 condition (C{'forbidden'}...), or a
        L{StanzaError} whose condition, type and text are used.
    @param text: optional human-readable text.
    @param by: optional C{by} attribute: the entity that returns the error.
    @param type: error type when not the condition's usual one.
    @param payload: copy the original children into the reply (RFC 6120
        allows it; MUC join errors echo the request's C{<x/>}).
    @return: a new L{domish.Element}.
    """
    if isinstance(condition, StanzaError):
        error = condition
    else:
        error = StanzaError(condition, type=type, text=text)
    reply = toResponse(stanza, stanzaType="error")
    if stanza.getAttribute("id") == "":
        # toResponse drops an empty id; the sender still needs to match
        # the error with what it sent.
        reply["id"] = ""
    if payload:
        for child in stanza.elements():
            if child.name != "error":
                reply.addChild(child)
    element = error.getElement()
    if by:
        element["by"] = by
    reply.addChild(element)
    return reply


def isError(stanza):
    """
    @return: whether C{stanza} is itself an error (never answer it with one).
    """
    return stanza.getAttribute("type") == "error"
