"""
A DNS server on loopback serving one BIND zone file (Twisted Names), for
tests that resolve SRV and address records without the real DNS.
"""

import os

from twisted.internet import reactor
from twisted.names import authority, client, dns, server


def serveZone(testCase, text):
    """
    Serve the zone C{text} (BIND syntax) on a UDP port of 127.0.0.1 until
    the end of C{testCase}.

    @return: the server's C{(host, port)}.
    """
    path = os.path.abspath(testCase.mktemp())
    with open(path, "w") as f:
        f.write(text)
    factory = server.DNSServerFactory(authorities=[authority.BindAuthority(path)])
    factory.noisy = False
    protocol = dns.DNSDatagramProtocol(factory)
    protocol.noisy = False
    port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
    testCase.addCleanup(port.stopListening)
    return ("127.0.0.1", port.getHost().port)


def zoneResolver(testCase, text):
    """
    @return: a Twisted Names resolver asking only a server of the zone
        C{text} (L{serveZone}).
    """
    return client.Resolver(servers=[serveZone(testCase, text)])
