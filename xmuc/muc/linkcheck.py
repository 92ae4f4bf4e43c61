"""
Who is still there after the link to the host came back.

Run as an external component (L{xmuc.component.connect}), the service
hears nothing while its link to the host server is down: occupants whose
clients went away meanwhile sent their unavailable presence into the void.
When the link is up again (L{hooks.LINK_RESTORED}), every occupant's
session (its real full JID) is pinged through the host, as XEP-0410 pings
a client's own room JID: an XEP-0199 C{<ping/>} iq from the service domain,
one per session even when it sits in several rooms.  A session that
answers with an error saying its client is gone (the rules of
L{xmuc.muc.ghosts}: the host answers C{service-unavailable} for a resource
that is not online, RFC 6121 section 8.5.3.2.1) or does not answer within
C{[component] ping_timeout} seconds leaves every room it is in, as a
bounced message would make it leave; any other answer keeps it.
"""

import itertools

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.muc import ghosts, hooks
from xmuc.xmpp import ns
from xmuc.xmpp.stanza import newStanza

log = Logger()

#: Seconds a session has to answer when the service runs without a
#: [component] section (the check is then never started by the server).
DEFAULT_TIMEOUT = 30.0

_ids = itertools.count(1)


class LinkCheck:
    """
    The pings of one check in flight.

    @ivar pending: C{{iq id: (real full JID, Deferred)}}.
    @ivar done: a Deferred firing with the real full JIDs removed by the
        last check, once it is over.
    """

    def __init__(self, service):
        self.service = service
        self.pending = {}
        self.done = defer.succeed([])


def _timeout(service):
    config = service.server.config
    try:
        return config.get("component", "ping_timeout")
    except KeyError:
        return DEFAULT_TIMEOUT


def sessionsByRealJID(service):
    """
    @return: C{{real full JID str: [room, ...]}} of every occupant session.
    """
    found = {}
    for room in service.rooms.values():
        for realJID in room.occupantsByJID:
            found.setdefault(realJID, []).append(room)
    return found


def checkOccupants(service):
    """
    Ping every occupant session and remove those whose client is gone.

    @return: a Deferred firing with the list of real full JIDs removed,
        once every session answered or timed out.
    """
    state = service.state(__name__, LinkCheck, service)
    clock = service.clock
    timeout = _timeout(service)
    checks = []
    sessions = sessionsByRealJID(service)
    if sessions:
        log.info(
            "checking {count} occupant session(s) of {domain} after the link came back",
            count=len(sessions),
            domain=service.domain,
        )
    for realJID in sessions:
        iqID = "linkcheck-%d" % (next(_ids),)
        d = defer.Deferred()
        state.pending[iqID] = (realJID, d)
        call = clock.callLater(timeout, _timedOut, state, iqID)
        d.addBoth(_cancelling, call)
        d.addCallback(_answered, service, realJID)
        checks.append(d)
        ping = newStanza("iq", type="get", id=iqID, to=realJID, **{"from": service.domain})
        ping.addElement((ns.PING, "ping"))
        service.router.route(ping)
    gone = defer.gatherResults(checks)
    gone.addCallback(lambda results: [jid for jid in results if jid is not None])
    state.done = defer.Deferred()

    def over(result):
        done, state.done = state.done, defer.succeed(result)
        done.callback(result)
        return result

    return gone.addCallback(over)


def lastCheck(service):
    """
    @return: a Deferred firing with the real full JIDs removed by the
        last check (started when the link came back), once it is over.
    """
    state = service.state(__name__, LinkCheck, service)
    d = defer.Deferred()
    state.done.addCallback(lambda result: (d.callback(result), result)[1])
    return d


def _cancelling(result, call):
    if call.active():
        call.cancel()
    return result


def _timedOut(state, iqID):
    entry = state.pending.pop(iqID, None)
    if entry is None:
        return
    realJID, d = entry
    # As if the host had bounced it: the occupant leaves with the status
    # text of a timeout ("Kicked: remote server timeout").
    answer = newStanza("iq", type="error", id=iqID, **{"from": realJID})
    error = answer.addElement("error")
    error["type"] = "wait"
    error.addElement((ns.XMPP_STANZAS, "remote-server-timeout"))
    d.callback(answer)


def _answered(answer, service, realJID):
    """
    @return: C{realJID} when its session was removed, else L{None}.
    """
    if answer.getAttribute("type") != "error" or not ghosts.isKickableError(answer):
        return None
    removed = False
    for room in list(service.rooms.values()):
        occupant = room.occupantsByJID.get(realJID)
        if occupant is not None:
            ghosts.kickForError(room, occupant, answer, realJID)
            removed = True
    if removed:
        condition, _ = ghosts.errorConditionOf(answer)
        log.info(
            "removed {jid} from the rooms of {domain}: gone while the link was down ({condition})",
            jid=realJID,
            domain=service.domain,
            condition=condition,
        )
    return realJID if removed else None


def _response(service, stanza, sender, **kw):
    state = service.state(__name__, LinkCheck, service)
    entry = state.pending.get(stanza.getAttribute("id"))
    if entry is None or entry[0] != sender.full():
        return None
    del state.pending[stanza.getAttribute("id")]
    entry[1].callback(stanza)
    return True


def _restored(service, **kw):
    checkOccupants(service).addErrback(
        lambda f: log.failure("checking the occupants of {domain} failed", f, domain=service.domain)
    )


def install(service):
    service.hooks.add(hooks.LINK_RESTORED, _restored)
    service.hooks.add(hooks.SERVICE_IQ_RESPONSE, _response)



