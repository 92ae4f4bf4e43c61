"""
The PostgreSQL storage backend, through psycopg2 (C{[storage] dsn}).

Tables are named C{xmuc_*} and created in the first schema of the
connection's C{search_path} (C{public} unless the DSN says otherwise, e.g.
C{options='-csearch_path=xmuc'}), so they can live in a database shared with
other programs.

The connection is checked when the backend is built (before the reactor
runs): an unreachable server is a L{ConfigError} naming the DSN, password
masked.  Later, a call on a connection the server has dropped is redone once
on a new connection; if the server cannot be reached the call fails with
L{StorageUnavailable}, and the next call tries to connect again.
"""

import re

import psycopg2
from twisted.enterprise import adbapi

from xmuc.storage import common, sql

#: Seconds to wait for the server to accept a connection.
CONNECT_TIMEOUT = 5

#: Key of the advisory lock held while migrating the schema ('xmuc').
MIGRATION_LOCK = 0x786D7563


class PostgreSQLDialect(sql.Dialect):
    name = "postgresql"
    paramstyle = "format"
    types = {
        "bool": "BOOLEAN",
        "float": "DOUBLE PRECISION",
        "serial": "BIGSERIAL PRIMARY KEY",
    }
    unavailableErrors = (psycopg2.OperationalError, psycopg2.InterfaceError)
    errors = (psycopg2.Error,)

    def lockForMigration(self, tx):
        tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))

    def isDisconnected(self, connection):
        # psycopg2 sets closed to 2 when it found the connection broken.
        return bool(getattr(connection, "closed", 0))


DIALECT = PostgreSQLDialect()


def maskDSN(dsn):
    """
    Hide the password of a DSN, in either form (C{key=value ...} or URI).

    @return: the DSN with the password replaced by C{***}.
    """
    if re.match(r"^\w+://", dsn):
        masked = re.sub(r"^(\w+://[^:/@?]*:)([^@]*)(@)", r"\1***\3", dsn)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", masked, flags=re.I)
    return re.sub(
        r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn, flags=re.I
    )


def checkServer(dsn):
    """
    Connect once, synchronously (before the reactor runs).

    @raise psycopg2.Error: if the server cannot be reached or refuses us.
    """
    psycopg2.connect(dsn, connect_timeout=3).close()


class PostgreSQLStorage(sql.SQLStorage):
    """
    The stores in a PostgreSQL database.

    @ivar dsn: the connection string.
    """

    def __init__(
        self,
        dsn,
        archiveMax=common.DEFAULT_ARCHIVE_MAX,
        offlineLimit=common.DEFAULT_OFFLINE_LIMIT,
    ):
        """
        @param dsn: a libpq connection string.
        @param archiveMax: archived messages kept per room.
        @param offlineLimit: offline messages one user may have waiting.
        """
        self.dsn = dsn
        # One connection: calls are applied in the order they are made
        # (see xmuc.storage.sql).
        pool = adbapi.ConnectionPool(
            "psycopg2",
            dsn,
            connect_timeout=CONNECT_TIMEOUT,
            cp_min=1,
            cp_max=1,
            cp_reconnect=True,
            cp_noisy=False,
        )
        sql.SQLStorage.__init__(self, pool, DIALECT, archiveMax, offlineLimit)


def fromConfig(config):
    """
    The factory named by the C{postgresql} plugin.

    @param config: the L{xmuc.config.Config}; C{[storage] dsn} is the
        connection string.
    @return: a L{PostgreSQLStorage}.
    @raise ConfigError: naming C{[storage] dsn} when it is empty or the
        server cannot be reached with it.
    """
    dsn = config.get("storage", "dsn")
    if not dsn:
        raise config.error(
            "storage", "dsn", "the postgresql backend needs a connection string"
        )
    try:
        checkServer(dsn)
    except psycopg2.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise config.error(
            "storage",
            "dsn",
            "postgresql backend: cannot connect with %r: %s" % (maskDSN(dsn), reason),
        ) from e
    return PostgreSQLStorage(dsn)
