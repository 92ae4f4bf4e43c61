"""
Blocking command (XEP-0191): an account's blocklist, and the stanzas it
keeps out and in.

The owner reads the list (C{<blocklist/>}), adds to it (C{<block/>}) and
removes from it (C{<unblock/>}, all of it when empty); every change is
pushed to each of the account's resources that read the list.  The list
is stored as the account document L{DOCUMENT} (a sorted list of JIDs), and
goes with the account.

What the list does, as Prosody 13's mod_blocklist:

 - from a blocked entity (XEP-0191 section 3.5): presence is dropped;
   C{chat} and C{normal} messages and get/set iqs are answered
   C{service-unavailable}, as if the account were not there; anything
   else (headlines, groupchat, results, errors) is dropped.  A message
   to the full JID of a connected session is dropped too, as Prosody
   does: answered, it would reach a MUC room as an error from the
   account's session, and the room would take the session for gone and
   remove it;
 - to a blocked entity (section 3.6): messages and get/set iqs are refused
   with C{not-acceptable} and C{<blocked xmlns='urn:xmpp:blocking:errors'/>};
   presence (broadcast or directed) is not sent;
 - blocking a contact that receives the account's presence sends it
   unavailable presence from every available resource (section 3.3);
   unblocking sends it the current presence back (section 3.4).

An item matches as XEP-0191 section 3.5 (after XEP-0016) says: a blocked
full JID matches that JID only, a bare JID matches it and all its
resources, a domain matches every JID of the domain, and
C{domain/resource} that resource of the domain.

A private message through a MUC room comes from C{room@service/nick},
which is blocked when that address (or the room, or the service) is, and
dropped (never answered, see above).  Who is behind a nickname only the
room knows: the occupants' presence, which shows real JIDs in
non-anonymous rooms, goes from the room straight to the sessions, never
through here, so blocking a real JID does not block that person's private
messages through a room; the room would have to ask L{Blocking.blocks}
before routing one.
"""

import itertools

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.hooks import ACCOUNT_BLOCKS, ACCOUNT_DELETED
from xmuc.session.hooks import IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.session.documents import DocumentCache
from xmuc.session.items import FROM_STATES
from xmuc.session.stanzas import presence, retarget
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply, isError
from xmuc.xmpp.jid import parseJID

log = Logger()

#: The name of the blocklist among the account's documents.
DOCUMENT = "blocklist"

#: Blocklists kept in memory for accounts without a session (Prosody's
#: C{blocklist_cache_size}).
RECENT_LISTS = 256

#: The message types a blocked sender is answered for; other messages are
#: dropped (Prosody's mod_blocklist, bounce_message).
_ANSWERED_MESSAGES = frozenset((None, "chat", "normal"))

_EMPTY = frozenset()


def _decode(stored):
    # Most accounts block nobody: one empty set for all of them (each
    # frozenset() is a new object of about 200 bytes, kept per account
    # while it has sessions).
    return frozenset(stored) if stored else _EMPTY


def candidates(jid):
    """
    The blocklist items that would match C{jid} (XEP-0191 section 3.5).

    @param jid: a L{twisted.words.protocols.jabber.jid.JID}.
    @return: a tuple of strings.
    """
    host = jid.host
    if jid.user is None:
        if jid.resource is None:
            return (host,)
        return (jid.full(), host)
    bare = jid.userhost()
    if jid.resource is None:
        return (bare, host)
    return (jid.full(), bare, host + "/" + jid.resource, host)


def isBlocked(blocklist, jid):
    """
    @param blocklist: a set of blocked JID strings.
    @param jid: a L{twisted.words.protocols.jabber.jid.JID}.
    @return: whether C{blocklist} blocks C{jid}.
    """
    for candidate in candidates(jid):
        if candidate in blocklist:
            return True
    return False


