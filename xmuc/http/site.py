"""
The HTTP site: one C{twisted.web} L{Site} for every C{[http] listen}
endpoint, and the root resource the parts served over HTTP attach their
children to (C{server.http.root.putChild(b"upload", ...)}).
"""

import re

from twisted.logger import Logger
from twisted.web import pages, resource, server

from xmuc.http.hostmeta import wellKnown
from xmuc.http.proxy import TrustedProxies
from xmuc.http.websocket import PATH, websocketResource

log = Logger()

#: A C{Host} header value worth repeating in a URL: a name or an IPv4
#: address, or a bracketed IPv6 address, and a port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


class Root(resource.Resource):
    """
    The root: C{404 Not Found} for everything no part claimed.
    """

    def getChild(self, name, request):
        return pages.notFound("Not Found", "Nothing here.")

    def render_GET(self, request):
        return self.getChild(b"", request).render(request)


class XmucSite(server.Site):
    """
    A L{server.Site} that logs each request at C{debug} only (a browser
    makes many; the connection log says what matters about clients) and
    never shows a traceback to a client.
    """

    noisy = False
    displayTracebacks = False

    def log(self, request):
        log.debug(
            "{method} {uri} {code}",
            method=request.method.decode("ascii", "replace"),
            uri=request.uri.decode("ascii", "replace"),
            code=request.code,
        )


class HTTPFrontend:
    """
    What the server serves over HTTP.

    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar root: the root L{resource.Resource}; children are attached with
        C{putChild}: C{/xmpp-websocket} (L{xmuc.http.websocket}) and
        C{/.well-known} are there already.
    @ivar wellKnown: the C{/.well-known} resource (RFC 8615), with
        C{host-meta} and C{host-meta.json} (L{xmuc.http.hostmeta}).
    @ivar site: the L{server.Site} the listeners serve.
    @ivar listeners: the L{xmuc.server.ListeningService}s of C{[http]
        listen}.
    @ivar externalURL: C{[http] external_url} without its trailing slash,
        or C{''}.
    @ivar proxies: the L{TrustedProxies} of C{[http] trusted_proxies}.
    @ivar allowedOrigins: C{[http] allowed_origins} (a frozenset; empty:
        any origin).
    """

    def __init__(self, server):
        """
        @param server: the L{xmuc.server.XmucServer}.
        """
        config = server.config
        self.server = server
        self.externalURL = config.get("http", "external_url")
        self.proxies = TrustedProxies(config.get("http", "trusted_proxies"))
        self.allowedOrigins = frozenset(config.get("http", "allowed_origins"))
        self.listeners = []
        self.root = Root()
        self.root.putChild(PATH, websocketResource(self, server.c2sFactory))
        self.wellKnown = wellKnown(self)
        self.root.putChild(b".well-known", self.wellKnown)
        self.site = XmucSite(self.root)

    def baseURL(self, request, secure):
        """
        @param request: a L{server.Request}.
        @param secure: whether the client used TLS (see
            L{xmuc.http.proxy.requestClient}).
        @return: the public base URL: C{[http] external_url}, else the
            scheme and C{Host} the request was made with.
        """
        if self.externalURL:
            return self.externalURL
        host = (request.getHeader(b"host") or b"").decode("latin-1")
        if not _HOST.match(host):
            where = request.getHost()
            host = "%s:%d" % (where.host, where.port)
        return "%s://%s" % ("https" if secure else "http", host)
