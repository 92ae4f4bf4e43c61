"""
The MUC service (XEP-0045): a component owning the conference domain.

It only receives and sends stanzas (L{IComponent}), so that the same service
could run as an external component of another server.  Rooms live in
L{MUCService.rooms}; each room feature is a module of this package with an
C{install(service)} function registering handlers on L{MUCService.hooks}
(events documented in L{xmuc.muc.hooks}).
"""

import importlib
import uuid

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import JID
from zope.interface import implementer

from xmuc.hooks import HookRegistry
from xmuc.interfaces import IComponent
from xmuc.muc import hooks, persistence, tombstones
from xmuc.muc.featurestate import FeatureState
from xmuc.muc.nicks import validNick
from xmuc.muc.room import Room
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply, isError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import resultFor

log = Logger()

#: Feature modules of this package, installed in this order.
FEATURES = (
    "affiliations",
    "banreasons",
    "creation",
    "locking",
    "password",
    "membersonly",
    "moderated",
    "maxusers",
    "messagerate",
    "anonymity",
    "history",
    "subject",
    "privatemessages",
    "invitations",
    "owner",
    "configform",
    "disco",
    "roomavatar",
    "commands",
    "hats",
    "tombstones",
    "occupantid",
    "mam",
    "retraction",
    "admin",
    "register",
    "presencebroadcast",
    "voicerequest",
    "deletedaccounts",
    "linkcheck",
    "ghosts",
)


