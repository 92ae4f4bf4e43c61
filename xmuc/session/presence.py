"""
Presence for local users (RFC 6121 section 4): broadcast from the roster,
directed presence, probes, and the end of sessions and accounts.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.items import FROM_STATES, TO_STATES, hasFrom
from xmuc.session.stanzas import SUBSCRIPTION_TYPES, parsePriority, presence, retarget
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.xmpp.errors import errorReply
from xmuc.xmpp.jid import parseJID

log = Logger()


def _logFailure(failure, what):
    # The database being away (or already closed at shutdown) is not a bug,
    # and presence is not kept: nothing is lost but this answer.
    if failure.check(StorageUnavailable):
        log.warn("presence: {what} skipped: {error}", what=what, error=failure.value)
    else:
        log.failure("presence: {what} failed", failure, what=what)


class PresenceHandler:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.router = sm.router
        self.rosters = sm.rosters

    # --- from the user's own sessions

    def fromClient(self, session, stanza, recipient, fullStr, bare):
        """
        A presence sent by a bound session (its C{from} already stamped).

        @param recipient: the parsed C{to} or L{None}.
        """
        kind = stanza.getAttribute("type")
        if kind is None:
            # XEP-0153: the server tells the account's avatar.
            self.sm.vcard.stamp(stanza, bare)
        if recipient is None:
            if kind is None:
                self._available(session, stanza, fullStr, bare)
            elif kind == "unavailable":
                self._unavailable(session, stanza, fullStr, bare)
            # Anything else without a 'to' means nothing: dropped.
            return
        if kind is None or kind == "unavailable":
            target = recipient.full()
            if kind is None:
                session.directedPresence.add(target)
            else:
                session.directedPresence.discard(target)
            self.router.route(stanza)
        elif kind in SUBSCRIPTION_TYPES:
            self.sm.subscriptions.outbound(session, stanza, recipient, bare)
        elif kind == "error":
            self.router.route(stanza)
        elif kind == "probe" and recipient.host not in self.router.hosts:
            # A service answers probes itself (a MUC room sends an
            # occupant's presence), so they go through, as with Prosody.
            self.router.route(stanza)
        # Probes to users are the server's business (RFC 6121 4.3): dropped.

    def _available(self, session, stanza, fullStr, bare):
        initial = session.presence is None
        session.priority = parsePriority(stanza)
        session.presence = stanza
        self.sm.pep.ownPresence(stanza, fullStr, bare)
        d = self.rosters.get(bare)
        d.addCallback(self._broadcastAvailable, session, stanza, fullStr, bare, initial)
        d.addErrback(_logFailure, "available presence broadcast")

    def _broadcastAvailable(self, roster, session, stanza, fullStr, bare, initial):
        if self.sm.boundJID(session) is None:
            # The session left meanwhile (its unavailable presence follows).
            return
        route = self.router.route
        blocks = self.sm.blocking.blocks
        for contact, item in list(roster.items()):
            if item["subscription"] in FROM_STATES and not blocks(bare, contact):
                route(retarget(stanza, contact))
        own = self.sm.availableSessions(bare)
        for other in own:
            otherFull = self.sm.boundJID(other)[0]
            other.send(retarget(stanza, otherFull))
        if not initial:
            return
        # RFC 6121 4.2.2: probe the contacts whose presence the user wants,
        # and show the new resource the other resources' presence.
        for contact, item in list(roster.items()):
            if item["subscription"] in TO_STATES and not blocks(bare, contact):
                route(presence(fullStr, contact, "probe"))
        for other in own:
            if other is not session:
                session.send(retarget(other.presence, fullStr))
        # RFC 6121 3.1.3: pending subscription requests are delivered again
        # at each login until answered.
        for contact, item in sorted(roster.items()):
            if item["pending_in"]:
                session.send(presence(contact, bare, "subscribe"))
        # Then the messages stored while the user was offline (Prosody's
        # message/offline/broadcast, last of initial presence).
        self.sm.offline.initialPresence(session, bare)

    def _unavailable(self, session, stanza, fullStr, bare):
        wasAvailable = session.presence is not None
        session.presence = None
        directed = session.directedPresence
        session.directedPresence = set()
        d = self._broadcastUnavailable(stanza, fullStr, bare, wasAvailable, directed)
        if wasAvailable:
            d.addCallback(lambda _: session.send(retarget(stanza, fullStr)))
        d.addErrback(_logFailure, "unavailable presence broadcast")

    def sessionEnded(self, session, fullStr, bare):
        """
        A session left (already removed from the manager): whoever had its
        presence gets unavailable presence (RFC 6121 4.5.2), including
        every JID it sent directed presence to (MUC rooms, so that the
        occupant leaves).

        @return: Deferred firing when it is done.
        """
        wasAvailable = session.presence is not None
        session.presence = None
        directed = session.directedPresence or set()
        session.directedPresence = set()
        if not wasAvailable and not directed:
            return defer.succeed(None)
        stanza = presence(fullStr, fullStr, "unavailable")
        del stanza.attributes["to"]
        return self._broadcastUnavailable(stanza, fullStr, bare, wasAvailable, directed)

    def _broadcastUnavailable(self, stanza, fullStr, bare, wasAvailable, directed):
        self.sm.pep.resourceGone(bare, fullStr)
        route = self.router.route
        for target in directed:
            route(retarget(stanza, target))
        if not wasAvailable:
            return defer.succeed(None)
        if not self.sm.availableSessions(bare):
            # XEP-0012: the account's last activity is its last logout.
            status = None
            for child in stanza.elements():
                if child.name == "status":
                    status = str(child)
                    break
            self.sm.lastActivity.wentOffline(bare, status)

        def toContacts(roster):
            # After the roster is read, like available presence, so that
            # both reach everyone in the order they were sent.
            for other in self.sm.availableSessions(bare):
                other.send(retarget(stanza, self.sm.boundJID(other)[0]))
            blocks = self.sm.blocking.blocks
            for contact, item in list(roster.items()):
                if (
                    item["subscription"] in FROM_STATES
                    and contact not in directed
                    and not blocks(bare, contact)
                ):
                    route(retarget(stanza, contact))

        return self.rosters.get(bare).addCallback(toContacts)

    # --- presence addressed to a local user

    def deliver(self, stanza, recipient):
        """
        A presence routed to a JID of a local user (RFC 6121 8.5.2.1.1 and
        8.5.3.1/8.5.3.2.2).
        """
        kind = stanza.getAttribute("type")
        if kind is None or kind == "unavailable" or kind == "error":
            if kind != "error":
                # Personal eventing follows its contacts' caps.
                self.sm.pep.contactPresence(stanza, recipient.userhost())
            if recipient.resource is not None:
                session = self.router.sessions.get(recipient.full())
                if session is not None:
                    session.send(stanza)
                    return
            else:
                # Errors to a bare JID too (a subscription request, sent
                # from the bare JID, refused): every available resource
                # sees it.
                sessions = self.sm.availableSessions(recipient.userhost())
                if len(sessions) == 1:
                    sessions[0].send(stanza)
                elif sessions:
                    data = stanza.toXml()
                    for session in sessions:
                        session.send(data)
                if sessions:
                    return
            bare = recipient.userhost()
            if kind != "error" and not self.sm.isOnline(bare):
                # Nobody to give it to: maybe the account is gone.  The
                # tombstone is read first: one read for the common case
                # of a contact who is merely offline.
                d = self.sm.server.storage.tombstones.get(bare)
                d.addCallback(lambda t: None if t is None else self.sm.accountState(bare))
                d.addCallback(self._presenceToMissing, stanza, bare)
                d.addErrback(_logFailure, "answering presence to a missing account")
            return
        sender = parseJID(stanza.getAttribute("from") or "")
        if sender is None:
            return
        bare = recipient.userhost()
        if kind == "probe":
            d = self.sm.accountState(bare)
            d.addCallback(self._probe, stanza, sender, bare)
            d.addErrback(_logFailure, "answering a probe")
        elif kind in SUBSCRIPTION_TYPES:
            self.sm.subscriptions.inbound(stanza, sender, bare)

    def _probe(self, state, stanza, sender, bare):
        senderBare = sender.userhost()
        if state != "exists":
            self.answerMissingAccount(stanza, state, senderBare, bare)
            return
        return self.rosters.get(bare).addCallback(self._answerProbe, sender, senderBare, bare)

    def _answerProbe(self, roster, sender, senderBare, bare):
        route = self.router.route
        if senderBare == bare or hasFrom(roster.get(senderBare)):
            proberJID = sender.full()
            sessions = self.sm.availableSessions(bare)
            for session in sessions:
                route(retarget(session.presence, proberJID))
            if not sessions:
                route(presence(bare, proberJID, "unavailable"))
        else:
            # RFC 6121 4.3.2: no subscription, no presence.
            route(presence(bare, senderBare, "unsubscribed"))

    def _presenceToMissing(self, state, stanza, bare):
        """
        Available or unavailable presence to an account without sessions:
        when the account was deleted (its tombstone is in force), the
        sender learns it is C{gone} and loses its subscription to the
        sender's presence (C{unsubscribe}), so that a former contact
        cleans its roster even when the deletion notices were lost, as
        Prosody's mod_tombstones.  Otherwise it is dropped (RFC 6121
        8.5.2.2.1).
        """
        if state != "deleted":
            return
        sender = parseJID(stanza.getAttribute("from") or "")
        if sender is None:
            return
        self.router.route(errorReply(stanza, "gone", payload=False))
        self.router.route(presence(bare, sender.userhost(), "unsubscribe"))

    def answerMissingAccount(self, stanza, state, senderBare, bare):
        """
        A probe or subscription request to an account that does not exist:
        C{unsubscribed} (RFC 6121 3.1.3/4.3.2), preceded by a presence error
        when the account was deleted (a tombstone remains).

        @param state: C{'deleted'} or C{'unknown'}.
        """
        if state == "deleted":
            self.router.route(errorReply(stanza, "gone", payload=False))
        self.router.route(presence(bare, senderBare, "unsubscribed"))

    # --- deleted accounts

    @defer.inlineCallbacks
    def accountDeleted(self, jid):
        """
        Event handler of C{account-deleted}: the contacts of the deleted
        account stop seeing it (unavailable presence) and lose their
        subscriptions both ways (C{unsubscribed} and C{unsubscribe}); then
        the roster is deleted.

        @param jid: the bare JID str of the deleted account.
        """
        bare = jid

        def notify(roster):
            route = self.router.route
            sessions = self.sm.availableSessions(bare)
            for contact, item in sorted(roster.items()):
                if contact == bare:
                    continue
                if item["subscription"] in FROM_STATES:
                    for session in sessions:
                        route(presence(self.sm.boundJID(session)[0], contact, "unavailable"))
                if item["subscription"] != "none" or item["ask"] or item["pending_in"]:
                    route(presence(bare, contact, "unsubscribed"))
                    route(presence(bare, contact, "unsubscribe"))
            return self.rosters.deleteRoster(roster, bare)

        yield self.rosters.run(bare, notify)


def install(sm):
    """
    Presence (C{sm.presence}), on the presence path; contacts of a deleted
    account are told.
    """
    sm.presence = PresenceHandler(sm)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.presence.accountDeleted)
