"""
The C{insecure} authentication backend, for test servers only (the
scansion scripts log in as anybody): any password is accepted and the
account is created on first login.  Only PLAIN is offered.

It refuses to be built unless C{[auth] allow_insecure = true}, and warns in
the log when it starts.
"""

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from xmuc.auth.interfaces import IAuthBackend

log = Logger()


@implementer(IAuthBackend)
class InsecureAuth:
    """
    @ivar storage: the L{xmuc.storage.interfaces.IStorage}; accounts are
        created in it so that the rest of the server sees them as real.
    """

    name = "insecure"

    def __init__(self, storage):
        self.storage = storage

    def mechanisms(self, encrypted):
        return ["PLAIN"]

    @defer.inlineCallbacks
    def checkPassword(self, username, host, password):
        bare = "%s@%s" % (username, host)
        # Created on first login.  Reading first: a write per login would
        # cost a database commit each time.
        existing = yield self.storage.accounts.get(bare)
        if existing is None:
            yield self.storage.accounts.create(bare, {})
        return True

    def getScramCredentials(self, username, host, hashName):
        return defer.succeed(None)

    def createAccount(self, bare, password):
        return self.storage.accounts.create(bare, {})

    def setPassword(self, bare, password):
        return self.storage.accounts.get(bare).addCallback(lambda c: c is not None)

    def deleteAccount(self, bare):
        return self.storage.accounts.delete(bare)

    def userExists(self, bare):
        return self.storage.accounts.get(bare).addCallback(lambda c: c is not None)


def fromConfig(config, storage):
    """
    The factory named by the C{insecure} plugin.

    @raise xmuc.config.ConfigError: unless C{[auth] allow_insecure} is true.
    @return: an L{InsecureAuth}.
    """
    if not config.get("auth", "allow_insecure"):
        raise config.error(
            "auth",
            "allow_insecure",
            "the 'insecure' backend accepts any password; set "
            "allow_insecure = true in [auth] to use it (test servers only)",
        )
    log.warn(
        "authentication backend 'insecure': ANY password is accepted and "
        "accounts are created on first login; never use this in production"
    )
    return InsecureAuth(storage)
