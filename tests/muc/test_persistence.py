"""
Persistent rooms (L{xmuc.muc.persistence}): their configuration,
affiliations, reserved nicks, subject and recent history survive a restart,
temporary rooms do not, and shutdown sends status 332.  At the component
level, and over the wire: a real client on a real socket against a server
started again on the same database (SQLite file, or a PostgreSQL schema of
its own), and a real C{twistd} killed (SIGKILL) the moment the client has
the acknowledgement of a change, which it still has when started again.

Configuration and affiliation changes are all-or-nothing when storing the
room fails: the requester gets C{internal-server-error}, the room keeps its
previous state (configuration, affiliations, reserved nicks) and nobody
saw anything.  Two changes of one room never overlap: the second is applied
and stored only once the first save finished.  The stores are the real
memory backend, made to fail or hold saves on demand.
"""

import json
import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    FlakyStorage,
    HeldStorage,
    ROOM,
    adminSet,
    affItem,
    codes,
    condition,
    configure,
    field,
    iqResult,
    populateRoom,
    roleItem,
)
from tests.support.database import (
    MUCClient,
    NS_DISCO_INFO,
    PASSWORD,
    ROOM as BALCONY,
    ServerOnDatabase,
    TEMPORARY,
    assertResult,
    formFields,
    history,
    statusCodes,
    subjectOf,
)
from tests.support.postgres import PostgresSchema, findPostgres
from tests.support.client import connectClient, errorCondition, firstChild
from tests.support.twistd import startTwistd, tapConfig
from xmuc.muc.persistence import stateOf
from xmuc.testing.muc import MUCHarness
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.muc.locking import isLocked
from xmuc.muc import subject


class PersistenceTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_restart(self):
        """
        Configuration, affiliations, subject and history of a persistent
        room survive a restart; temporary rooms do not.
        """
        harness = MUCHarness()
        romeo = harness.client("user@localhost/r")
        romeo.join("room", "Romeo")
        configure(romeo, field("muc#roomconfig_persistentroom", "1") + field("muc#roomconfig_roomname", "Balcony")
                  + field("muc#roomconfig_roomsecret", "pw"))
        room = harness.muc.rooms[ROOM]
        room.setAffiliation("user2@localhost", "member")
        yield room.save()
        romeo.send("<message to='%s' type='groupchat'><subject>Topic</subject></message>" % (ROOM,))
        romeo.send("<message to='%s' type='groupchat'><body>remember me</body></message>" % (ROOM,))
        romeo.join("temp", "Romeo")

        restarted = yield harness.restart()
        self.assertEqual(list(restarted.muc.rooms), [ROOM])
        room = restarted.muc.rooms[ROOM]
        self.assertEqual((room.config.name, room.config.password), ("Balcony", "pw"))
        self.assertEqual(room.getAffiliation("user2@localhost"), "member")
        self.assertEqual(room.getAffiliation("user@localhost"), "owner")
        self.assertEqual(subject.subjectOf(room).text, "Topic")
        juliet = restarted.client("user2@localhost/g")
        received = juliet.join("room", "Juliet", "<password>pw</password>")
        bodies = [str(s.body) for s in received if s.name == "message" and s.body is not None]
        self.assertEqual(bodies, ["remember me"])
        self.assertEqual(str(received[-1].subject), "Topic")

    def test_shutdown(self):
        """
        On stop every occupant gets its unavailable presence with 332 and
        sees the others leave.
        """
        harness = MUCHarness()
        romeo = harness.client("user@localhost/r")
        juliet = harness.client("user2@localhost/g")
        romeo.join("room", "Romeo")
        juliet.join("room", "Juliet")
        romeo.received()
        harness.muc.stopService()
        received = romeo.received()
        own = [s for s in received if s["from"] == ROOM + "/Romeo"]
        self.assertEqual([(s["type"], codes(s)) for s in own], [("unavailable", ["332", "110"])])
        received = juliet.received()
        self.assertEqual(sorted((s["from"], s["type"]) for s in received),
                         [(ROOM + "/Juliet", "unavailable"), (ROOM + "/Romeo", "unavailable")])

    @defer.inlineCallbacks
    def test_becomingTemporaryForgets(self):
        harness = MUCHarness()
        romeo = harness.client("user@localhost/r")
        romeo.join("room", "Romeo")
        configure(romeo, field("muc#roomconfig_persistentroom", "1"))
        stored = yield harness.storage.rooms.get(ROOM)
        self.assertIsNotNone(stored)
        configure(romeo, field("muc#roomconfig_persistentroom", "0"))
        stored = yield harness.storage.rooms.get(ROOM)
        self.assertIsNone(stored)


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
        received = yield romeo.join(BALCONY, "Romeo")
        self.assertIn("201", [c for s in received for c in statusCodes(s)])
        reply = yield romeo.configure(BALCONY, field("muc#roomconfig_persistentroom", "1")
                                      + field("muc#roomconfig_roomname", "The Balcony")
                                      + field("muc#roomconfig_roomdesc", "Verona, at night")
                                      + field("muc#roomconfig_historylength", "2"))
        assertResult(reply)
        for jid, affiliation, nick in [("juliet@localhost", "member", "Jules"),
                                       ("benvolio@localhost", "admin", None),
                                       ("tybalt@localhost", "outcast", None)]:
            assertResult((yield romeo.setAffiliation(BALCONY, jid, affiliation, nick)))
        romeo.groupchat(BALCONY, subject="Wherefore art thou", id="s1")
        yield romeo.echoOf(BALCONY, "s1")
        for number in range(3):
            romeo.groupchat(BALCONY, body="line %d" % (number,), id="m%d" % (number,))
            yield romeo.echoOf(BALCONY, "m%d" % (number,))
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
        self.assertEqual(list(server.server.muc.rooms), [BALCONY])
        romeo = yield server.login("romeo")
        fields = yield romeo.configForm(BALCONY)
        self.assertEqual(fields["muc#roomconfig_roomname"], ["The Balcony"])
        self.assertEqual(fields["muc#roomconfig_roomdesc"], ["Verona, at night"])
        self.assertEqual(fields["muc#roomconfig_persistentroom"], ["1"])
        self.assertEqual(fields["muc#roomconfig_historylength"], ["2"])
        self.assertEqual((yield romeo.affiliationList(BALCONY, "member")), {"juliet@localhost": "Jules"})
        self.assertEqual(list((yield romeo.affiliationList(BALCONY, "admin"))), ["benvolio@localhost"])
        self.assertEqual(list((yield romeo.affiliationList(BALCONY, "outcast"))), ["tybalt@localhost"])
        self.assertEqual(list((yield romeo.affiliationList(BALCONY, "owner"))), ["romeo@localhost"])

        # The reserved nick belongs to Juliet.
        benvolio = yield server.login("benvolio")
        received = yield benvolio.join(BALCONY, "Jules")
        self.assertEqual(errorCondition(received[-1]), "conflict")
        # The outcast stays out.
        tybalt = yield server.login("tybalt")
        received = yield tybalt.join(BALCONY, "Tybalt")
        self.assertEqual(errorCondition(received[-1]), "forbidden")

        juliet = yield server.login("juliet")
        received = yield juliet.join(BALCONY, "Jules")
        self.assertEqual(history(received), [(BALCONY + "/Romeo", "line 1", True), (BALCONY + "/Romeo", "line 2", True)])
        self.assertEqual(subjectOf(received), (BALCONY + "/Romeo", "Wherefore art thou"))
        self.assertEqual([(s.getAttribute("from"), statusCodes(s)) for s in received if s.name == "presence"],
                         [(BALCONY + "/Jules", ["110"])])

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
        yield romeo.join(BALCONY, "Romeo")
        assertResult((yield romeo.configure(BALCONY, field("muc#roomconfig_persistentroom", "1"))))
        assertResult((yield romeo.configure(BALCONY, field("muc#roomconfig_persistentroom", "0"))))
        yield server.stop()
        yield server.start()
        self.assertEqual(list(server.server.muc.rooms), [])


