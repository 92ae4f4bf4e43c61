"""
Last activity (XEP-0012), as Prosody's mod_lastactivity and mod_uptime.

Asked of a local host, the answer is the server's uptime (section 6:
"the number of seconds since the server was started").  Asked of an
account's bare JID, it is the time since the account's last session went
unavailable, with the status text it gave then (section 5), when the
requester is the account itself or a contact receiving its presence
(subscription C{from} or C{both}); others get C{forbidden}, as Prosody.
While the account has an available session the answer is C{0} seconds
(XEP-0012 section 5: the account is active now); an account that never
went offline is answered C{0} too, as Prosody does.  The last logout is
stored as the account document L{DOCUMENT}, and goes with the account.
"""

import time

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.hooks import IQ_GET_BARE, IQ_GET_HOST, IQ_GET_SELF, addIQHandler
from xmuc.session.items import hasFrom
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply

log = Logger()

#: The last logout among the account's documents: C{{when, status}}.
DOCUMENT = "last_activity"


def _answer(iq, reply, seconds, status=None):
    result = toResponse(iq, "result")
    query = result.addElement((ns.LAST, "query"))
    query["seconds"] = str(max(0, int(seconds)))
    if status:
        query.addContent(status)
    reply(result)


class LastActivity:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar started: when the server started (POSIX time).
    @ivar now: callable returning the POSIX time.
    """

    def __init__(self, sm, now=time.time):
        self.sm = sm
        self.store = sm.server.storage.accountData
        self.now = now
        self.started = now()

    def serverUptime(self, iq, child, reply, **kw):
        _answer(iq, reply, self.now() - self.started)

    def accountActivity(self, iq, child, reply, session, bare, **kw):
        """
        The account's last activity, for itself or its contacts.
        """
        if session is not None:
            return self._answerFor(iq, reply, bare)
        requester = iq.getAttribute("from", "").split("/", 1)[0]
        if requester == bare:
            return self._answerFor(iq, reply, bare)

        def checked(roster):
            if hasFrom(roster.get(requester)):
                return self._answerFor(iq, reply, bare)
            reply(errorReply(iq, "forbidden", payload=False))

        d = self.sm.rosters.get(bare).addCallback(checked)
        d.addErrback(self._failed, iq, reply)
        return d

    def _answerFor(self, iq, reply, bare):
        if self.sm.availableSessions(bare):
            _answer(iq, reply, 0)
            return None

        def answer(last):
            if last is None:
                _answer(iq, reply, 0)
            else:
                _answer(iq, reply, self.now() - last["when"], last.get("status"))

        d = self.store.get(bare, DOCUMENT)
        d.addCallbacks(answer, self._failed, errbackArgs=(iq, reply))
        return d

    def _failed(self, failure, iq, reply):
        log.failure("answering a last activity request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))

    def wentOffline(self, bare, status):
        """
        The last available session of C{bare} went unavailable (or ended).

        @param status: its C{<status/>} text, or L{None}.
        """
        document = {"when": self.now()}
        if status:
            document["status"] = status
        d = self.store.set(bare, DOCUMENT, document)
        d.addErrback(lambda f: log.failure("storing the last activity of {jid} failed", f, jid=bare))

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the last logout goes with the account.
        """
        return self.store.delete(jid, DOCUMENT)


def install(sm):
    """
    Last activity (C{sm.lastActivity}): the server's uptime and the
    accounts' last logout.
    """
    sm.lastActivity = LastActivity(sm)
    sm.serverFeatures.append(ns.LAST)
    sm.accountFeatures.append(ns.LAST)
    addIQHandler(sm.hooks, (IQ_GET_HOST,), ns.LAST, sm.lastActivity.serverUptime)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_GET_BARE), ns.LAST, sm.lastActivity.accountActivity)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.lastActivity.accountDeleted)