class Blocking:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar store: the L{xmuc.storage.interfaces.IAccountDataStore}.
    @ivar lists: the L{DocumentCache} of the blocklists (frozensets of
        JID strings); C{cached(bare)} is its C{cached}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.store = sm.server.storage.accountData
        self.lists = DocumentCache(self.store, DOCUMENT, _decode, RECENT_LISTS)
        self.cached = self.lists.cached
        self._locks = {}
        self._pushIds = itertools.count(1)

    # --- stanzas

    def incoming(self, stanza, recipient, blocklist):
        """
        A stanza routed to an account whose blocklist is not empty.

        @param recipient: the parsed C{to}.
        @return: whether the stanza was refused (dropped or answered): the
            caller delivers it otherwise.
        """
        sender = parseJID(stanza.getAttribute("from") or "")
        if sender is None:
            return False
        if sender.userhost() == recipient.userhost() or not isBlocked(blocklist, sender):
            return False
        name = stanza.name
        kind = stanza.getAttribute("type")
        if name == "message":
            answer = kind in _ANSWERED_MESSAGES and (
                recipient.resource is None or recipient.full() not in self.sm.router.sessions
            )
        else:
            answer = name == "iq" and kind in ("get", "set")
        if answer:
            self.sm.router.route(errorReply(stanza, "service-unavailable", payload=False))
        return True

    def outgoing(self, session, stanza, recipient, blocklist):
        """
        A stanza with a C{to} sent by a session of an account whose
        blocklist is not empty.

        @return: whether it was refused (the caller routes it otherwise).
        """
        if not isBlocked(blocklist, recipient):
            return False
        name = stanza.name
        kind = stanza.getAttribute("type")
        if name == "presence" or isError(stanza) or (name == "iq" and kind not in ("get", "set")):
            return True
        # XEP-0191 section 3.6, example 15: type 'cancel'.
        reply = errorReply(
            stanza, "not-acceptable", text="You have blocked this JID", type="cancel", payload=False
        )
        reply.error.addElement((ns.BLOCKING_ERRORS, "blocked"))
        session.send(reply)
        return True

    def blocks(self, bare, contact):
        """
        @return: whether the account C{bare} blocks C{contact} (a bare JID
            str), by its list in memory (presence broadcasts).
        """
        blocklist = self.cached(bare)
        if not blocklist:
            return False
        jid = parseJID(contact)
        return jid is not None and isBlocked(blocklist, jid)

    def answerBlocks(self, account, contact, **kw):
        """
        C{account-blocks}: C{True} when C{account} blocks C{contact}, else
        L{None} (no answer).
        """
        return True if self.blocks(account, contact) else None

    # --- the iqs

    def handleIQ(self, iq, child, reply, session, bare, **kw):
        """
        A blocking command from one of the account's sessions.
        """
        kind = iq["type"]
        name = child.name
        if kind == "get":
            if name != "blocklist":
                reply(errorReply(iq, "bad-request", payload=False))
                return
            session.requestedBlocklist = True
            d = self._locked(bare, self._sendList, reply, iq, bare)
        elif name in ("block", "unblock"):
            try:
                jids = self._parseItems(child)
            except StanzaError as e:
                reply(errorReply(iq, e, payload=False))
                return
            if name == "block" and not jids:
                # XEP-0191 section 3.3: a block without items is bad.
                reply(errorReply(iq, "bad-request", payload=False))
                return
            d = self._locked(bare, self._change, reply, iq, bare, name, jids)
        else:
            reply(errorReply(iq, "bad-request", payload=False))
            return

        def failed(failure):
            log.failure("blocking command failed", failure)
            reply(errorReply(iq, "internal-server-error", payload=False))

        d.addErrback(failed)

    def _parseItems(self, child):
        """
        @return: the JID strings of the C{<item/>}s, normalized.
        @raise StanzaError: C{jid-malformed} for a bad one.
        """
        jids = []
        for item in child.elements():
            if item.name != "item" or item.uri != ns.BLOCKING:
                continue
            jid = parseJID(item.getAttribute("jid") or "")
            if jid is None:
                raise StanzaError("jid-malformed")
            full = jid.full()
            if full not in jids:
                jids.append(full)
        return jids

    def _locked(self, bare, function, *args):
        lock = self._locks.get(bare)
        if lock is None:
            lock = self._locks[bare] = defer.DeferredLock()

        def release(result):
            if not lock.locked and not lock.waiting and self._locks.get(bare) is lock:
                del self._locks[bare]
            return result

        return lock.run(self._current, bare, function, *args).addBoth(release)

    @defer.inlineCallbacks
    def _current(self, bare, function, *args):
        blocklist = self.cached(bare)
        if blocklist is None:
            stored = yield self.store.get(bare, DOCUMENT)
            blocklist = _decode(stored)
            self.lists.replace(bare, blocklist)
        result = yield function(blocklist, *args)
        return result

    def _sendList(self, blocklist, reply, iq, bare):
        result = toResponse(iq, "result")
        element = result.addElement((ns.BLOCKING, "blocklist"))
        for jid in sorted(blocklist):
            element.addElement("item")["jid"] = jid
        reply(result)

    @defer.inlineCallbacks
    def _change(self, blocklist, reply, iq, bare, command, jids):
        if command == "block":
            changed = [jid for jid in jids if jid not in blocklist]
            after = blocklist.union(changed)
        elif jids:
            changed = [jid for jid in jids if jid in blocklist]
            after = blocklist.difference(changed)
        else:
            changed = sorted(blocklist)
            after = _EMPTY
        if after != blocklist:
            if after:
                yield self.store.set(bare, DOCUMENT, sorted(after))
            else:
                yield self.store.delete(bare, DOCUMENT)
            self.lists.replace(bare, frozenset(after))
        reply(toResponse(iq, "result"))
        # XEP-0191 sections 3.3 and 3.4: every resource that asked for the
        # list is told, with the items of the request (an unblock without
        # items: without items).
        self._push(bare, command, jids)
        if changed:
            yield self._presenceFor(bare, command, changed)

    def _push(self, bare, command, jids):
        for session in self.sm.sessionsOf(bare):
            if not session.requestedBlocklist:
                continue
            iq = domish.Element((None, "iq"))
            iq["type"] = "set"
            iq["id"] = "block%d" % (next(self._pushIds),)
            iq["to"] = self.sm.boundJID(session)[0]
            element = iq.addElement((ns.BLOCKING, command))
            for jid in jids:
                element.addElement("item")["jid"] = jid
            session.send(iq)

    @defer.inlineCallbacks
    def _presenceFor(self, bare, command, changed):
        """
        Newly blocked contacts that receive the account's presence see it
        go (unavailable); unblocked ones get it back.
        """
        sessions = self.sm.availableSessions(bare)
        if not sessions:
            return
        roster = yield self.sm.rosters.get(bare)
        route = self.sm.router.route
        changed = set(changed)
        for contact, item in sorted(roster.items()):
            if item["subscription"] not in FROM_STATES:
                continue
            jid = parseJID(contact)
            if jid is None or not isBlocked(changed, jid):
                continue
            if command == "unblock" and self.blocks(bare, contact):
                continue
            for session in sessions:
                full = self.sm.boundJID(session)
                if full is None:
                    continue
                if command == "block":
                    route(presence(full[0], contact, "unavailable"))
                else:
                    route(retarget(session.presence, contact))

    # --- account life cycle

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the blocklist goes with the account.
        """
        self.lists.forget(jid)
        return self.store.delete(jid, DOCUMENT)


def install(sm):
    """
    The blocking command (C{sm.blocking}): the account's iqs, and the
    checks the session manager makes on the stanzas to and from the
    account.
    """
    sm.blocking = Blocking(sm)
    sm.serverFeatures.append(ns.BLOCKING)
    sm.accountDocuments.append(sm.blocking.lists)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_SET_SELF), ns.BLOCKING, sm.blocking.handleIQ)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.blocking.accountDeleted)
    sm.server.hooks.add(ACCOUNT_BLOCKS, sm.blocking.answerBlocks)
