"""
JIDs (RFC 7622) on Twisted's L{twisted.words.protocols.jabber.jid}, with
the one list of exceptions its parsing raises on bad input.

L{parseJID} is for the addresses of stanzas (what the router and the
services read from C{to} and C{from}); L{jidOrNone} keeps Twisted's own
rules, for callers that compare the result with an address they know.
"""

import copy

from twisted.words.protocols.jabber import jid as jidmod
from twisted.words.protocols.jabber import xmpp_stringprep

#: What Twisted's JID parsing raises on bad input: L{jidmod.InvalidFormat}
#: for a bad structure, C{UnicodeError} and C{ValueError} from stringprep,
#: and C{RuntimeError} for an empty string.
INVALID_JID = (jidmod.InvalidFormat, UnicodeError, ValueError, RuntimeError)

#: resourceprep for the addresses stanzas are sent to, a "query" in RFC 3454
#: terms: unassigned code points (emoji newer than Unicode 3.2, say) pass, as
#: with Prosody's non-strict jid.prep.  What stores a resource (binding, MUC
#: nicknames) still checks strictly, and answers with its own error.
_queryResourceprep = copy.copy(xmpp_stringprep.resourceprep)
_queryResourceprep.do_check_unassigneds = False


def jidOrNone(text):
    """
    Parse C{text} by Twisted's rules, with the stringprep cache Twisted keeps.

    @param text: a JID string.
    @return: the interned L{jidmod.JID}, or L{None} when Twisted refuses it.
    """
    try:
        return jidmod.internJID(text)
    except INVALID_JID:
        return None


def jidFromParts(user, host, resource):
    """
    @return: the L{jidmod.JID} of the given parts (each prepared), or
        L{None} when a part is invalid.
    """
    try:
        return jidmod.JID(tuple=(user, host, resource))
    except INVALID_JID:
        return None


def bareJID(text):
    """
    @param text: a JID string, or L{None}.
    @return: the bare JID (str) of C{text} by Twisted's rules, or L{None}
        for no or an invalid JID.
    """
    if not text:
        return None
    parsed = jidOrNone(text)
    return None if parsed is None else parsed.userhost()


def _parseQueryJID(text):
    """
    Parse C{text} with a resource that may hold unassigned code points.

    @return: a L{jidmod.JID} (not interned), or L{None}.
    """
    bare, _, resource = text.partition("/")
    if not resource:
        return None
    try:
        parsed = jidmod.internJID(bare)
        prepped = _queryResourceprep.prepare(resource)
    except INVALID_JID:
        return None
    if parsed.resource is not None or not prepped:
        return None
    address = jidmod.JID(tuple=(parsed.user, parsed.host, None))
    address.resource = prepped
    return address


def parseJID(text):
    """
    Parse the address of a stanza, with the stringprep cache Twisted keeps.

    @return: a L{jidmod.JID}, or L{None} when C{text} is not a valid JID.
    """
    if not text or text.endswith("/") or text.startswith("@"):
        # An empty resource or localpart is not a JID (RFC 7622), though
        # Twisted takes it.
        return None
    parsed = jidOrNone(text)
    if parsed is None:
        parsed = _parseQueryJID(text)
    if parsed is not None and len(text) > 255 and _tooLong(parsed):
        return None
    return parsed


def _tooLong(parsed):
    """
    @return: whether a part of C{parsed} is longer than the 1023 bytes RFC
        7622 allows (only checked for long input: shorter cannot be).
    """
    return any(
        part is not None and len(part.encode("utf-8")) > 1023
        for part in (parsed.user, parsed.host, parsed.resource)
    )
