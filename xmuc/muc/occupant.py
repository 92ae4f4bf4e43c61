"""
An occupant: one real JID sitting in a room under a nickname.
"""

from xmuc.muc.fanout import Serialized
from xmuc.xmpp import ns

#: Roles from least to most privileged.
ROLE_RANK = {"none": 0, "visitor": 1, "participant": 2, "moderator": 3}

#: Affiliations from least to most privileged.
AFFILIATION_RANK = {"outcast": -1, "none": 0, "member": 1, "admin": 2, "owner": 3}


def presencePayload(stanza):
    """
    The children of a client's presence that other occupants should see:
    everything but the MUC protocol elements and errors.

    @return: a tuple of elements.
    """
    if stanza is None:
        return ()
    return tuple(
        child
        for child in stanza.elements()
        if not (child.name == "x" and child.uri in (ns.MUC, ns.MUC_USER)) and child.name != "error"
        # A client cannot choose its occupant id (XEP-0421).
        and child.uri != "urn:xmpp:occupant-id:0"
    )


class Occupant:
    """
    @ivar room: the L{xmuc.muc.room.Room}.
    @ivar nick: the room nickname (str).
    @ivar jid: the real full JID (L{JID}).
    @ivar realJID: the real full JID as a str.
    @ivar bare: the real bare JID as a str.
    @ivar role: C{'moderator'}, C{'participant'}, C{'visitor'} (or
        C{'none'} while leaving).
    @ivar payload: the children of the occupant's last presence that are
        broadcast (show, status, caps...), see L{presencePayload}.
    @ivar joinStanza: the presence that makes it join, while it joins
        (L{None} once the C{joined} hooks ran).
    """

    def __init__(self, room, nick, jid, role):
        self.room = room
        self.nick = nick
        self.jid = jid
        self.realJID = jid.full()
        self.bare = jid.userhost()
        self.role = role
        self.payload = ()
        self.joinStanza = None
        # (key, {variant: Serialized}) of the plain available presence.
        self._cache = (None, {})

    @property
    def occupantJID(self):
        """
        The occupant's address in the room: C{room@service/nick} (str).
        """
        return self.room.jidStr + "/" + self.nick

    @property
    def affiliation(self):
        return self.room.getAffiliation(self.bare)

    def isModerator(self):
        return self.role == "moderator"

    def setPresence(self, stanza):
        """
        Remember what the occupant broadcasts (from its latest presence).
        """
        self.payload = presencePayload(stanza)

    def cachedPresence(self, variant, build):
        """
        The serialized plain presence of this occupant for one recipient
        variant (C{'anon'} or C{'full'}), built at most once per state.

        @param build: callable(variant) returning the element.
        @return: a L{Serialized}.
        """
        key = (self.nick, self.role, self.affiliation, id(self.payload), self.room.config.whois)
        cachedKey, variants = self._cache
        if cachedKey != key:
            variants = {}
            self._cache = (key, variants)
        serialized = variants.get(variant)
        if serialized is None:
            serialized = variants[variant] = Serialized(build(variant))
        return serialized

    def __repr__(self):
        return "<Occupant %s (%s) %s>" % (self.occupantJID, self.realJID, self.role)
