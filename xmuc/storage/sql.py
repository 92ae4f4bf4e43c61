"""
The stores on top of an SQL database reached through
L{twisted.enterprise.adbapi}, shared by the SQLite and PostgreSQL backends.

The two differ only by a L{Dialect}: how parameters are written, a few
column types, how the migration takes its lock, which driver errors mean
"the database is gone".  The SQL itself is written once, with C{?}
placeholders, in the subset both engines understand (C{INSERT ... ON
CONFLICT} needs SQLite 3.24 or later).

Schema
======
Every table name starts with C{xmuc_} so the tables can share a database
with others.  C{xmuc_schema_version} holds one row, the version of the
schema; L{MIGRATIONS} lists the steps from one version to the next, and
L{SQLStorage.start} applies the missing ones in one transaction.

Ordering
========
Storage is split in three areas: accounts and tombstones (L{ACCOUNTS}),
what a user's sessions keep (rosters, offline messages, PEP, the
account's documents: L{SESSIONS}), and rooms with their archive (L{ROOMS}).  Each area's calls
go through one connection, one thread, whose queue is first in, first out:
the calls of one area are applied in the order they are made, so a caller
may fire two writes of the same row without waiting for the first.  With
one connection (SQLite) every call is applied in order; with more
(PostgreSQL), each area has its own, so a call kept waiting by a lock on a
room table does not hold up logins.

Timeouts
========
When built with a C{callTimeout}, a call that has not finished that many
seconds after it was made fails with L{StorageUnavailable}, whatever holds
it up (a server that stopped answering, a lock, a queue of calls waiting
for a connection): the client is answered, never left hanging.  The work
of such a call is skipped if it has not started, and rolled back if it
returns after the deadline (only a commit already under way at the
deadline may still land); the calls after it wait until it is done, so
order holds.
"""

import builtins
import functools

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.logger import Logger
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
    StorageError,
    StorageUnavailable,
)

log = Logger()

#: Storage areas; calls of one area are applied in the order made.
ACCOUNTS, SESSIONS, ROOMS = range(3)

#: Connections beyond this many would have no area to serve.
MAX_CONNECTIONS = 3


class CallAbandoned(Exception):
    """
    The caller was already told that the call timed out: its work must not
    be done, or must be rolled back.
    """


class Dialect:
    """
    What differs between SQL engines.

    @ivar name: the backend name.
    @ivar paramstyle: C{'qmark'} or C{'format'} (the driver's).
    @ivar types: column types substituted in the DDL (C{{bool}}, C{{float}},
        C{{serial}}).
    @ivar unavailableErrors: driver exceptions meaning the database cannot
        be reached.
    @ivar errors: driver exceptions for any other database failure.
    """

    name = None
    paramstyle = "qmark"
    types = {}
    unavailableErrors = ()
    errors = ()

    def lockForMigration(self, tx):
        """
        Keep other processes from migrating the schema at the same time, for
        the rest of the transaction.
        """

    def isDisconnected(self, connection):
        """
        @param connection: the driver's connection, after an error.
        @return: whether it is dead (then a new one may redo the work).
        """
        return False

    @functools.lru_cache(maxsize=None)
    def sql(self, text):
        """
        @param text: SQL with C{?} placeholders and C{{type}} names.
        @return: the SQL for this engine.
        """
        if self.types:
            text = text.format(**self.types)
        if self.paramstyle == "format":
            text = text.replace("?", "%s")
        return text


class Tx:
    """
    A cursor writing SQL in one style for every engine.
    """

    def __init__(self, transaction, dialect):
        self._transaction = transaction
        self._dialect = dialect

    def execute(self, text, params=()):
        self._transaction.execute(self._dialect.sql(text), tuple(params))

    def fetchone(self):
        return self._transaction.fetchone()

    def fetchall(self):
        return self._transaction.fetchall()

    @property
    def rowcount(self):
        return self._transaction.rowcount


# --- schema


def _migrateTo1(tx):
    """
    Accounts, rosters and tombstones.
    """
    tx.execute(
        "CREATE TABLE xmuc_accounts ("
        " bare TEXT PRIMARY KEY,"
        " credentials TEXT NOT NULL)"
    )
    tx.execute(
        "CREATE TABLE xmuc_rosters ("
        " owner TEXT NOT NULL,"
        " contact TEXT NOT NULL,"
        " name TEXT,"
        " subscription TEXT NOT NULL,"
        " ask TEXT,"
        " groups_json TEXT NOT NULL,"
        " pending_in {bool} NOT NULL,"
        " PRIMARY KEY (owner, contact))"
    )
    tx.execute(
        "CREATE TABLE xmuc_tombstones ("
        " jid TEXT PRIMARY KEY,"
        " kind TEXT NOT NULL,"
        " stamp {float} NOT NULL)"
    )


