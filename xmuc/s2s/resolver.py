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

#: One place to try.  C{directTLS}: TLS from the first byte (XEP-0368,
#: C{_xmpps-server}), else STARTTLS.  C{source}: where it came from, for
#: the check's report.
Target = collections.namedtuple("Target", "host port directTLS source")

#: The SRV services, with whether each starts with TLS.
SERVICES = (("_xmpps-server._tcp.", True), ("_xmpp-server._tcp.", False))


class Resolver:
    """
    Finds the targets of a domain.

    @ivar routes: C{{domain: (host, port)}}, tried instead of DNS.
    """

    def __init__(self, routes=None, dnsResolver=None):
        """
        @param routes: the static routes (C{[s2s] routes}).
        @param dnsResolver: an L{twisted.internet.interfaces.IResolver}
            (default: L{twisted.names.client}'s, from C{/etc/resolv.conf}).
        """
        self.routes = dict(routes or {})
        self.dns = dnsResolver

    def _lookupService(self, name):
        if self.dns is not None:
            return self.dns.lookupService(name)
        return client.lookupService(name)

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
