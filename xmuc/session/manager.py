"""
The session manager service: bound sessions and local delivery.

The features (presence, subscriptions, roster, service discovery, the
server's own iqs, carbons, the personal archive, personal eventing,
offline messages) are the modules of L{FEATURES}, each installed with its
C{install(sm)}: iqs reach them through L{SessionManager.hooks} (events in
L{xmuc.session.hooks}), one dictionary lookup per iq; messages and
presence reach them by direct calls, which keeps that path free of any
dispatch.
"""

import uuid

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmpp_stringprep import resourceprep
from zope.interface import implementer

from xmuc.accounts.tombstones import accountInForce
from xmuc.hooks import HookRegistry
from xmuc.interfaces import ISessionManager
from xmuc.session import (
    blocking,
    bookmarks,
    carbons,
    contactinfo,
    csi,
    disco,
    entitytime,
    lastactivity,
    mam,
    offline,
    pep,
    presence,
    private,
    roster,
    serveriq,
    subscription,
    vcard,
    vcard4,
)
from xmuc.session.hooks import BARE, HOST, IQ_RESPONSE, RESOURCE_BOUND, SELF, SESSION_EVENTS
from xmuc.session.mam import inArchive
from xmuc.session.offline import isStorable
from xmuc.session.rosters import RosterCache
from xmuc.session.stanzas import onlyChild
from xmuc.xmpp.errors import StanzaError, errorReply, isError
from xmuc.xmpp.jid import jidFromParts, parseJID

log = Logger()

#: Longest resourcepart allowed (RFC 7622 3.4), in bytes.
MAX_RESOURCE_BYTES = 1023

#: The feature modules, installed in this order.  Presence comes last so
#: that, on an account deletion, contacts are told after the archive, PEP
#: and offline storage started forgetting the account.  The archive comes
#: before PEP: the account's disco#info lists features in install order.
FEATURES = (
    subscription,
    roster,
    disco,
    serveriq,
    entitytime,
    lastactivity,
    contactinfo,
    blocking,
    vcard,
    private,
    carbons,
    mam,
    pep,
    bookmarks,
    vcard4,
    csi,
    offline,
    presence,
)

#: Who an iq from a session may be for, in the order tried: without
#: C{to}, the account's own data, else the host; to its own bare JID, the
#: account's own data, else what the server answers for any account.
_NO_TO = (SELF, HOST)
_TO_HOST = (HOST,)
_TO_OWN_ACCOUNT = (SELF, BARE)


