"""
Offline messages, as Prosody 0.12's mod_offline (with mod_message's rules).

A message of type C{chat} or C{normal} (whatever its payload, as Prosody)
to an existing local account that has no available resource of priority
0 or more is stored (L{xmuc.storage.interfaces.IOfflineStore}) instead
of bounced.  C{groupchat} is bounced and C{headline} and C{error} are
dropped, as before.  An unknown account, a full store (C{limit}
messages waiting) or a failing database: C{service-unavailable}, as
Prosody.

When a session of the user sends initial presence with priority 0 or
more, the stored messages go to that session only (no carbons, as
Prosody), oldest first, each with a C{<delay xmlns='urn:xmpp:delay'
from='host' stamp=.../>} (XEP-0203) of when the server received it, and
are removed from storage.  The delivery comes after what initial
presence sends (contacts' and other resources' presence, pending
subscription requests).  As Prosody's mod_mam, a session that queried
its archive before its initial presence gets no offline messages: it has
them from the archive, and they stay stored for a later login.

The personal archive (L{xmuc.session.mam}) archives a stored message once, when
it is stored (it carries its archive C{<stanza-id/>} in storage, as with
Prosody); its delivery from storage is not archived again.

Deleting an account deletes its offline messages and its PEP data.
"""

import time

from twisted.logger import Logger

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.mam import stripOwnStanzaIDs
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.stanza import parseElement

log = Logger()

#: Advertised in the server's disco#info, as Prosody's mod_offline.
FEATURE = "msgoffline"

#: The message types that may be stored (a missing type is C{normal}).
STORABLE_TYPES = frozenset(("chat", "normal"))


def isStorable(stanza):
    """
    @return: whether a message undeliverable now may wait in storage.
    """
    return stanza.getAttribute("type", "normal") in STORABLE_TYPES


def delayed(xml, host, when):
    """
    A stored message as it is delivered.

    @param xml: the serialized message.
    @param host: the server's domain (the C{from} of the delay).
    @param when: POSIX time the server received it.
    @return: the L{domish.Element}, with its C{<delay/>} added.
    """
    message = parseElement(xml)
    delay = message.addElement((ns.DELAY, "delay"))
    delay["from"] = host
    delay["stamp"] = stamp(when)
    return message


class OfflineMessages:
    """
    Storing and delivering the messages of users who are offline.

    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar now: callable giving the POSIX time messages are stored at.
    """

    def __init__(self, sm):
        self.sm = sm
        self.now = time.time

    @property
    def store(self):
        return self.sm.server.storage.offline

    def _topSessions(self, bare):
        return [s for s in self.sm.availableSessions(bare) if s.priority >= 0]

    # --- storing

    def keep(self, stanza, recipient, archived):
        """
        A chat or normal message no available resource may have: store it
        if the account exists, else bounce it.

        @param recipient: the C{to} (L{JID}).
        @param archived: what L{xmuc.session.mam.PersonalArchive.delivered}
            needs to archive the message once stored, or L{None}.
        """
        bare = recipient.userhost()
        d = self.sm.accountState(bare)
        d.addCallback(self._accountChecked, stanza, recipient, archived)
        d.addErrback(self._failed, stanza, bare)

    def _accountChecked(self, state, stanza, recipient, archived):
        bare = recipient.userhost()
        if state != "exists":
            self._bounce(stanza, bare)
            return None
        if self._topSessions(bare):
            # A resource became available while the account was looked up:
            # deliver as if it had been there.
            sessions = self.sm._deliverMessage(stanza, recipient, archived)
            if archived is not None:
                self.sm.mam.delivered(archived, sessions)
            return None
        d = self.store.push(bare, self.now(), stanza.toXml())
        d.addCallback(self._pushed, stanza, bare, archived)
        return d

    def _pushed(self, stored, stanza, bare, archived):
        if not stored:
            log.debug("offline storage of {user} is full", user=bare)
            self._bounce(stanza, bare)
            return
        if archived is not None:
            self.sm.mam.delivered(archived, True)
        top = self._topSessions(bare)
        if top:
            # A resource became available (and may have fetched the stored
            # messages already) while this one was being stored.
            self.flush(max(top, key=lambda s: s.priority), bare)

    def _failed(self, failure, stanza, bare):
        log.failure("could not store an offline message for {user}", failure, user=bare)
        self._bounce(stanza, bare)

    def _bounce(self, stanza, bare):
        # The archive's stanza-id is the user's business, not the sender's.
        stripOwnStanzaIDs(stanza, bare)
        self.sm.bounce(stanza, "service-unavailable")

    # --- delivering

    def initialPresence(self, session, bare):
        """
        A session sent initial presence (after its broadcast): give it the
        stored messages when its priority is 0 or more, unless it queried
        its archive first (Prosody's mod_mam).
        """
        if session.priority < 0 or session.mamRequested:
            return
        self.flush(session, bare)

    def flush(self, session, bare):
        """
        Deliver the stored messages of C{bare} to C{session} and remove
        them.
        """
        d = self.store.pop(bare)
        d.addCallback(self._deliver, session, bare)
        d.addErrback(
            lambda f: log.failure("could not deliver the offline messages of {user}", f, user=bare)
        )

    def _deliver(self, messages, session, bare):
        if not messages:
            return None
        if self.sm.boundJID(session) is None or session.presence is None:
            # The session left meanwhile: another one, or back to storage.
            top = self._topSessions(bare)
            if top:
                session = max(top, key=lambda s: s.priority)
            else:
                return self._restore(messages, bare)
        host = bare.rpartition("@")[2]
        for message in messages:
            try:
                element = delayed(message["xml"], host, message["when"])
            except ValueError:
                log.warn("dropped an unreadable offline message of {user}", user=bare)
                continue
            session.send(element)
        return None

    def _restore(self, messages, bare):
        pushes = [self.store.push(bare, message["when"], message["xml"]) for message in messages]
        for d in pushes:
            d.addErrback(lambda f: log.failure("could not keep an offline message of {user}", f, user=bare))
        return None

    # --- account life cycle

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the offline messages and PEP data go with the
        account.
        """
        storage = self.sm.server.storage
        d = storage.offline.delete(jid)
        d.addCallback(lambda _: storage.pep.deleteAll(jid))
        return d


def install(sm):
    """
    Offline messages (C{sm.offline}), kept on the message path and
    delivered at initial presence; they go with a deleted account.
    """
    sm.offline = OfflineMessages(sm)
    sm.serverFeatures.append(FEATURE)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.offline.accountDeleted)
