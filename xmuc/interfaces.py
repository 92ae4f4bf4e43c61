"""
The contracts between the parts of the server.

The client stream code (L{xmuc.c2s}) produces L{ISession}s; the session
manager (L{xmuc.session}) owns them once bound and implements RFC 6121 for local
users; the L{xmuc.router.Router} moves stanzas between sessions and
L{IComponent}s (the MUC service is one) by domain.
"""

from zope.interface import Attribute, Interface


class ISession(Interface):
    """
    One authenticated, bound client stream.
    """

    jid = Attribute("The full JID (L{twisted.words.protocols.jabber.jid.JID}).")
    priority = Attribute("Priority of the last available presence (int).")
    presence = Attribute(
        "The last broadcast available presence (L{domish.Element}) or None "
        "while the session has not sent initial presence or is unavailable."
    )
    interestedInRoster = Attribute("Whether the client requested the roster.")
    directedPresence = Attribute(
        "Set of JID strings this session sent directed available presence to; "
        "they get unavailable presence when the session ends."
    )
    wantCarbons = Attribute(
        "Whether the client enabled Message Carbons (XEP-0280) in this session."
    )
    mamRequested = Attribute(
        "Whether the client queried its archive (XEP-0313) in this session: "
        "stored offline messages are then not pushed to it, and what it can "
        "fetch from the archive is not kept for it when the session ends "
        "(Prosody's mam_requested)."
    )
    requestedBlocklist = Attribute(
        "Whether the client read its blocklist (XEP-0191) in this session: "
        "only then is it pushed the list's changes."
    )

    def send(stanza):
        """
        Send to the client.

        @param stanza: a L{domish.Element}, or an already serialized str.
        """

    def disconnect(condition=None, text=None):
        """
        Close the stream, with a stream error when C{condition} is given
        (C{'conflict'}, C{'system-shutdown'}, ...).
        """


class ISessionManager(Interface):
    """
    RFC 6121 for local users: sessions, presence, roster, local delivery.
    """

    def bind(session, resource):
        """
        Bind a resource for an authenticated session.

        @param session: the L{ISession}; its C{jid} is set by this call.
        @param resource: requested resource or L{None} (server generates one).
        @return: the full JID bound; an older session on the same full JID is
            disconnected with a C{conflict} stream error.
        @raise StanzaError: C{not-allowed}/C{bad-request} for an invalid resource.
        """

    def unbind(session):
        """
        The session's stream ended: broadcast unavailable presence where
        needed and forget the session.
        """

    def fromClient(session, stanza):
        """
        A stanza sent by a bound client: stamp C{from}, handle what is for the
        server or the user's account, route the rest.
        """

    def deliver(stanza):
        """
        A stanza routed to a JID of a local host.
        """

    def sessionsOf(bare):
        """
        @return: list of the L{ISession}s of a bare JID string.
        """

    def undelivered(session, stanzas):
        """
        C{session} ended (and was unbound) while its client had not
        acknowledged C{stanzas} (XEP-0198): decide what becomes of them.

        @param stanzas: the L{domish.Element}s sent to the session and
            never acknowledged, oldest first.
        """


class IComponent(Interface):
    """
    A service that owns a domain (the MUC service, or an external XEP-0114
    component) and talks only in stanzas.
    """

    domain = Attribute("The domain it serves (str).")

    def receive(stanza):
        """
        A stanza addressed to the component's domain (or a JID in it).
        """
