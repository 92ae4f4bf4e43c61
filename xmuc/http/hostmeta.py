"""
Connection endpoint discovery (XEP-0156) over HTTP: C{/.well-known/host-meta}
(XRD, RFC 6415) and C{/.well-known/host-meta.json} (JRD) name the
WebSocket URL, so that a web client given only a JID finds where to
connect.
"""

import json

from twisted.web import pages, resource
from twisted.words.xish import domish

from xmuc.http.proxy import requestClient
from xmuc.http.websocket import PATH
from xmuc.xmpp import ns


def websocketURL(base):
    """
    @param base: the public base URL (C{https://chat.example.org}).
    @return: the WebSocket URL under it (C{wss://chat.example.org/xmpp-websocket}).
    """
    if base.startswith("https://"):
        base = "wss://" + base[len("https://"):]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://"):]
    return "%s/%s" % (base.rstrip("/"), PATH.decode("ascii"))


class HostMeta(resource.Resource):
    """
    One host-meta document, in XRD (XML) or JRD (JSON).
    """

    isLeaf = True

    def __init__(self, http, asJSON):
        """
        @param http: the L{xmuc.http.site.HTTPFrontend}.
        @param asJSON: whether to answer JRD (C{host-meta.json}).
        """
        resource.Resource.__init__(self)
        self.http = http
        self.asJSON = asJSON

    def render_GET(self, request):
        _, secure = requestClient(self.http.proxies, request)
        url = websocketURL(self.http.baseURL(request, secure))
        # Web clients (Converse.js) fetch it from their page's origin.
        request.setHeader(b"access-control-allow-origin", b"*")
        if self.asJSON:
            request.setHeader(b"content-type", b"application/json")
            body = {"links": [{"rel": ns.ALT_CONNECTIONS_WEBSOCKET, "href": url}]}
            return json.dumps(body, indent=2).encode("utf-8") + b"\n"
        request.setHeader(b"content-type", b"application/xrd+xml; charset=utf-8")
        return (
            "<?xml version='1.0' encoding='utf-8'?>\n"
            "<XRD xmlns='%s'>\n"
            "  <Link rel='%s' href='%s'/>\n"
            "</XRD>\n"
            % (ns.XRD, ns.ALT_CONNECTIONS_WEBSOCKET, domish.escapeToXml(url, 1))
        ).encode("utf-8")


class WellKnown(resource.Resource):
    """
    C{/.well-known} (RFC 8615): C{404} for names nobody serves.
    """

    def getChild(self, name, request):
        return pages.notFound("Not Found", "Nothing here.")


def wellKnown(http):
    """
    @param http: the L{xmuc.http.site.HTTPFrontend}.
    @return: the C{/.well-known} resource, with both host-meta documents.
    """
    directory = WellKnown()
    directory.putChild(b"host-meta", HostMeta(http, asJSON=False))
    directory.putChild(b"host-meta.json", HostMeta(http, asJSON=True))
    return directory
