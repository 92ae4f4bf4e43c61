"""
An account document (L{xmuc.storage.interfaces.IAccountDataStore}) that
the stanza path reads for every stanza to or from the account (the
blocklist, the avatar hash), kept in memory.

Documents of accounts with bound sessions stay in memory (I{pinned}, as
L{xmuc.session.rosters.RosterCache} does for rosters) and are read when
the first session binds; those of the most recently used other accounts
stay too, up to a bound.  A stanza that needs a document not in memory
waits for it (L{DocumentCache.whenLoaded}), in order.
"""

import collections

from twisted.logger import Logger

log = Logger()


class DocumentCache:
    """
    @ivar store: the L{xmuc.storage.interfaces.IAccountDataStore}.
    @ivar name: the document's name.
    @ivar recentLimit: how many documents of accounts without a session
        are kept.
    """

    def __init__(self, store, name, decode, recentLimit):
        """
        @param decode: callable turning the stored value (or L{None} when
            there is none) into what L{cached} returns; never L{None}.
        """
        self.store = store
        self.name = name
        self.recentLimit = recentLimit
        self._decode = decode
        self._pinned = {}
        self._pins = {}
        self._recent = collections.OrderedDict()
        # bare -> [(callable, args, failed)] waiting for the document.
        self._waiting = {}

    def pin(self, bare):
        """
        Keep the document of C{bare} in memory until the matching L{unpin}
        (one pin per bound session), and start reading it.
        """
        self._pins[bare] = self._pins.get(bare, 0) + 1
        if bare in self._pinned:
            return
        found = self._recent.pop(bare, None)
        if found is not None:
            self._pinned[bare] = found
        elif bare not in self._waiting:
            self._waiting[bare] = []
            self._load(bare)

    def unpin(self, bare):
        count = self._pins.get(bare, 0) - 1
        if count > 0:
            self._pins[bare] = count
            return
        self._pins.pop(bare, None)
        found = self._pinned.pop(bare, None)
        if found is not None:
            self._remember(bare, found)

    def cached(self, bare):
        """
        @return: the decoded document of C{bare} when it is in memory, else
            L{None} (then use L{whenLoaded}).
        """
        found = self._pinned.get(bare)
        if found is not None:
            return found
        found = self._recent.get(bare)
        if found is not None:
            self._recent.move_to_end(bare)
        return found

    def whenLoaded(self, bare, function, args, failed):
        """
        Call C{function(*args)} once the document of C{bare} is in memory;
        calls wait in the order made.

        @param failed: called instead when it cannot be read (the caller
            answers the stanza with an error: it is neither handled on a
            guess nor silently lost).
        """
        waiting = self._waiting.get(bare)
        if waiting is None:
            self._waiting[bare] = [(function, args, failed)]
            self._load(bare)
        else:
            waiting.append((function, args, failed))

    def _load(self, bare):
        d = self.store.get(bare, self.name)
        d.addCallbacks(self._loaded, self._notLoaded, callbackArgs=(bare,), errbackArgs=(bare,))

    def _loaded(self, stored, bare):
        self.replace(bare, self._decode(stored))
        for function, args, _ in self._waiting.pop(bare, ()):
            try:
                function(*args)
            except Exception:
                log.failure("a stanza waiting for the {name} of {jid} failed", name=self.name, jid=bare)

    def _notLoaded(self, failure, bare):
        # Nothing is kept: the next stanza tries again.
        log.failure("reading the {name} of {jid} failed", failure, name=self.name, jid=bare)
        for _, _, failed in self._waiting.pop(bare, ()):
            try:
                failed()
            except Exception:
                log.failure("answering a stanza after a storage failure failed")

    def replace(self, bare, value):
        """
        The document of C{bare} changed (already stored): C{value} is the
        decoded new one.
        """
        if bare in self._pins:
            self._pinned[bare] = value
        else:
            self._remember(bare, value)

    def _remember(self, bare, value):
        self._recent[bare] = value
        self._recent.move_to_end(bare)
        while len(self._recent) > self.recentLimit:
            self._recent.popitem(last=False)

    def forget(self, bare):
        """
        The account was deleted: its document is not kept in memory.
        """
        self._pinned.pop(bare, None)
        self._recent.pop(bare, None)