def _migrateTo2(tx):
    """
    Accounts by domain; persistent rooms and their message archive.
    """
    tx.execute("ALTER TABLE xmuc_accounts ADD COLUMN host TEXT")
    tx.execute("SELECT bare FROM xmuc_accounts")
    for (bare,) in tx.fetchall():
        tx.execute(
            "UPDATE xmuc_accounts SET host = ? WHERE bare = ?",
            (common.hostOf(bare), bare),
        )
    tx.execute("CREATE INDEX xmuc_accounts_host ON xmuc_accounts (host)")
    tx.execute(
        "CREATE TABLE xmuc_rooms ("
        " room_jid TEXT PRIMARY KEY,"
        " service TEXT NOT NULL,"
        " state TEXT NOT NULL)"
    )
    tx.execute("CREATE INDEX xmuc_rooms_service ON xmuc_rooms (service)")
    tx.execute(
        "CREATE TABLE xmuc_room_archive ("
        " id {serial},"
        " room_jid TEXT NOT NULL,"
        " stanza_id TEXT,"
        " stamp {float} NOT NULL,"
        " nick TEXT NOT NULL,"
        " xml TEXT NOT NULL)"
    )
    tx.execute(
        "CREATE INDEX xmuc_room_archive_room ON xmuc_room_archive (room_jid, id)"
    )


def _migrateTo3(tx):
    """
    Offline messages; personal eventing (PEP) nodes and items.
    """
    tx.execute(
        "CREATE TABLE xmuc_offline ("
        " id {serial},"
        " owner TEXT NOT NULL,"
        " stamp {float} NOT NULL,"
        " xml TEXT NOT NULL)"
    )
    tx.execute("CREATE INDEX xmuc_offline_owner ON xmuc_offline (owner, id)")
    tx.execute(
        "CREATE TABLE xmuc_pep_nodes ("
        " owner TEXT NOT NULL,"
        " node TEXT NOT NULL,"
        " config TEXT NOT NULL,"
        " PRIMARY KEY (owner, node))"
    )
    tx.execute(
        "CREATE TABLE xmuc_pep_items ("
        " id {serial},"
        " owner TEXT NOT NULL,"
        " node TEXT NOT NULL,"
        " item_id TEXT NOT NULL,"
        " stamp {float} NOT NULL,"
        " xml TEXT NOT NULL)"
    )
    tx.execute(
        "CREATE UNIQUE INDEX xmuc_pep_items_item"
        " ON xmuc_pep_items (owner, node, item_id)"
    )
    tx.execute(
        "CREATE INDEX xmuc_pep_items_order ON xmuc_pep_items (owner, node, id)"
    )


def _migrateTo4(tx):
    """
    The documents each account keeps (blocklist, vCard, private XML).
    """
    tx.execute(
        "CREATE TABLE xmuc_account_data ("
        " owner TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " value TEXT NOT NULL,"
        " PRIMARY KEY (owner, name))"
    )


#: C{(version, step)}: the step brings the schema from C{version - 1} to
#: C{version}.  Append only; never change a released step.
MIGRATIONS = [(1, _migrateTo1), (2, _migrateTo2), (3, _migrateTo3), (4, _migrateTo4)]

#: The version this code works with.
SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(tx, dialect):
    """
    Bring the schema to L{SCHEMA_VERSION}.  Runs in one transaction.

    @return: C{(version found, version now)}.
    @raise StorageError: when the database is newer than this code.
    """
    dialect.lockForMigration(tx)
    tx.execute(
        "CREATE TABLE IF NOT EXISTS xmuc_schema_version (version INTEGER NOT NULL)"
    )
    tx.execute("SELECT version FROM xmuc_schema_version")
    rows = tx.fetchall()
    if not rows:
        tx.execute("INSERT INTO xmuc_schema_version (version) VALUES (0)")
        found = 0
    else:
        found = max(row[0] for row in rows)
    if found > SCHEMA_VERSION:
        raise StorageError(
            "the database schema is version %d, newer than this xmuc knows"
            " (%d): refusing to touch it" % (found, SCHEMA_VERSION)
        )
    for version, step in MIGRATIONS:
        if version > found:
            step(tx)
            tx.execute("UPDATE xmuc_schema_version SET version = ?", (version,))
    return found, SCHEMA_VERSION


