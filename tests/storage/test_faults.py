"""
The server facing a database it cannot use, at start and while running.

At start: a database that cannot be used stops C{twistd -n xmuc} with one
clear line naming the backend and the DSN (password masked) or file, and a
non-zero status, no traceback.

While running: PostgreSQL goes away (the server's role is forbidden to log
in and its connections are killed: the machine's PostgreSQL server is
shared, so it is not stopped), the iqs that need the database are answered
C{internal-server-error} at once, the rest of the server keeps working, and
everything works again when the database accepts the role again.
"""

import os

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.support.database import (
    NS_REGISTER,
    NS_ROSTER,
    PASSWORD,
    SERVICE,
    ServerOnDatabase,
    assertResult,
    field,
    writeConfig,
)
from tests.support.postgres import PostgresSchema, findPostgres
from tests.support.client import (
    AuthenticationFailed,
    NS_CLIENT,
    connectClient,
    errorCondition,
    firstChild,
)
from tests.support.twistd import TWISTD

ROOM = "vault@" + SERVICE
UNAVAILABLE = ("internal-server-error", "resource-constraint")


class StartFaultTests(unittest.TestCase):
    """
    twistd as a subprocess, with a database it cannot use.
    """

    @defer.inlineCallbacks
    def runTwistd(self, storage):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = writeConfig(directory, storage)
        out, err, code = yield utils.getProcessOutputAndValue(
            TWISTD, ("--pidfile=", "-n", "xmuc", "-c", path), env=dict(os.environ), path=directory)
        return (out + err).decode("utf-8", "replace"), code

    @defer.inlineCallbacks
    def test_postgresqlUnreachable(self):
        output, code = yield self.runTwistd({
            "backend": "postgresql",
            "dsn": "host=127.0.0.1 port=1 dbname=xmuc user=xmuc password=s3cret",
        })
        self.assertNotEqual(code, 0)
        self.assertNotIn("Traceback", output)
        lines = output.strip().splitlines()
        self.assertEqual(len(lines), 1, output)
        self.assertIn("[storage] dsn", lines[0])
        self.assertIn("postgresql", lines[0])
        self.assertIn("host=127.0.0.1 port=1 dbname=xmuc user=xmuc password=***", lines[0])
        self.assertNotIn("s3cret", output)

    @defer.inlineCallbacks
    def test_sqliteUnusable(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        output, code = yield self.runTwistd({"backend": "sqlite", "path": directory})
        self.assertNotEqual(code, 0)
        self.assertNotIn("Traceback", output)
        lines = output.strip().splitlines()
        self.assertEqual(len(lines), 1, output)
        self.assertIn("[storage] path", lines[0])
        self.assertIn(directory, lines[0])


class PostgreSQLOutageTests(unittest.TestCase):
    """
    A running server loses its PostgreSQL database, then gets it back.
    """

    def setUp(self):
        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)
        self.role = self.schema.name + "_role"
        self.schema.execute([
            "CREATE ROLE %s LOGIN" % (self.role,),
            "GRANT ALL ON SCHEMA %s TO %s" % (self.schema.name, self.role),
        ])
        # Cleanups run last in, first out: the server stops, then what the
        # role owns goes, then the role, then the schema.
        self.addCleanup(self.schema.execute, ["DROP ROLE IF EXISTS %s" % (self.role,)])
        self.addCleanup(self.schema.execute, ["DROP OWNED BY %s" % (self.role,)])
        self.addCleanup(self.schema.execute, ["ALTER ROLE %s LOGIN" % (self.role,)])
        dsn = "%s user=%s" % (self.schema.dsn, self.role)
        self.server = ServerOnDatabase(
            self, {"backend": "postgresql", "dsn": dsn},
            {"c2s": {"allow_registration": "true"}, "muc": {"lock_new_rooms": "false"}})

    def outage(self):
        self.schema.execute(["ALTER ROLE %s NOLOGIN" % (self.role,)])
        self.schema.terminatePool()

    def recover(self):
        self.schema.execute(["ALTER ROLE %s LOGIN" % (self.role,)])

    @defer.inlineCallbacks
    def registerOverTheWire(self, username):
        client = yield connectClient(self.server.running.c2sPort)
        self.server.clients.append(client)
        yield client.openStream()
        reply = yield client.iq(
            "<iq xmlns='%s' type='set' id='reg'><query xmlns='%s'><username>%s</username>"
            "<password>pw</password></query></iq>" % (NS_CLIENT, NS_REGISTER, username))
        return reply

    def rosterSet(self, client, contact):
        return client.iq(None, "set", "<query xmlns='%s'><item jid='%s'/></query>" % (NS_ROSTER, contact))

    @defer.inlineCallbacks
    def everythingNeedingTheDatabase(self, romeo, number):
        """
        @return: Deferred firing with C{{what: reply iq or stanza}} for each
            request that must store something.
        """
        replies = {}
        replies["owner form"] = yield romeo.configure(
            ROOM, field("muc#roomconfig_roomname", "Name %d" % (number,)))
        replies["affiliation"] = yield romeo.setAffiliation(ROOM, "friend%d@localhost" % (number,), "member")
        replies["roster set"] = yield self.rosterSet(romeo, "friend%d@localhost" % (number,))
        replies["registration"] = yield self.registerOverTheWire("newcomer%d" % (number,))
        replies["password change"] = yield romeo.iq(
            None, "set", "<query xmlns='%s'><username>romeo</username><password>%s</password></query>"
            % (NS_REGISTER, PASSWORD))
        romeo.groupchat(ROOM, subject="Subject %d" % (number,), id="subject%d" % (number,))
        replies["subject"] = yield romeo.echoOf(ROOM, "subject%d" % (number,))
        return replies

    @defer.inlineCallbacks
    def test_outageAndRecovery(self):
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.server.login("romeo")
        juliet = yield self.server.login("juliet")
        yield romeo.join(ROOM, "Romeo")
        yield juliet.join(ROOM, "Juliet")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))

        self.outage()
        replies = yield self.everythingNeedingTheDatabase(romeo, 1)
        for what, reply in sorted(replies.items()):
            self.assertEqual(reply.getAttribute("type"), "error", what)
            self.assertIn(errorCondition(reply), UNAVAILABLE, what)
        # The server keeps serving what needs no database.
        assertResult((yield romeo.iq("localhost", "get", "<ping xmlns='urn:xmpp:ping'/>")))
        romeo.groupchat(ROOM, body="still talking", id="m1")
        echo = yield romeo.echoOf(ROOM, "m1")
        self.assertEqual(echo.getAttribute("type"), "groupchat")
        heard = yield juliet.echoOf(ROOM, "m1")
        self.assertEqual(str(firstChild(heard, name="body")), "still talking")
        members = yield romeo.affiliationList(ROOM, "owner")
        self.assertEqual(list(members), ["romeo@localhost"])
        # Deleting an account is refused, not acknowledged and forgotten.
        reply = yield juliet.iq(None, "set", "<query xmlns='%s'><remove/></query>" % (NS_REGISTER,))
        self.assertIn(errorCondition(reply), UNAVAILABLE)
        # Logging in needs the credentials: a temporary failure.
        client = yield connectClient(self.server.running.c2sPort)
        self.server.clients.append(client)
        failure = yield self.assertFailure(client.login("juliet", PASSWORD, "x"), AuthenticationFailed)
        self.assertEqual(failure.condition, "temporary-auth-failure")

        self.recover()
        replies = yield self.everythingNeedingTheDatabase(romeo, 2)
        for what, reply in sorted(replies.items()):
            self.assertNotEqual(reply.getAttribute("type"), "error", "%s: %s" % (what, reply.toXml()))
        # What was acknowledged is stored; what failed is not.
        storage = self.server.server.storage
        state = yield storage.rooms.get(ROOM)
        self.assertEqual(state["config"]["name"], "Name 2")
        self.assertEqual(state["subject"], "Subject 2")
        self.assertEqual(state["affiliations"].get("friend2@localhost"), "member")
        roster = yield storage.rosters.get("romeo@localhost")
        self.assertIn("friend2@localhost", roster)
        self.assertNotIn("friend1@localhost", roster)
        accounts = yield storage.accounts.list()
        self.assertIn("newcomer2@localhost", accounts)
        self.assertNotIn("newcomer1@localhost", accounts)
        client = yield connectClient(self.server.running.c2sPort)
        self.server.clients.append(client)
        yield client.login("juliet", PASSWORD, "y")
        reply = yield juliet.iq(None, "set", "<query xmlns='%s'><remove/></query>" % (NS_REGISTER,))
        assertResult(reply)
        # The deletion ends by closing her streams, once her rooms and
        # roster are done with.
        yield juliet.client.waitClosed()
        self.assertIsNotNone((yield storage.tombstones.get("juliet@localhost")))
        self.flushLoggedErrors()
