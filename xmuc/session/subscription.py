"""
The presence subscription state machine (RFC 6121 section 3), for both
directions: stanzas a local user sends (I{outbound}) and stanzas addressed
to a local user (I{inbound}).  Each side changes only its own user's
roster, under that user's roster lock.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.session import items
from xmuc.session.stanzas import presence, retarget

log = Logger()


def _logFailure(failure, what):
    log.failure("subscription: {what} failed", failure, what=what)


class SubscriptionHandler:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.router = sm.router
        self.rosters = sm.rosters

    def outbound(self, session, stanza, recipient, bare):
        """
        A subscription stanza sent by a local user's session.

        @param recipient: the parsed C{to}.
        """
        contact = recipient.userhost()
        if contact == bare:
            return
        # RFC 6121 3.1.2: subscription stanzas travel between bare JIDs.
        stanza["from"] = bare
        stanza["to"] = contact
        kind = stanza["type"]
        d = self.rosters.run(bare, lambda roster: self._outbound(roster, bare, contact, kind, stanza))
        d.addErrback(_logFailure, "outbound " + kind)

    @defer.inlineCallbacks
    def _outbound(self, roster, bare, contact, kind, stanza):
        old = roster.get(contact)
        item = dict(old) if old is not None else items.newItem()
        forward = False
        sendPresence = sendUnavailable = False
        if kind == "subscribe":
            if not items.hasTo(item) and item["ask"] is None:
                item["ask"] = "subscribe"
            forward = True
        elif kind == "unsubscribe":
            if old is not None:
                items.withTo(item, False)
                item["ask"] = None
            forward = True
        elif kind == "subscribed":
            # Only an answer to a pending request (no pre-approval).
            if item["pending_in"]:
                items.withFrom(item, True)
                item["pending_in"] = False
                forward = sendPresence = True
        elif kind == "unsubscribed":
            if items.hasFrom(item) or item["pending_in"]:
                sendUnavailable = items.hasFrom(item)
                items.withFrom(item, False)
                item["pending_in"] = False
                forward = True
        yield self._store(roster, bare, contact, old, item)
        if not forward:
            return
        self.router.route(stanza)
        if sendPresence:
            # RFC 6121 3.1.5: the new subscriber gets current presence.
            for session in self.sm.availableSessions(bare):
                self.router.route(retarget(session.presence, contact))
        elif sendUnavailable:
            for session in self.sm.availableSessions(bare):
                full = self.sm.boundJID(session)[0]
                self.router.route(presence(full, contact, "unavailable"))

    def inbound(self, stanza, sender, bare):
        """
        A subscription stanza addressed to local user C{bare}.

        @param sender: the parsed C{from}.
        """
        senderBare = sender.userhost()
        if senderBare == bare:
            return
        stanza["from"] = senderBare
        stanza["to"] = bare
        kind = stanza["type"]
        if kind == "subscribe":
            d = self.sm.accountState(bare)
            d.addCallback(self._subscribeTo, stanza, senderBare, bare)
        elif self.sm.isOnline(bare):
            d = self._runInbound(stanza, senderBare, bare, kind)
        else:
            # Nothing to do for an account that does not exist.
            d = self.sm.accountState(bare)
            d.addCallback(
                lambda state: self._runInbound(stanza, senderBare, bare, kind)
                if state == "exists"
                else None
            )
        d.addErrback(_logFailure, "inbound " + kind)

    def _subscribeTo(self, state, stanza, senderBare, bare):
        if state != "exists":
            self.sm.presence.answerMissingAccount(stanza, state, senderBare, bare)
            return
        return self._runInbound(stanza, senderBare, bare, "subscribe")

    def _runInbound(self, stanza, senderBare, bare, kind):
        return self.rosters.run(
            bare, lambda roster: self._inbound(roster, bare, senderBare, kind, stanza)
        )

    @defer.inlineCallbacks
    def _inbound(self, roster, bare, contact, kind, stanza):
        old = roster.get(contact)
        item = dict(old) if old is not None else items.newItem()
        deliver = False
        sendUnavailable = False
        if kind == "subscribe":
            if items.hasFrom(item):
                # RFC 6121 3.1.3: already subscribed, answer for the user.
                self.router.route(presence(bare, contact, "subscribed"))
                return
            item["pending_in"] = True
            deliver = True
        elif kind == "subscribed":
            if item["ask"] == "subscribe":
                items.withTo(item, True)
                item["ask"] = None
                deliver = True
        elif kind == "unsubscribe":
            if items.hasFrom(item) or item["pending_in"]:
                sendUnavailable = items.hasFrom(item)
                items.withFrom(item, False)
                item["pending_in"] = False
                deliver = True
        elif kind == "unsubscribed":
            if items.hasTo(item) or item["ask"] is not None:
                items.withTo(item, False)
                item["ask"] = None
                deliver = True
        if not deliver:
            return
        yield self._store(roster, bare, contact, old, item)
        sessions = self.sm.availableSessions(bare)
        for session in sessions:
            session.send(stanza)
        if sendUnavailable:
            # RFC 6121 3.3.3: the former subscriber stops seeing the user.
            for session in sessions:
                full = self.sm.boundJID(session)[0]
                self.router.route(presence(full, contact, "unavailable"))

    @defer.inlineCallbacks
    def _store(self, roster, bare, contact, old, item):
        """
        Store a changed item and push it to the interested resources.
        """
        if old == item:
            return
        if items.isEmpty(item) and (old is None or not items.isVisible(old)):
            # A request that was never in the roster, now answered.
            if old is not None:
                yield self.rosters.removeItem(roster, bare, contact)
            return
        yield self.rosters.setItem(roster, bare, contact, item)
        before = items.shown(old)
        after = items.shown(item)
        if before != after:
            self.sm.rosterHandler.push(roster, bare, contact, item if after is not None else None)


def install(sm):
    """
    Presence subscriptions (C{sm.subscriptions}), on the presence path.
    """
    sm.subscriptions = SubscriptionHandler(sm)