# --- stores


@implementer(IAccountStore)
class SQLAccountStore:
    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=ACCOUNTS)

    def create(self, bare, credentials):
        def create(tx):
            tx.execute(
                "INSERT INTO xmuc_accounts (bare, host, credentials)"
                " VALUES (?, ?, ?) ON CONFLICT (bare) DO NOTHING",
                (bare, common.hostOf(bare), common.toJSON(credentials)),
            )
            return tx.rowcount == 1

        return self._run(create)

    def get(self, bare):
        def get(tx):
            tx.execute("SELECT credentials FROM xmuc_accounts WHERE bare = ?", (bare,))
            row = tx.fetchone()
            return None if row is None else common.fromJSON(row[0])

        return self._run(get)

    def update(self, bare, credentials):
        def update(tx):
            tx.execute(
                "UPDATE xmuc_accounts SET credentials = ? WHERE bare = ?",
                (common.toJSON(credentials), bare),
            )
            return tx.rowcount == 1

        return self._run(update)

    def delete(self, bare):
        def delete(tx):
            tx.execute("DELETE FROM xmuc_accounts WHERE bare = ?", (bare,))
            return tx.rowcount == 1

        return self._run(delete)

    def list(self, host=None):
        def list_(tx):
            if host is None:
                tx.execute("SELECT bare FROM xmuc_accounts")
            else:
                tx.execute("SELECT bare FROM xmuc_accounts WHERE host = ?", (host,))
            # Sorted here: the database's collation may not be code points.
            return sorted(row[0] for row in tx.fetchall())

        return self._run(list_)


@implementer(IRosterStore)
class SQLRosterStore:
    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=SESSIONS)

    def get(self, bare):
        def get(tx):
            tx.execute(
                "SELECT contact, name, subscription, ask, groups_json, pending_in"
                " FROM xmuc_rosters WHERE owner = ?",
                (bare,),
            )
            return {
                contact: dict(
                    name=name,
                    subscription=subscription,
                    ask=ask,
                    groups=common.fromJSON(groups),
                    pending_in=bool(pendingIn),
                )
                for contact, name, subscription, ask, groups, pendingIn in tx.fetchall()
            }

        return self._run(get)

    def set(self, bare, contact, item):
        try:
            item = common.rosterItem(item)
        except ValueError:
            return defer.fail()

        def set_(tx):
            tx.execute(
                "INSERT INTO xmuc_rosters"
                " (owner, contact, name, subscription, ask, groups_json, pending_in)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (owner, contact) DO UPDATE SET"
                " name = excluded.name, subscription = excluded.subscription,"
                " ask = excluded.ask, groups_json = excluded.groups_json,"
                " pending_in = excluded.pending_in",
                (
                    bare,
                    contact,
                    item["name"],
                    item["subscription"],
                    item["ask"],
                    common.toJSON(item["groups"]),
                    item["pending_in"],
                ),
            )

        return self._run(set_)

    def remove(self, bare, contact):
        def remove(tx):
            tx.execute(
                "DELETE FROM xmuc_rosters WHERE owner = ? AND contact = ?",
                (bare, contact),
            )
            return tx.rowcount == 1

        return self._run(remove)

    def delete(self, bare):
        def delete(tx):
            tx.execute("DELETE FROM xmuc_rosters WHERE owner = ?", (bare,))

        return self._run(delete)


@implementer(IRoomStore)
class SQLRoomStore:
    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=ROOMS)

    def save(self, room_jid, state):
        def save(tx):
            tx.execute(
                "INSERT INTO xmuc_rooms (room_jid, service, state) VALUES (?, ?, ?)"
                " ON CONFLICT (room_jid) DO UPDATE SET state = excluded.state",
                (room_jid, common.hostOf(room_jid), common.toJSON(state)),
            )

        return self._run(save)

    def get(self, room_jid):
        def get(tx):
            tx.execute("SELECT state FROM xmuc_rooms WHERE room_jid = ?", (room_jid,))
            row = tx.fetchone()
            return None if row is None else common.fromJSON(row[0])

        return self._run(get)

    def delete(self, room_jid):
        def delete(tx):
            tx.execute("DELETE FROM xmuc_rooms WHERE room_jid = ?", (room_jid,))
            return tx.rowcount == 1

        return self._run(delete)

    def list(self, service_domain):
        def list_(tx):
            tx.execute(
                "SELECT room_jid, state FROM xmuc_rooms WHERE service = ?",
                (service_domain,),
            )
            return sorted(
                (roomJID, common.fromJSON(state)) for roomJID, state in tx.fetchall()
            )

        return self._run(list_)


