"""
Client State Indication (XEP-0352), as Prosody's mod_csi_simple: a client
in the background says C{<inactive xmlns='urn:xmpp:csi:0'/>}, and the
stanzas that can wait are held instead of waking its radio; C{<active/>}
sends them all, and so does the first stanza that cannot wait, after
them, in order.

What cannot wait (Prosody's C{is_important}): iqs; presence subscription
requests and answers; messages with a body (in a room, only those naming
the user: its nickname there or its username), a subject, an invitation,
an encrypted payload (XEP-0380), a call (XEP-0353) or an error, and carbon
copies of such messages or of what the user sent.  What waits, stamped
with the time it was held (XEP-0203, as Prosody): available and
unavailable presence, of which only the latest of each sender is kept
(XEP-0352 section 6: the client only needs the current state), headlines
(PEP notifications), chat states, receipts and markers.  At most
L{MAX_HELD} stanzas wait; one more sends them.

The state lasts as long as the stream (a new stream starts active; a
resumed session keeps it, with what it holds).  The server offers
C{<csi xmlns='urn:xmpp:csi:0'/>} in the stream features after
authentication.
"""

import time

from xmuc.xmpp import datetime, ns
from xmuc.xmpp.stanza import parseElement

#: Most stanzas held for an inactive client (Prosody's C{csi_queue_size}).
MAX_HELD = 256

#: Presence types that are a state rather than a request (and errors).
_STATES = (None, "unavailable", "error")

#: The namespaces of Jingle Message Initiation.
_JINGLE_MESSAGE = (ns.JINGLE_MESSAGE_0, ns.JINGLE_MESSAGE_1)


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
    if _child(stanza, ns.CARBONS, "sent") is not None:
        # The user wrote it on another device.
        return True
    received = _child(stanza, ns.CARBONS, "received")
    if received is not None:
        stanza = _forwardedMessage(received) or stanza
    body = _child(stanza, ns.CLIENT, "body")
    if _child(stanza, ns.CLIENT, "subject") is not None:
        # In a room, the last step of joining.
        return True
    if kind == "groupchat":
        return body is not None and _mentions(str(body), stanza, session)
    if body is not None:
        return True
    if _child(stanza, ns.EME, "encryption") is not None:
        # Nothing tells what an encrypted message says.
        return True
    if _child(stanza, ns.CONFERENCE, "x") is not None:
        return True
    user = _child(stanza, ns.MUC_USER, "x")
    if user is not None and _child(user, ns.MUC_USER, "invite") is not None:
        return True
    # A call coming (Jingle Message Initiation, XEP-0353).
    return any(child.uri in _JINGLE_MESSAGE for child in stanza.elements())


def _mentions(body, message, session):
    """
    @return: whether a room message names the user: its username, or its
        nickname in the room (from the presence it sent there).
    """
    if session.username and session.username in body:
        return True
    room = message.getAttribute("from", "").split("/", 1)[0]
    for joined in session.directedPresence:
        bare, _, nick = joined.partition("/")
        if bare == room and nick and nick in body:
            return True
    return False


def _delayed(stanza, session):
    """
    @return: C{stanza} (an element) stamped with the time it was held
        (XEP-0203, from the user's bare JID, as Prosody).
    """
    delay = stanza.addElement((ns.DELAY, "delay"))
    delay["from"] = session.bare
    delay["stamp"] = datetime.stamp(time.time())
    return stanza


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
        if element is stanza:
            # Shared with other recipients: stamped on a copy.
            element = parseElement(stanza.toXml())
        stanza = _delayed(element, self.session)
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
