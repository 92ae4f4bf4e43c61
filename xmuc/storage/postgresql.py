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

No call waits for the server for ever: connecting gives up after
C{connect_timeout} seconds, the server cancels a statement (a lock wait
included) after C{statement_timeout}, and a call still unanswered after
both fails with L{StorageUnavailable} (see L{xmuc.storage.sql}), even when
the server went silent without closing the connection.  TCP keepalives
then free the connection's thread.  Each storage area has a connection of
its own (L{sql.ACCOUNTS}, L{sql.SESSIONS}, L{sql.ROOMS}), so a lock on a
room table holds up no login.
"""

import functools
import re

import psycopg2
import psycopg2.extensions
from twisted.enterprise import adbapi

from xmuc.storage import common, sql

#: Seconds to wait for the server to accept a connection (libpq's
#: C{connect_timeout}, which counts 1 as 2).
DEFAULT_CONNECT_TIMEOUT = 5

#: Seconds the server lets one statement run, waiting for locks included.
DEFAULT_STATEMENT_TIMEOUT = 10.0

#: Connections: one per storage area.
DEFAULT_CONNECTIONS = sql.MAX_CONNECTIONS

#: TCP settings of every connection, in libpq's names, unless the DSN gives
#: its own: a server that vanished without closing the connection (a cut
#: network, a host gone) is noticed in about 20 seconds instead of the
#: kernel's two hours, so its thread is freed and the next call reconnects.
TCP_SETTINGS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 2,
    # Milliseconds data may stay unacknowledged before the connection is
    # dropped (keepalives only probe an idle connection).
    "tcp_user_timeout": 20000,
}

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
        # A migration may rewrite big tables: no statement timeout for it.
        tx.execute("SET LOCAL statement_timeout = 0")
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


def connectionArguments(dsn, connectTimeout=DEFAULT_CONNECT_TIMEOUT):
    """
    The keyword arguments of C{psycopg2.connect} besides the DSN.

    @param connectTimeout: seconds, an int.
    @return: a dict: C{connect_timeout}, and the L{TCP_SETTINGS} the DSN
        does not set.
    @raise psycopg2.Error: if C{dsn} cannot be parsed.
    """
    given = psycopg2.extensions.parse_dsn(dsn)
    arguments = {key: value for key, value in TCP_SETTINGS.items() if key not in given}
    arguments["connect_timeout"] = connectTimeout
    return arguments


def configureConnection(statementTimeout, connection):
    """
    Settings of every connection the pools open.

    @param statementTimeout: seconds.
    @param connection: a psycopg2 connection.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SET statement_timeout = %s", (max(1, round(statementTimeout * 1000)),)
        )
    connection.commit()


def checkServer(dsn, connectTimeout=DEFAULT_CONNECT_TIMEOUT):
    """
    Connect once, synchronously (before the reactor runs).

    @raise psycopg2.Error: if the server cannot be reached or refuses us.
    """
    psycopg2.connect(dsn, **connectionArguments(dsn, connectTimeout)).close()


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
        connectTimeout=DEFAULT_CONNECT_TIMEOUT,
        statementTimeout=DEFAULT_STATEMENT_TIMEOUT,
        connections=DEFAULT_CONNECTIONS,
        reactor=None,
    ):
        """
        @param dsn: a libpq connection string.
        @param archiveMax: archived messages kept per room.
        @param offlineLimit: offline messages one user may have waiting.
        @param connectTimeout: seconds (an int) to wait for a connection.
        @param statementTimeout: seconds the server lets a statement run.
        @param connections: how many connections, 1 to
            L{sql.MAX_CONNECTIONS}; with fewer than one per area, the last
            areas share the last connection.
        @param reactor: see L{sql.SQLStorage}.
        """
        self.dsn = dsn
        arguments = connectionArguments(dsn, connectTimeout)
        # One connection per pool: each area's calls are applied in the
        # order they are made (see xmuc.storage.sql).
        pools = [
            adbapi.ConnectionPool(
                "psycopg2",
                dsn,
                cp_min=1,
                cp_max=1,
                cp_reconnect=True,
                cp_noisy=False,
                cp_openfun=functools.partial(configureConnection, statementTimeout),
                cp_reactor=reactor,
                **arguments,
            )
            for _ in range(max(1, min(connections, sql.MAX_CONNECTIONS)))
        ]
        # Time to connect anew, then to run a statement, and a second for
        # the round trips around them.
        callTimeout = connectTimeout + statementTimeout + 1
        sql.SQLStorage.__init__(
            self, pools, DIALECT, archiveMax, offlineLimit, callTimeout, reactor
        )


def fromConfig(config):
    """
    The factory named by the C{postgresql} plugin.

    @param config: the L{xmuc.config.Config}; C{[storage] dsn} is the
        connection string; C{connect_timeout}, C{statement_timeout} and
        C{connections} tune it.
    @return: a L{PostgreSQLStorage}.
    @raise ConfigError: naming C{[storage] dsn} when it is empty or the
        server cannot be reached with it.
    """
    dsn = config.get("storage", "dsn")
    if not dsn:
        raise config.error(
            "storage", "dsn", "the postgresql backend needs a connection string"
        )
    connectTimeout = config.get("storage", "connect_timeout")
    try:
        checkServer(dsn, connectTimeout)
    except psycopg2.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise config.error(
            "storage",
            "dsn",
            "postgresql backend: cannot connect with %r: %s" % (maskDSN(dsn), reason),
        ) from e
    return PostgreSQLStorage(
        dsn,
        connectTimeout=connectTimeout,
        statementTimeout=config.get("storage", "statement_timeout"),
        connections=config.get("storage", "connections"),
    )
