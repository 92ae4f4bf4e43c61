"""
Message Carbons (XEP-0280, C{urn:xmpp:carbons:2}): a user's resources that
enabled carbons see the one-to-one messages their other resources send
and receive.

The rules follow Prosody 0.12's mod_carbons ("urn:xmpp:carbons:rules:0"):
a message is copied when it is of type C{chat}, of type C{normal} with a
C{<body/>}, an error coming from a bare JID (the bounce of a message sent
to a bare JID), or a Jingle Message Initiation; never when it carries
C{<private xmlns='urn:xmpp:carbons:2'/>} or C{<no-copy
xmlns='urn:xmpp:hints'/>}, never a C{groupchat}, and never a MUC private
message (one carrying the C{muc#user} C{<x/>}): those belong to the
single session that joined the room.

Copies go to every carbons-enabled session of the user except the one
that sent the message and those that got the message itself; they are
sent directly to the sessions, never routed, so that a message routed to
a user that already wraps a C{<received/>} or C{<sent/>} copy is forged
(XEP-0280 section 11) and is dropped.
"""

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.session.hooks import IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply
from xmuc.xmpp.stanza import clientCopy

log = Logger()


#: The disco#info features of the server for carbons.
FEATURES = (ns.CARBONS, ns.CARBONS_RULES)


def _hasChild(stanza, uri, name=None):
    """
    @return: whether C{stanza} has a child element in C{uri} (named
        C{name} when given).
    """
    # The children, not elements(): its interface check per child costs
    # more than the comparisons (this runs on every delivered message).
    for child in stanza.children:
        if isinstance(child, domish.Element) and child.uri == uri and (name is None or child.name == name):
            return True
    return False


def _hasBody(stanza):
    """
    @return: whether a message has a C{<body/>} (in its own namespace).
    """
    for child in stanza.elements():
        if child.name == "body" and child.uri in (None, ns.CLIENT, stanza.uri):
            return True
    return False


def isForged(stanza):
    """
    A routed message wrapping a carbon copy: the server only sends copies
    directly to sessions, so any routed one was made up by its sender.

    @param stanza: a message.
    @return: whether C{stanza} carries a C{<received/>} or C{<sent/>} in
        the carbons namespace.
    """
    for child in stanza.children:
        if isinstance(child, domish.Element) and child.uri == ns.CARBONS and child.name in ("received", "sent"):
            return True
    return False


def isEligible(stanza):
    """
    Whether a message is copied (Prosody 0.12 mod_carbons rules).

    @param stanza: the message as sent or as about to be delivered.
    @return: C{(eligible, reason)}: a bool and a short str.
    """
    kind = stanza.getAttribute("type", "normal")
    if _hasChild(stanza, ns.CARBONS, "private"):
        return False, "private"
    if _hasChild(stanza, ns.HINTS, "no-copy"):
        return False, "hint"
    if kind == "groupchat":
        return False, "groupchat"
    if _hasChild(stanza, ns.MUC_USER, "x"):
        # MUC PMs go to the full JID that joined the room, or come from
        # one occupant JID: other sessions are not in the room.  Prosody
        # 0.12 in effect applies this to every message carrying the
        # muc#user <x/> (its bare-JID exception never matches), mediated
        # invitations included; so does xmuc.
        return False, "muc-pm"
    if kind == "chat":
        return True, "type"
    if kind == "normal" and _hasBody(stanza):
        return True, "type"
    if kind == "error" and "/" not in stanza.getAttribute("from", ""):
        # The bounce of a message sent to a bare JID.
        return True, "bounce"
    for uri in ns.JINGLE_MESSAGE:
        if _hasChild(stanza, uri):
            return True, "jingle call"
    return False, "default"