class SQLitePersistentRoomsTests(PersistentRoomsMixin, unittest.TestCase):
    def storageKeys(self):
        return {"backend": "sqlite", "path": os.path.abspath(self.mktemp()) + ".sqlite"}


class PostgreSQLPersistentRoomsTests(PersistentRoomsMixin, unittest.TestCase):
    def setUp(self):
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
        yield romeo.join(BALCONY, "Romeo")
        # 1. The configuration form's result.
        reply = yield romeo.configure(BALCONY, field("muc#roomconfig_persistentroom", "1")
                                      + field("muc#roomconfig_roomname", "Killed once"))
        assertResult(reply)
        yield self.killAndRestart()

        romeo = yield self.login("romeo")
        fields = yield romeo.configForm(BALCONY)
        self.assertEqual((fields["muc#roomconfig_persistentroom"], fields["muc#roomconfig_roomname"]),
                         (["1"], ["Killed once"]))
        # 2. An affiliation change's result (with a reserved nick).
        reply = yield romeo.setAffiliation(BALCONY, "juliet@localhost", "member", "Jules")
        assertResult(reply)
        yield self.killAndRestart()

        romeo = yield self.login("romeo")
        self.assertEqual((yield romeo.affiliationList(BALCONY, "member")), {"juliet@localhost": "Jules"})
        # 3. The subject: its broadcast (the echo) is the acknowledgement.
        yield romeo.join(BALCONY, "Romeo")
        romeo.groupchat(BALCONY, subject="After the fall", id="s1")
        echo = yield romeo.echoOf(BALCONY, "s1")
        self.assertIsNone(errorCondition(echo))
        yield self.killAndRestart()

        # 4. A message, then an acknowledged change: the message was stored
        # before it (storage applies calls in order).
        romeo = yield self.login("romeo")
        received = yield romeo.join(BALCONY, "Romeo")
        self.assertEqual(subjectOf(received), (BALCONY + "/Romeo", "After the fall"))
        romeo.groupchat(BALCONY, body="still here", id="m1")
        yield romeo.echoOf(BALCONY, "m1")
        assertResult((yield romeo.configure(BALCONY, field("muc#roomconfig_roomdesc", "twice"))))
        yield self.killAndRestart()

        juliet = yield self.login("juliet")
        received = yield juliet.join(BALCONY, "Jules")
        self.assertEqual(history(received), [(BALCONY + "/Romeo", "still here", True)])
        self.assertEqual(subjectOf(received), (BALCONY + "/Romeo", "After the fall"))
        reply = yield juliet.iq(BALCONY, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertEqual(formFields(firstChild(reply, NS_DISCO_INFO, "query")).get("muc#roominfo_description"), ["twice"])


class SaveFailureTests(unittest.TestCase):
    """
    Romeo owns the persistent room C{room}; Juliet (no affiliation) and
    Mercutio (member) are in it.
    """

    def setUp(self):
        populateRoom(self, FlakyStorage(), memberNick="")

    def state(self):
        """
        @return: what a failed change must leave as it was.
        """
        return (self.room.config.toDict(), dict(self.room.affiliations), dict(self.room.reservedNicks),
                isLocked(self.room), sorted(self.room.occupants))

    @defer.inlineCallbacks
    def stored(self):
        return (yield self.storage.rooms.get(ROOM))

    def assertFailedQuietly(self, received, id):
        """
        The requester got C{internal-server-error} and nothing else; the
        others got nothing; the storage error was logged once.
        """
        self.assertEqual([s.name for s in received], ["iq"])
        self.assertEqual(condition(iqResult(received, id))[0], "internal-server-error")
        for client in self.clients[1:]:
            self.assertEqual(client.received(), [])
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.assertEqual(self.storage.rooms.attempts, 1)

    @defer.inlineCallbacks
    def test_configurationUnchanged(self):
        """
        A form making the room members-only and renaming it: when storing
        fails, the room keeps its name and stays open, Juliet is not
        removed, nobody gets status 104; storage still has the old state.
        Once storage is back, the same form works.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        form = field("muc#roomconfig_roomname", "Secret") + field("muc#roomconfig_membersonly", "1")
        received = configure(self.romeo, form)
        self.assertFailedQuietly(received, "config")
        self.assertEqual(self.state(), before)
        self.assertEqual((yield self.stored()), storedBefore)
        self.storage.rooms.failing = False
        received = configure(self.romeo, form)
        self.assertEqual(iqResult(received, "config")["type"], "result")
        self.assertTrue(self.room.config.membersOnly)
        self.assertEqual([s["type"] for s in self.juliet.received() if s.name == "presence"], ["unavailable"])
        self.assertEqual((yield self.stored())["config"]["name"], "Secret")

    def test_becomingTemporaryUnchanged(self):
        """
        Making the room temporary needs storage to forget it: when that
        fails the room stays persistent (and known as stored).
        """
        self.storage.rooms.failing = True
        received = configure(self.romeo, field("muc#roomconfig_persistentroom", "0"))
        self.assertFailedQuietly(received, "config")
        self.assertTrue(self.room.config.persistent)
        self.assertTrue(self.room.store.isStored(self.room))

    @defer.inlineCallbacks
    def test_affiliationsUnchanged(self):
        """
        A request banning Juliet, making Mercutio an admin and reserving a
        nick: when storing fails, nothing of it is in force, Juliet is still
        in the room and nobody saw a presence or notice.
        """
        before = self.state()
        storedBefore = yield self.stored()
        self.storage.rooms.failing = True
        received = adminSet(self.romeo, affItem("juliet@localhost", "outcast", reason="Begone")
                            + affItem("mercutio@localhost", "admin", nick="Merc")
                            + affItem("tybalt@localhost", "member", nick="Tybalt"))
        self.assertFailedQuietly(received, "a1")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "none")
        self.assertEqual((yield self.stored()), storedBefore)

    def test_rolesNeedNoStorage(self):
        """
        A kick stores nothing: it works while storage is down.
        """
        self.storage.rooms.failing = True
        received = adminSet(self.romeo, roleItem("Juliet", "none"))
        self.assertEqual(iqResult(received, "a1")["type"], "result")
        self.assertNotIn("Juliet", self.room.occupants)
        self.assertEqual(self.storage.rooms.attempts, 0)

    def test_invitationToMembersOnlyRoom(self):
        """
        An invitation to a members-only room makes the invitee a member:
        when storing that fails, the inviter gets an error, the invitee is
        not a member and gets no invitation; the error is logged (not an
        unhandled error in a Deferred).
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        self.romeo.received()
        benvolio = self.harness.client("benvolio@localhost/b")
        self.storage.rooms.failing = True
        self.romeo.send("<message id='inv' to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
                        "<invite to='benvolio@localhost'/></x></message>" % (ROOM,))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(self.room.getAffiliation("benvolio@localhost"), "none")
        self.assertEqual(benvolio.received(), [])
        self.assertEqual([s for s in self.harness.delivered if s.getAttribute("to", "").startswith("benvolio@")], [])
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.storage.rooms.failing = False
        self.romeo.send("<message id='inv2' to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
                        "<invite to='benvolio@localhost'/></x></message>" % (ROOM,))
        self.assertEqual(self.room.getAffiliation("benvolio@localhost"), "member")


class OverlappingSaveTests(unittest.TestCase):
    """
    Two changes of one room overlap: the second is applied and stored only
    once the first save finished, so when the first fails its restore
    cannot undo the second, and storage always has the room's state.
    """

    def setUp(self):
        populateRoom(self, HeldStorage())
        self.storage.rooms.holding = True

    stored = SaveFailureTests.stored

    @defer.inlineCallbacks
    def assertStorageMatchesRoom(self):
        self.assertEqual((yield self.stored()), json.loads(json.dumps(stateOf(self.room))))

    @defer.inlineCallbacks
    def test_firstConfigurationFailsSecondStands(self):
        """
        Romeo renames the room and makes it members-only; while that is
        being stored he submits a description.  The first save fails: he
        gets internal-server-error for it, the room keeps its name and
        stays open (Juliet stays); the second change is then applied to
        that state and stored: the description is there, the first change
        is not, and storage has exactly the room's state.
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret") + field("muc#roomconfig_membersonly", "1"),
                  id="first")
        configure(self.romeo, field("muc#roomconfig_roomdesc", "Verona"), id="second")
        # Only the first is being stored; the second waits for it.
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.assertEqual(self.storage.rooms.held[0][2]["config"]["name"], "Secret")
        self.assertEqual(self.romeo.received(), [])
        self.storage.rooms.fail()
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        # The second is now applied to the restored room and stored.
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual(state["config"]["name"], nameBefore)
        self.assertFalse(state["config"]["membersOnly"])
        self.assertEqual(state["config"]["description"], "Verona")
        self.assertEqual(self.romeo.received(), [])
        self.storage.rooms.release()
        self.assertEqual(iqResult(self.romeo.received(), "second")["type"], "result")
        self.assertEqual(self.room.config.name, nameBefore)
        self.assertFalse(self.room.config.membersOnly)
        self.assertEqual(self.room.config.description, "Verona")
        self.assertIn("Juliet", self.room.occupants)
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_configurationFailsAffiliationStands(self):
        """
        A configuration change then an affiliation change overlap; the
        configuration's save fails: Mercutio is still made an admin (notice
        and result once stored), the configuration is the old one.
        """
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        self.assertEqual(adminSet(self.romeo, affItem("mercutio@localhost", "admin"), id="second"), [])
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "admin")
        self.storage.rooms.release()
        received = self.romeo.received()
        self.assertEqual(condition(iqResult(received, "first"))[0], "internal-server-error")
        self.assertEqual(iqResult(received, "second")["type"], "result")
        self.assertIn(ROOM + "/Mercutio", [s["from"] for s in self.mercutio.received() if s.name == "presence"])
        self.assertNotEqual(self.room.config.name, "Secret")
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "admin")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_secondCheckedAgainstTheFirst(self):
        """
        Romeo makes Mercutio an owner; while that is being stored, Mercutio
        (an owner in memory) makes Juliet an admin.  The first save fails:
        the second is checked again against the restored room, where
        Mercutio is nobody, and refused; Juliet gets nothing.
        """
        adminSet(self.romeo, affItem("mercutio@localhost", "owner"), id="first")
        self.assertEqual(adminSet(self.mercutio, affItem("juliet@localhost", "admin"), id="second"), [])
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        self.assertEqual(condition(iqResult(self.romeo.received(), "first"))[0], "internal-server-error")
        self.assertEqual(condition(iqResult(self.mercutio.received(), "second"))[0], "not-allowed")
        self.assertEqual(self.storage.rooms.held, [])
        self.assertEqual(self.juliet.received(), [])
        self.assertEqual(self.room.getAffiliation("mercutio@localhost"), "none")
        self.assertEqual(self.room.getAffiliation("juliet@localhost"), "none")
        yield self.assertStorageMatchesRoom()

    @defer.inlineCallbacks
    def test_plainSaveWaitsForChange(self):
        """
        A subject change while a configuration change is being stored is
        stored after it, with the state the failed change left (not the
        name that was never in force).
        """
        nameBefore = self.room.config.name
        configure(self.romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        self.romeo.send("<message to='%s' type='groupchat'><subject>News</subject></message>" % (ROOM,))
        self.assertEqual(len(self.storage.rooms.held), 1)
        self.storage.rooms.fail()
        self.flushLoggedErrors(StorageUnavailable)
        [(_, _, state)] = self.storage.rooms.held
        self.assertEqual((state["config"]["name"], state["subject"]), (nameBefore, "News"))
        self.storage.rooms.release()
        self.assertEqual(subject.subjectOf(self.room).text, "News")
        yield self.assertStorageMatchesRoom()
