"""
Server Dialback (XEP-0220) keys and elements.

A key proves that the server asking to send as a domain is the one the
domain's DNS (or static route) points to: the receiving server calls the
domain's authoritative server back and asks whether it made the key.  Keys
are computed, never stored (XEP-0185), so the authoritative server checks
one by computing it again.
"""

import hashlib
import hmac
import os
import secrets

from twisted.internet import defer
from twisted.words.xish import domish

from xmuc.xmpp import ns


#: Where a server without C{[s2s] dialback_secret} keeps the secret it drew
#: (L{xmuc.storage.interfaces.IAccountDataStore}): under the empty owner,
#: which no account can have, so that keys made before a restart, by
#: another process of the same server or by C{xmucctl check s2s} verify.
STORED_SECRET = ("", "s2s-dialback-secret")


@defer.inlineCallbacks
def storedSecret(store):
    """
    @param store: the L{xmuc.storage.interfaces.IAccountDataStore}.
    @return: Deferred firing with the stored secret, drawn and stored the
        first time.
    """
    secret = yield store.get(*STORED_SECRET)
    if not secret:
        secret = secrets.token_hex(32)
        yield store.set(*STORED_SECRET, secret)
    return secret


class DialbackKeys:
    """
    Makes and checks the keys of one server.

    @ivar _hashed: C{SHA-256(secret)}, the HMAC key of XEP-0185.
    """

    def __init__(self, secret=None):
        """
        @param secret: the shared secret (str), or L{None} for a random one:
            keys only need to verify while a stream is being authenticated,
            and the authoritative server is this very process.
        """
        if secret is None:
            raw = os.urandom(32)
        else:
            raw = secret.encode("utf-8")
        self._hashed = hashlib.sha256(raw).hexdigest().encode("ascii")

    def key(self, receiving, originating, streamID):
        """
        XEP-0185 section 3: C{HMAC-SHA256(SHA256(secret), receiving + ' ' +
        originating + ' ' + streamID)}, in hexadecimal.

        @param receiving: the domain the stream goes to.
        @param originating: the domain that wants to send on it.
        @param streamID: the id the receiving server gave the stream.
        @return: the key (str).
        """
        text = "%s %s %s" % (receiving, originating, streamID)
        return hmac.new(self._hashed, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def check(self, receiving, originating, streamID, key):
        """
        @return: whether C{key} is the one L{key} makes (compared in
            constant time).
        """
        return hmac.compare_digest(self.key(receiving, originating, streamID), key or "")


def result(sender, recipient, key=None, type=None):
    """
    @return: a C{<db:result/>}: with C{key} the request, with C{type} the
        answer.
    """
    element = domish.Element((ns.DIALBACK, "result"))
    element["from"] = sender
    element["to"] = recipient
    if type is not None:
        element["type"] = type
    if key is not None:
        element.addContent(key)
    return element


def verify(sender, recipient, streamID, key=None, type=None):
    """
    @return: a C{<db:verify/>}: with C{key} the question to the
        authoritative server, with C{type} its answer.
    """
    element = result(sender, recipient, key, type)
    element.name = "verify"
    element["id"] = streamID
    return element