@implementer(ITombstoneStore)
class SQLTombstoneStore:
    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=ACCOUNTS)

    def add(self, jid, kind, when=None):
        try:
            found = common.tombstone(jid, kind, when)
        except ValueError:
            return defer.fail()

        def add(tx):
            tx.execute(
                "INSERT INTO xmuc_tombstones (jid, kind, stamp) VALUES (?, ?, ?)"
                " ON CONFLICT (jid) DO UPDATE SET"
                " kind = excluded.kind, stamp = excluded.stamp",
                (found["jid"], found["kind"], found["when"]),
            )

        return self._run(add)

    def get(self, jid):
        def get(tx):
            tx.execute("SELECT jid, kind, stamp FROM xmuc_tombstones WHERE jid = ?", (jid,))
            row = tx.fetchone()
            return None if row is None else dict(jid=row[0], kind=row[1], when=row[2])

        return self._run(get)

    def remove(self, jid):
        def remove(tx):
            tx.execute("DELETE FROM xmuc_tombstones WHERE jid = ?", (jid,))
            return tx.rowcount == 1

        return self._run(remove)

    def list(self, kind=None):
        def list_(tx):
            if kind is None:
                tx.execute("SELECT jid, kind, stamp FROM xmuc_tombstones")
            else:
                tx.execute(
                    "SELECT jid, kind, stamp FROM xmuc_tombstones WHERE kind = ?",
                    (kind,),
                )
            return [
                dict(jid=jid, kind=found, when=when)
                for when, jid, found in sorted(
                    (when, jid, found) for jid, found, when in tx.fetchall()
                )
            ]

        return self._run(list_)


@implementer(IRoomArchive)
class SQLRoomArchive:
    """
    @ivar maxPerRoom: messages kept per room.  Older ones are deleted once
        every L{common.ARCHIVE_TRIM_EVERY} appends to the room (and at the
        first append after start), so a room holds at most
        C{maxPerRoom + ARCHIVE_TRIM_EVERY - 1} messages.
    """

    def __init__(self, storage, maxPerRoom, trimEvery=common.ARCHIVE_TRIM_EVERY):
        self._run = functools.partial(storage.run, area=ROOMS)
        self.maxPerRoom = maxPerRoom
        self.trimEvery = trimEvery
        # Appends per room since its last trim; only touched in the reactor
        # thread, when the call is made.
        self._sinceTrim = {}

    def append(self, room_jid, stanza_id, when, nick, xml):
        count = self._sinceTrim.get(room_jid, 0)
        trim = count == 0
        self._sinceTrim[room_jid] = (count + 1) % self.trimEvery
        when = float(when)

        def append(tx):
            tx.execute(
                "INSERT INTO xmuc_room_archive (room_jid, stanza_id, stamp, nick, xml)"
                " VALUES (?, ?, ?, ?, ?)",
                (room_jid, stanza_id, when, nick, xml),
            )
            if trim:
                # The index on (room_jid, id) makes this walk maxPerRoom
                # index entries, no table scan.
                tx.execute(
                    "DELETE FROM xmuc_room_archive WHERE room_jid = ? AND id <="
                    " (SELECT id FROM xmuc_room_archive WHERE room_jid = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (room_jid, room_jid, self.maxPerRoom),
                )

        return self._run(append)

    def recent(self, room_jid, limit):
        if limit <= 0:
            return defer.succeed([])

        def recent(tx):
            tx.execute(
                "SELECT stanza_id, stamp, nick, xml FROM xmuc_room_archive"
                " WHERE room_jid = ? ORDER BY id DESC LIMIT ?",
                (room_jid, limit),
            )
            rows = tx.fetchall()
            rows.reverse()
            return [
                dict(stanza_id=stanzaID, when=when, nick=nick, xml=xml)
                for stanzaID, when, nick, xml in rows
            ]

        return self._run(recent)

    def replace(self, room_jid, stanza_id, xml):
        def replace(tx):
            # The (room_jid, id) index narrows this to the room's rows.
            tx.execute(
                "UPDATE xmuc_room_archive SET xml = ? WHERE room_jid = ? AND stanza_id = ?",
                (xml, room_jid, stanza_id),
            )
            return tx.rowcount > 0

        return self._run(replace)

    def purge(self, room_jid):
        self._sinceTrim.pop(room_jid, None)

        def purge(tx):
            tx.execute("DELETE FROM xmuc_room_archive WHERE room_jid = ?", (room_jid,))

        return self._run(purge)


