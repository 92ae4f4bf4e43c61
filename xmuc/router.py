"""
Moving stanzas between local sessions and components by domain.
"""

from twisted.logger import Logger

from xmuc.xmpp.errors import errorReply, isError
from xmuc.xmpp.jid import parseJID

log = Logger()


class Router:
    """
    The switchboard of the server.

    @ivar hosts: the local virtual hosts (set of str).
    @ivar components: C{{domain: IComponent}}.
    @ivar localDelivery: callable taking a stanza addressed to a local host
        (set by the session manager).
    @ivar sessions: C{{full JID str: ISession}}, maintained by the session
        manager, used for the pre-serialized fast path.
    @ivar remote: what takes stanzas for every other domain (the
        federation service, L{xmuc.s2s.manager.S2SManager}: C{route(stanza)}
        and C{routeSerialized(to, data, build)}), or L{None} when the
        server does not federate.
    @ivar textComponents: C{{domain: component}} of the components that
        also take serialized stanzas (a C{receiveSerialized(data, build)}
        method: external components, whose stream writes the text as
        is), for the same fast path.
    """

    def __init__(self, hosts):
        self.hosts = set(hosts)
        self.components = {}
        self.sessions = {}
        self.textComponents = {}
        self.localDelivery = None
        self.remote = None

    def addComponent(self, domain, component):
        """
        Route every stanza for C{domain} (and JIDs in it) to C{component}.
        """
        self.components[domain] = component
        if getattr(component, "receiveSerialized", None) is not None:
            self.textComponents[domain] = component

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
        elif self.remote is not None:
            self.remote.route(stanza)
        elif not isError(stanza) and stanza.getAttribute("from"):
            # No federation: every other domain is unreachable.
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
            return
        domain = _domainOf(to)
        if self.textComponents:
            component = self.textComponents.get(domain)
            if component is not None:
                try:
                    component.receiveSerialized(data, build)
                except Exception:
                    log.failure("component {domain} failed on a stanza", domain=component.domain)
                return
        remote = self.remote
        if remote is not None and domain not in self.hosts and domain not in self.components:
            # A remote occupant: the text goes to its domain's stream as it
            # is, no element built.
            remote.routeSerialized(to, data, build)
            return
        self.route(build())


def _domainOf(jid):
    """
    @param jid: a JID the server wrote (a fan-out recipient).
    @return: its domain part.
    """
    slash = jid.find("/")
    bare = jid if slash < 0 else jid[:slash]
    return bare[bare.find("@") + 1 :]
