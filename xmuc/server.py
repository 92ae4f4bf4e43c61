"""
The server as a tree of Twisted services, built from a L{Config}.

L{XmucServer} is the root: it holds what every part shares (configuration,
storage, authentication, router, session manager, event bus) and starts and
stops its children in order: storage first up and last down, client
listeners last up and first down.
"""

import signal

from twisted.application import service
from twisted.internet import address, defer, endpoints
from twisted.logger import Logger

import xmuc
from xmuc.accounts.manager import AccountManager
from xmuc.accounts.watch import TombstoneWatcher
from xmuc.backends import IAuthBackendFactory, IStorageBackendFactory, findBackend
from xmuc.c2s.stream import ClientStreamFactory
from xmuc.hooks import SERVER_EVENTS, HookRegistry
from xmuc.muc.service import MUCService
from xmuc.router import Router
from xmuc.session.manager import SessionManager

log = Logger()


def _buildBackend(config, interface, section, *args):
    name = config.get(section, "backend")
    try:
        plugin = findBackend(interface, name)
    except KeyError as e:
        raise config.error(section, "backend", e.args[0])
    return plugin.build(config, *args)


#: The listen backlog when the endpoint description sets none.  Twisted's
#: default (50) overflows when many clients connect at once (a restart):
#: the kernel drops their SYNs and they retry only 1, 3, 7 s later.  The
#: kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024


def withBacklog(description, backlog=LISTEN_BACKLOG):
    """
    @param description: a server endpoint description (C{tcp:5222:...}).
    @return: C{description} with C{backlog=} added for the stream kinds
        that take one, unless it already has one.
    """
    kind = description.split(":", 1)[0]
    if kind not in ("tcp", "tcp6", "ssl", "unix") or "backlog=" in description:
        return description
    return "%s:backlog=%d" % (description, backlog)


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

    def __init__(self, storage, reactor):
        self.storage = storage
        self.reactor = reactor
        self.ready = defer.Deferred()

    def startService(self):
        service.Service.startService(self)
        d = defer.maybeDeferred(self.storage.start)
        d.addCallbacks(self.ready.callback, self._failed)

    def _failed(self, failure):
        log.failure("storage backend {name} failed to start", failure, name=getattr(self.storage, "name", "?"))
        self.ready.errback(failure)
        self.reactor.stop()

    def stopService(self):
        service.Service.stopService(self)
        return defer.maybeDeferred(self.storage.stop)


def describeAddress(where):
    """
    @param where: the L{twisted.internet.interfaces.IAddress} a port listens
        on.
    @return: C{'127.0.0.1 port 5222'}, C{'unix socket /run/xmuc.sock'}...
    """
    if isinstance(where, (address.IPv4Address, address.IPv6Address)):
        return "%s port %d" % (where.host, where.port)
    if isinstance(where, address.UNIXAddress):
        name = where.name.decode("utf-8", "replace") if isinstance(where.name, bytes) else where.name
        return "unix socket %s" % (name,)
    return str(where)


class ListeningService(service.Service):
    """
    Listens on an endpoint once the storage is ready, and records the port
    (tests listen on port 0 and need the real number).

    @ivar port: the L{IListeningPort} once listening.
    @ivar listening: Deferred firing with the port.
    """

    def __init__(self, endpoint, factory, ready, reactor, description=None):
        """
        @param description: the endpoint description, for the log.
        """
        self.reactor = reactor
        self.description = description
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
            log.info(
                "listening for clients on {address}",
                address=describeAddress(port.getHost()),
                endpoint=self.description,
            )
            self.listening.callback(port)
            return port

        def failed(failure):
            log.failure("cannot listen on {endpoint}", failure, endpoint=self.endpoint)
            self.listening.errback(failure)
            self.reactor.stop()

        d.addCallbacks(listened, failed)

    def stopService(self):
        service.Service.stopService(self)
        if self.port is not None:
            port, self.port = self.port, None
            return defer.maybeDeferred(port.stopListening)