@implementer(IOfflineStore)
class SQLOfflineStore:
    """
    @ivar limit: messages one user may have waiting.
    """

    def __init__(self, storage, limit=common.DEFAULT_OFFLINE_LIMIT):
        self._run = functools.partial(storage.run, area=SESSIONS)
        self.limit = limit

    def push(self, bare, when, xml):
        when = float(when)
        limit = self.limit

        def push(tx):
            # Counted and inserted in one transaction, on the area's one
            # connection: no other push of the same user comes in between.
            # The (owner, id) index keeps the count to the user's rows.
            tx.execute("SELECT COUNT(*) FROM xmuc_offline WHERE owner = ?", (bare,))
            if tx.fetchone()[0] >= limit:
                return False
            tx.execute(
                "INSERT INTO xmuc_offline (owner, stamp, xml) VALUES (?, ?, ?)",
                (bare, when, xml),
            )
            return True

        return self._run(push)

    def pop(self, bare):
        def pop(tx):
            tx.execute(
                "SELECT id, stamp, xml FROM xmuc_offline WHERE owner = ? ORDER BY id",
                (bare,),
            )
            rows = tx.fetchall()
            if rows:
                # Only what was read: nothing pushed meanwhile is lost.
                tx.execute(
                    "DELETE FROM xmuc_offline WHERE owner = ? AND id <= ?",
                    (bare, rows[-1][0]),
                )
            return [dict(when=when, xml=xml) for _, when, xml in rows]

        return self._run(pop)

    def count(self, bare):
        def count(tx):
            tx.execute("SELECT COUNT(*) FROM xmuc_offline WHERE owner = ?", (bare,))
            return tx.fetchone()[0]

        return self._run(count)

    def delete(self, bare):
        def delete(tx):
            tx.execute("DELETE FROM xmuc_offline WHERE owner = ?", (bare,))

        return self._run(delete)


