"""
The C{internal} authentication backend: accounts in the configured storage,
with only SCRAM data kept (salt, iteration count, stored key, server key
for SHA-1 and SHA-256), never the password.

PLAIN is checked by deriving the SCRAM-SHA-256 keys from the offered
password with the stored salt and comparing in constant time.  Key
derivation (PBKDF2) runs in the reactor's thread pool: it takes
milliseconds, and hashlib releases the GIL while it runs.

New credentials get C{[auth] scram_iterations}.  Credentials made with
fewer are made again, with a new salt, at the next successful PLAIN login:
only then does the server see the password.  A SCRAM login cannot upgrade
them: its proof gives the client key, from which the salted password
cannot be derived (RFC 5802 section 3), so they stay until that PLAIN
login or a password change, as with Prosody.
"""

import hmac

from twisted.internet import defer, threads
from twisted.logger import Logger
from zope.interface import implementer

from xmuc.auth import scram
from xmuc.auth.interfaces import IAuthBackend

log = Logger()

#: The hash whose data is used for PLAIN.
PLAIN_HASH = "SHA-256"


def _makeAllCredentials(password, iterations):
    """
    @return: the credentials dict stored for an account (JSON-ready).
    """
    return {
        "scram": {
            hashName: scram.encodeCredentials(
                scram.makeCredentials(hashName, password, iterations=iterations)
            )
            for hashName in scram.HASHES
        }
    }


def _plainMatches(stored, password):
    """
    @param stored: the decoded SHA-256 SCRAM credentials.
    @return: whether C{password} derives the same stored key.
    """
    try:
        salted = scram.saltedPassword(
            PLAIN_HASH, password, stored["salt"], stored["iterations"]
        )
    except UnicodeError:
        return False
    candidate = scram.storedKey(PLAIN_HASH, scram.clientKey(PLAIN_HASH, salted))
    return hmac.compare_digest(candidate, stored["stored_key"])


#: Compared against when the account does not exist (never matches: the
#: stored key is not a hash output length).
_DUMMY = dict(
    salt=b"\0" * scram.SALT_LENGTH,
    iterations=scram.DEFAULT_ITERATIONS,
    stored_key=b"",
    server_key=b"",
)


@implementer(IAuthBackend)
class InternalAuth:
    """
    @ivar storage: the L{xmuc.storage.interfaces.IStorage}.
    @ivar iterations: PBKDF2 iteration count for new passwords, and the
        least an account's credentials are upgraded to at a PLAIN login.
    """

    name = "internal"

    def __init__(self, storage, iterations=scram.DEFAULT_ITERATIONS):
        """
        @param iterations: see L{iterations}; raised to
            L{scram.MIN_ITERATIONS} when lower.
        """
        self.storage = storage
        self.iterations = max(iterations, scram.MIN_ITERATIONS)

    def mechanisms(self, encrypted):
        # PLAIN would show the password to anyone on the path.
        if encrypted:
            return ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        return ["SCRAM-SHA-256", "SCRAM-SHA-1"]

    @staticmethod
    def _scramOf(credentials, hashName):
        """
        @param credentials: an account's stored credentials, or L{None}.
        @return: the decoded SCRAM data for C{hashName}, or L{None}.
        """
        stored = (credentials or {}).get("scram", {}).get(hashName)
        if stored is None:
            return None
        return scram.decodeCredentials(stored)

    def getScramCredentials(self, username, host, hashName):
        d = self.storage.accounts.get("%s@%s" % (username, host))
        return d.addCallback(self._scramOf, hashName)

    @defer.inlineCallbacks
    def checkPassword(self, username, host, password):
        """
        Check a password (PLAIN); when it is right and the account's
        credentials have fewer iterations than L{iterations}, make them
        again before answering.
        """
        bare = "%s@%s" % (username, host)
        credentials = yield self.storage.accounts.get(bare)
        stored = self._scramOf(credentials, PLAIN_HASH)
        if stored is None:
            # Same work as for a real account: the answer time must not
            # tell which user names exist.
            yield threads.deferToThread(_plainMatches, _DUMMY, password)
            return False
        matches = yield threads.deferToThread(_plainMatches, stored, password)
        if matches and self._outdated(credentials):
            yield self._upgrade(bare, credentials, password)
        return matches

    def _outdated(self, credentials):
        """
        @return: whether some SCRAM data of C{credentials} has fewer
            iterations than L{iterations}, or a hash is missing.
        """
        for hashName in scram.HASHES:
            stored = self._scramOf(credentials, hashName)
            if stored is None or stored["iterations"] < self.iterations:
                return True
        return False

    @defer.inlineCallbacks
    def _upgrade(self, bare, credentials, password):
        """
        Replace C{credentials} by new ones made from C{password} with
        L{iterations}, unless they changed meanwhile.  A failure is logged,
        never raised: the login it follows is right all the same.
        """
        try:
            upgraded = yield threads.deferToThread(
                _makeAllCredentials, password, self.iterations
            )
            current = yield self.storage.accounts.get(bare)
            # Compared and written in one turn of the reactor: a password
            # change made meanwhile is kept, and one made after is applied
            # after this (storage applies the accounts' calls in order).
            if current == credentials:
                yield self.storage.accounts.update(bare, upgraded)
                log.info(
                    "credentials of {jid} upgraded to {iterations} iterations",
                    jid=bare,
                    iterations=self.iterations,
                )
        except Exception:
            log.failure("could not upgrade the credentials of {jid}", jid=bare)

    @defer.inlineCallbacks
    def createAccount(self, bare, password):
        credentials = yield threads.deferToThread(
            _makeAllCredentials, password, self.iterations
        )
        created = yield self.storage.accounts.create(bare, credentials)
        return created

    @defer.inlineCallbacks
    def setPassword(self, bare, password):
        credentials = yield threads.deferToThread(
            _makeAllCredentials, password, self.iterations
        )
        updated = yield self.storage.accounts.update(bare, credentials)
        return updated

    def deleteAccount(self, bare):
        return self.storage.accounts.delete(bare)

    def userExists(self, bare):
        return self.storage.accounts.get(bare).addCallback(lambda c: c is not None)


def fromConfig(config, storage):
    """
    The factory named by the C{internal} plugin.

    @param config: the L{xmuc.config.Config}; C{[auth] scram_iterations} is
        the iteration count of new credentials.
    @return: an L{InternalAuth}.
    """
    return InternalAuth(storage, config.get("auth", "scram_iterations"))