def wrap(stanza, direction, bare):
    """
    Build the carbon copy of C{stanza}.

    @param stanza: the message copied.
    @param direction: C{'sent'} or C{'received'}.
    @param bare: the user's bare JID str (the C{from} of the copy).
    @return: the C{<message/>} to send, without C{to}.
    """
    carbon = domish.Element((ns.CLIENT, "message"), ns.CLIENT)
    carbon["from"] = bare
    carbon["type"] = stanza.getAttribute("type", "normal")
    forwarded = carbon.addElement((ns.CARBONS, direction)).addElement((ns.FORWARD, "forwarded"))
    forwarded.addChild(clientCopy(stanza))
    return carbon


def _stripPrivate(stanza):
    """
    Remove the C{<private/>} marker before delivery, as Prosody does: it
    only concerns the servers.
    """
    stanza.children = [
        child
        for child in stanza.children
        if not (isinstance(child, domish.Element) and child.uri == ns.CARBONS and child.name == "private")
    ]


class CarbonsHandler:
    """
    Per-session carbons state and the copies.

    The state lives on the session itself (C{wantCarbons}, declared by
    L{xmuc.interfaces.ISession}), so that it goes away with it; carbons are
    off until the session enables them.

    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm

    @staticmethod
    def isEnabled(session):
        """
        @return: whether C{session} enabled carbons.
        """
        return session.wantCarbons

    def handleIQ(self, session, iq, child, reply, **kw):
        """
        An iq in the carbons namespace from a session to itself (no C{to},
        or its own bare JID): C{<enable/>} or C{<disable/>}.

        @param session: the requesting L{ISession}.
        @param iq: the iq.
        @param child: its payload.
        @param reply: callable sending a stanza back.
        """
        if iq.getAttribute("type") != "set" or child.name not in ("enable", "disable"):
            reply(errorReply(iq, "service-unavailable"))
            return
        session.wantCarbons = child.name == "enable"
        reply(toResponse(iq, "result"))

    def sent(self, session, stanza, bare):
        """
        A local session sends a message: copy it to its other
        carbons-enabled sessions (before it is routed, as Prosody).

        @param session: the sending L{ISession}.
        @param stanza: the message, C{from} and C{to} already set.
        @param bare: the sender's bare JID str.
        """
        others = [
            s for s in self.sm.sessionsOf(bare) if s is not session and self.isEnabled(s)
        ]
        if not others:
            return
        eligible, _ = isEligible(stanza)
        if not eligible:
            # Not logged: this runs for every message of the account.
            return
        self._send(wrap(stanza, "sent", bare), others)

    def beforeDelivery(self, stanza):
        """
        A message is about to be delivered to a local user.

        Forged carbons are refused; the C{<private/>} marker is removed.

        @param stanza: the message.
        @return: L{None} when the message must be dropped, else whether
            it is to be copied (bool).
        """
        if isForged(stanza):
            log.debug("dropped a forged carbon from {sender}", sender=stanza.getAttribute("from"))
            return None
        eligible, reason = isEligible(stanza)
        if reason == "private":
            _stripPrivate(stanza)
        return eligible

    def received(self, stanza, bare, delivered):
        """
        A message was delivered to some sessions of a local user: copy it
        to the user's other carbons-enabled sessions.

        @param stanza: the message delivered.
        @param bare: the recipient's bare JID str.
        @param delivered: the sessions that got the message.
        """
        others = [
            s for s in self.sm.sessionsOf(bare) if s not in delivered and self.isEnabled(s)
        ]
        if others:
            self._send(wrap(stanza, "received", bare), others)

    def _send(self, carbon, sessions):
        for session in sessions:
            carbon["to"] = session.jid.full()
            session.send(carbon.toXml())


def install(sm):
    """
    Message Carbons (C{sm.carbons}): the enable/disable iqs of the
    account's own sessions; the copies are made on the message path.
    """
    sm.carbons = CarbonsHandler(sm)
    sm.serverFeatures.extend(FEATURES)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_SET_SELF), ns.CARBONS, sm.carbons.handleIQ)