@implementer(IPepStore)
class SQLPepStore:
    """
    Nodes in C{xmuc_pep_nodes}, items in C{xmuc_pep_items} whose serial
    C{id} orders them: a republished item gets a new row, hence the newest
    place.
    """

    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=SESSIONS)

    def getNode(self, owner, node):
        def getNode(tx):
            tx.execute(
                "SELECT config FROM xmuc_pep_nodes WHERE owner = ? AND node = ?",
                (owner, node),
            )
            row = tx.fetchone()
            return None if row is None else common.fromJSON(row[0])

        return self._run(getNode)

    def setNode(self, owner, node, config):
        try:
            text = common.toJSON(config)
        except TypeError:
            return defer.fail()

        def setNode(tx):
            tx.execute(
                "INSERT INTO xmuc_pep_nodes (owner, node, config) VALUES (?, ?, ?)"
                " ON CONFLICT (owner, node) DO UPDATE SET config = excluded.config",
                (owner, node, text),
            )

        return self._run(setNode)

    def deleteNode(self, owner, node):
        def deleteNode(tx):
            tx.execute(
                "DELETE FROM xmuc_pep_items WHERE owner = ? AND node = ?",
                (owner, node),
            )
            tx.execute(
                "DELETE FROM xmuc_pep_nodes WHERE owner = ? AND node = ?",
                (owner, node),
            )
            return tx.rowcount == 1

        return self._run(deleteNode)

    def listNodes(self, owner):
        def listNodes(tx):
            tx.execute(
                "SELECT node, config FROM xmuc_pep_nodes WHERE owner = ?", (owner,)
            )
            # Sorted here: the database's collation may not be code points.
            return sorted(
                (node, common.fromJSON(config)) for node, config in tx.fetchall()
            )

        return self._run(listNodes)

    def publish(self, owner, node, item_id, xml, when):
        when = float(when)

        def publish(tx):
            tx.execute(
                "DELETE FROM xmuc_pep_items WHERE owner = ? AND node = ? AND item_id = ?",
                (owner, node, item_id),
            )
            tx.execute(
                "INSERT INTO xmuc_pep_items (owner, node, item_id, stamp, xml)"
                " VALUES (?, ?, ?, ?, ?)",
                (owner, node, item_id, when, xml),
            )
            tx.execute(
                "SELECT config FROM xmuc_pep_nodes WHERE owner = ? AND node = ?",
                (owner, node),
            )
            row = tx.fetchone()
            maxItems = common.pepMaxItems(None if row is None else common.fromJSON(row[0]))
            if maxItems is not None:
                tx.execute(
                    "DELETE FROM xmuc_pep_items WHERE owner = ? AND node = ? AND id NOT IN"
                    " (SELECT id FROM xmuc_pep_items WHERE owner = ? AND node = ?"
                    " ORDER BY id DESC LIMIT ?)",
                    (owner, node, owner, node, maxItems),
                )

        return self._run(publish)

    def items(self, owner, node, max=None, ids=None):
        def items(tx):
            tx.execute(
                "SELECT item_id, xml, stamp FROM xmuc_pep_items"
                " WHERE owner = ? AND node = ? ORDER BY id DESC",
                (owner, node),
            )
            found = tx.fetchall()
            if ids is not None:
                wanted = set(ids)
                found = [row for row in found if row[0] in wanted]
            if max is not None:
                found = found[: builtins.max(max, 0)]
            return [dict(id=itemID, xml=xml, when=when) for itemID, xml, when in found]

        return self._run(items)

    def retract(self, owner, node, item_id):
        def retract(tx):
            tx.execute(
                "DELETE FROM xmuc_pep_items WHERE owner = ? AND node = ? AND item_id = ?",
                (owner, node, item_id),
            )
            return tx.rowcount == 1

        return self._run(retract)

    def deleteAll(self, owner):
        def deleteAll(tx):
            tx.execute("DELETE FROM xmuc_pep_items WHERE owner = ?", (owner,))
            tx.execute("DELETE FROM xmuc_pep_nodes WHERE owner = ?", (owner,))

        return self._run(deleteAll)


@implementer(IAccountDataStore)
class SQLAccountDataStore:
    def __init__(self, storage):
        self._run = functools.partial(storage.run, area=SESSIONS)

    def get(self, owner, name):
        def get(tx):
            tx.execute(
                "SELECT value FROM xmuc_account_data WHERE owner = ? AND name = ?",
                (owner, name),
            )
            row = tx.fetchone()
            return None if row is None else common.fromJSON(row[0])

        return self._run(get)

    def set(self, owner, name, value):
        if value is None:
            return defer.fail(ValueError("a document cannot be None: delete it instead"))
        try:
            text = common.toJSON(value)
        except TypeError:
            return defer.fail()

        def set_(tx):
            tx.execute(
                "INSERT INTO xmuc_account_data (owner, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value",
                (owner, name, text),
            )

        return self._run(set_)

    def delete(self, owner, name):
        def delete(tx):
            tx.execute(
                "DELETE FROM xmuc_account_data WHERE owner = ? AND name = ?",
                (owner, name),
            )
            return tx.rowcount == 1

        return self._run(delete)

    def deleteAll(self, owner):
        def deleteAll(tx):
            tx.execute("DELETE FROM xmuc_account_data WHERE owner = ?", (owner,))

        return self._run(deleteAll)


