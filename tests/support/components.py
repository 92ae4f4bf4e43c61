"""
External components (XEP-0114) attached to a test server: the server's
C{[components]} configuration, and a raw component connection (an
L{XMPPTestClient} speaking C{jabber:component:accept}) that performs the
handshake and lets the test write anything.
"""

import hashlib

from twisted.internet import defer

from tests.support.client import connectClient

ACCEPT = "jabber:component:accept"
SM = "urn:xmpp:sm:3"

#: Component domains of the test server and their secrets.
SECRETS = {"echo.localhost": "echo-secret", "gw.localhost": "gateway=secret"}


def componentSections(**components):
    """
    @param components: more C{[components]} keys (C{conflict='kick_old'}).
    @return: the configuration sections of a server accepting the
        components of L{SECRETS} on an ephemeral port.
    """
    section = {
        "listen": "tcp:0:interface=127.0.0.1",
        "secrets": " ".join("%s=%s" % (domain, secret) for domain, secret in SECRETS.items()),
    }
    section.update(components)
    return {"components": section}


def secretOf(domain):
    """
    @return: the secret of C{domain} as configured by L{componentSections}.
    """
    return SECRETS[domain]


def componentPort(running):
    """
    @return: the port number the server's first component listener has.
    """
    return running.server.components.ports[0].getHost().port


def handshakeToken(streamID, secret):
    """
    @return: the XEP-0114 handshake token: hex SHA-1 of stream id and
        secret.
    """
    return hashlib.sha1((streamID + secret).encode("utf-8")).hexdigest()


@defer.inlineCallbacks
def connectComponent(testCase, running, domain="echo.localhost", secret=None, handshake=True):
    """
    Connect a raw component to C{running}'s component port, and complete
    the handshake when C{handshake}.

    @return: Deferred firing with the L{XMPPTestClient}; its connection is
        aborted when the test ends.
    """
    yield running.server.components.listening
    client = yield connectClient(componentPort(running), domain)
    testCase.addCleanup(lambda: client.transport.abortConnection() if client.transport.connected else None)
    if handshake:
        client.sendHeader(domain, version=None, ns=ACCEPT)
        header = yield client.receive()
        secret = secretOf(domain) if secret is None else secret
        client.send("<handshake>%s</handshake>" % (handshakeToken(header.getAttribute("id"), secret),))
        reply = yield client.receive()
        testCase.assertEqual((reply.uri, reply.name), (ACCEPT, "handshake"))
    return client
