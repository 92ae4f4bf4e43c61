"""
A storage backend kept in process memory: fast, and lost on restart.  Meant
for tests and throw-away servers (C{[storage] backend = memory}).

Values go in and out through JSON (L{common.jsonCopy}), so a caller cannot
change stored data by mutating what it gave or got, and what this backend
accepts and returns is the same as with the SQL backends.
"""

import builtins
import collections

from twisted.internet import defer
from zope.interface import implementer

from xmuc.storage import common
from xmuc.storage.interfaces import (
    IAccountDataStore,
    IAccountStore,
    IOfflineStore,
    IPepStore,
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


@implementer(IOfflineStore)
class MemoryOfflineStore:
    """
    @ivar limit: messages one user may have waiting.
    """

    def __init__(self, limit=common.DEFAULT_OFFLINE_LIMIT):
        self.limit = limit
        self._messages = {}

    @_deferred
    def push(self, bare, when, xml):
        messages = self._messages.setdefault(bare, [])
        if len(messages) >= self.limit:
            if not messages:
                del self._messages[bare]
            return False
        messages.append(dict(when=float(when), xml=str(xml)))
        return True

    @_deferred
    def pop(self, bare):
        return self._messages.pop(bare, [])

    @_deferred
    def count(self, bare):
        return len(self._messages.get(bare, ()))

    @_deferred
    def delete(self, bare):
        self._messages.pop(bare, None)


@implementer(IPepStore)
class MemoryPepStore:
    """
    Per owner: node -> configuration, and node -> list of items oldest
    first.
    """

    def __init__(self):
        self._nodes = {}
        self._items = {}

    @_deferred
    def getNode(self, owner, node):
        config = self._nodes.get(owner, {}).get(node)
        return None if config is None else common.jsonCopy(config)

    @_deferred
    def setNode(self, owner, node, config):
        self._nodes.setdefault(owner, {})[node] = common.jsonCopy(config)

    @_deferred
    def deleteNode(self, owner, node):
        nodes = self._nodes.get(owner, {})
        found = nodes.pop(node, None) is not None
        if not nodes:
            self._nodes.pop(owner, None)
        items = self._items.get(owner, {})
        items.pop(node, None)
        if not items:
            self._items.pop(owner, None)
        return found

    @_deferred
    def listNodes(self, owner):
        return [
            (node, common.jsonCopy(config))
            for node, config in sorted(self._nodes.get(owner, {}).items())
        ]

    @_deferred
    def publish(self, owner, node, item_id, xml, when):
        item = dict(id=str(item_id), xml=str(xml), when=float(when))
        items = [
            found
            for found in self._items.setdefault(owner, {}).get(node, [])
            if found["id"] != item["id"]
        ]
        items.append(item)
        maxItems = common.pepMaxItems(self._nodes.get(owner, {}).get(node))
        if maxItems is not None:
            items = items[-maxItems:] if maxItems else []
        self._items[owner][node] = items

    @_deferred
    def items(self, owner, node, max=None, ids=None):
        found = list(reversed(self._items.get(owner, {}).get(node, [])))
        if ids is not None:
            wanted = set(ids)
            found = [item for item in found if item["id"] in wanted]
        if max is not None:
            found = found[: builtins.max(max, 0)]
        return [dict(item) for item in found]

    @_deferred
    def retract(self, owner, node, item_id):
        items = self._items.get(owner, {}).get(node, [])
        kept = [item for item in items if item["id"] != item_id]
        if len(kept) == len(items):
            return False
        self._items[owner][node] = kept
        return True

    @_deferred
    def deleteAll(self, owner):
        self._nodes.pop(owner, None)
        self._items.pop(owner, None)


@implementer(IAccountDataStore)
class MemoryAccountDataStore:
    """
    Per owner: name -> value.
    """

    def __init__(self):
        self._documents = {}

    @_deferred
    def get(self, owner, name):
        value = self._documents.get(owner, {}).get(name)
        return None if value is None else common.jsonCopy(value)

    @_deferred
    def set(self, owner, name, value):
        if value is None:
            raise ValueError("a document cannot be None: delete it instead")
        self._documents.setdefault(owner, {})[name] = common.jsonCopy(value)

    @_deferred
    def delete(self, owner, name):
        documents = self._documents.get(owner, {})
        found = documents.pop(name, None) is not None
        if not documents:
            self._documents.pop(owner, None)
        return found

    @_deferred
    def deleteAll(self, owner):
        self._documents.pop(owner, None)


@implementer(IStorage)
class MemoryStorage:
    """
    Every store in dicts of this process.
    """

    name = "memory"

    def __init__(
        self,
        archiveMax=common.DEFAULT_ARCHIVE_MAX,
        offlineLimit=common.DEFAULT_OFFLINE_LIMIT,
    ):
        """
        @param archiveMax: archived messages kept per room.
        @param offlineLimit: offline messages one user may have waiting.
        """
        self.accounts = MemoryAccountStore()
        self.rosters = MemoryRosterStore()
        self.rooms = MemoryRoomStore()
        self.tombstones = MemoryTombstoneStore()
        self.archive = MemoryRoomArchive(archiveMax)
        self.offline = MemoryOfflineStore(offlineLimit)
        self.pep = MemoryPepStore()
        self.accountData = MemoryAccountDataStore()

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
