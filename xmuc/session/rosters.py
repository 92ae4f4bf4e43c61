"""
Rosters in memory for users who are online, written through to storage.

Presence is broadcast from the roster on every presence update, so the
rosters of users with bound sessions are kept in memory (I{pinned}); the
others are read from storage when needed.  Every change of a user's roster
runs under a per-user lock, so that two subscription stanzas processed at
the same time cannot overwrite each other's result (storage calls are
asynchronous).
"""

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


class RosterCache:
    """
    @ivar store: the L{xmuc.storage.interfaces.IRosterStore}.
    """

    def __init__(self, store):
        self.store = store
        self._loaded = {}
        self._pins = {}
        self._locks = {}

    def pin(self, bare):
        """
        Keep the roster of C{bare} in memory until the matching L{unpin}
        (one pin per bound session), and start loading it.
        """
        self._pins[bare] = self._pins.get(bare, 0) + 1
        if bare not in self._loaded:
            self.get(bare).addErrback(
                lambda f: log.failure("loading the roster of {jid} failed", f, jid=bare)
            )

    def unpin(self, bare):
        count = self._pins.get(bare, 0) - 1
        if count > 0:
            self._pins[bare] = count
        else:
            self._pins.pop(bare, None)
            self._loaded.pop(bare, None)

    def cached(self, bare):
        """
        @return: the roster dict of C{bare} if it is in memory, else L{None}.
        """
        return self._loaded.get(bare)

    def get(self, bare):
        """
        The roster of C{bare}, to read.  The dict returned must not be
        modified: use L{run} with L{setItem}/L{removeItem}.

        @return: Deferred firing with C{{contact: item}}; it fires at once
            when the roster is in memory and no change is under way.
        """
        roster = self._loaded.get(bare)
        if roster is not None and bare not in self._locks:
            return defer.succeed(roster)
        # Loading or being changed: wait for the earlier operations, so
        # that readers see them, in order.
        return self.run(bare, lambda roster: roster)

    def run(self, bare, operation):
        """
        Run C{operation(roster)} alone for C{bare}: operations on the same
        user run one after the other, in call order.

        @param operation: callable taking the roster dict and returning a
            value or a Deferred.
        @return: Deferred firing with its result.
        """
        lock = self._locks.get(bare)
        if lock is None:
            lock = self._locks[bare] = defer.DeferredLock()
        d = lock.run(self._runLocked, bare, operation)
        d.addBoth(self._forgetLock, bare, lock)
        return d

    @defer.inlineCallbacks
    def _runLocked(self, bare, operation):
        roster = self._loaded.get(bare)
        if roster is None:
            roster = yield self.store.get(bare)
            if self._pins.get(bare):
                self._loaded[bare] = roster
        result = yield operation(roster)
        return result

    def _forgetLock(self, result, bare, lock):
        if not lock.locked and not lock.waiting and self._locks.get(bare) is lock:
            del self._locks[bare]
        return result

    def setItem(self, roster, bare, contact, item):
        """
        Store an item (from inside L{run}).

        @param roster: the roster dict given to the operation.
        @return: Deferred firing when stored.
        """
        roster[contact] = item
        return self.store.set(bare, contact, item)

    def removeItem(self, roster, bare, contact):
        """
        Delete an item (from inside L{run}).

        @return: Deferred firing when deleted.
        """
        roster.pop(contact, None)
        return self.store.remove(bare, contact)

    def deleteRoster(self, roster, bare):
        """
        Delete the whole roster of C{bare} (from inside L{run}).

        @return: Deferred firing when deleted.
        """
        roster.clear()
        return self.store.delete(bare)
