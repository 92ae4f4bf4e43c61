"""
The server as a tree of Twisted services, built from a L{Config}.

L{XmucServer} is the root: it holds what every part shares (configuration,
storage, authentication, router, session manager, event bus) and starts and
stops its children in order: storage first up and last down, client
listeners last up and first down.
"""

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from xmuc.backends import IAuthBackendFactory, IStorageBackendFactory, findBackend
from xmuc.events import EventBus
from xmuc.router import Router

log = Logger()


def _buildBackend(config, interface, section, *args):
    name = config.get(section, "backend")
    try:
        plugin = findBackend(interface, name)
    except KeyError as e:
        raise config.error(section, "backend", e.args[0])
    return plugin.build(config, *args)


class OrderedMultiService(service.MultiService):
    """
    A MultiService whose children stop one after the other, last added
    first, each waiting for the previous one: sessions must be closed before
    the storage that records their leaving goes away.
    """

    @defer.inlineCallbacks
    def stopService(self):
        service.Service.stopService(self)
        for child in reversed(list(self)):
            try:
                yield defer.maybeDeferred(child.stopService)
            except Exception:
                log.failure("stopping {service!r} failed", service=child)


class StorageService(service.Service):
    """
    Starts and stops the storage backend.

    @ivar ready: Deferred firing when the storage is usable.
    """

    def __init__(self, storage):
        self.storage = storage
        self.ready = defer.Deferred()

    def startService(self):
        service.Service.startService(self)
        d = defer.maybeDeferred(self.storage.start)
        d.addCallbacks(self.ready.callback, self._failed)

    def _failed(self, failure):
        log.failure("storage backend {name} failed to start", failure, name=getattr(self.storage, "name", "?"))
        self.ready.errback(failure)
        from twisted.internet import reactor

        reactor.stop()

    def stopService(self):
        service.Service.stopService(self)
        return defer.maybeDeferred(self.storage.stop)


class ListeningService(service.Service):
    """
    Listens on an endpoint once the storage is ready, and records the port
    (tests listen on port 0 and need the real number).

    @ivar port: the L{IListeningPort} once listening.
    @ivar listening: Deferred firing with the port.
    """

    def __init__(self, endpoint, factory, ready):
        self.endpoint = endpoint
        self.factory = factory
        self.ready = ready
        self.port = None
        self.listening = defer.Deferred()

    def startService(self):
        service.Service.startService(self)
        self.ready.addCallback(lambda _: self._listen())

    def _listen(self):
        d = self.endpoint.listen(self.factory)

        def listened(port):
            self.port = port
            self.listening.callback(port)
            return port

        def failed(failure):
            log.failure("cannot listen on {endpoint}", failure, endpoint=self.endpoint)
            self.listening.errback(failure)
            from twisted.internet import reactor

            reactor.stop()

        d.addCallbacks(listened, failed)

    def stopService(self):
        service.Service.stopService(self)
        if self.port is not None:
            port, self.port = self.port, None
            return defer.maybeDeferred(port.stopListening)


class XmucServer(OrderedMultiService):
    """
    The root service and the context every part receives.

    @ivar config: the L{xmuc.config.Config}.
    @ivar hosts: list of local virtual hosts.
    @ivar admins: set of bare JIDs of server administrators.
    @ivar events: the L{EventBus}.
    @ivar storage: the L{xmuc.storage.interfaces.IStorage}.
    @ivar auth: the L{xmuc.auth.interfaces.IAuthBackend}.
    @ivar router: the L{Router}.
    @ivar sm: the L{xmuc.sm.manager.SessionManager}.
    @ivar muc: the L{xmuc.muc.service.MUCService} or L{None}.
    @ivar listeners: the client L{ListeningService}s.
    """

    def __init__(self, config):
        from twisted.internet import endpoints, reactor

        OrderedMultiService.__init__(self)
        self.config = config
        self.hosts = list(config.get("server", "hosts"))
        self.admins = set(config.get("server", "admins"))
        self.events = EventBus()

        self.storage = _buildBackend(config, IStorageBackendFactory, "storage")
        self.auth = _buildBackend(config, IAuthBackendFactory, "auth", self.storage)
        from xmuc.accounts import AccountManager

        self.accounts = AccountManager(self)
        storageService = StorageService(self.storage)
        storageService.setServiceParent(self)
        self.ready = storageService.ready

        self.router = Router(self.hosts)

        from xmuc.sm.manager import SessionManager

        # Children stop in reverse order: listeners first (no new clients),
        # then the MUC (occupants get status 332 while their sessions still
        # exist), then the session manager (closes every client session),
        # storage last.
        self.sm = SessionManager(self)
        self.sm.setServiceParent(self)

        self.muc = None
        if config.get("muc", "enabled"):
            from xmuc.muc.service import MUCService

            self.muc = MUCService(self, config.get("muc", "domain"))
            self.router.addComponent(self.muc.domain, self.muc)
            self.muc.setServiceParent(self)

        from xmuc.c2s.stream import ClientStreamFactory

        self.c2sFactory = ClientStreamFactory(self)
        self.listeners = []
        for description in config.get("c2s", "listen"):
            listener = ListeningService(
                endpoints.serverFromString(reactor, description),
                self.c2sFactory,
                self.ready,
            )
            listener.setServiceParent(self)
            self.listeners.append(listener)

    def isAdmin(self, bare):
        """
        @param bare: a bare JID string.
        @return: whether it belongs to a server administrator.
        """
        return bare in self.admins
