"""
Whom to believe about a client's address and scheme behind a reverse proxy.

A browser usually reaches xmuc through a reverse proxy (nginx, Apache,
HAProxy) that terminates TLS and opens a plain connection to C{[http]
listen}: the TCP peer is then the proxy, and what the client really was is
in the C{X-Forwarded-For} and C{X-Forwarded-Proto} headers the proxy adds.
Anyone can write those headers, so they are believed only from the
addresses of C{[http] trusted_proxies}.
"""

import ipaddress

from twisted.internet import address


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class TrustedProxies:
    """
    The reverse proxies whose forwarding headers are believed.
    """

    def __init__(self, networks):
        """
        @param networks: L{ipaddress.IPv4Network}s and
            L{ipaddress.IPv6Network}s (C{[http] trusted_proxies}).
        """
        self.networks = list(networks)

    def trusts(self, host):
        """
        @param host: an IP address (str).
        @return: whether it is one of the trusted proxies.
        """
        parsed = _ip(host) if isinstance(host, str) else None
        if parsed is None:
            return False
        if parsed.version == 6 and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.networks)

    def clientHost(self, peerHost, forwardedFor):
        """
        The client's address: the TCP peer, or, when the peer is a trusted
        proxy, the right-most address of C{X-Forwarded-For} that is not a
        trusted proxy itself (each proxy appends the address it was reached
        from: what is left of the last untrusted hop may be forged).

        @param peerHost: the TCP peer's address (str).
        @param forwardedFor: the C{X-Forwarded-For} values (list of str,
            one per header line), possibly empty.
        @return: the client's address (str).
        """
        if not self.trusts(peerHost):
            return peerHost
        hops = [hop.strip() for value in forwardedFor for hop in value.split(",") if hop.strip()]
        client = peerHost
        for hop in reversed(hops):
            parsed = _ip(hop)
            if parsed is None:
                break
            client = str(parsed)
            if not self.trusts(client):
                break
        return client

    def isSecure(self, peerHost, transportSecure, forwardedProto):
        """
        @param peerHost: the TCP peer's address (str).
        @param transportSecure: whether the connection itself is TLS.
        @param forwardedProto: the C{X-Forwarded-Proto} value, or L{None}.
        @return: whether the client reached us over TLS: the connection is
            TLS, or a trusted proxy says its client used C{https}.
        """
        if transportSecure:
            return True
        if not forwardedProto or not self.trusts(peerHost):
            return False
        # The first value is what the outermost proxy saw.
        return forwardedProto.split(",")[0].strip().lower() in ("https", "wss")


def clientAddress(peer, host):
    """
    @param peer: the TCP peer (L{twisted.internet.interfaces.IAddress}).
    @param host: the client's address as L{TrustedProxies.clientHost}
        found it.
    @return: C{peer} when it is the client, else an IP address for
        C{host} (port 0: the client's port is the proxy's to know).
    """
    if getattr(peer, "host", None) == host:
        return peer
    parsed = _ip(host)
    if parsed is None:
        return peer
    kind = address.IPv6Address if parsed.version == 6 else address.IPv4Address
    return kind("TCP", str(parsed), 0)


def requestClient(proxies, request):
    """
    @param proxies: the L{TrustedProxies}.
    @param request: a L{twisted.web.server.Request}.
    @return: C{(address, secure)}: the client's
        L{twisted.internet.interfaces.IAddress} and whether it used TLS.
    """
    peer = request.getClientAddress()
    peerHost = getattr(peer, "host", None)
    headers = request.requestHeaders
    forwarded = [v.decode("latin-1") for v in headers.getRawHeaders(b"x-forwarded-for", [])]
    proto = headers.getRawHeaders(b"x-forwarded-proto", [None])[0]
    host = proxies.clientHost(peerHost, forwarded) if peerHost else None
    secure = proxies.isSecure(
        peerHost, request.isSecure(), proto.decode("latin-1") if proto else None
    )
    return (clientAddress(peer, host) if host else peer), secure
