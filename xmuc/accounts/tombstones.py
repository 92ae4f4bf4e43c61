"""
Tombstones: what remains of a deleted account or a destroyed persistent
room (C{server.storage.tombstones}), so that nobody takes its name and
inherits what was granted to it.

One rule decides whether a tombstone still holds its name
(L{inForce}); the account manager, the tombstone watcher, C{xmucctl} and
the MUC's room tombstones all ask it.  Writing an account tombstone comes
with deleting the credentials, in that order, in L{buryAccount}.
"""

import time

from twisted.internet import defer

#: The C{kind} of the tombstone of a deleted account.
ACCOUNT = "account"

#: The C{kind} of the tombstone of a destroyed persistent room.
ROOM = "room"


def inForce(when, expiry, now=None):
    """
    Whether a tombstone still holds its name.

    A tombstone written at C{when} holds it for C{expiry} seconds: it is in
    force while strictly less than C{expiry} seconds have passed, and has
    expired at C{when + expiry} exactly.  An C{expiry} of 0 means forever
    (C{[storage] tombstone_expiry} and C{room_tombstone_expiry}).

    @param when: the POSIX time the tombstone was written.
    @param expiry: its lifetime in seconds, 0 for forever.
    @param now: the current POSIX time (default: C{time.time()}).
    @return: whether the tombstone is in force at C{now}.
    """
    if not expiry:
        return True
    if now is None:
        now = time.time()
    return now - when < expiry


def accountInForce(tombstone, expiry, now=None):
    """
    @param tombstone: a stored tombstone (C{{'jid', 'kind', 'when'}}) or
        L{None}.
    @param expiry: C{[storage] tombstone_expiry}.
    @return: whether C{tombstone} is that of a deleted account and still in
        force (L{inForce}).
    """
    return (
        tombstone is not None
        and tombstone["kind"] == ACCOUNT
        and inForce(tombstone["when"], expiry, now)
    )


@defer.inlineCallbacks
def buryAccount(storage, auth, bare):
    """
    Delete an account's credentials, leaving its tombstone.  The tombstone
    comes first: should the deletion fail, the name is still protected and
    the deletion can be run again.

    @param storage: the L{xmuc.storage.interfaces.IStorage}.
    @param auth: the L{xmuc.auth.interfaces.IAuthBackend}.
    @param bare: the account's bare JID string.
    @return: Deferred firing with whether the account existed, once both
        writes are durable.
    """
    yield storage.tombstones.add(bare, ACCOUNT)
    existed = yield auth.deleteAccount(bare)
    return existed
