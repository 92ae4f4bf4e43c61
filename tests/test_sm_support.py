"""
Shared fixtures for the session manager tests (no tests here).

L{SMHarness} builds the real L{SessionManager} with a real L{Router},
L{xmuc.hooks.HookRegistry} and memory storage; L{RecordingSession} is a small but complete
L{ISession} that records what the server sends it, standing in for a
client stream.
"""

from twisted.internet import task
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.config import validate
from xmuc.hooks import SERVER_EVENTS, HookRegistry
from xmuc.interfaces import ISession
from xmuc.router import Router
from xmuc.session.manager import SessionManager
from xmuc.storage.common import rosterItem
from xmuc.storage.memory import MemoryStorage
from xmuc.xmpp import ns


def parseStanzas(text):
    """
    Parse serialized stanzas as a client stream would.

    @return: list of L{domish.Element}.
    """
    found = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    stream.parse("<stream xmlns='%s'>%s</stream>" % (ns.CLIENT, text))
    return found


def stanza(text):
    """
    @return: one stanza parsed from C{text}.
    """
    (element,) = parseStanzas(text)
    return element


@implementer(ISession)
class RecordingSession:
    """
    An ISession recording every stanza sent to it (each one serialized and
    parsed again, as it would travel on the wire).

    @ivar sent: list of the L{domish.Element}s received.
    @ivar closed: the condition given to L{disconnect}, or L{None}.
    @ivar onDisconnect: optional callable run by L{disconnect}.
    """

    def __init__(self, bare):
        self.jid = jid.JID(bare)
        self.priority = 0
        self.presence = None
        self.interestedInRoster = False
        self.directedPresence = set()
        self.sent = []
        self.closed = None
        self.onDisconnect = None

    def send(self, element):
        text = element if isinstance(element, str) else element.toXml()
        self.sent.extend(parseStanzas(text))

    def disconnect(self, condition=None, text=None):
        self.closed = condition or "closed"
        if self.onDisconnect is not None:
            self.onDisconnect(self)

    def take(self, name=None, type=None):
        """
        Pop and return what was received (optionally only stanzas of one
        name and type; the others are kept).
        """
        if name is None:
            taken, self.sent = self.sent, []
            return taken
        taken = [
            s
            for s in self.sent
            if s.name == name
            and (type is None or s.getAttribute("type") == type or (type == "available" and s.getAttribute("type") is None))
        ]
        self.sent = [s for s in self.sent if s not in taken]
        return taken


class SMHarness:
    """
    A session manager with everything it talks to, all real.

    @ivar server: the context object the manager expects (C{hosts, router,
        storage, hooks, config, auth}).
    @ivar sm: the L{SessionManager}.
    @ivar routed: stanzas routed to the MUC-like component domain.
    """

    muc = "conference.localhost"

    def __init__(self, hosts=("localhost",), config=None, wrapRosters=None):
        """
        @param wrapRosters: optional callable taking the memory roster
            store and returning the one the manager uses (to slow it down).
        """
        self.hosts = list(hosts)
        self.config = validate(config or {"storage": {"backend": "memory"}})
        self.hooks = HookRegistry(SERVER_EVENTS)
        self.storage = MemoryStorage()
        if wrapRosters is not None:
            self.storage.rosters = wrapRosters(self.storage.rosters)
        self.auth = None
        self.router = Router(self.hosts)
        self.routed = []
        self.router.addComponent(self.muc, _Component(self.muc, self.routed))
        self.sm = SessionManager(self)
        self.clock = task.Clock()
        self.sm.clock = self.clock

    def createAccount(self, bare):
        self.storage.accounts.create(bare, {"salt": "x"})

    def connect(self, bare, resource="r", available=True, priority=None, roster=True, create=True):
        """
        Bind a new session, optionally fetch the roster and send initial
        presence; the session's inbox is emptied afterwards.
        """
        if create:
            self.createAccount(bare)
        session = RecordingSession(bare)
        self.sm.bind(session, resource)
        if roster:
            self.send(session, "<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
        if available:
            if priority is None:
                self.send(session, "<presence/>")
            else:
                self.send(session, "<presence><priority>%d</priority></presence>" % (priority,))
        session.take()
        return session

    def send(self, session, text):
        """
        Make C{session} send the stanza C{text}.
        """
        self.sm.fromClient(session, stanza(text))

    def setRoster(self, bare, contact, **item):
        """
        Change a roster behind the clients' back (no push), through the
        manager's roster cache so that online users see it too.
        """
        full = rosterItem(item)
        rosters = self.sm.rosters
        rosters.run(bare, lambda roster: rosters.setItem(roster, bare, contact, full))

    def roster(self, bare):
        return self.successResultOf(self.storage.rosters.get(bare))

    def successResultOf(self, d):
        results = []
        d.addBoth(results.append)
        assert results, "Deferred has not fired"
        return results[0]


class _Component:
    """
    A component recording what it receives (the MUC service's place).
    """

    name = "Chatrooms"

    def __init__(self, domain, record):
        self.domain = domain
        self.record = record

    def receive(self, element):
        self.record.append(parseStanzas(element.toXml())[0])
