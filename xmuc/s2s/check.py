"""
C{xmucctl check s2s DOMAIN}: can this server federate with DOMAIN?  Each
step on its own line with a verdict, in the manner of Prosody's
C{prosodyctl check connectivity}: where DOMAIN's server is (static route or
DNS SRV records), the TCP connection, TLS, DOMAIN's certificate, and
whether our domain authenticates to it (SASL EXTERNAL with our
certificate, or Server Dialback).

The check runs outside the server, so a dialback test needs the running
server to verify the key this process makes: both must use the same
secret, C{[s2s] dialback_secret} or the one the server keeps in its
storage.  Without either, dialback is not tried.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.hooks import SERVER_EVENTS, HookRegistry
from xmuc.s2s.certificates import peerConnection
from xmuc.s2s.dialback import DialbackKeys
from xmuc.s2s.manager import S2SManager
from xmuc.s2s.outgoing import NegotiationFailed, OutgoingNegotiator
from xmuc.s2s.resolver import DEFAULT_PORT

log = Logger()

OK = "OK"
FAIL = "FAIL"
WARN = "WARN"
INFO = "INFO"


class _Router:
    def __init__(self, components):
        self.components = components

    def route(self, stanza):
        pass


class _CheckingServer:
    """
    What L{S2SManager} needs of a server, for a check run outside it.
    """

    def __init__(self, config):
        self.config = config
        self.hosts = list(config.get("server", "hosts"))
        muc = {config.get("muc", "domain"): None} if config.get("muc", "enabled") else {}
        self.router = _Router(muc)
        self.hooks = HookRegistry(SERVER_EVENTS)
        self.ready = defer.succeed(None)


def _describeCertificate(connection):
    certificate = connection.get_peer_certificate()
    if certificate is None:
        return "none"
    cert = certificate.to_cryptography()
    return "subject %s, issuer %s, valid until %s" % (
        cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(),
        cert.not_valid_after_utc.strftime("%Y-%m-%d"),
    )


@defer.inlineCallbacks
def checkS2S(config, domain, report, clock, local=None, routes=None, storedSecret=None):
    """
    Run the check.

    @param config: the L{xmuc.config.Config} of this server.
    @param domain: the remote domain.
    @param report: called with C{(verdict, step, text)} for each line.
    @param clock: the reactor.
    @param local: our domain that authenticates (default: the first host).
    @param routes: static routes over C{[s2s] routes} (tests).
    @param storedSecret: the dialback secret the server keeps in its
        storage (L{xmuc.s2s.dialback.storedSecret}), used when C{[s2s]
        dialback_secret} is empty.
    @return: Deferred firing with whether every step passed.
    """
    manager = S2SManager(_CheckingServer(config), clock)
    secret = config.get("s2s", "dialback_secret") or storedSecret
    if secret:
        manager.keys = DialbackKeys(secret)
    # See everything, refuse nothing: the verdicts below say what a
    # server with secure_auth would make of it.
    secureAuth, manager.secureAuth = manager.secureAuth, False
    manager.resolver.routes.update(routes or {})
    local = local or config.get("server", "hosts")[0]
    failed = False

    # Ours first: peers check it as we check theirs.
    own = manager.certificate
    if own is None:
        report(WARN, "our certificate", "none: peers can only use dialback over plain text")
    elif own.covers(local):
        report(OK, "our certificate", "valid for %s (%s)" % (local, own.describe()))
    else:
        report(WARN, "our certificate", "not valid for %s (%s): peers may refuse us" % (local, own.describe()))

    if domain in manager.resolver.routes:
        host, port = manager.resolver.routes[domain]
        report(OK, "route", "[s2s] routes sends %s to %s:%d (DNS not used)" % (domain, host, port))
    else:
        records, notes, declined = yield manager.resolver.services(domain)
        for note in notes:
            report(INFO, "dns", note)
        if records:
            report(OK, "dns", "%d SRV target(s)" % (len(records),))
        elif declined:
            report(FAIL, "dns", "%s says it does not federate (SRV target '.')" % (domain,))
        else:
            report(WARN, "dns", "no SRV record: other servers try %s port %d" % (domain, DEFAULT_PORT))
    targets = yield manager.resolver.targets(domain)
    link = manager.link(local, domain)
    for target in targets:
        where = "%s:%d%s" % (target.host, target.port, " (direct TLS)" if target.directTLS else "")
        negotiator = OutgoingNegotiator(link, target)
        negotiator.allowDialback = bool(secret)
        timer = clock.callLater(manager.connectTimeout, lambda n=negotiator: n.abort("timed out"))
        try:
            yield manager.connect(target, negotiator)
        except Exception as e:
            report(FAIL, "connect", "%s: %s" % (where, e))
            if timer.active():
                timer.cancel()
            continue
        report(OK, "connect", where)
        reason = None
        try:
            yield negotiator.ready
        except NegotiationFailed as e:
            reason = e.reason
        if timer.active():
            timer.cancel()
        xs = negotiator.xmlstream
        connection = peerConnection(xs.transport) if xs.tls else None
        if connection is not None:
            report(OK, "tls", "%s, %s" % (connection.get_protocol_version_name(), connection.get_cipher_name()))
            problem = negotiator.certificateProblem
            verdict = OK if problem is None else FAIL if secureAuth else WARN
            text = "valid for %s" % (domain,) if problem is None else problem
            report(verdict, "certificate", "%s (%s)" % (text, _describeCertificate(connection)))
            failed = failed or verdict == FAIL
        else:
            report(FAIL if manager.requireEncryption else WARN, "tls", "not encrypted")
            failed = failed or manager.requireEncryption
        if negotiator.method is not None:
            report(OK, "authentication", "%s authenticated to %s with %s" % (local, domain, negotiator.method))
        else:
            report(FAIL, "authentication", reason or "not authenticated")
            failed = True
        if negotiator.method != "dialback":
            if not negotiator.dialbackOffered:
                report(WARN, "dialback", "%s does not offer dialback" % (domain,))
            elif not negotiator.allowDialback:
                report(
                    INFO,
                    "dialback",
                    "offered; not tried: the server's secret is not readable from here "
                    "(set [s2s] dialback_secret)",
                )
            else:
                report(INFO, "dialback", "offered, not needed")
        else:
            report(OK, "dialback", "%s verified our key with %s's server" % (domain, local))
        if xs.transport is not None:
            xs.close()
            yield xs.lost
        return not failed
    if not targets:
        report(FAIL, "connect", "nowhere to connect to")
    return False


def verdictLine(verdict, step, text):
    """
    @return: the line printed for one step.
    """
    return "%-4s %-16s %s" % (verdict, step, text)

