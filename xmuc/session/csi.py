"""
Client State Indication (XEP-0352), as Prosody's mod_csi_simple: a client
in the background says C{<inactive xmlns='urn:xmpp:csi:0'/>}, and the
stanzas that can wait are held instead of waking its radio; C{<active/>}
sends them all, and so does the first stanza that cannot wait, after
them, in order.

What cannot wait (Prosody's C{is_important}): iqs; presence subscription
requests and answers; messages with a body (in a room, only those naming
the user: its nickname there or its username), a subject, an invitation
or an error; archive results and carbon copies of such messages.  What
waits: available and unavailable presence, of which only the latest of
each sender is kept (XEP-0352 section 6: the client only needs the
current state), headlines (PEP notifications), chat states, receipts and
markers.  At most L{MAX_HELD} stanzas wait; one more sends them.

The state lasts as long as the stream (a new stream starts active; a
resumed session keeps it, with what it holds).  The server offers
C{<csi xmlns='urn:xmpp:csi:0'/>} in the stream features after
authentication.
"""

from twisted.logger import Logger

from xmuc.xmpp import ns
from xmuc.xmpp.stanza import parseElement

log = Logger()

#: Most stanzas held for an inactive client (Prosody's C{csi_queue_size}).
MAX_HELD = 256

#: Presence types that are a state rather than a request.
_STATES = (None, "unavailable")


def _child(element, uri, name):
    for found in element.elements():
        if found.uri == uri and found.name == name:
            return found
    return None


def _forwardedMessage(container):
    """
    @return: the message inside a C{<forwarded/>} child of C{container}, or
        L{None}.
    """
    forwarded = _child(container, ns.FORWARD, "forwarded")
    if forwarded is None:
        return None
    return _child(forwarded, ns.CLIENT, "message")


def isImportant(stanza, session):
    """
    Whether C{stanza} is sent to an inactive client at once.

    @param stanza: a L{domish.Element}.
    @param session: the recipient L{xmuc.interfaces.ISession}.
    """
    name = stanza.name
    kind = stanza.getAttribute("type")
    if name == "presence":
        return kind not in _STATES
    if name != "message":
        return True
    if kind == "headline":
        return False
    if kind == "error":
        return True
    body = _child(stanza, ns.CLIENT, "body")
    if kind == "groupchat":
        if _child(stanza, ns.CLIENT, "subject") is not None:
            return True
        if body is None:
            return False
        text = str(body)
        if session.username and session.username in text:
            return True
        room = stanza.getAttribute("from", "").split("/", 1)[0]
        for joined in session.directedPresence:
            bare, _, nick = joined.partition("/")
            if bare == room and nick and nick in text:
                return True
        return False
    if body is not None or _child(stanza, ns.CLIENT, "subject") is not None:
        return True
    if _child(stanza, ns.CONFERENCE, "x") is not None:
        return True
    user = _child(stanza, ns.MUC_USER, "x")
    if user is not None and _child(user, ns.MUC_USER, "invite") is not None:
        return True
    if _child(stanza, ns.EME, "encryption") is not None:
        # Nothing tells what an encrypted message says.
        return True
    for container in stanza.elements():
        if (container.uri, container.name) in ((ns.MAM, "result"), (ns.CARBONS, "received"), (ns.CARBONS, "sent")):
            inner = _forwardedMessage(container)
            if inner is not None and _child(inner, ns.CLIENT, "body") is not None:
                return True
    return False


class HeldStanzas:
    """
    The stanzas held for one inactive session, installed as its
    C{outgoing} filter.

    @ivar session: the L{xmuc.c2s.stream.ClientSession}.
    @ivar held: the stanzas waiting (elements or serialized text), in
        order; an available or unavailable presence replaces the one of
        the same sender.
    """

    def __init__(self, session):
        self.session = session
        self.held = []
        # sender -> index in held of its waiting presence
        self._presences = {}

    def __call__(self, stanza):
        """
        @return: whether C{stanza} goes now (after what was held).
        """
        element = stanza
        if isinstance(stanza, str):
            try:
                element = parseElement(stanza)
            except ValueError:
                return True
        if isImportant(element, self.session):
            self.flush()
            return True
        if element.name == "presence":
            sender = element.getAttribute("from")
            index = self._presences.get(sender)
            if index is not None:
                # Only the sender's latest presence matters.
                self.held[index] = None
            self._presences[sender] = len(self.held)
        self.held.append(stanza)
        if len(self.held) - self.held.count(None) > MAX_HELD:
            self.flush()
        return False

    def flush(self):
        """
        Send what is held, in order; later stanzas are held again (the
        client is still inactive).
        """
        held, self.held, self._presences = self.held, [], {}
        session = self.session
        session.outgoing = None
        try:
            for stanza in held:
                if stanza is not None:
                    session.send(stanza)
        finally:
            session.outgoing = self


class ClientStates:
    """
    The C{urn:xmpp:csi:0} elements of the client streams.
    """

    def received(self, session, element):
        """
        An element in C{urn:xmpp:csi:0} from a bound session.

        @return: whether it was understood (else the stream says
            C{unsupported-stanza-type}).
        """
        if element.name == "inactive":
            if not isinstance(session.outgoing, HeldStanzas):
                session.outgoing = HeldStanzas(session)
            return True
        if element.name == "active":
            held = session.outgoing
            if isinstance(held, HeldStanzas):
                held.flush()
                session.outgoing = None
            return True
        return False


def install(sm):
    """
    Client State Indication: the stream feature, and the state elements
    of the client streams.
    """
    sm.streamFeatures.append((ns.CSI, "csi"))
    sm.streamElements[ns.CSI] = ClientStates().received
