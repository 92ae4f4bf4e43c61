"""
Persistent rooms over the wire (issue 6, point 3): a room made persistent
keeps its configuration, affiliations, reserved nicks, subject and recent
history across a restart of the server, checked by a real client on a real
socket against a server started again on the same database (SQLite file,
or a PostgreSQL schema of its own); a temporary room does not survive.

The helpers here (L{ServerOnDatabase}, L{MUCClient}, the form builders) are
shared with C{test_storage_faults} and C{test_tombstones_wire}.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.database import (
    MUCClient,
    NS_DISCO_INFO,
    PASSWORD,
    ROOM,
    ServerOnDatabase,
    TEMPORARY,
    assertResult,
    field,
    formFields,
    history,
    statusCodes,
    subjectOf,
)
from tests.support.client import connectClient, errorCondition, firstChild

class PersistentRoomsMixin:
    """
    The same restart scenario on every SQL backend (C{storageKeys}).
    """

    def storageKeys(self):
        raise NotImplementedError()

    @defer.inlineCallbacks
    def makeRoom(self, server):
        """
        Romeo makes a persistent room with a title, members, an admin with
        a reserved nick, an outcast, a subject and three messages; and a
        temporary room.
        """
        yield server.register("romeo", "juliet", "benvolio", "tybalt")
        romeo = yield server.login("romeo")
        received = yield romeo.join(ROOM, "Romeo")
        self.assertIn("201", [c for s in received for c in statusCodes(s)])
        reply = yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1")
                                      + field("muc#roomconfig_roomname", "The Balcony")
                                      + field("muc#roomconfig_roomdesc", "Verona, at night")
                                      + field("muc#roomconfig_historylength", "2"))
        assertResult(reply)
        for jid, affiliation, nick in [("juliet@localhost", "member", "Jules"),
                                       ("benvolio@localhost", "admin", None),
                                       ("tybalt@localhost", "outcast", None)]:
            assertResult((yield romeo.setAffiliation(ROOM, jid, affiliation, nick)))
        romeo.groupchat(ROOM, subject="Wherefore art thou", id="s1")
        yield romeo.echoOf(ROOM, "s1")
        for number in range(3):
            romeo.groupchat(ROOM, body="line %d" % (number,), id="m%d" % (number,))
            yield romeo.echoOf(ROOM, "m%d" % (number,))
        received = yield romeo.join(TEMPORARY, "Romeo")
        self.assertIn("201", [c for s in received for c in statusCodes(s)])
        return romeo

    @defer.inlineCallbacks
    def test_restart(self):
        """
        After a restart on the same database, over the wire: the owner form
        shows the configuration, the lists the affiliations, the reserved
        nick is refused to others, a joiner gets the last messages of
        history (with delay) and the subject; the temporary room is gone.
        """
        server = ServerOnDatabase(self, self.storageKeys(), {"muc": {"lock_new_rooms": "true"}})
        yield server.start()
        yield self.makeRoom(server)
        yield server.stop()

        yield server.start()
        self.assertEqual(list(server.server.muc.rooms), [ROOM])
        romeo = yield server.login("romeo")
        fields = yield romeo.configForm(ROOM)
        self.assertEqual(fields["muc#roomconfig_roomname"], ["The Balcony"])
        self.assertEqual(fields["muc#roomconfig_roomdesc"], ["Verona, at night"])
        self.assertEqual(fields["muc#roomconfig_persistentroom"], ["1"])
        self.assertEqual(fields["muc#roomconfig_historylength"], ["2"])
        self.assertEqual((yield romeo.affiliationList(ROOM, "member")), {"juliet@localhost": "Jules"})
        self.assertEqual(list((yield romeo.affiliationList(ROOM, "admin"))), ["benvolio@localhost"])
        self.assertEqual(list((yield romeo.affiliationList(ROOM, "outcast"))), ["tybalt@localhost"])
        self.assertEqual(list((yield romeo.affiliationList(ROOM, "owner"))), ["romeo@localhost"])

        # The reserved nick belongs to Juliet.
        benvolio = yield server.login("benvolio")
        received = yield benvolio.join(ROOM, "Jules")
        self.assertEqual(errorCondition(received[-1]), "conflict")
        # The outcast stays out.
        tybalt = yield server.login("tybalt")
        received = yield tybalt.join(ROOM, "Tybalt")
        self.assertEqual(errorCondition(received[-1]), "forbidden")

        juliet = yield server.login("juliet")
        received = yield juliet.join(ROOM, "Jules")
        self.assertEqual(history(received), [(ROOM + "/Romeo", "line 1", True), (ROOM + "/Romeo", "line 2", True)])
        self.assertEqual(subjectOf(received), (ROOM + "/Romeo", "Wherefore art thou"))
        self.assertEqual([(s.getAttribute("from"), statusCodes(s)) for s in received if s.name == "presence"],
                         [(ROOM + "/Jules", ["110"])])

        # The temporary room is no more: a join creates a new one.
        reply = yield juliet.iq(TEMPORARY, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertEqual(errorCondition(reply), "item-not-found")

    @defer.inlineCallbacks
    def test_madeTemporaryIsForgotten(self):
        """
        A persistent room made temporary again does not come back.
        """
        server = ServerOnDatabase(self, self.storageKeys(), {"muc": {"lock_new_rooms": "false"}})
        yield server.start()
        yield server.register("romeo")
        romeo = yield server.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "0"))))
        yield server.stop()
        yield server.start()
        self.assertEqual(list(server.server.muc.rooms), [])


class SQLitePersistentRoomsTests(PersistentRoomsMixin, unittest.TestCase):
    def storageKeys(self):
        return {"backend": "sqlite", "path": os.path.abspath(self.mktemp()) + ".sqlite"}


class PostgreSQLPersistentRoomsTests(PersistentRoomsMixin, unittest.TestCase):
    def setUp(self):
        from tests.support.postgres import PostgresSchema, findPostgres

        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)

    def storageKeys(self):
        # '%' would be interpolation for configparser: none in a DSN.
        return {"backend": "postgresql", "dsn": self.schema.dsn}


class KilledServerTests(unittest.TestCase):
    """
    A real C{twistd} process on an SQLite file is killed (SIGKILL) the
    moment the client has the acknowledgement of a change; started again on
    the same file, the server still has the change.
    """

    def setUp(self):
        self.database = os.path.abspath(self.mktemp()) + ".sqlite"
        self.process = None
        self.clients = []

    @defer.inlineCallbacks
    def start(self):
        from tests.support.twistd import startTwistd, tapConfig

        self.process = yield startTwistd(
            self,
            tapConfig(
                storage={"backend": "sqlite", "path": self.database},
                muc={"lock_new_rooms": "false"},
            ),
        )

    @defer.inlineCallbacks
    def login(self, name):
        client = yield connectClient(self.process.port)
        self.clients.append(client)
        self.addCleanup(lambda: client.closed.called or client.transport.abortConnection())
        yield client.login(name, PASSWORD, "r")
        return MUCClient(client, "%s@localhost/r" % (name,))

    @defer.inlineCallbacks
    def killAndRestart(self):
        """
        SIGKILL at once (the caller just got its acknowledgement), then
        start again on the same file.
        """
        self.process.signal("KILL")
        status = yield self.process.ended
        self.assertEqual(status, -9)
        output = self.process.text()
        self.assertNotIn("Traceback", output)
        yield self.start()

    @defer.inlineCallbacks
    def test_acknowledgedSurvivesSIGKILL(self):
        yield self.start()
        romeo = yield self.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        # 1. The configuration form's result.
        reply = yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1")
                                      + field("muc#roomconfig_roomname", "Killed once"))
        assertResult(reply)
        yield self.killAndRestart()

        romeo = yield self.login("romeo")
        fields = yield romeo.configForm(ROOM)
        self.assertEqual((fields["muc#roomconfig_persistentroom"], fields["muc#roomconfig_roomname"]),
                         (["1"], ["Killed once"]))
        # 2. An affiliation change's result (with a reserved nick).
        reply = yield romeo.setAffiliation(ROOM, "juliet@localhost", "member", "Jules")
        assertResult(reply)
        yield self.killAndRestart()

        romeo = yield self.login("romeo")
        self.assertEqual((yield romeo.affiliationList(ROOM, "member")), {"juliet@localhost": "Jules"})
        # 3. The subject: its broadcast (the echo) is the acknowledgement.
        yield romeo.join(ROOM, "Romeo")
        romeo.groupchat(ROOM, subject="After the fall", id="s1")
        echo = yield romeo.echoOf(ROOM, "s1")
        self.assertIsNone(errorCondition(echo))
        yield self.killAndRestart()

        # 4. A message, then an acknowledged change: the message was stored
        # before it (storage applies calls in order).
        romeo = yield self.login("romeo")
        received = yield romeo.join(ROOM, "Romeo")
        self.assertEqual(subjectOf(received), (ROOM + "/Romeo", "After the fall"))
        romeo.groupchat(ROOM, body="still here", id="m1")
        yield romeo.echoOf(ROOM, "m1")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_roomdesc", "twice"))))
        yield self.killAndRestart()

        juliet = yield self.login("juliet")
        received = yield juliet.join(ROOM, "Jules")
        self.assertEqual(history(received), [(ROOM + "/Romeo", "still here", True)])
        self.assertEqual(subjectOf(received), (ROOM + "/Romeo", "After the fall"))
        reply = yield juliet.iq(ROOM, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertEqual(formFields(firstChild(reply, NS_DISCO_INFO, "query")).get("muc#roominfo_description"), ["twice"])