@implementer(IComponent)
class MUCService(service.Service, FeatureState):
    """
    @ivar server: the L{xmuc.server.XmucServer} (config, storage, router,
        events, isAdmin).
    @ivar domain: the service domain (str).
    @ivar hooks: the L{HookRegistry} shared by every room.
    @ivar rooms: C{{room bare JID str: Room}}.
    @ivar store: the L{persistence.RoomStore} of the persistent rooms.
    @ivar roomSettings: C{{name: default}} of the settings of every room,
        declared by the features (L{xmuc.muc.roomconfig.declareSettings}).
    @ivar clock: the L{IReactorTime} rooms tell time with (the server's
        reactor).

    Features keep their runtime state about the service in
    L{state<xmuc.muc.featurestate.FeatureState.state>}.
    """

    def __init__(self, server, domain):
        self.server = server
        self.domain = domain
        self.router = server.router
        config = server.config
        self.title = config.get("muc", "name")
        self.clock = server.reactor
        self.lockNewRooms = config.get("muc", "lock_new_rooms")
        self.lockTimeout = config.get("muc", "lock_timeout")
        self.maxOccupants = config.get("muc", "max_occupants")
        self.defaultHistoryLength = config.get("muc", "default_history_length")
        self.maxHistoryLength = config.get("muc", "max_history_length")
        self.allowUnaffiliatedRegistration = config.get("muc", "allow_unaffiliated_registration")
        self.restrictRoomCreation = config.get("muc", "restrict_room_creation")
        self.hooks = HookRegistry(hooks.MUC_EVENTS)
        self.rooms = {}
        self.roomSettings = {}
        self._featureState = {}
        self.store = persistence.RoomStore(server)
        for name in FEATURES:
            self.installFeature(name)

    def installFeature(self, name):
        """
        Import C{xmuc.muc.<name>} and call its C{install(service)}.
        """
        module = importlib.import_module("xmuc.muc." + name)
        module.install(self)

    def isAdmin(self, bare):
        """
        @return: whether C{bare} is a server administrator (owner everywhere).
        """
        return self.server.isAdmin(bare)

    # -- Service ---------------------------------------------------------------

    def startService(self):
        service.Service.startService(self)
        # Rooms come back once storage is up; listeners wait for this too.
        self.server.ready.addCallback(self._loadRooms)

    def _loadRooms(self, result):
        d = tombstones.loadTombstones(self)
        d.addCallback(lambda _: self.loadRooms())
        d.addErrback(lambda f: log.failure("could not load the persistent rooms of {domain}", f, domain=self.domain))
        d.addCallback(lambda _: result)
        return d

    def stopService(self):
        """
        Shutdown: persistent rooms are saved; every occupant gets its
        unavailable presence with status 332 and sees the others leave.
        """
        service.Service.stopService(self)
        saving = []
        for room in list(self.rooms.values()):
            if room.config.persistent:
                # Not a change: the state as it is, stored once more at
                # shutdown (after a change being stored, through its lock).
                saving.append(room.save().addErrback(
                    lambda f, r=room: log.failure("could not save {room}", f, room=r.jidStr)))
            room.removeAllOccupants(codes=("332",))
        return defer.DeferredList(saving)

    # -- Rooms -------------------------------------------------------------------

    def createRoom(self, roomJID, stanza=None, creator=None):
        """
        Create a room (not yet joined).

        @param roomJID: the bare room JID (str).
        @param creator: real JID (L{JID}) of the creator, made owner.
        @raise StanzaError: when a C{room-pre-create} handler refuses.
        @return: the L{Room}.
        """
        self.hooks.fire(hooks.ROOM_PRE_CREATE, service=self, roomJID=roomJID, stanza=stanza, creator=creator)
        room = Room(self, JID(roomJID), self.store)
        if creator is not None:
            room.affiliations[creator.userhost()] = "owner"
        self.rooms[room.jidStr] = room
        self.hooks.fire(hooks.ROOM_CREATED, room=room, stanza=stanza)
        return room

    def roomEmptied(self, room):
        """
        The last occupant left: temporary rooms vanish.
        """
        if room.destroyed or self.rooms.get(room.jidStr) is not room:
            return
        if room.config.persistent or self.hooks.fire(hooks.ROOM_EMPTIED, room=room):
            return
        del self.rooms[room.jidStr]

    def forgetRoom(self, room):
        """
        Remove a destroyed room from memory and storage.

        @return: a Deferred firing once storage forgot it.
        """
        if self.rooms.get(room.jidStr) is room:
            del self.rooms[room.jidStr]
        return self.store.delete(room)

    def restoreRoom(self, roomJID, state):
        """
        Rebuild a stored room: build the L{Room}, give it the stored
        C{state}, add it to the service, then fire C{room-loaded}.

        @param roomJID: the bare room JID (str).
        @return: the L{Room}.
        """
        room = Room(self, JID(roomJID), self.store)
        persistence.applyState(room, state)
        self.store.markStored(room)
        self.rooms[room.jidStr] = room
        self.hooks.fire(hooks.ROOM_LOADED, room=room, state=state)
        return room

    @defer.inlineCallbacks
    def loadRooms(self):
        """
        Rebuild every stored room of the service.

        @return: a Deferred firing with the number of rooms loaded.
        """
        stored = yield self.store.storedRooms(self.domain)
        count = 0
        for roomJID, state in stored:
            if roomJID in self.rooms:
                continue
            try:
                self.restoreRoom(roomJID, state)
                count += 1
            except Exception:
                log.failure("could not restore room {room}", room=roomJID)
        return count

    # -- Stanzas -------------------------------------------------------------------

    def receive(self, stanza):
        """
        A stanza for the service domain or a JID in it.
        """
        to = parseJID(stanza.getAttribute("to"))
        sender = parseJID(stanza.getAttribute("from", ""))
        if sender is None or to is None:
            return
        prepared = to.full()
        if prepared != stanza.getAttribute("to"):
            # Every address the room writes is in its prepared form, in
            # replies and errors too (which answer from the stanza's 'to'):
            # a nickname sent with, say, a trailing variation selector
            # (mapped to nothing by resourceprep, RFC 3454 table B.1) is the
            # occupant of the nickname without it, and comes back so.
            stanza["to"] = prepared
        if to.user is None:
            return self.receiveForService(stanza, sender, to)
        room = self.rooms.get(to.userhost())
        nick = to.resource or None
        if room is None:
            room = self._roomFor(stanza, sender, to)
            if room is None:
                return
            created = True
        else:
            created = False
        if stanza.name == "presence":
            room.handlePresence(stanza, sender, nick, created)
            if created and not room.occupants:
                self.roomEmptied(room)
        elif stanza.name == "message":
            room.handleMessage(stanza, sender, nick)
        elif stanza.name == "iq":
            room.handleIq(stanza, sender, nick)

    def _roomFor(self, stanza, sender, to):
        """
        A stanza to a room that does not exist: a join presence with the
        muc x creates it; anything else is answered C{item-not-found}.

        @return: the new L{Room} or L{None}.
        """
        joining = (
            stanza.name == "presence"
            and stanza.getAttribute("type") is None
            and any(True for _ in stanza.elements(ns.MUC, "x"))
        )
        by = self.domain
        try:
            if not joining:
                raise StanzaError("item-not-found")
            if not to.resource:
                raise StanzaError("jid-malformed", text="A nickname is required")
            # Prosody creates the room before it checks the nick: the room
            # refuses it.
            by = to.userhost()
            validNick(to.resource)
            by = self.domain
            return self.createRoom(to.userhost(), stanza, sender)
        except StanzaError as e:
            if not isError(stanza):
                reply = errorReply(stanza, e, by=by, payload=False)
                if stanza.name == "presence":
                    reply.addElement((ns.MUC, "x"))
                self.router.route(reply)
            return None

    def receiveForService(self, stanza, sender, to):
        """
        A stanza to the service domain itself: iqs go to the hooks
        C{service-iq-get:<ns>} / C{service-iq-set:<ns>} (C{service},
        C{stanza}), which return the result child, L{True} or raise.
        """
        if stanza.name != "iq":
            return
        if stanza.getAttribute("type") in ("result", "error"):
            self.hooks.fire(hooks.SERVICE_IQ_RESPONSE, service=self, stanza=stanza, sender=sender)
            return
        if stanza.getAttribute("type") not in ("get", "set"):
            return
        child = stanza.firstChildElement()
        try:
            if child is None:
                raise StanzaError("bad-request")
            result = self.hooks.fire(
                (hooks.SERVICE_IQ_GET if stanza.getAttribute("type") == "get" else hooks.SERVICE_IQ_SET) + child.uri,
                service=self, stanza=stanza, sender=sender)
            if result is None:
                raise StanzaError("service-unavailable")
        except StanzaError as e:
            self.router.route(errorReply(stanza, e, by=self.domain, payload=False))
            return
        if result is not True:
            self.replyFromService(stanza, result)

    def replyFromService(self, stanza, child=None):
        """
        Send the iq result for C{stanza} from the service domain.
        """
        result = resultFor(stanza, child)
        result["from"] = self.domain
        self.router.route(result)

    def linkRestored(self):
        """
        The link to the host server (component mode) is up again: the
        features check who is still there (L{hooks.LINK_RESTORED}).
        """
        self.hooks.fire(hooks.LINK_RESTORED, service=self)

    def uniqueRoomName(self):
        """
        @return: a room name nobody uses (XEP-0045 10.1.4).
        """
        while True:
            name = uuid.uuid4().hex[:16]
            if "%s@%s" % (name, self.domain) not in self.rooms:
                return name
