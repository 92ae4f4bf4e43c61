"""
A PostgreSQL server for tests: the DSN comes from C{XMUC_TEST_POSTGRES_DSN}
(default C{host=127.0.0.1 port=5432 dbname=test user=postgres}, then
C{user=root}); every test works in a schema of its own, dropped afterwards.
When no server answers the tests are skipped, unless
C{XMUC_REQUIRE_POSTGRES=1}.
"""

import os
import time
import uuid

import psycopg2
from twisted.trial import unittest

from xmuc.storage.postgresql import maskDSN

DEFAULT_POSTGRES_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def findPostgres():
    """
    @return: a DSN that connects, or raise L{unittest.SkipTest} (or fail,
        when C{XMUC_REQUIRE_POSTGRES=1}) naming what was tried.
    """
    given = os.environ.get("XMUC_TEST_POSTGRES_DSN")
    candidates = [given] if given else [
        DEFAULT_POSTGRES_DSN,
        DEFAULT_POSTGRES_DSN.replace("user=postgres", "user=root"),
    ]
    problems = []
    for dsn in candidates:
        try:
            psycopg2.connect(dsn, connect_timeout=3).close()
            return dsn
        except psycopg2.Error as e:
            problems.append("%s: %s" % (maskDSN(dsn), " ".join(str(e).split())))
    reason = "PostgreSQL unreachable (%s)" % ("; ".join(problems),)
    if os.environ.get("XMUC_REQUIRE_POSTGRES") == "1":
        raise AssertionError(reason + " and XMUC_REQUIRE_POSTGRES=1")
    raise unittest.SkipTest(reason + "; set XMUC_TEST_POSTGRES_DSN")


class PostgresSchema:
    """
    A schema of its own for one test, dropped at the end.
    """

    def __init__(self, baseDSN):
        self.baseDSN = baseDSN
        self.name = "xmuc_test_" + uuid.uuid4().hex[:12]
        self.applicationName = self.name
        self.execute(["CREATE SCHEMA %s" % (self.name,)])
        self.dsn = "%s options='-csearch_path=%s' application_name=%s" % (
            baseDSN,
            self.name,
            self.applicationName,
        )

    def execute(self, statements, dsn=None, fetch=False):
        connection = psycopg2.connect(dsn or self.baseDSN, connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                result = None
                for statement in statements:
                    cursor.execute(statement)
                if fetch:
                    result = cursor.fetchall()
            connection.commit()
            return result
        finally:
            connection.close()

    def drop(self):
        self.execute(["DROP SCHEMA IF EXISTS %s CASCADE" % (self.name,)])

    def poolPIDs(self):
        return [
            pid for (pid,) in self.execute(
                ["SELECT pid FROM pg_stat_activity WHERE application_name = '%s'"
                 % (self.applicationName,)],
                fetch=True,
            )
        ]

    def terminatePool(self):
        """
        Kill the server side of the pool's connections (as an administrator
        or a server restart would) and wait until they are gone.
        """
        pids = self.poolPIDs()
        self.execute(["SELECT pg_terminate_backend(%d)" % (pid,) for pid in pids])
        deadline = time.time() + 10
        while set(pids) & set(self.poolPIDs()):
            if time.time() > deadline:
                raise AssertionError("backends %r did not go away" % (pids,))
            time.sleep(0.02)
        return pids


def holdTableLock(testCase, dsn, table):
    """
    Hold C{table} in ACCESS EXCLUSIVE mode from a connection of the test's
    own (as an administrator's session or another program's migration
    would), in an open transaction: the server's statements on it wait.

    @param testCase: the test; the lock is released at its cleanup.
    @param dsn: the schema's DSN.
    @return: a function releasing it (idempotent).
    """
    holder = psycopg2.connect(dsn, connect_timeout=3)
    with holder.cursor() as cursor:
        # Never wait in the test's reactor thread for the server.
        cursor.execute("SET lock_timeout = '5s'")
        cursor.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % (table,))
    released = []

    def release():
        if not released:
            released.append(True)
            holder.rollback()
            holder.close()

    testCase.addCleanup(release)
    return release
