"""
Two (or more) xmuc servers in the test process, federating over loopback:
each its own domain (C{a.test}, C{b.test}...) with a MUC service
(C{rooms.a.test}...), its server-to-server listener on its own loopback
address (127.0.0.2, 127.0.0.3...) and static routes to the others::

    a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca")
    alice = yield loginTo(self, a, "alice")
    bob = yield loginTo(self, b, "bob")

C{mode} chooses how they authenticate each other: C{'ca'} (certificates
from one test authority, SASL EXTERNAL, C{secure_auth = true}) or
C{'selfsigned'} (self-signed certificates, dialback, C{secure_auth =
false}).  Clients log in without TLS, with any password.
"""

import os

from twisted.internet import defer

from tests.support.client import connectTestClient, startServerWith
from tests.support.pki import TestCA, selfSigned


def federationSections(domain, address, certificate, key, extra=None):
    """
    @return: the configuration of one federating test server.
    """
    sections = {
        "server": {"hosts": domain},
        "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"},
        "auth": {"backend": "insecure", "allow_insecure": "true"},
        "storage": {"backend": "memory"},
        "muc": {"enabled": "true", "domain": "rooms." + domain, "lock_new_rooms": "false"},
        "log": {"level": "warn"},
        "s2s": {
            "listen": "tcp:0:interface=%s" % (address,),
            "tls_certificate": certificate,
            "tls_key": key,
            "connect_timeout": "5",
        },
    }
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    return sections


def s2sPort(running):
    """
    @return: C{(host, port)} of a running server's s2s listener.
    """
    where = running.server.s2s.ports[0].getHost()
    return where.host, where.port


def addRoutes(servers):
    """
    Route each server's domains (host and MUC) to its listener, on every
    other server.
    """
    for running in servers:
        for other in servers:
            if other is running:
                continue
            target = s2sPort(other)
            for domain in other.server.hosts + [other.server.muc.domain]:
                running.server.s2s.resolver.routes[domain] = target


@defer.inlineCallbacks
def startFederation(testCase, domains, mode="ca", extra=None, certificateNames=None):
    """
    Start one server per domain, routed to each other.

    @param mode: C{'ca'} or C{'selfsigned'} (see the module).
    @param extra: C{{domain: {section: {key: raw}}}} per server.
    @param certificateNames: C{{domain: [names]}} to give a server a
        certificate for other names than its own.
    @return: Deferred firing with the L{xmuc.testing.server.RunningServer}s,
        in the order of C{domains}.
    """
    directory = os.path.abspath(testCase.mktemp())
    ca = TestCA(os.path.join(directory, "ca")) if mode == "ca" else None
    servers = []
    for index, domain in enumerate(domains):
        names = (certificateNames or {}).get(domain) or [domain, "rooms." + domain]
        if ca is not None:
            certificate, key = ca.issue(names, prefix=domain)
        else:
            certificate, key = selfSigned(os.path.join(directory, "self"), names, prefix=domain)
        own = {"s2s": {"secure_auth": "true" if mode == "ca" else "false"}}
        if ca is not None:
            own["s2s"]["ca_certificates"] = ca.certificatePath
        for section, values in ((extra or {}).get(domain) or {}).items():
            own.setdefault(section, {}).update(values)
        sections = federationSections(domain, "127.0.0.%d" % (index + 2,), certificate, key, own)
        running = yield startServerWith(testCase, sections)
        yield running.server.s2s.listening
        servers.append(running)
    addRoutes(servers)
    return servers


@defer.inlineCallbacks
def loginTo(testCase, running, user, resource="r", available=True):
    """
    @return: Deferred firing with a client of C{running} logged in as
        C{user}@its first host; available (its presence echoed) when
        C{available}.
    """
    domain = running.server.hosts[0]
    client = yield connectTestClient(testCase, running, domain=domain)
    yield client.login(user, "pw", resource)
    if available:
        client.send("<presence/>")
        while True:
            element = yield client.receive()
            if element.name == "presence" and element.getAttribute("from") == client.jid:
                break
    return client


@defer.inlineCallbacks
def receiveUntil(client, predicate, timeout=10.0):
    """
    @return: Deferred firing with the next element C{client} receives for
        which C{predicate} is true (those before are skipped).
    """
    while True:
        element = yield client.receive(timeout)
        if predicate(element):
            return element
