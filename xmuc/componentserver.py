"""
xmuc's MUC as an external component of another server (XEP-0114): the
service tree built instead of L{xmuc.server.XmucServer} when the
configuration has C{[component] connect}.

Only the MUC service runs, with the storage; there is no client listener,
no account and no local host.  The MUC's router is the component link
(L{xmuc.component.connect.ComponentLink}): everything it sends goes to the
host, which routes it; everything the host sends for C{[muc] domain}
comes to the MUC.  The link starts once the persistent rooms are loaded.

What the in-process MUC learns from its own server is not known here: the
host does not tell a component that an account was deleted, so rooms keep
a deleted account's affiliations and reserved nickname (no account
tombstones, L{xmuc.muc.deletedaccounts}), and no blocklist is asked before
relaying a private message (the host applies its users' blocklists to
what it delivers).
"""

from twisted.internet import defer, endpoints
from twisted.logger import Logger

import xmuc
from xmuc.backends import IStorageBackendFactory
from xmuc.component.connect import ComponentLink
from xmuc.hooks import SERVER_EVENTS, HookRegistry
from xmuc.muc.service import MUCService
from xmuc.server import OrderedMultiService, StorageService, _buildBackend

log = Logger()


class ComponentServer(OrderedMultiService):
    """
    The root service in component mode, and the context the MUC receives
    (the same attributes of L{xmuc.server.XmucServer} it uses).

    @ivar config: the L{xmuc.config.Config}.
    @ivar hosts: no local host (an empty list).
    @ivar admins: set of bare JIDs of server administrators (owners of
        every room, as in the in-process MUC).
    @ivar hooks: the server-wide L{HookRegistry}; nothing fires
        C{account-deleted} or answers C{account-blocks} in this mode.
    @ivar storage: the L{xmuc.storage.interfaces.IStorage}.
    @ivar ready: Deferred firing when the storage is usable.
    @ivar link: the L{ComponentLink}, which is also the C{router}.
    @ivar muc: the L{MUCService}.
    @ivar reactor: the reactor.
    """

    def __init__(self, config, reactor=None):
        """
        @param config: the L{xmuc.config.Config}, with C{[component]
            connect}.
        @param reactor: the reactor (default: the installed one).
        """
        if reactor is None:
            from twisted.internet import reactor
        OrderedMultiService.__init__(self)
        self.reactor = reactor
        self.config = config
        self.hosts = []
        self.admins = set(config.get("server", "admins"))
        self.hooks = HookRegistry(SERVER_EVENTS)

        self.storage = _buildBackend(config, IStorageBackendFactory, "storage")
        storageService = StorageService(self.storage, reactor)
        storageService.setServiceParent(self)
        self.ready = storageService.ready

        domain = config.get("muc", "domain")
        description = config.get("component", "connect")
        # The link connects once the stored rooms are back (see
        # startService), so that the host's first stanzas find them.
        self._roomsLoaded = defer.Deferred()
        self.link = self.router = ComponentLink(
            reactor,
            endpoints.clientFromString(reactor, description),
            domain,
            config.get("component", "secret"),
            description=description,
            initialDelay=config.get("component", "reconnect_delay"),
            maxDelay=config.get("component", "max_reconnect_delay"),
            maxStanzaElements=config.get("server", "max_stanza_elements"),
            ready=self._roomsLoaded,
        )
        # Children stop in reverse order: the MUC first, while the link is
        # still up (occupants get their unavailable presence with status
        # 332 through the host), then the link (its footer), storage last.
        self.link.setServiceParent(self)
        self.muc = MUCService(self, domain)
        self.muc.setServiceParent(self)
        self.link.receiver = self.muc
        self.link.restored.append(self._linkUp)
        self._upBefore = False

    def _linkUp(self):
        if self._upBefore:
            self.muc.linkRestored()
        self._upBefore = True

    def startService(self):
        log.info(
            "xmuc {version}: MUC service {domain} as an external component of the server at "
            "{endpoint}; storage {storage}",
            version=xmuc.__version__,
            domain=self.muc.domain,
            endpoint=self.link.description,
            storage=self.config.get("storage", "backend"),
        )
        OrderedMultiService.startService(self)
        # After the MUC's own callback on ready (it loads the rooms and
        # returns a Deferred the chain waits for).
        self.ready.addCallback(lambda result: (self._roomsLoaded.callback(None), result)[1])

    def stopService(self):
        self.stopDeadline = self.reactor.seconds() + self.config.get("server", "shutdown_timeout")
        return OrderedMultiService.stopService(self)

    def reload(self):
        """
        What SIGHUP does: nothing to read again (no TLS certificate of our
        own: the link is as the endpoint description says).

        @return: L{False}.
        """
        log.info("reload: nothing to reload in component mode")
        return False

    def isAdmin(self, bare):
        """
        @param bare: a bare JID string.
        @return: whether it belongs to a server administrator.
        """
        return bare in self.admins