class StreamCloser(service.Service):
    """
    On stop, closes the client streams that are still open once the session
    manager has closed the bound sessions (streams that never authenticated,
    or clients that do not read).  The whole stop is bounded by C{[server]
    shutdown_timeout}: what is still open at the deadline is aborted.
    """

    def __init__(self, server, reactor):
        self.server = server
        self.reactor = reactor

    def stopService(self):
        reactor = self.reactor
        service.Service.stopService(self)
        factory = self.server.c2sFactory
        closed = factory.disconnectAll("system-shutdown")
        closed.addErrback(lambda f: log.failure("closing client streams failed", f))
        remaining = max(0.0, self.server.stopDeadline - reactor.seconds())
        deadline = defer.Deferred()
        call = reactor.callLater(remaining, deadline.callback, None)

        def finished(_):
            if call.active():
                call.cancel()
                return
            stuck = [xs for xs in factory.streams if xs.transport is not None]
            if stuck:
                log.warn(
                    "aborting {count} client connection(s) still open at shutdown",
                    count=len(stuck),
                )
            for xs in stuck:
                xs.transport.abortConnection()

        either = defer.DeferredList([closed, deadline], fireOnOneCallback=True)
        return either.addCallback(finished)


class XmucServer(OrderedMultiService):
    """
    The root service and the context every part receives.

    @ivar config: the L{xmuc.config.Config}.
    @ivar hosts: list of local virtual hosts.
    @ivar admins: set of bare JIDs of server administrators.
    @ivar hooks: the L{HookRegistry} of the server-wide events
        (L{xmuc.hooks.SERVER_EVENTS}).
    @ivar storage: the L{xmuc.storage.interfaces.IStorage}.
    @ivar auth: the L{xmuc.auth.interfaces.IAuthBackend}.
    @ivar router: the L{Router}.
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar muc: the L{xmuc.muc.service.MUCService} or L{None}.
    @ivar s2s: the L{xmuc.s2s.manager.S2SManager} or L{None}.
    @ivar listeners: the client L{ListeningService}s (c2s first, then
        HTTP).
    @ivar http: the L{xmuc.http.site.HTTPFrontend}, or L{None} when
        C{[http] listen} is empty.
    @ivar upload: the L{xmuc.upload.service.UploadService}, or L{None}
        when C{[upload] enabled} is off.
    @ivar reactor: the reactor the server listens and times with.
    """

    def __init__(self, config, reactor=None):
        """
        @param config: the L{xmuc.config.Config}.
        @param reactor: the reactor to listen and time with (default: the
            installed one, imported only here: twistd installs the reactor
            the configuration asks for before building the server).
        """
        if reactor is None:
            from twisted.internet import reactor
        OrderedMultiService.__init__(self)
        self.reactor = reactor
        self.config = config
        self.hosts = list(config.get("server", "hosts"))
        self.admins = set(config.get("server", "admins"))
        self.hooks = HookRegistry(SERVER_EVENTS)

        self.storage = _buildBackend(config, IStorageBackendFactory, "storage")
        self.auth = _buildBackend(config, IAuthBackendFactory, "auth", self.storage)
        self.accounts = AccountManager(self)
        storageService = StorageService(self.storage, reactor)
        storageService.setServiceParent(self)
        self.ready = storageService.ready

        self.router = Router(self.hosts)

        # Federation, when [s2s] listen (or direct_tls_listen) is set:
        # stopped after everything that sends (the MUC tells remote
        # occupants the rooms close, the session manager tells remote
        # contacts its users leave).
        self.s2s = None
        if config.get("s2s", "listen") or config.get("s2s", "direct_tls_listen"):
            # The optional parts are imported only when configured: a
            # server without them does not carry their code and libraries
            # (several megabytes resident, autobahn and twisted.web for HTTP).
            from xmuc.s2s.manager import S2SManager

            self.s2s = S2SManager(self, reactor)
            self.router.remote = self.s2s
            self.s2s.setServiceParent(self)

        # Children stop in reverse order: listeners first (no new clients),
        # then the MUC (occupants get status 332 while their sessions still
        # exist), then the session manager (closes every client session),
        # then streams that never authenticated, storage last.
        StreamCloser(self, reactor).setServiceParent(self)
        self.sm = SessionManager(self)
        self.sm.setServiceParent(self)

        # External components (XEP-0114): their domains are routed from
        # the start; they stop after the MUC, whose leaving occupants they
        # may have.
        self.components = None
        if config.get("components", "secrets") or config.get("components", "listen"):
            from xmuc.component.accept import ComponentService

            self.components = ComponentService(self, reactor)
            self.components.setServiceParent(self)

        self.muc = None
        if config.get("muc", "enabled"):
            self.muc = MUCService(self, config.get("muc", "domain"))
            self.router.addComponent(self.muc.domain, self.muc)
            self.muc.setServiceParent(self)

        # Tombstones written by xmucctl while we run (after the MUC: rooms
        # are loaded first).
        self.tombstoneWatcher = TombstoneWatcher(self)
        self.tombstoneWatcher.setServiceParent(self)

        self.c2sFactory = ClientStreamFactory(self, reactor)
        self.listeners = []
        for description in config.get("c2s", "listen"):
            listener = ListeningService(
                endpoints.serverFromString(reactor, withBacklog(description)),
                self.c2sFactory,
                self.ready,
                reactor,
                description,
            )
            listener.setServiceParent(self)
            self.listeners.append(listener)

        # HTTP (off when [http] listen is empty): parts served over HTTP
        # attach their resources to self.http.root.
        self.http = None
        if config.get("http", "listen"):
            from xmuc.http.site import HTTPFrontend

            self.http = HTTPFrontend(self)
            for description in config.get("http", "listen"):
                listener = ListeningService(
                    endpoints.serverFromString(reactor, withBacklog(description)),
                    self.http.site,
                    self.ready,
                    reactor,
                    description,
                )
                listener.setServiceParent(self)
                self.http.listeners.append(listener)
                self.listeners.append(listener)

        # HTTP File Upload (XEP-0363): a component handing out slots, its
        # files served under /upload/ of the HTTP listener.
        self.upload = None
        if config.get("upload", "enabled"):
            from xmuc.upload.resource import UploadResource, uploadRequestFactory
            from xmuc.upload.service import UploadService

            if self.http is None:
                raise config.error("upload", "enabled", "the upload service needs [http] listen")
            domain = config.get("upload", "domain") or "upload." + self.hosts[0]
            if domain in self.hosts or domain in self.router.components:
                raise config.error("upload", "domain", "%s is already served by another part" % (domain,))
            self.upload = UploadService(self, domain, self.http)
            self.router.addComponent(self.upload.domain, self.upload)
            self.upload.setServiceParent(self)
            self.http.root.putChild(b"upload", UploadResource(self.upload))
            self.http.site.requestFactory = uploadRequestFactory(self.http.site.requestFactory, self.upload,
                                                                 b"/upload/")

    def startService(self):
        """
        Start every child in order, saying at C{info} what this server
        serves, where it keeps its data, which certificate it shows, and
        when it accepts clients.
        """
        log.info(
            "xmuc {version}: hosts {hosts}; MUC service {muc}; storage {storage}; "
            "authentication {auth}",
            version=xmuc.__version__,
            hosts=", ".join(self.hosts),
            muc=self.muc.domain if self.muc is not None else "disabled",
            storage=self.describeStorage(),
            auth=self.config.get("auth", "backend"),
        )
        certificate = self.c2sFactory.certificate
        log.info(
            "TLS: {tls}",
            tls="STARTTLS %s, certificate %s"
            % (
                "required" if self.c2sFactory.requireEncryption else "offered",
                certificate.describe(),
            )
            if certificate is not None
            else "off (no [c2s] tls_certificate)",
        )
        OrderedMultiService.startService(self)
        listening = defer.gatherResults([listener.listening for listener in self.listeners])
        listening.addCallback(lambda _: log.info("ready: accepting client connections"))
        listening.addErrback(lambda _: None)

    def describeStorage(self):
        """
        @return: the storage backend's name, with the database file of
            C{sqlite} (never a PostgreSQL DSN: it may hold a password).
        """
        name = self.config.get("storage", "backend")
        path = getattr(self.storage, "path", None)
        return "%s (%s)" % (name, path) if isinstance(path, str) else name

    def reload(self):
        """
        What SIGHUP does: read the TLS certificate and key files again
        (L{ClientStreamFactory.reloadCertificate}); connected clients stay.

        @return: whether the new certificate is in use.
        """
        log.info("reloading the TLS certificate")
        return self.c2sFactory.reloadCertificate()

    def stopService(self):
        """
        Stop every child in order (see L{OrderedMultiService}); the client
        part of the stop ends at C{stopDeadline} at the latest.
        """
        self.stopDeadline = self.reactor.seconds() + self.config.get(
            "server", "shutdown_timeout"
        )
        return OrderedMultiService.stopService(self)

    def isAdmin(self, bare):
        """
        @param bare: a bare JID string.
        @return: whether it belongs to a server administrator.
        """
        return bare in self.admins


def reloadOnHangup(reactor, server):
    """
    Make SIGHUP reload the TLS certificate (L{XmucServer.reload}), as
    C{systemctl reload xmuc} or a certbot deploy hook sends it, instead of
    ending the process.  Called once the reactor runs.

    @param reactor: the running reactor.
    @param server: the L{XmucServer}.
    """

    def handler(number, frame):
        # A signal handler may interrupt the reactor anywhere: the reload
        # runs in the reactor's next turn.
        reactor.callFromThread(server.reload)

    signal.signal(signal.SIGHUP, handler)
