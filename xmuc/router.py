"""
Moving stanzas between local sessions and components by domain.
"""

import copy

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid as jidmod
from twisted.words.protocols.jabber import xmpp_stringprep

from xmuc.xmpp.errors import errorReply, isError

log = Logger()

#: resourceprep for the addresses stanzas are sent to, a "query" in RFC 3454
#: terms: unassigned code points (emoji newer than Unicode 3.2, say) pass, as
#: with Prosody's non-strict jid.prep.  What stores a resource (binding, MUC
#: nicknames) still checks strictly, and answers with its own error.
_queryResourceprep = copy.copy(xmpp_stringprep.resourceprep)
_queryResourceprep.do_check_unassigneds = False


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
    except (jidmod.InvalidFormat, UnicodeError, ValueError):
        return None
    if parsed.resource is not None or not prepped:
        return None
    address = jidmod.JID(tuple=(parsed.user, parsed.host, None))
    address.resource = prepped
    return address


def parseJID(text):
    """
    Parse a JID string, with the stringprep cache Twisted keeps.

    @return: a L{jidmod.JID}, or L{None} when C{text} is not a valid JID.
    """
    if not text or text.endswith("/") or text.startswith("@"):
        # An empty resource or localpart is not a JID (RFC 7622), though
        # Twisted takes it.
        return None
    try:
        parsed = jidmod.internJID(text)
    except (jidmod.InvalidFormat, UnicodeError, ValueError):
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


class Router:
    """
    The switchboard of the server.

    @ivar hosts: the local virtual hosts (set of str).
    @ivar components: C{{domain: IComponent}}.
    @ivar localDelivery: callable taking a stanza addressed to a local host
        (set by the session manager).
    @ivar sessions: C{{full JID str: ISession}}, maintained by the session
        manager, used for the pre-serialized fast path.
    """

    def __init__(self, hosts):
        self.hosts = set(hosts)
        self.components = {}
        self.sessions = {}
        self.localDelivery = None

    def addComponent(self, domain, component):
        """
        Route every stanza for C{domain} (and JIDs in it) to C{component}.
        """
        self.components[domain] = component

    def route(self, stanza):
        """
        Deliver C{stanza} according to its C{to} attribute.  The sender must
        already have set a trustworthy C{from}.
        """
        to = stanza.getAttribute("to")
        recipient = parseJID(to) if to else None
        if recipient is None:
            if not isError(stanza):
                self.route(errorReply(stanza, "jid-malformed"))
            return
        host = recipient.host
        component = self.components.get(host)
        if component is not None:
            try:
                component.receive(stanza)
            except Exception:
                log.failure("component {domain} failed on a stanza", domain=host)
                if not isError(stanza) and stanza.getAttribute("from"):
                    self.route(errorReply(stanza, "internal-server-error"))
        elif host in self.hosts:
            self.localDelivery(stanza)
        elif not isError(stanza) and stanza.getAttribute("from"):
            # No server-to-server links: every other domain is unreachable.
            self.route(errorReply(stanza, "remote-server-not-found", payload=False))

    def routeSerialized(self, to, data, build):
        """
        Fast path for fan-out: deliver an already serialized stanza.

        @param to: the recipient's full JID as a str.
        @param data: the serialized stanza (its C{to} already set).
        @param build: callable returning the stanza as an element, used when
            C{to} is not a connected local session (then normal routing
            rules apply).
        """
        session = self.sessions.get(to)
        if session is not None:
            session.send(data)
        else:
            self.route(build())
