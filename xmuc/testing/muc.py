"""
A small real context for testing the MUC service at the component level:
the real L{Router}, the real L{MUCService}, memory storage; local users'
deliveries are collected per recipient instead of going to sessions.
"""

from twisted.internet import defer
from twisted.internet.task import Clock

from xmuc.config import validate
from xmuc.hooks import SERVER_EVENTS, HookRegistry
from xmuc.muc.service import MUCService
from xmuc.router import Router
from xmuc.storage.memory import MemoryStorage
from xmuc.xmpp.stanza import parseElement

DOMAIN = "conference.localhost"


class MUCHarness:
    """
    The server context the MUC service needs (config, router, storage,
    hooks, isAdmin, ready).

    @ivar delivered: every stanza delivered to a local user, in order.
    @ivar reactor: the L{Clock} the service tells time with.
    """

    def __init__(self, muc=None, admins=(), storage=None, server=None):
        """
        @param muc: C{[muc]} keys on top of the harness's own: rooms
            unlocked, no message rate and no creation limit (tests that
            are about those set them).
        @param server: C{[server]} keys.
        """
        raw = {
            "muc": {
                "lock_new_rooms": "false",
                "occupant_message_rate": "0",
                "max_rooms_per_account": "0",
            }
        }
        raw["muc"].update(muc or {})
        raw["server"] = dict(server or {})
        if admins:
            raw["server"]["admins"] = ",".join(admins)
        self.config = validate(raw)
        self.hosts = ["localhost"]
        self.admins = set(admins)
        self.hooks = HookRegistry(SERVER_EVENTS)
        self.storage = storage or MemoryStorage()
        self.ready = defer.succeed(None)
        self.reactor = Clock()
        self.router = Router(self.hosts)
        self.delivered = []
        self.router.localDelivery = self.delivered.append
        self.muc = MUCService(self, DOMAIN)
        self.router.addComponent(DOMAIN, self.muc)
        self.muc.startService()

    def isAdmin(self, bare):
        return bare in self.admins

    def client(self, jid):
        """
        @return: a L{Client} for the full JID C{jid}.
        """
        return Client(self, jid)

    def restart(self):
        """
        Stop this service and start a new one on the same storage.

        @return: Deferred firing with the new L{MUCHarness}.
        """
        d = defer.maybeDeferred(self.muc.stopService)
        d.addCallback(lambda _: MUCHarness(admins=self.admins, storage=self.storage))
        return d


class Client:
    """
    A local user sending stanzas through the router and reading what was
    delivered to its full JID.
    """

    def __init__(self, harness, jid):
        self.harness = harness
        self.jid = jid
        self.bare = jid.split("/")[0]
        self._seen = 0

    def send(self, xml):
        """
        Route a stanza (XML text, C{jabber:client}) from this client.

        @return: the element sent.
        """
        element = parseElement(xml) if isinstance(xml, str) else xml
        element["from"] = self.jid
        self.harness.router.route(element)
        return element

    def received(self):
        """
        @return: the stanzas delivered to this client since the last call.
        """
        mine = [s for s in self.harness.delivered[self._seen:] if s.getAttribute("to") == self.jid]
        self._seen = len(self.harness.delivered)
        return mine

    def join(self, room, nick, extra=""):
        """
        Send a join presence (C{extra}: XML inside the muc x).

        @return: the stanzas received in answer.
        """
        self.received()
        self.send("<presence to='%s@%s/%s'><x xmlns='http://jabber.org/protocol/muc'>%s</x></presence>"
                  % (room, DOMAIN, nick, extra))
        return self.received()
