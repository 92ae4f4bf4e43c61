"""
The C{internal} authentication backend: accounts in the configured storage,
with only SCRAM data kept (salt, iteration count, stored key, server key
for SHA-1 and SHA-256), never the password.

PLAIN is checked by deriving the SCRAM-SHA-256 keys from the offered
password with the stored salt and comparing in constant time.  Key
derivation (PBKDF2) runs in the reactor's thread pool: it takes
milliseconds, and hashlib releases the GIL while it runs.
"""

import hmac

from twisted.internet import defer, threads
from zope.interface import implementer

from xmuc.auth import scram
from xmuc.auth.interfaces import IAuthBackend

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
    @ivar iterations: PBKDF2 iteration count for new passwords.
    """

    name = "internal"

    def __init__(self, storage, iterations=scram.DEFAULT_ITERATIONS):
        self.storage = storage
        self.iterations = max(iterations, scram.MIN_ITERATIONS)

    def mechanisms(self, encrypted):
        # PLAIN would show the password to anyone on the path.
        if encrypted:
            return ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        return ["SCRAM-SHA-256", "SCRAM-SHA-1"]

    @defer.inlineCallbacks
    def _scram(self, bare, hashName):
        credentials = yield self.storage.accounts.get(bare)
        if not credentials:
            return None
        stored = credentials.get("scram", {}).get(hashName)
        if stored is None:
            return None
        return scram.decodeCredentials(stored)

    def getScramCredentials(self, username, host, hashName):
        return self._scram("%s@%s" % (username, host), hashName)

    @defer.inlineCallbacks
    def checkPassword(self, username, host, password):
        stored = yield self._scram("%s@%s" % (username, host), PLAIN_HASH)
        if stored is None:
            # Same work as for a real account: the answer time must not
            # tell which user names exist.
            yield threads.deferToThread(_plainMatches, _DUMMY, password)
            return False
        matches = yield threads.deferToThread(_plainMatches, stored, password)
        return matches

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

    @return: an L{InternalAuth}.
    """
    return InternalAuth(storage)
