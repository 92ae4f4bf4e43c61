"""
A storage backend kept in process memory: fast, and lost on restart.  Meant
for tests and throw-away servers (C{[storage] backend = memory}).

Values go in and out through JSON (L{common.jsonCopy}), so a caller cannot
change stored data by mutating what it gave or got, and what this backend
accepts and returns is the same as with the SQL backends.
"""

import collections

from twisted.internet import defer
from zope.interface import implementer

from xmuc.storage import common
from xmuc.storage.interfaces import (
    IAccountStore,
    IRoomArchive,
    IRoomStore,
    IRosterStore,
    IStorage,
    ITombstoneStore,
)


def _deferred(method):
    """
    Make a synchronous method return a Deferred, failed on exception, as
    every store method must.
    """

    def wrapper(*args, **kwargs):
        return defer.execute(method, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


@implementer(IAccountStore)
class MemoryAccountStore:
    def __init__(self):
        self._accounts = {}

    @_deferred
    def create(self, bare, credentials):
        if bare in self._accounts:
            return False
        self._accounts[bare] = common.jsonCopy(credentials)
        return True

    @_deferred
    def get(self, bare):
        credentials = self._accounts.get(bare)
        return None if credentials is None else common.jsonCopy(credentials)

    @_deferred
    def update(self, bare, credentials):
        if bare not in self._accounts:
            return False
        self._accounts[bare] = common.jsonCopy(credentials)
        return True

    @_deferred
    def delete(self, bare):
        return self._accounts.pop(bare, None) is not None

    @_deferred
    def list(self, host=None):
        return sorted(
            bare
            for bare in self._accounts
            if host is None or common.hostOf(bare) == host
        )


@implementer(IRosterStore)
class MemoryRosterStore:
    def __init__(self):
        self._rosters = {}

    @_deferred
    def get(self, bare):
        return common.jsonCopy(self._rosters.get(bare, {}))

    @_deferred
    def set(self, bare, contact, item):
        self._rosters.setdefault(bare, {})[contact] = common.rosterItem(item)

    @_deferred
    def remove(self, bare, contact):
        roster = self._rosters.get(bare, {})
        found = roster.pop(contact, None) is not None
        if not roster:
            self._rosters.pop(bare, None)
        return found

    @_deferred
    def delete(self, bare):
        self._rosters.pop(bare, None)


@implementer(IRoomStore)
class MemoryRoomStore:
    def __init__(self):
        self._rooms = {}

    @_deferred
    def save(self, room_jid, state):
        self._rooms[room_jid] = common.jsonCopy(state)

    @_deferred
    def get(self, room_jid):
        state = self._rooms.get(room_jid)
        return None if state is None else common.jsonCopy(state)

    @_deferred
    def delete(self, room_jid):
        return self._rooms.pop(room_jid, None) is not None

    @_deferred
    def list(self, service_domain):
        return [
            (room_jid, common.jsonCopy(state))
            for room_jid, state in sorted(self._rooms.items())
            if common.hostOf(room_jid) == service_domain
        ]


@implementer(ITombstoneStore)
class MemoryTombstoneStore:
    def __init__(self):
        self._tombstones = {}

    @_deferred
    def add(self, jid, kind, when=None):
        self._tombstones[jid] = common.tombstone(jid, kind, when)

    @_deferred
    def get(self, jid):
        found = self._tombstones.get(jid)
        return None if found is None else dict(found)

    @_deferred
    def remove(self, jid):
        return self._tombstones.pop(jid, None) is not None

    @_deferred
    def list(self, kind=None):
        return sorted(
            (
                dict(found)
                for found in self._tombstones.values()
                if kind is None or found["kind"] == kind
            ),
            key=lambda found: (found["when"], found["jid"]),
        )


@implementer(IRoomArchive)
class MemoryRoomArchive:
    """
    @ivar maxPerRoom: messages kept per room (exactly: a bounded deque).
    """

    def __init__(self, maxPerRoom=common.DEFAULT_ARCHIVE_MAX):
        self.maxPerRoom = maxPerRoom
        self._messages = {}

    @_deferred
    def append(self, room_jid, stanza_id, when, nick, xml):
        messages = self._messages.get(room_jid)
        if messages is None:
            messages = self._messages[room_jid] = collections.deque(
                maxlen=self.maxPerRoom
            )
        messages.append(
            dict(stanza_id=stanza_id, when=float(when), nick=nick, xml=xml)
        )

    @_deferred
    def recent(self, room_jid, limit):
        if limit <= 0:
            return []
        messages = list(self._messages.get(room_jid, ()))
        return [dict(message) for message in messages[-limit:]]

    @_deferred
    def replace(self, room_jid, stanza_id, xml):
        replaced = False
        for message in self._messages.get(room_jid, ()):
            if message["stanza_id"] == stanza_id:
                message["xml"] = xml
                replaced = True
        return replaced

    @_deferred
    def purge(self, room_jid):
        self._messages.pop(room_jid, None)


@implementer(IStorage)
class MemoryStorage:
    """
    Every store in dicts of this process.
    """

    name = "memory"

    def __init__(self, archiveMax=common.DEFAULT_ARCHIVE_MAX):
        """
        @param archiveMax: archived messages kept per room.
        """
        self.accounts = MemoryAccountStore()
        self.rosters = MemoryRosterStore()
        self.rooms = MemoryRoomStore()
        self.tombstones = MemoryTombstoneStore()
        self.archive = MemoryRoomArchive(archiveMax)

    def start(self):
        return defer.succeed(None)

    def stop(self):
        return defer.succeed(None)


def fromConfig(config):
    """
    The factory named by the C{memory} plugin.

    @param config: the L{xmuc.config.Config} (nothing in it is needed).
    @return: a new L{MemoryStorage}.
    """
    return MemoryStorage()
