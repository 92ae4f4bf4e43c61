"""
JIDs (RFC 7622) on Twisted's L{twisted.words.protocols.jabber.jid}, with
the one list of exceptions its parsing raises on bad input and a bounded
cache of parsed addresses.

L{parseJID} is for the addresses of stanzas (what the router and the
services read from C{to} and C{from}); L{jidOrNone} keeps Twisted's own
rules, for callers that compare the result with an address they know.

Neither uses Twisted's C{internJID}: its cache keeps every distinct string
it was ever given, so a peer that sends stanzas to ever new addresses
would grow the process without end.  Parsed addresses are kept here in a
least-recently-used cache of L{CACHE_SIZE} entries instead, and only
addresses of at most L{CACHED_LENGTH} characters, so that the cache costs
a few megabytes at most whatever peers send.
"""

import copy
import functools

from twisted.words.protocols.jabber import jid as jidmod
from twisted.words.protocols.jabber import xmpp_stringprep

#: What Twisted's JID parsing raises on bad input: L{jidmod.InvalidFormat}
#: for a bad structure, C{UnicodeError} and C{ValueError} from stringprep,
#: C{RuntimeError} for an empty string, and C{IndexError} from its nameprep
#: for an empty label in a domain (C{a@b..c}, C{a@.b}).
INVALID_JID = (jidmod.InvalidFormat, UnicodeError, ValueError, RuntimeError, IndexError)

#: How many parsed addresses are kept (least recently used go first).
#: Routing parses the C{to} of every stanza; a hit saves stringprep.
CACHE_SIZE = 4096

#: Longest address (in characters) kept in the cache; real addresses are
#: far shorter, and longer ones are parsed each time rather than kept.
CACHED_LENGTH = 255

#: resourceprep for the addresses stanzas are sent to, a "query" in RFC 3454
#: terms: unassigned code points (emoji newer than Unicode 3.2, say) pass, as
#: with Prosody's non-strict jid.prep.  What stores a resource (binding, MUC
#: nicknames) still checks strictly, and answers with its own error.
#: Characters in which no part can exceed RFC 7622's 1023 bytes (at most
#: 4 bytes of UTF-8 each): shorter addresses skip the length check.
_MAX_SHORT = 255

_queryResourceprep = copy.copy(xmpp_stringprep.resourceprep)
_queryResourceprep.do_check_unassigneds = False


def _parse(text):
    """
    @return: a new L{jidmod.JID} for C{text}, or L{None} when Twisted
        refuses it.
    """
    try:
        parsed = jidmod.JID(text)
    except INVALID_JID:
        return None
    if parsed.host.endswith("."):
        # RFC 7622 3.2: a final label separator "MUST be stripped from the
        # domainpart before the JID of which it is a part is used for the
        # purpose of routing an XML stanza, comparing against another
        # JID" (Prosody does too).  Twisted keeps it.
        host = parsed.host[:-1]
        if not host:
            return None
        parsed = jidmod.JID(tuple=(parsed.user, host, parsed.resource))
    return parsed


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parseCached(text):
    return _parse(text)


def jidOrNone(text):
    """
    Parse C{text} by Twisted's rules, through the bounded cache.

    @param text: a JID string.
    @return: a L{jidmod.JID} (the same object for the same text while it
        stays in the cache: treat it as read-only), or L{None} when
        Twisted refuses it.
    """
    if not text:
        return None
    if len(text) > CACHED_LENGTH:
        return _parse(text)
    return _parseCached(text)


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
    parsed = jidOrNone(text)
    return None if parsed is None else parsed.userhost()


def _parseQueryJID(text):
    """
    Parse C{text} with a resource that may hold unassigned code points.

    @return: a new L{jidmod.JID}, or L{None}.
    """
    bare, _, resource = text.partition("/")
    if not resource:
        return None
    parsed = jidOrNone(bare)
    if parsed is None or parsed.resource is not None:
        return None
    try:
        prepped = _queryResourceprep.prepare(resource)
    except INVALID_JID:
        return None
    if not prepped:
        return None
    address = jidmod.JID(tuple=(parsed.user, parsed.host, None))
    address.resource = prepped
    return address


def parseJID(text):
    """
    Parse the address of a stanza, through the bounded cache.

    @return: a L{jidmod.JID} (possibly shared: treat it as read-only), or
        L{None} when C{text} is not a valid JID.
    """
    if not text or text.endswith("/") or text.startswith("@"):
        # An empty resource or localpart is not a JID (RFC 7622), though
        # Twisted takes it.
        return None
    # jidOrNone, inlined: this runs for the 'to' and 'from' of every
    # stanza.
    parsed = _parseCached(text) if len(text) <= CACHED_LENGTH else _parse(text)
    if parsed is None:
        parsed = _parseQueryJID(text)
    if parsed is not None and len(text) > _MAX_SHORT and _tooLong(parsed):
        return None
    return parsed


def cachedAddresses():
    """
    @return: how many parsed addresses the cache holds now (at most
        L{CACHE_SIZE}).
    """
    return _parseCached.cache_info().currsize


def _tooLong(parsed):
    """
    @return: whether a part of C{parsed} is longer than the 1023 bytes RFC
        7622 allows (only checked for long input: shorter cannot be).
    """
    return any(
        part is not None and len(part.encode("utf-8")) > 1023
        for part in (parsed.user, parsed.host, parsed.resource)
    )
