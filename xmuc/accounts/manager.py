"""
The account life cycle: registration, password change, deletion.

The authentication backend (L{xmuc.auth.interfaces.IAuthBackend}) stores
the secrets; this module adds the rules around them (valid names, local
hosts, tombstones of deleted accounts) and what a deletion implies for the
rest of the server (roster, sessions, the C{account-deleted} event).
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmpp_stringprep import nodeprep

from xmuc.accounts import tombstones
from xmuc.auth.scram import saslprep
from xmuc.hooks import ACCOUNT_DELETED
from xmuc.xmpp.errors import StanzaError

log = Logger()


class AccountManager:
    """
    @ivar server: the L{xmuc.server.XmucServer} (uses C{auth}, C{storage},
        C{hooks}, C{sm}, C{hosts}, C{config}).
    """

    def __init__(self, server):
        self.server = server

    def prepareUsername(self, username, host):
        """
        Check a wanted user name and build the bare JID.

        @return: the bare JID string C{'user@host'}.
        @raise StanzaError: C{not-acceptable} for a name that cannot be the
            node part of a JID, or a host that is not ours.
        """
        if host not in self.server.hosts:
            raise StanzaError("not-acceptable", text="unknown host")
        try:
            node = nodeprep.prepare(username or "")
        except UnicodeError:
            raise StanzaError("not-acceptable", text="invalid user name")
        if not node or len(node.encode("utf-8")) > 1023:
            raise StanzaError("not-acceptable", text="invalid user name")
        return "%s@%s" % (node, host)

    def _checkPassword(self, password):
        if not password:
            raise StanzaError("not-acceptable", text="empty password")
        try:
            saslprep(password)
        except UnicodeError:
            raise StanzaError("not-acceptable", text="invalid characters in password")

    def isTombstoned(self, bare):
        """
        @return: Deferred firing with whether C{bare} belonged to a deleted
            account whose tombstone is still in force
            (L{tombstones.inForce}, C{[storage] tombstone_expiry}).
        """
        expiry = self.server.config.get("storage", "tombstone_expiry")
        return self.server.storage.tombstones.get(bare).addCallback(
            lambda tombstone: tombstone is not None and tombstones.inForce(tombstone["when"], expiry)
        )

    @defer.inlineCallbacks
    def register(self, username, host, password):
        """
        Create an account.

        @return: Deferred firing with the bare JID created.
        @raise StanzaError: (as a failure) C{conflict} when the name is taken
            or belonged to a deleted account; C{not-acceptable} for a bad
            name or password.
        """
        bare = self.prepareUsername(username, host)
        self._checkPassword(password)
        if (yield self.isTombstoned(bare)):
            raise StanzaError("conflict")
        created = yield self.server.auth.createAccount(bare, password)
        if not created:
            raise StanzaError("conflict")
        log.info("account {jid} registered", jid=bare)
        return bare

    @defer.inlineCallbacks
    def changePassword(self, bare, password):
        """
        @return: Deferred firing with L{None} once changed.
        @raise StanzaError: (as a failure) C{not-acceptable} for an empty or
            invalid password, C{item-not-found} for an unknown account.
        """
        self._checkPassword(password)
        changed = yield self.server.auth.setPassword(bare, password)
        if not changed:
            raise StanzaError("item-not-found")
        log.info("password of {jid} changed", jid=bare)

    @defer.inlineCallbacks
    def delete(self, bare, acknowledge=None):
        """
        Delete an account.  The tombstone comes first (nobody can register
        the name meanwhile), then the credentials (no new login), then the
        C{account-deleted} event (presence and MUC code react while the
        sessions still exist), then the roster; last, the account's sessions
        are closed with a C{not-authorized} stream error (XEP-0077 section
        3.2), so a client seeing its stream closed sees the deletion done.

        @param acknowledge: called with no argument once the tombstone and
            the deletion of the credentials are durable, before anything
            else (the XEP-0077 result must precede the stream's end, and
            must not be sent for a deletion that storage refused).
        @return: Deferred firing with whether an account existed, once its
            sessions are closed; failing (L{StorageError}) when storage
            failed before C{acknowledge} was called.
        """
        existed = yield tombstones.buryAccount(self.server.storage, self.server.auth, bare)
        if acknowledge is not None:
            acknowledge()
        yield self.server.hooks.fireAll(ACCOUNT_DELETED, jid=bare)
        yield self.server.storage.rosters.delete(bare)
        yield self.closeSessions(bare)
        log.info("account {jid} deleted", jid=bare)
        return existed

    def closeSessions(self, bare):
        """
        Close the sessions of a deleted account with a C{not-authorized}
        stream error (XEP-0077 section 3.2).

        @return: Deferred firing once every session is closed (a session
            failing to close is not an error).
        """
        closing = [
            defer.maybeDeferred(session.disconnect, "not-authorized", "account deleted")
            for session in list(self.server.sm.sessionsOf(bare))
        ]
        return defer.DeferredList(closing, consumeErrors=True)
