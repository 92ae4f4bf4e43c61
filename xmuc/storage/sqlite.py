"""
The SQLite storage backend: one database file (C{[storage] path}).

The file is in WAL journal mode with C{synchronous=NORMAL}: a committed
change survives the death of the process (even SIGKILL); only a power loss
may lose the last transactions.  Every call runs in the one thread of an
L{adbapi.ConnectionPool}, so the reactor never waits for the disk, and a
call's Deferred fires once its change is committed.

The file is created 0600 (its missing directories 0700) whatever the
umask; SQLite gives its C{-wal} and C{-shm} files the mode of the database
file, and those of an existing database lose their group and other
permissions at start.
"""

import os
import sqlite3

from twisted.enterprise import adbapi

from xmuc import privatefiles
from xmuc.storage import common, sql

#: How long a call waits for another process (xmucctl) holding the lock.
BUSY_TIMEOUT_MS = 5000


class SQLiteDialect(sql.Dialect):
    name = "sqlite"
    paramstyle = "qmark"
    types = {"bool": "INTEGER", "float": "REAL", "serial": "INTEGER PRIMARY KEY"}
    # OperationalError: locked, unable to open, disk I/O error, read-only...
    unavailableErrors = (sqlite3.OperationalError,)
    errors = (sqlite3.Error,)

    def lockForMigration(self, tx):
        # Take the write lock now rather than at the first write, so that two
        # processes starting together cannot both decide to migrate.
        tx.execute("BEGIN IMMEDIATE")


DIALECT = SQLiteDialect()


def configureConnection(connection):
    """
    Settings of every connection the pool opens.

    @param connection: a L{sqlite3.Connection}.
    """
    connection.execute("PRAGMA busy_timeout = %d" % (BUSY_TIMEOUT_MS,))
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")


#: What SQLite keeps beside the database file.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def makePrivate(path):
    """
    Create the database file C{path} 0600 when missing, and take group and
    other permissions away from it and the files SQLite keeps beside it.

    @raise OSError: when it cannot be created, or its mode changed.
    """
    privatefiles.createFile(path)
    for suffix in ("",) + COMPANION_SUFFIXES:
        privatefiles.tighten(path + suffix)


def checkDatabase(path):
    """
    Check synchronously (before the reactor runs) that C{path} can be
    created or opened, written, and is an SQLite database; create it and
    its missing directories private.

    @raise OSError, sqlite3.Error: if not.
    """
    directory = os.path.dirname(path)
    if directory:
        privatefiles.makeDirectories(directory)
    makePrivate(path)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000.0)
    try:
        configureConnection(connection)
        # A write: fails on a read-only file or directory.
        connection.execute(
            "CREATE TABLE IF NOT EXISTS xmuc_schema_version (version INTEGER NOT NULL)"
        )
        connection.commit()
    finally:
        connection.close()


class SQLiteStorage(sql.SQLStorage):
    """
    The stores in one SQLite file.

    @ivar path: the database file.
    """

    def __init__(
        self,
        path,
        archiveMax=common.DEFAULT_ARCHIVE_MAX,
        offlineLimit=common.DEFAULT_OFFLINE_LIMIT,
    ):
        """
        @param path: the database file (created when missing; its directory
            must exist).
        @param archiveMax: archived messages kept per room.
        @param offlineLimit: offline messages one user may have waiting.
        """
        self.path = path
        try:
            makePrivate(path)
        except OSError:
            # The first call reports it, as a StorageError.
            pass
        pool = adbapi.ConnectionPool(
            "sqlite3",
            path,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000.0,
            cp_min=1,
            cp_max=1,
            cp_openfun=configureConnection,
            cp_noisy=False,
        )
        sql.SQLStorage.__init__(self, [pool], DIALECT, archiveMax, offlineLimit)


def fromConfig(config):
    """
    The factory named by the C{sqlite} plugin.

    @param config: the L{xmuc.config.Config}; C{[storage] path} is the file,
        relative to the configuration file's directory.
    @return: a L{SQLiteStorage}.
    @raise ConfigError: naming C{[storage] path} when the file cannot be
        created, opened or written.
    """
    raw = config.get("storage", "path")
    if not raw:
        raise config.error("storage", "path", "the sqlite backend needs a file path")
    path = config.resolvePath(raw)
    try:
        checkDatabase(path)
    except (OSError, sqlite3.Error) as e:
        raise config.error(
            "storage",
            "path",
            "cannot use SQLite database %s: %s" % (path, e),
        ) from e
    return SQLiteStorage(path)

