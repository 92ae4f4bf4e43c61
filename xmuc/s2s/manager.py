"""
The federation service: listens for other servers, keeps one
L{xmuc.s2s.link.OutgoingLink} per (local domain, remote domain), and is
the router's way to every domain not served here
(L{xmuc.router.Router.remote}).

Every local domain (each virtual host, the MUC service, components)
authenticates to a remote server on a stream of its own, so that a peer
always knows which of our domains a stream speaks for.
"""

from twisted.application import service
from twisted.internet import defer, endpoints, protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory

from xmuc.c2s.certificates import CertificateError
from xmuc.c2s.limits import ConnectionLimits
from xmuc.hooks import S2S_DOMAIN_FAILED
from xmuc.s2s.certificates import ServerTLS, TrustStore, loadServerCertificate
from xmuc.s2s.dialback import DialbackKeys, storedSecret
from xmuc.s2s.incoming import IncomingNegotiator
from xmuc.s2s.link import OutgoingLink
from xmuc.s2s.resolver import Resolver
from xmuc.s2s.stream import ServerXmlStream, domainOf
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply, isError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import parseElement
from xmuc.xmpp.xml import toText

log = Logger()


class IncomingFactory(protocol.ServerFactory):
    """
    Builds the streams of the connections other servers open.
    """

    noisy = False

    def __init__(self, manager, directTLS=False):
        """
        @param directTLS: whether the connections are TLS from the first
            byte (XEP-0368).
        """
        self.manager = manager
        self.directTLS = directTLS

    def buildProtocol(self, addr):
        manager = self.manager
        xs = ServerXmlStream(IncomingNegotiator(manager), manager)
        xs.tls = self.directTLS
        return xs


