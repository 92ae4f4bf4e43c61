"""
An occupant: one user sitting in a room under a nickname, from one or more
sessions (real full JIDs of the same bare JID), as Prosody's multi-session
occupants.
"""

from twisted.words.protocols.jabber.jid import JID

from xmuc.muc.featurestate import FeatureState
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized

#: Roles, the most privileged first.
ROLES = ("moderator", "participant", "visitor", "none")

#: Roles from least to most privileged.
ROLE_RANK = {"none": 0, "visitor": 1, "participant": 2, "moderator": 3}

#: The text of errors to someone who is not in the room.
NOT_IN_ROOM = "You are not currently connected to this chat"


#: Namespaces of presence payload only the room writes: a client's are not
#: relayed.
ROOM_WRITTEN = frozenset((ns.OCCUPANT_ID, ns.HATS, ns.HATS_LEGACY))


#: How many distinct payload elements are shared between occupants (see
#: L{sharedElement}); past that the table starts again.
SHARED_PAYLOAD_SIZE = 1024

#: The longest payload element (serialized, in characters) worth sharing:
#: the common ones (a show, the avatar hash its server adds, entity
#: capabilities) are far shorter.
SHARED_PAYLOAD_LENGTH = 512

_sharedPayload = {}


def sharedElement(child):
    """
    One element for all occupants whose presence carries the same one (the
    same client's capabilities, the avatar hash its server adds, the same
    show): an element tree costs several hundred bytes, kept per occupant
    as long as it is in the room.  Payload elements are never changed,
    only added to the presences the room builds.

    @param child: an element of a client's presence, without parent.
    @return: C{child}, or an element serialized the same way.
    """
    text = child.toXml()
    if len(text) > SHARED_PAYLOAD_LENGTH:
        return child
    shared = _sharedPayload.get(text)
    if shared is None:
        if len(_sharedPayload) >= SHARED_PAYLOAD_SIZE:
            _sharedPayload.clear()
        shared = _sharedPayload[text] = child
    return shared


def presencePayload(stanza):
    """
    The children of a client's presence that other occupants should see:
    everything but the MUC protocol elements and errors.

    @return: a tuple of elements, without parent (see L{sharedElement}).
    """
    if stanza is None:
        return ()
    payload = []
    for child in stanza.elements():
        if ((child.name == "x" and child.uri in (ns.MUC, ns.MUC_USER)) or child.name == "error"
                # A client cannot choose its occupant id (XEP-0421) nor its
                # hats (XEP-0317: the room assigns them).
                or child.uri in ROOM_WRITTEN):
            continue
        # Kept as long as the occupant is in the room: through its parent,
        # each would keep the whole stanza it came in.
        child.parent = None
        payload.append(sharedElement(child))
    return tuple(payload)


def mucElement(stanza):
    """
    @return: the C{<x xmlns='http://jabber.org/protocol/muc'/>} of a
        presence (a join, XEP-0045 7.2.1), or L{None}.
    """
    for child in stanza.elements(ns.MUC, "x"):
        return child
    return None


class Occupant(FeatureState):
    """
    @ivar room: the L{xmuc.muc.room.Room}.
    @ivar nick: the room nickname (str).
    @ivar jid: the real full JID (L{JID}) of the primary session (the
        oldest one: its presence is what others see, iqs go to it).
    @ivar realJID: the primary session's real full JID as a str.
    @ivar bare: the real bare JID as a str.
    @ivar sessions: C{{real full JID str: payload}} of every session, in
        join order (the primary first).
    @ivar role: C{'moderator'}, C{'participant'}, C{'visitor'} (or
        C{'none'} while leaving).
    @ivar payload: the children of the primary session's last presence
        that are broadcast (show, status, caps...), see L{presencePayload}.

    Features keep their runtime state about an occupant in
    L{state<xmuc.muc.featurestate.FeatureState.state>}.
    """

    def __init__(self, room, nick, jid, role):
        self.room = room
        self.nick = nick
        self.jid = jid
        self.realJID = jid.full()
        self.bare = jid.userhost()
        self.role = role
        self.payload = ()
        self.sessions = {self.realJID: ()}
        self._featureState = {}
        # (key, {variant: Serialized}) of the plain available presence.
        self._cache = (None, {})
        # Changes when sessions come and go (the items of the 'full' variant).
        self._sessionsVersion = 0

    @property
    def occupantJID(self):
        """
        The occupant's address in the room: C{room@service/nick} (str).
        """
        return self.room.jidStr + "/" + self.nick

    @property
    def affiliation(self):
        return self.room.getAffiliation(self.bare)

    def setPresence(self, stanza, realJID=None):
        """
        Remember what a session broadcasts (from its latest presence).

        @param realJID: the session's real full JID (str); L{None} for the
            primary session.
        """
        payload = presencePayload(stanza)
        if realJID is None or realJID == self.realJID:
            self.payload = payload
            realJID = self.realJID
        self.sessions[realJID] = payload

    def addSession(self, jid, stanza):
        """
        Another session of the same user joins this occupant.

        @param jid: its real full JID (L{JID}).
        @param stanza: its join presence.
        """
        self.sessions[jid.full()] = presencePayload(stanza)
        self._sessionsVersion += 1

    def removeSession(self, realJID):
        """
        A session leaves; when it was the primary one, the oldest remaining
        session becomes primary (others now see its presence).  The last
        session is never removed (the occupant leaves instead).

        @param realJID: the session's real full JID (str).
        """
        if realJID not in self.sessions or len(self.sessions) == 1:
            return
        del self.sessions[realJID]
        self._sessionsVersion += 1
        if realJID == self.realJID:
            self.realJID, self.payload = next(iter(self.sessions.items()))
            self.jid = JID(self.realJID)

    def cachedPresence(self, variant, build):
        """
        The serialized plain presence of this occupant for one recipient
        variant (C{'anon'} or C{'full'}), built at most once per state.

        @param build: callable(variant) returning the element.
        @return: a L{Serialized}.
        """
        key = (self.nick, self.role, self.affiliation, id(self.payload), self.room.config.whois, self._sessionsVersion)
        cachedKey, variants = self._cache
        if cachedKey != key:
            variants = {}
            self._cache = (key, variants)
        serialized = variants.get(variant)
        if serialized is None:
            serialized = variants[variant] = Serialized(build(variant))
        return serialized

    def presenceChanged(self):
        """
        Something a feature adds to this occupant's presence changed (its
        hats): build the cached presence again.
        """
        self._cache = (None, {})

    def __repr__(self):
        return "<Occupant %s (%s) %s>" % (self.occupantJID, self.realJID, self.role)