@implementer(IStorage)
class SQLStorage:
    """
    The stores over one to L{MAX_CONNECTIONS} L{adbapi.ConnectionPool}s of
    one connection each.

    @ivar pools: the pools; area C{n} uses C{pools[min(n, len(pools) - 1)]}.
    @ivar pool: the first pool (accounts, tombstones, migrations).
    @ivar dialect: the L{Dialect}.
    @ivar callTimeout: seconds after which a call fails with
        L{StorageUnavailable}, or L{None} for no limit.
    @ivar schemaVersions: after L{start}, C{(version found, version now)}.
    """

    def __init__(
        self,
        pools,
        dialect,
        archiveMax=common.DEFAULT_ARCHIVE_MAX,
        offlineLimit=common.DEFAULT_OFFLINE_LIMIT,
        callTimeout=None,
        reactor=None,
    ):
        """
        @param pools: a list of L{adbapi.ConnectionPool}s (C{cp_max=1}).
        @param callTimeout: see L{callTimeout}.
        @param reactor: the L{IReactorTime} timing calls out, and into whose
            thread the pools' threads log; the global reactor by default.
        """
        if reactor is None:
            # Looked up at construction, not at import: the reactor is chosen
            # (xmuc.reactorchoice, twistd) after this module is imported.
            from twisted.internet import reactor
        self.reactor = reactor
        self.pools = list(pools)[:MAX_CONNECTIONS]
        self.pool = self.pools[0]
        self.dialect = dialect
        self.name = dialect.name
        self.callTimeout = callTimeout
        self.schemaVersions = None
        self._stopped = False
        self.accounts = SQLAccountStore(self)
        self.rosters = SQLRosterStore(self)
        self.rooms = SQLRoomStore(self)
        self.tombstones = SQLTombstoneStore(self)
        self.archive = SQLRoomArchive(self, archiveMax)
        self.offline = SQLOfflineStore(self, offlineLimit)
        self.pep = SQLPepStore(self)
        self.accountData = SQLAccountDataStore(self)

    def run(self, work, *args, area=ACCOUNTS, timed=True):
        """
        Run C{work(tx, *args)} in a transaction in the thread of C{area}'s
        connection.

        If the connection turns out to be dead (the server restarted, or
        closed it), the work is done again once on a new connection: nothing
        was committed, so this is safe, and it keeps the order of calls.

        @param area: L{ACCOUNTS}, L{SESSIONS} or L{ROOMS}.
        @param timed: whether L{callTimeout} applies.
        @return: Deferred firing with what C{work} returned once committed,
            or failing with L{StorageError} / L{StorageUnavailable}.
        """
        if self._stopped:
            return defer.fail(StorageUnavailable("%s: storage stopped" % (self.name,)))
        dialect = self.dialect
        pool = self.pools[min(area, len(self.pools) - 1)]
        # Set in the reactor's thread once the caller was told the call
        # timed out; read in the pool's.
        abandoned = []

        def interaction(transaction):
            if abandoned:
                raise CallAbandoned()
            try:
                result = work(Tx(transaction, dialect), *args)
            except dialect.unavailableErrors:
                raw = transaction._connection._connection
                if not (pool.reconnect and dialect.isDisconnected(raw)):
                    raise
                self.reactor.callFromThread(
                    log.info, "{backend} connection lost; reconnecting", backend=dialect.name
                )
                transaction.reconnect()
                transaction.reopen()
                result = work(Tx(transaction, dialect), *args)
            if abandoned:
                # Raising makes adbapi roll the transaction back.
                raise CallAbandoned()
            return result

        d = pool.runInteraction(interaction)
        if timed and self.callTimeout is not None:

            def timedOut(result, timeout):
                abandoned.append(True)
                raise StorageUnavailable(
                    "%s: no answer within %g s" % (dialect.name, timeout)
                )

            d.addTimeout(self.callTimeout, self.reactor, onTimeoutCancel=timedOut)
        d.addErrback(self._translateFailure)
        return d

    def _translateFailure(self, failure):
        """
        Turn driver exceptions into L{StorageError}s; leave others (bugs:
        L{TypeError} for values JSON cannot hold...) alone.
        """
        if failure.check(StorageError):
            return failure
        error = failure.value
        message = "%s: %s" % (
            self.dialect.name,
            (str(error).strip().splitlines() or [type(error).__name__])[0],
        )
        if failure.check(adbapi.ConnectionLost, *self.dialect.unavailableErrors):
            raise StorageUnavailable(message) from error
        if failure.check(*self.dialect.errors):
            raise StorageError(message) from error
        return failure

    def start(self):
        def started(versions):
            self.schemaVersions = versions
            found, now = versions
            if found != now:
                log.info(
                    "{backend} schema migrated from version {found} to {now}",
                    backend=self.name,
                    found=found,
                    now=now,
                )

        # A migration may rewrite big tables: it is given all the time it
        # needs, before the server serves anyone.
        return self.run(migrate, self.dialect, timed=False).addCallback(started)

    def stop(self):
        if not self._stopped:
            self._stopped = True
            # Joins the pools' threads: queued calls are done before it returns.
            for pool in self.pools:
                pool.close()
        return defer.succeed(None)
