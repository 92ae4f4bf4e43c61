"""
Where a remote domain's server listens: C{[s2s] routes}, else DNS SRV
records (RFC 6120 section 3.2.1, XEP-0368), else the domain itself on port
5269.
"""

import collections

from twisted.internet import defer
from twisted.names import client, dns, error

#: The server-to-server port when DNS says nothing (RFC 6120 3.2.1).
DEFAULT_PORT = 5269

#: Where the system's name servers are listed.
RESOLV_CONF = "/etc/resolv.conf"

#: One place to try.  C{directTLS}: TLS from the first byte (XEP-0368,
#: C{_xmpps-server}), else STARTTLS.  C{source}: where it came from, for
#: the check's report.
Target = collections.namedtuple("Target", "host port directTLS source")

#: The SRV services, with whether each starts with TLS.
SERVICES = (("_xmpps-server._tcp.", True), ("_xmpp-server._tcp.", False))


class ResolverStopped(Exception):
    """
    The server is stopping: no more DNS look-ups.
    """


class OwnedDNS(client.Resolver):
    """
    A DNS client that leaves nothing behind when it is shut down: unlike
    Twisted's global resolver (L{client.getResolver}), whose C{resolv.conf}
    re-read timer (every minute) and cache expiry timers outlive whoever
    used it, every timer and socket of this one ends with
    L{shutDown}.
    """

    def __init__(self, reactor, servers=None):
        """
        @param reactor: the reactor to query with.
        @param servers: C{[(address, port)]} of name servers asked before
            those of L{RESOLV_CONF} (re-read when it changes), or L{None}.
        """
        self._protocols = set()
        client.Resolver.__init__(self, resolv=RESOLV_CONF, servers=servers, reactor=reactor)

    def _connectedProtocol(self, interface=""):
        # One UDP socket per query: kept, to end the queries in flight.
        protocol = client.Resolver._connectedProtocol(self, interface)
        self._protocols.add(protocol)
        return protocol

    def shutDown(self):
        """
        Stop re-reading C{resolv.conf}, and fail the queries in flight with
        L{ResolverStopped} (their sockets close, their retry timers are
        cancelled).
        """
        call = getattr(self, "_parseCall", None)
        if call is not None and call.active():
            call.cancel()
        protocols, self._protocols = self._protocols, set()
        for protocol in protocols:
            live, protocol.liveMessages = protocol.liveMessages, {}
            for answered, timer in live.values():
                if timer.active():
                    timer.cancel()
                # Closes the socket (client.Resolver._query).
                answered.errback(ResolverStopped())
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abortConnection()


class Resolver:
    """
    Finds the targets of a domain.

    @ivar routes: C{{domain: (host, port)}}, tried instead of DNS.
    @ivar dns: the L{twisted.internet.interfaces.IResolver} given, else
        L{None} (then an L{OwnedDNS} of this resolver's asks).
    """

    def __init__(self, routes=None, dnsResolver=None, reactor=None, servers=None):
        """
        @param routes: the static routes (C{[s2s] routes}).
        @param dnsResolver: an L{twisted.internet.interfaces.IResolver}
            to ask (its owner cleans it up), or L{None}: an L{OwnedDNS} is
            made on the first look-up and shut down by L{stop}.
        @param reactor: the reactor of that L{OwnedDNS} (default: the
            global one).
        @param servers: name servers it asks before L{RESOLV_CONF}'s.
        """
        self.routes = dict(routes or {})
        self.dns = dnsResolver
        self._reactor = reactor
        self._servers = servers
        self._owned = None
        self._stopped = False

    def _lookupService(self, name):
        if self.dns is not None:
            return self.dns.lookupService(name)
        if self._stopped:
            return defer.fail(ResolverStopped())
        if self._owned is None:
            reactor = self._reactor
            if reactor is None:
                from twisted.internet import reactor
            self._owned = OwnedDNS(reactor, self._servers)
        return self._owned.lookupService(name)

    def start(self):
        """
        Look-ups are allowed (again).
        """
        self._stopped = False

    def stop(self):
        """
        No more look-ups: the DNS client made for them is shut down
        (L{OwnedDNS.shutDown}), and look-ups asked later fail.
        """
        self._stopped = True
        owned, self._owned = self._owned, None
        if owned is not None:
            owned.shutDown()

    @defer.inlineCallbacks
    def services(self, domain):
        """
        @return: Deferred firing with C{(records, notes, declined)}: the
            SRV records of both services as L{Target}s in the order to try
            (priority, then higher weight first), what the look-ups found,
            one line per service, and whether a service is declared not
            offered (a lone C{'.'} target).
        """
        found = []
        notes = []
        declined = False
        for service, direct in SERVICES:
            name = service + domain
            try:
                answers, _, _ = yield self._lookupService(name)
            except ResolverStopped:
                raise
            except error.DNSNameError:
                notes.append("%s: no record (the name does not exist)" % (name,))
                continue
            except Exception as e:
                # Any other DNS failure (timeout, refused, server failure)
                # counts as no record: the next way is tried.
                notes.append("%s: look-up failed (%s)" % (name, e.__class__.__name__))
                continue
            records = [a.payload for a in answers if a.type == dns.SRV]
            if not records:
                notes.append("%s: no record" % (name,))
                continue
            if len(records) == 1 and str(records[0].target) in (".", ""):
                # RFC 6120 3.2.1: "the service is decidedly not available".
                notes.append("%s: service not offered ('.')" % (name,))
                declined = True
                continue
            notes.append(
                "%s: %s"
                % (name, ", ".join("%s:%d" % (r.target, r.port) for r in records))
            )
            for record in records:
                found.append((record.priority, -record.weight, Target(str(record.target), record.port, direct, "SRV " + name)))
        found.sort(key=lambda entry: entry[:2])
        return [entry[2] for entry in found], notes, declined

    @defer.inlineCallbacks
    def targets(self, domain):
        """
        @return: Deferred firing with the L{Target}s to try in order.
        """
        route = self.routes.get(domain)
        if route is not None:
            return [Target(route[0], route[1], False, "[s2s] routes")]
        records, _, declined = yield self.services(domain)
        if declined and not records:
            # RFC 6120 3.2.1: the domain does not federate; no fallback.
            return []
        return records or [Target(domain, DEFAULT_PORT, False, "no SRV record: the domain on port %d" % (DEFAULT_PORT,))]