class S2SManager(service.Service):
    """
    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar links: C{{(local, remote): OutgoingLink}}.
    @ivar incoming: the L{IncomingNegotiator}s of the open incoming streams.
    @ivar streams: every open L{ServerXmlStream}, both directions.
    @ivar limits: the L{ConnectionLimits} of server streams (C{[s2s]}
        keys): incoming connections are counted per address and until
        they authenticate; every stream is read at the C{read_rate} and
        its unsent output bounded.
    @ivar ports: the listening ports, once listening.
    @ivar listening: Deferred firing with the ports once listening.
    """

    def __init__(self, server, clock):
        config = server.config
        self.server = server
        self.clock = clock
        self.requireEncryption = config.get("s2s", "require_encryption")
        self.secureAuth = config.get("s2s", "secure_auth")
        self.idleTimeout = config.get("s2s", "idle_timeout")
        self.connectTimeout = config.get("s2s", "connect_timeout")
        self.maxStanzaSize = config.get("s2s", "max_stanza_size")
        # The protections of client connections, with numbers for servers
        # (which carry many users' traffic on one stream).
        self.limits = ConnectionLimits(
            clock,
            maxPerAddress=config.get("s2s", "max_connections_per_ip"),
            maxUnauthenticated=config.get("s2s", "max_unauthenticated"),
            readRate=config.get("s2s", "read_rate"),
            readBurst=config.get("s2s", "read_burst"),
            maxSendBacklog=config.get("s2s", "max_send_backlog"),
            sendTimeout=config.get("s2s", "send_timeout"),
        )
        self.keys = DialbackKeys(config.get("s2s", "dialback_secret") or None)
        self.certificate = loadServerCertificate(config)
        self.tls = ServerTLS(self.certificate)
        caPath = config.resolvePath(config.get("s2s", "ca_certificates"))
        try:
            self.trust = TrustStore(caPath or None)
        except CertificateError as e:
            raise config.error("s2s", "ca_certificates", e.message)
        self.resolver = Resolver(config.get("s2s", "routes"), reactor=clock)
        self.descriptions = config.get("s2s", "listen")
        self.directDescriptions = config.get("s2s", "direct_tls_listen")
        self.links = {}
        self.incoming = set()
        self.streams = set()
        self.aborting = False
        self.ports = []
        self.listening = defer.Deferred()
        self._hosts = frozenset(server.hosts)

    # --- domains

    def isLocal(self, domain):
        """
        @return: whether C{domain} is served here (a virtual host or a
            component such as the MUC service).
        """
        return domain in self._hosts or domain in self.server.router.components

    # --- the router's side

    def route(self, stanza):
        """
        Send a stanza from a local entity to a remote domain.
        """
        if not self.running:
            # Stopping: no new stream.
            return
        sender = stanza.getAttribute("from")
        local = domainOf(sender) if sender else None
        if local is None or not self.isLocal(local):
            log.warn("not sending a stanza from {sender} to another server", sender=sender)
            return
        recipient = parseJID(stanza.getAttribute("to"))
        if recipient is None:
            return
        self.link(local, recipient.host).send(toText(stanza, defaultUri=ns.CLIENT))

    def routeSerialized(self, to, data, build):
        """
        Fan-out to a remote JID: the text already serialized is written
        as it is to that domain's stream.
        """
        if not self.running:
            return
        head = data[: data.find(">")]
        start = head.find(" from='")
        if start < 0:
            return self.route(build())
        start += 7
        sender = head[start : head.find("'", start)]
        local = domainOf(sender)
        if not self.isLocal(local):
            return self.route(build())
        self.link(local, domainOf(to)).send(data)

    def link(self, local, remote):
        """
        @return: the L{OutgoingLink} from C{local} to C{remote} (made on
            first use).
        """
        link = self.links.get((local, remote))
        if link is None:
            link = self.links[local, remote] = OutgoingLink(self, local, remote)
        return link

    def forget(self, link):
        """
        C{link} has no stream and nothing waiting: it goes (a server that
        once reached many domains keeps no trace of each).
        """
        if self.links.get((link.local, link.remote)) is link:
            del self.links[link.local, link.remote]

    def connect(self, target, negotiator):
        """
        Open a connection to C{target} for C{negotiator}.

        @return: Deferred firing once connected.
        """
        endpoint = endpoints.HostnameEndpoint(self.clock, target.host, target.port, timeout=self.connectTimeout)
        if target.directTLS:
            endpoint = endpoints.wrapClientTLS(self.tls.forDomain(negotiator.remote), endpoint)
        return endpoints.connectProtocol(
            endpoint, ServerXmlStream(negotiator, self)
        )

    def bounce(self, text, condition):
        """
        Answer a stanza that could not be sent with an error to its sender
        (never an error to an error).
        """
        try:
            stanza = parseElement(text)
        except ValueError:
            return
        if not isError(stanza) and stanza.getAttribute("from"):
            self.server.router.route(errorReply(stanza, condition, payload=False))

    def domainFailed(self, domain, condition, reason):
        """
        Tell the rest of the server that C{domain} cannot be reached
        (L{S2S_DOMAIN_FAILED}).
        """
        self.server.hooks.fireAll(S2S_DOMAIN_FAILED, domain=domain, condition=condition, reason=reason)

    # --- the incoming side

    def received(self, stanza):
        """
        A stanza from an authenticated remote domain to a local one.
        """
        self.server.router.route(stanza)

    def verifyKey(self, local, remote, streamID, key):
        """
        Receiving server role: ask C{remote}'s authoritative server about
        a dialback key it sent on our incoming stream C{streamID}.

        @return: Deferred firing with whether the key is good.
        """
        return self.link(local, remote).verify(streamID, key)

    # --- service

    def startService(self):
        service.Service.startService(self)
        self.resolver.start()
        log.info(
            "federation: STARTTLS {tls}, {auth}, certificate {certificate}, {routes} static route(s)",
            tls="required" if self.requireEncryption else "optional",
            auth="peers need a valid certificate" if self.secureAuth else "dialback accepted from untrusted certificates",
            certificate=self.certificate.describe() if self.certificate is not None else "none",
            routes=len(self.resolver.routes),
        )
        self.server.ready.addCallback(lambda _: self._listen())

    @defer.inlineCallbacks
    def _listen(self):
        if not self.server.config.get("s2s", "dialback_secret"):
            try:
                secret = yield storedSecret(self.server.storage.accountData)
            except Exception:
                log.failure("cannot read or keep the dialback secret; using one for this run only")
            else:
                self.keys = DialbackKeys(secret)
        plain = IncomingFactory(self)
        # TLS from the first byte, with the context of STARTTLS.
        direct = TLSMemoryBIOFactory(self.tls, False, IncomingFactory(self, directTLS=True))
        direct.noisy = False
        listeners = [(d, plain, "") for d in self.descriptions]
        listeners += [(d, direct, " (direct TLS)") for d in self.directDescriptions]
        try:
            for description, factory, kind in listeners:
                port = yield endpoints.serverFromString(self.clock, description).listen(factory)
                self.ports.append(port)
                where = port.getHost()
                log.info(
                    "listening for servers on {host} port {port}{kind}",
                    host=getattr(where, "host", where),
                    port=getattr(where, "port", ""),
                    kind=kind,
                )
        except Exception:
            log.failure("cannot listen for servers")
            self.listening.errback()
            return
        self.listening.callback(self.ports)

    @defer.inlineCallbacks
    def stopService(self):
        service.Service.stopService(self)
        ports, self.ports = self.ports, []
        for port in ports:
            yield defer.maybeDeferred(port.stopListening)
        for link in list(self.links.values()):
            link.close()
        # Look-ups in flight fail (their links bounce what waits), and no
        # DNS timer outlives the service.
        self.resolver.stop()
        for negotiator in list(self.incoming):
            xs = negotiator.xmlstream
            if xs.transport is not None:
                xs.streamError("system-shutdown")
        # Bounded by [server] shutdown_timeout (at least a moment for the
        # closing tags to go out): what is still open then is aborted, and
        # so is what closes afterwards (a dialback answer given up).
        remaining = max(0.5, getattr(self.server, "stopDeadline", 0) - self.clock.seconds())
        timer = self.clock.callLater(remaining, self._abortAll)
        while self.streams:
            yield defer.DeferredList([xs.lost for xs in list(self.streams)])
        if timer.active():
            timer.cancel()
        self.aborting = False

    def _abortAll(self):
        self.aborting = True
        for xs in list(self.streams):
            xs.transport.abortConnection()