@implementer(ISessionManager)
class SessionManager(service.Service):
    """
    RFC 6121 for the users of the local hosts.

    @ivar server: the L{xmuc.server.XmucServer} (or any object with its
        C{hosts, router, storage, hooks, config, auth} attributes).
    @ivar router: the L{xmuc.router.Router}; its C{sessions} and
        C{localDelivery} are maintained here.
    @ivar rosters: the L{RosterCache}.
    @ivar clock: the L{IReactorTime} used for the shutdown timeout.
    @ivar hooks: the L{HookRegistry} of the session manager's events
        (L{xmuc.session.hooks}).
    @ivar serverFeatures: the disco#info features of the local hosts, as
        declared by the installed features.
    @ivar serverInfoForms: the extended forms (XEP-0128) of the local
        hosts' disco#info.
    @ivar accountFeatures: the disco#info features of an account, in
        order.
    @ivar streamFeatures: the C{(namespace, name)} of the empty elements
        the features add to the stream features offered after
        authentication (e.g. roster versioning's C{<ver/>}).
    @ivar streamElements: namespace -> callable C{(session, element)}
        taking the top-level elements in it that a bound client sends
        besides stanzas (Client State Indication); it returns whether it
        understood the element.
    @ivar accountIdentities: the C{(category, type)} identities of an
        account besides C{account/registered}.
    @ivar presence: the L{xmuc.session.presence.PresenceHandler}.
    @ivar subscriptions: the
        L{xmuc.session.subscription.SubscriptionHandler}.
    @ivar rosterHandler: the L{xmuc.session.roster.RosterHandler}.
    @ivar carbons: the L{xmuc.session.carbons.CarbonsHandler}.
    @ivar mam: the L{xmuc.session.mam.PersonalArchive}.
    @ivar pep: the L{xmuc.session.pep.PersonalEventing}.
    @ivar blocking: the L{xmuc.session.blocking.Blocking}.
    @ivar vcard: the L{xmuc.session.vcard.VCards}.
    @ivar lastActivity: the L{xmuc.session.lastactivity.LastActivity}.
    @ivar accountDocuments: the
        L{xmuc.session.documents.DocumentCache}s the stanza path reads
        for every stanza of an account (its blocklist, its avatar hash):
        pinned while the account has sessions; a session's stanzas wait
        until they are read.
    @ivar offline: the L{xmuc.session.offline.OfflineMessages}.
    """

    def __init__(self, server):
        self.server = server
        self.router = server.router
        self.router.localDelivery = self.deliver
        self.rosters = RosterCache(server.storage.rosters)
        self.clock = None
        # bare JID str -> {resource: session}
        self._users = {}
        # session -> (full JID str, bare JID str, resource)
        self._bound = {}
        self._ending = set()
        self._drained = None
        self.hooks = HookRegistry(SESSION_EVENTS)
        self.serverFeatures = []
        self.serverInfoForms = []
        self.accountFeatures = []
        self.streamFeatures = []
        self.streamElements = {}
        self.accountDocuments = []
        self.accountIdentities = []
        for feature in FEATURES:
            feature.install(self)

    # --- sessions

    def bind(self, session, resource):
        """
        Bind a resource for an authenticated session.

        @param session: the L{ISession}; its C{jid} holds the authenticated
            bare JID when this is called, and the full JID afterwards.
        @param resource: the requested resource or L{None}.
        @return: the full JID bound (L{twisted.words.protocols.jabber.jid.JID}).
        @raise StanzaError: C{bad-request} for an invalid resource,
            C{not-allowed} when the session is already bound.
        """
        if session in self._bound:
            raise StanzaError("not-allowed", text="a resource is already bound")
        if resource is None:
            resource = uuid.uuid4().hex[:12]
        else:
            try:
                resource = resourceprep.prepare(resource)
            except (UnicodeError, ValueError):
                raise StanzaError("bad-request", text="invalid resource")
            if not resource or len(resource.encode("utf-8")) > MAX_RESOURCE_BYTES:
                raise StanzaError("bad-request", text="invalid resource")
        full = jidFromParts(session.jid.user, session.jid.host, resource)
        if full is None:
            raise StanzaError("bad-request", text="invalid resource")
        fullStr = full.full()
        bare = full.userhost()
        old = self.router.sessions.get(fullStr)
        if old is not None and old is not session:
            # The old session leaves now, before the new one can send
            # presence with the same full JID.
            self._release(old)
            try:
                old.disconnect("conflict")
            except Exception:
                log.failure("closing a replaced session failed")
        session.jid = full
        session.presence = None
        session.priority = 0
        session.interestedInRoster = False
        session.directedPresence = set()
        session.wantCarbons = False
        session.mamRequested = False
        session.requestedBlocklist = False
        self._bound[session] = (fullStr, bare, resource)
        self._users.setdefault(bare, {})[resource] = session
        self.router.sessions[fullStr] = session
        self.rosters.pin(bare)
        for documents in self.accountDocuments:
            documents.pin(bare)
        self.hooks.fire(RESOURCE_BOUND, session=session, bare=bare)
        return full

    def unbind(self, session):
        """
        The session's stream ended: unavailable presence goes to whoever
        had its presence, then the session is forgotten.  Calling it again
        (or for a session replaced by a conflict) does nothing.
        """
        if session in self._bound:
            self._release(session)

    def _release(self, session):
        fullStr, bare, resource = self._bound.pop(session)
        resources = self._users.get(bare)
        if resources is not None and resources.get(resource) is session:
            del resources[resource]
            if not resources:
                del self._users[bare]
        if self.router.sessions.get(fullStr) is session:
            del self.router.sessions[fullStr]
        d = self.presence.sessionEnded(session, fullStr, bare)
        self._ending.add(d)
        d.addErrback(lambda f: log.failure("broadcasting the end of a session failed", f))
        d.addBoth(self._ended, d, bare)

    def _ended(self, _, d, bare):
        self._ending.discard(d)
        self.rosters.unpin(bare)
        for documents in self.accountDocuments:
            documents.unpin(bare)
        self._checkDrained()

    def sessionsOf(self, bare):
        """
        @param bare: a bare JID str.
        @return: list of the bound L{ISession}s of C{bare}.
        """
        resources = self._users.get(bare)
        return list(resources.values()) if resources else []

    def availableSessions(self, bare):
        """
        @return: the sessions of C{bare} that sent available presence.
        """
        resources = self._users.get(bare)
        if not resources:
            return []
        return [s for s in resources.values() if s.presence is not None]

    def isOnline(self, bare):
        """
        @return: whether C{bare} has at least one bound session.
        """
        return bare in self._users

    def boundJID(self, session):
        """
        @return: C{(full, bare)} JID strings of a bound session, or L{None}.
        """
        bound = self._bound.get(session)
        return None if bound is None else bound[:2]

    def accountState(self, bare):
        """
        Whether an account exists, was deleted, or never existed.

        @return: Deferred firing with C{'exists'}, C{'deleted'} (its
            tombstone is in force,
            L{xmuc.accounts.tombstones.accountInForce}) or C{'unknown'}
            (never existed, or its tombstone expired).
        """
        if bare in self._users:
            return defer.succeed("exists")
        userExists = getattr(self.server.auth, "userExists", None)
        if userExists is not None:
            d = defer.maybeDeferred(userExists, bare)
        else:
            d = self.server.storage.accounts.get(bare).addCallback(lambda c: c is not None)

        def checked(exists):
            if exists:
                return "exists"
            expiry = self.server.config.get("storage", "tombstone_expiry")
            return self.server.storage.tombstones.get(bare).addCallback(
                lambda t: "deleted" if accountInForce(t, expiry) else "unknown"
            )

        return d.addCallback(checked)

    def undelivered(self, session, stanzas):
        """
        The stanzas sent to C{session}, now ended, that its client never
        acknowledged (XEP-0198), as Prosody's mod_smacks with mod_offline:
        chat and normal messages are kept for the account
        (L{xmuc.session.offline.OfflineMessages.keep}: delivered to another
        available resource if there is one, else stored, bounced only when
        storage refuses), unless the client can fetch them from an archive
        (L{xmuc.session.mam.inArchive}); presence, groupchat, errors and iq
        results need no answer; the rest is bounced with
        C{recipient-unavailable}.

        @param session: the L{ISession}, already unbound.
        @param stanzas: the unacknowledged L{domish.Element}s, oldest first.
        """
        bare = session.jid.userhost()
        recipient = parseJID(bare)
        archivedBy = bare if session.mamRequested else None
        for stanza in stanzas:
            name = stanza.name
            # The session is gone and its unavailable presence says so.
            if name == "presence" or isError(stanza):
                continue
            kind = stanza.getAttribute("type")
            if name == "message":
                if kind == "groupchat":
                    continue
                if kind in (None, "chat", "normal"):
                    if not inArchive(stanza, archivedBy):
                        self.offline.keep(stanza, recipient, None)
                    continue
            elif name == "iq" and kind not in ("get", "set"):
                continue
            self.bounce(stanza, "recipient-unavailable")

    # --- stanzas from clients

    def fromClient(self, session, stanza):
        """
        A stanza sent by a bound client: stamp C{from}, handle what is for
        the server or the user's account, route the rest.
        """
        bound = self._bound.get(session)
        if bound is None:
            return
        fullStr, bare, _ = bound
        for documents in self.accountDocuments:
            if documents.cached(bare) is None:
                # Every stanza of the session waits, so that they keep
                # their order.
                documents.whenLoaded(
                    bare, self.fromClient, (session, stanza), lambda: self._notSent(session, stanza)
                )
                return
        blocklist = self.blocking.cached(bare)
        stanza["from"] = fullStr
        to = stanza.getAttribute("to")
        recipient = None
        if to is not None:
            recipient = parseJID(to)
            if recipient is None:
                if not isError(stanza):
                    session.send(errorReply(stanza, "jid-malformed"))
                return
        name = stanza.name
        # Before blocking: a malformed iq to a blocked contact is still a
        # bad-request, not silently dropped.
        if name == "iq" and not self._answerableIQ(stanza, session):
            return
        if recipient is not None and blocklist:
            if self.blocking.outgoing(session, stanza, recipient, blocklist):
                return
        if name == "message":
            if recipient is None:
                # RFC 6120 10.3.1: no 'to' means the user's own account.
                stanza["to"] = bare
            # Sent carbons carry the archive's stanza-id; the message
            # routed does not (it names the sender's archive).
            archived = self.mam.sent(stanza, bare)
            self.carbons.sent(session, stanza if archived is None else archived, bare)
            self.router.route(stanza)
        elif name == "presence":
            self.presence.fromClient(session, stanza, recipient, fullStr, bare)
        elif name == "iq":
            if recipient is None:
                self._handleIQ(stanza, session.send, session, bare, _NO_TO)
            elif recipient.resource is not None:
                self.router.route(stanza)
            elif recipient.user is None and recipient.host in self.router.hosts:
                self._handleIQ(stanza, session.send, session, bare, _TO_HOST)
            elif recipient.userhost() == bare:
                self._handleIQ(stanza, session.send, session, bare, _TO_OWN_ACCOUNT)
            else:
                self.router.route(stanza)

    def _answerableIQ(self, iq, session):
        """
        Check an iq from a client before anyone sees it, as Prosody's stanza
        router does, so that no recipient (the server, a user, a room) gets
        an iq it cannot answer: RFC 6120 8.1.3 requires an id, 8.2.3 a
        known type and exactly one payload in a get or set.  A bad get or
        set (or one without a type) is answered C{bad-request}; a result or
        error without an id answers nothing and is dropped.

        @return: whether the iq may go on.
        """
        kind = iq.getAttribute("type")
        hasID = bool(iq.getAttribute("id"))
        if kind in ("result", "error"):
            return hasID
        if kind not in ("get", "set"):
            problem = "an iq is of type get, set, result or error"
        elif not hasID:
            problem = "an iq needs an id"
        elif onlyChild(iq) is None:
            problem = "a get or set iq has exactly one payload"
        else:
            return True
        session.send(errorReply(iq, "bad-request", text=problem, payload=False))
        return False

    def _notSent(self, session, stanza):
        if not isError(stanza):
            session.send(errorReply(stanza, "internal-server-error", payload=False))

    # --- iqs the server answers

    def _iqPayload(self, iq, reply):
        """
        @return: the payload of a get/set iq, or L{None} when the iq needs
            no further handling (a result/error, given to the
            C{iq-response} handlers, or a malformed one that was answered).
        """
        kind = iq.getAttribute("type")
        if kind not in ("get", "set"):
            if kind not in ("result", "error"):
                reply(errorReply(iq, "bad-request", payload=False))
            else:
                self.hooks.fire(IQ_RESPONSE, iq=iq)
            return None
        child = onlyChild(iq)
        if child is None:
            reply(errorReply(iq, "bad-request", payload=False))
        return child

    def _handleIQ(self, iq, reply, session, bare, addressees):
        """
        Fire the iq event of the first of C{addressees} that has a handler
        for the iq's namespace; C{service-unavailable} when none has.

        @param reply: callable sending a stanza back to the requester.
        @param session: the requesting local L{ISession}, or L{None} when
            the iq was routed (a component).
        @param bare: the requesting user's bare JID str, or L{None}.
        @param addressees: families by iq type (L{xmuc.session.hooks}).
        """
        child = self._iqPayload(iq, reply)
        if child is None:
            return
        kind = iq["type"]
        hooks = self.hooks
        for families in addressees:
            event = families[kind] + (child.uri or "")
            if hooks.has(event):
                hooks.fire(event, iq=iq, child=child, reply=reply, session=session, bare=bare)
                return
        reply(errorReply(iq, "service-unavailable"))

    def _handleIQToAccount(self, iq, bare):
        """
        An iq get/set routed to local user C{bare} by someone else: the
        C{iq-*/bare} handlers answer, once the account is known to exist.
        """
        reply = self.router.route
        child = self._iqPayload(iq, reply)
        if child is None:
            return
        event = BARE[iq["type"]] + (child.uri or "")
        if not self.hooks.has(event):
            self.bounce(iq, "service-unavailable")
            return

        def answer(state):
            if state != "exists":
                self.bounce(iq, "service-unavailable")
                return None
            return self.hooks.fire(event, iq=iq, child=child, reply=reply, session=None, bare=bare)

        d = self.accountState(bare)
        d.addCallback(answer)
        d.addErrback(lambda f: log.failure("answering an iq to {jid} failed", f, jid=bare))

    # --- stanzas to local JIDs

    def deliver(self, stanza):
        """
        A stanza routed to a JID of a local host (RFC 6121 section 8.5).
        """
        recipient = parseJID(stanza.getAttribute("to"))
        if recipient is None:
            return
        name = stanza.name
        if recipient.user is None:
            # The host itself: iqs are answered, the rest is dropped.
            if name == "iq":
                self._handleIQ(stanza, self.router.route, None, None, _TO_HOST)
            return
        bare = recipient.userhost()
        blocklist = self.blocking.cached(bare)
        if blocklist is None and name == "presence" and bare not in self._users:
            # Presence to an account without sessions reaches nobody (a
            # subscription request or probe is another matter): no need
            # to read its blocklist.
            if stanza.getAttribute("type") in (None, "unavailable", "error"):
                blocklist = frozenset()
        if blocklist is None:
            self.blocking.lists.whenLoaded(
                bare,
                self.deliver,
                (stanza,),
                lambda: self.bounce(stanza, "internal-server-error"),
            )
            return
        if blocklist and self.blocking.incoming(stanza, recipient, blocklist):
            return
        if name == "message":
            copied = self.carbons.beforeDelivery(stanza)
            if copied is None:
                return
            pending = self.mam.beforeDelivery(stanza, recipient)
            delivered = self._deliverMessage(stanza, recipient, pending)
            if pending is not None:
                self.mam.delivered(pending, delivered)
            if copied and delivered:
                self.carbons.received(stanza, recipient.userhost(), delivered)
        elif name == "presence":
            self.presence.deliver(stanza, recipient)
        elif name == "iq":
            self._deliverIQ(stanza, recipient)

    def bounce(self, stanza, condition):
        """
        Answer C{stanza} with an error, unless it is an error itself.
        """
        if not isError(stanza) and stanza.getAttribute("from"):
            self.router.route(errorReply(stanza, condition))

    def _deliverMessage(self, stanza, recipient, archived=None):
        """
        @param archived: what the personal archive needs to archive the
            message (L{xmuc.session.mam.PersonalArchive.beforeDelivery}), for
            when it is stored offline; or L{None}.
        @return: the sessions the message was delivered to (empty when
            it was bounced, dropped or given to offline storage).
        """
        kind = stanza.getAttribute("type", "normal")
        if recipient.resource is not None:
            session = self.router.sessions.get(recipient.full())
            if session is not None:
                session.send(stanza)
                return [session]
            # RFC 6121 8.5.3.2.1: to an offline resource.
            if kind == "groupchat":
                self.bounce(stanza, "service-unavailable")
                return []
            if kind == "headline" or kind == "error":
                return []
        if kind == "error":
            return []
        if kind == "groupchat":
            # RFC 6121 8.5.2.1.1: groupchat to a bare JID.
            self.bounce(stanza, "service-unavailable")
            return []
        candidates = [
            s for s in self.availableSessions(recipient.userhost()) if s.priority >= 0
        ]
        if not candidates:
            # RFC 6121 8.5.2.2.1: headlines are dropped; chat and normal
            # messages wait in offline storage (or bounce when the account
            # does not exist or its storage is full).
            if isStorable(stanza):
                self.offline.keep(stanza, recipient, archived)
            elif kind != "headline":
                self.bounce(stanza, "service-unavailable")
            return []
        if kind != "headline":
            top = max(s.priority for s in candidates)
            candidates = [s for s in candidates if s.priority == top]
        if len(candidates) == 1:
            candidates[0].send(stanza)
        else:
            data = stanza.toXml()
            for session in candidates:
                session.send(data)
        return candidates

    def _deliverIQ(self, stanza, recipient):
        kind = stanza.getAttribute("type")
        if recipient.resource is not None:
            session = self.router.sessions.get(recipient.full())
            if session is not None:
                session.send(stanza)
            elif kind in ("get", "set"):
                self.bounce(stanza, "service-unavailable")
            return
        if kind in ("get", "set"):
            self._handleIQToAccount(stanza, recipient.userhost())
        else:
            # A contact answering a query of the server (personal
            # eventing's caps queries).
            self.hooks.fire(IQ_RESPONSE, iq=stanza)

    # --- service

    def stopService(self):
        """
        Close every session with a C{system-shutdown} stream error and wait
        until all of them have left (and their unavailable presence went
        out), at most C{[server] shutdown_timeout} seconds.

        @return: a Deferred firing when done.
        """
        service.Service.stopService(self)
        if not self._bound and not self._ending:
            return defer.succeed(None)
        self._drained = defer.Deferred()
        drained = self._drained
        for session in list(self._bound):
            try:
                session.disconnect("system-shutdown")
            except Exception:
                log.failure("closing a session on shutdown failed")
        self._checkDrained()
        if drained.called:
            return drained
        clock = self.clock
        if clock is None:
            from twisted.internet import reactor as clock
        timeout = self.server.config.get("server", "shutdown_timeout")
        call = clock.callLater(timeout, self._giveUp)

        def cancelTimeout(result):
            if call.active():
                call.cancel()
            return result

        return drained.addBoth(cancelTimeout)

    def _giveUp(self):
        # Sessions that did not close in time leave anyway, so that their
        # presence is cleaned up before storage stops.
        for session in list(self._bound):
            self._release(session)
        if self._drained is not None and not self._drained.called:
            d, self._drained = self._drained, None
            d.callback(None)

    def _checkDrained(self):
        if self._drained is not None and not self._bound and not self._ending:
            d, self._drained = self._drained, None
            d.callback(None)
