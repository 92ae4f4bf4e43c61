"""
One contract for every storage backend (L{StorageContractMixin}), run on
the memory, SQLite and PostgreSQL backends, plus what is particular to the
SQL ones: persistence across restarts, schema migration, durability after
SIGKILL, errors at build time and while running.

PostgreSQL: the DSN comes from C{XMUC_TEST_POSTGRES_DSN} (default
C{host=127.0.0.1 port=5432 dbname=test user=postgres}, then C{user=root});
every test works in a schema of its own, dropped afterwards.  When no server
answers the tests are skipped, unless C{XMUC_REQUIRE_POSTGRES=1}.
"""

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from xmuc.config import ConfigError, validate
from xmuc.storage import interfaces, sql
from xmuc.storage.interfaces import StorageError, StorageUnavailable
from xmuc.storage.memory import MemoryStorage
from xmuc.storage.postgresql import PostgreSQLStorage, maskDSN
from xmuc.storage.sqlite import SQLiteStorage
from tests.support.postgres import PostgresSchema, findPostgres

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

UNICODE_USER = "jürgen@exämple.org"
UNICODE_USER2 = "用户@例子.中国"


def makeConfig(directory, **storage):
    """
    A validated config whose file would be C{directory/tap.conf}.
    """
    return validate({"storage": storage}, os.path.join(directory, "tap.conf"))


class StorageContractMixin:
    """
    What every L{interfaces.IStorage} must do.  Subclasses define
    C{makeStorage(archiveMax)} returning a storage that is not started.
    """

    archiveMax = 1000

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.startStorage(self.archiveMax)

    @defer.inlineCallbacks
    def startStorage(self, archiveMax=1000):
        """
        Make and start a storage, stopped at cleanup.
        """
        storage = self.makeStorage(archiveMax)
        self.addCleanup(storage.stop)
        yield storage.start()
        return storage

    # --- the whole

    def test_interfaces(self):
        storage = self.storage
        self.assertTrue(verifyObject(interfaces.IStorage, storage))
        self.assertTrue(verifyObject(interfaces.IAccountStore, storage.accounts))
        self.assertTrue(verifyObject(interfaces.IRosterStore, storage.rosters))
        self.assertTrue(verifyObject(interfaces.IRoomStore, storage.rooms))
        self.assertTrue(verifyObject(interfaces.ITombstoneStore, storage.tombstones))
        self.assertTrue(verifyObject(interfaces.IRoomArchive, storage.archive))
        self.assertTrue(verifyObject(interfaces.IOfflineStore, storage.offline))
        self.assertTrue(verifyObject(interfaces.IPepStore, storage.pep))
        self.assertTrue(verifyObject(interfaces.IAccountDataStore, storage.accountData))
        self.assertEqual(storage.offline.limit, 1000)
        self.assertEqual(storage.name, self.backendName)

    @defer.inlineCallbacks
    def test_callsAppliedInOrder(self):
        """
        Writes fired without waiting are applied in the order made.
        """
        room = "order@conference.example.org"
        saves = [self.storage.rooms.save(room, {"n": n}) for n in range(30)]
        got = yield self.storage.rooms.get(room)
        yield defer.gatherResults(saves)
        self.assertEqual(got, {"n": 29})

    # --- accounts

    @defer.inlineCallbacks
    def test_accountCreateGet(self):
        accounts = self.storage.accounts
        credentials = {"SCRAM-SHA-1": {"salt": "c2FsdA==", "iterations": 4096}}
        self.assertIs((yield accounts.create("alice@example.org", credentials)), True)
        self.assertEqual((yield accounts.get("alice@example.org")), credentials)
        self.assertIsNone((yield accounts.get("bob@example.org")))

    @defer.inlineCallbacks
    def test_accountCreateDuplicate(self):
        accounts = self.storage.accounts
        yield accounts.create("alice@example.org", {"v": 1})
        self.assertIs((yield accounts.create("alice@example.org", {"v": 2})), False)
        self.assertEqual((yield accounts.get("alice@example.org")), {"v": 1})

    @defer.inlineCallbacks
    def test_accountUpdate(self):
        accounts = self.storage.accounts
        yield accounts.create("alice@example.org", {"v": 1})
        self.assertIs((yield accounts.update("alice@example.org", {"v": 2})), True)
        self.assertEqual((yield accounts.get("alice@example.org")), {"v": 2})
        self.assertIs((yield accounts.update("bob@example.org", {"v": 2})), False)
        self.assertIsNone((yield accounts.get("bob@example.org")))

    @defer.inlineCallbacks
    def test_accountDelete(self):
        accounts = self.storage.accounts
        yield accounts.create("alice@example.org", {})
        self.assertIs((yield accounts.delete("alice@example.org")), True)
        self.assertIsNone((yield accounts.get("alice@example.org")))
        self.assertIs((yield accounts.delete("alice@example.org")), False)
        self.assertEqual((yield accounts.list()), [])
        self.assertIs((yield accounts.create("alice@example.org", {"v": 3})), True)

    @defer.inlineCallbacks
    def test_accountList(self):
        accounts = self.storage.accounts
        for bare in ["zoe@a.example", "bob@b.example", "amy@a.example", "bob@a.example"]:
            yield accounts.create(bare, {})
        self.assertEqual(
            (yield accounts.list()),
            ["amy@a.example", "bob@a.example", "bob@b.example", "zoe@a.example"],
        )
        self.assertEqual(
            (yield accounts.list("a.example")),
            ["amy@a.example", "bob@a.example", "zoe@a.example"],
        )
        self.assertEqual((yield accounts.list("b.example")), ["bob@b.example"])
        self.assertEqual((yield accounts.list("example")), [])

    @defer.inlineCallbacks
    def test_accountUnicode(self):
        accounts = self.storage.accounts
        yield accounts.create(UNICODE_USER, {"name": "Jürgen ☃"})
        yield accounts.create(UNICODE_USER2, {"name": "用户"})
        self.assertEqual((yield accounts.get(UNICODE_USER)), {"name": "Jürgen ☃"})
        self.assertEqual((yield accounts.list("例子.中国")), [UNICODE_USER2])
        self.assertEqual((yield accounts.list()), sorted([UNICODE_USER, UNICODE_USER2]))

    @defer.inlineCallbacks
    def test_accountValuesAreCopies(self):
        """
        Mutating what was given or got does not change what is stored.
        """
        accounts = self.storage.accounts
        credentials = {"keys": ["a"]}
        yield accounts.create("alice@example.org", credentials)
        credentials["keys"].append("b")
        got = yield accounts.get("alice@example.org")
        got["keys"].append("c")
        self.assertEqual((yield accounts.get("alice@example.org")), {"keys": ["a"]})

    def test_accountNotJSON(self):
        """
        Credentials JSON cannot hold give a failed Deferred, not an exception.
        """
        d = self.storage.accounts.create("alice@example.org", {"bad": object()})
        return self.assertFailure(d, TypeError)

    # --- rosters

    @defer.inlineCallbacks
    def test_rosterEmpty(self):
        self.assertEqual((yield self.storage.rosters.get("alice@example.org")), {})
        self.assertIs(
            (yield self.storage.rosters.remove("alice@example.org", "bob@example.org")),
            False,
        )

    @defer.inlineCallbacks
    def test_rosterSetGet(self):
        rosters = self.storage.rosters
        full = dict(
            name="Bob",
            subscription="both",
            ask=None,
            groups=["Friends", "Work"],
            pending_in=False,
        )
        yield rosters.set("alice@example.org", "bob@example.org", full)
        yield rosters.set(
            "alice@example.org", "carol@example.org", {"ask": "subscribe"}
        )
        yield rosters.set("dave@example.org", "bob@example.org", {"pending_in": True})
        self.assertEqual(
            (yield rosters.get("alice@example.org")),
            {
                "bob@example.org": full,
                "carol@example.org": dict(
                    name=None,
                    subscription="none",
                    ask="subscribe",
                    groups=[],
                    pending_in=False,
                ),
            },
        )
        dave = yield rosters.get("dave@example.org")
        self.assertIs(dave["bob@example.org"]["pending_in"], True)

    @defer.inlineCallbacks
    def test_rosterReplace(self):
        rosters = self.storage.rosters
        yield rosters.set("alice@example.org", "bob@example.org", {"name": "B"})
        yield rosters.set(
            "alice@example.org",
            "bob@example.org",
            {"subscription": "to", "groups": ["Z", "A"]},
        )
        self.assertEqual(
            (yield rosters.get("alice@example.org")),
            {
                "bob@example.org": dict(
                    name=None,
                    subscription="to",
                    ask=None,
                    groups=["Z", "A"],
                    pending_in=False,
                )
            },
        )

    @defer.inlineCallbacks
    def test_rosterRemoveDelete(self):
        rosters = self.storage.rosters
        for contact in ["bob@example.org", "carol@example.org"]:
            yield rosters.set("alice@example.org", contact, {})
        yield rosters.set("bob@example.org", "alice@example.org", {})
        self.assertIs(
            (yield rosters.remove("alice@example.org", "bob@example.org")), True
        )
        self.assertEqual(
            list((yield rosters.get("alice@example.org"))), ["carol@example.org"]
        )
        yield rosters.delete("alice@example.org")
        self.assertEqual((yield rosters.get("alice@example.org")), {})
        self.assertEqual(
            list((yield rosters.get("bob@example.org"))), ["alice@example.org"]
        )
        yield rosters.delete("nobody@example.org")

    @defer.inlineCallbacks
    def test_rosterUnicode(self):
        rosters = self.storage.rosters
        yield rosters.set(
            UNICODE_USER, UNICODE_USER2, {"name": "用户 ☃", "groups": ["Fräunde"]}
        )
        roster = yield rosters.get(UNICODE_USER)
        self.assertEqual(roster[UNICODE_USER2]["name"], "用户 ☃")
        self.assertEqual(roster[UNICODE_USER2]["groups"], ["Fräunde"])

    @defer.inlineCallbacks
    def test_rosterBadValues(self):
        rosters = self.storage.rosters
        yield self.assertFailure(
            rosters.set("a@example.org", "b@example.org", {"subscription": "some"}),
            ValueError,
        )
        yield self.assertFailure(
            rosters.set("a@example.org", "b@example.org", {"ask": "unsubscribe"}),
            ValueError,
        )
        self.assertEqual((yield rosters.get("a@example.org")), {})

    # --- rooms

    @defer.inlineCallbacks
    def test_roomSaveGet(self):
        rooms = self.storage.rooms
        state = {
            "config": {"muc#roomconfig_persistentroom": True, "maxusers": 30},
            "affiliations": {"alice@example.org": "owner"},
            "subject": None,
        }
        yield rooms.save("lounge@conference.example.org", state)
        self.assertEqual((yield rooms.get("lounge@conference.example.org")), state)
        self.assertIsNone((yield rooms.get("nowhere@conference.example.org")))
        yield rooms.save("lounge@conference.example.org", {"subject": "new"})
        self.assertEqual(
            (yield rooms.get("lounge@conference.example.org")), {"subject": "new"}
        )

    @defer.inlineCallbacks
    def test_roomDelete(self):
        rooms = self.storage.rooms
        yield rooms.save("lounge@conference.example.org", {})
        self.assertIs((yield rooms.delete("lounge@conference.example.org")), True)
        self.assertIs((yield rooms.delete("lounge@conference.example.org")), False)
        self.assertIsNone((yield rooms.get("lounge@conference.example.org")))
        self.assertEqual((yield rooms.list("conference.example.org")), [])

    @defer.inlineCallbacks
    def test_roomList(self):
        rooms = self.storage.rooms
        yield rooms.save("b@conference.example.org", {"n": "b"})
        yield rooms.save("a@conference.example.org", {"n": "a"})
        yield rooms.save("a@muc.other.example", {"n": "other"})
        yield rooms.save("küche@conference.example.org", {"n": "ü"})
        self.assertEqual(
            (yield rooms.list("conference.example.org")),
            [
                ("a@conference.example.org", {"n": "a"}),
                ("b@conference.example.org", {"n": "b"}),
                ("küche@conference.example.org", {"n": "ü"}),
            ],
        )
        self.assertEqual(
            (yield rooms.list("muc.other.example")),
            [("a@muc.other.example", {"n": "other"})],
        )
        self.assertEqual((yield rooms.list("example.org")), [])

    # --- tombstones

    @defer.inlineCallbacks
    def test_tombstoneAddGet(self):
        tombstones = self.storage.tombstones
        yield tombstones.add("gone@example.org", "account", 1000.5)
        self.assertEqual(
            (yield tombstones.get("gone@example.org")),
            dict(jid="gone@example.org", kind="account", when=1000.5),
        )
        self.assertIsNone((yield tombstones.get("here@example.org")))

    @defer.inlineCallbacks
    def test_tombstoneDefaultNow(self):
        before = time.time()
        yield self.storage.tombstones.add("room@conference.example.org", "room")
        found = yield self.storage.tombstones.get("room@conference.example.org")
        self.assertEqual(found["kind"], "room")
        self.assertTrue(before - 1 <= found["when"] <= time.time() + 1, found)

    @defer.inlineCallbacks
    def test_tombstoneRefreshRemove(self):
        tombstones = self.storage.tombstones
        yield tombstones.add(UNICODE_USER, "account", 10)
        yield tombstones.add(UNICODE_USER, "account", 20)
        self.assertEqual((yield tombstones.get(UNICODE_USER))["when"], 20.0)
        self.assertIs((yield tombstones.remove(UNICODE_USER)), True)
        self.assertIs((yield tombstones.remove(UNICODE_USER)), False)
        self.assertIsNone((yield tombstones.get(UNICODE_USER)))

    @defer.inlineCallbacks
    def test_tombstoneList(self):
        tombstones = self.storage.tombstones
        yield tombstones.add("c@example.org", "account", 30)
        yield tombstones.add("r@conference.example.org", "room", 10)
        yield tombstones.add("a@example.org", "account", 20)
        self.assertEqual(
            [(t["jid"], t["kind"], t["when"]) for t in (yield tombstones.list())],
            [
                ("r@conference.example.org", "room", 10.0),
                ("a@example.org", "account", 20.0),
                ("c@example.org", "account", 30.0),
            ],
        )
        self.assertEqual(
            [t["jid"] for t in (yield tombstones.list("account"))],
            ["a@example.org", "c@example.org"],
        )
        self.assertEqual(
            [t["jid"] for t in (yield tombstones.list("room"))],
            ["r@conference.example.org"],
        )

    def test_tombstoneBadKind(self):
        return self.assertFailure(
            self.storage.tombstones.add("x@example.org", "user"), ValueError
        )

    # --- archive

    @defer.inlineCallbacks
    def appendMessages(self, room, count, start=0):
        for n in range(start, start + count):
            yield self.storage.archive.append(
                room, "id-%d" % (n,), 1000.0 + n, "nick%d" % (n,), "<message n='%d'/>" % (n,)
            )

    @defer.inlineCallbacks
    def test_archiveRecent(self):
        archive = self.storage.archive
        room = "lounge@conference.example.org"
        yield self.appendMessages(room, 5)
        yield self.appendMessages("other@conference.example.org", 3)
        recent = yield archive.recent(room, 3)
        self.assertEqual(
            recent,
            [
                dict(stanza_id="id-%d" % n, when=1000.0 + n, nick="nick%d" % n,
                     xml="<message n='%d'/>" % n)
                for n in (2, 3, 4)
            ],
        )
        self.assertEqual(len((yield archive.recent(room, 100))), 5)
        self.assertEqual((yield archive.recent(room, 0)), [])
        self.assertEqual((yield archive.recent("empty@conference.example.org", 5)), [])

    @defer.inlineCallbacks
    def test_archiveUnicodeAndNoID(self):
        archive = self.storage.archive
        room = "küche@conference.example.org"
        xml = "<message><body>Grüße ☃ 你好</body></message>"
        yield archive.append(room, None, 12.25, "Jürgen", xml)
        self.assertEqual(
            (yield archive.recent(room, 1)),
            [dict(stanza_id=None, when=12.25, nick="Jürgen", xml=xml)],
        )

    @defer.inlineCallbacks
    def test_archivePurge(self):
        archive = self.storage.archive
        yield self.appendMessages("a@conference.example.org", 3)
        yield self.appendMessages("b@conference.example.org", 2)
        yield archive.purge("a@conference.example.org")
        self.assertEqual((yield archive.recent("a@conference.example.org", 10)), [])
        self.assertEqual(len((yield archive.recent("b@conference.example.org", 10))), 2)
        yield self.appendMessages("a@conference.example.org", 1, start=7)
        self.assertEqual(
            [m["stanza_id"] for m in (yield archive.recent("a@conference.example.org", 10))],
            ["id-7"],
        )

    @defer.inlineCallbacks
    def test_archiveReplace(self):
        """
        C{replace} changes the xml of one message of one room (a
        moderation tombstone), keeping its time, nick and place; an
        unknown id (or another room's) replaces nothing.
        """
        archive = self.storage.archive
        room = "lounge@conference.example.org"
        yield self.appendMessages(room, 3)
        yield self.appendMessages("other@conference.example.org", 3)
        tombstone = "<message><retracted xmlns='urn:xmpp:message-retract:1' stamp='2026-01-01T00:00:00Z'/>é</message>"
        self.assertIs((yield archive.replace(room, "id-1", tombstone)), True)
        self.assertEqual(
            (yield archive.recent(room, 10)),
            [
                dict(stanza_id="id-0", when=1000.0, nick="nick0", xml="<message n='0'/>"),
                dict(stanza_id="id-1", when=1001.0, nick="nick1", xml=tombstone),
                dict(stanza_id="id-2", when=1002.0, nick="nick2", xml="<message n='2'/>"),
            ],
        )
        self.assertEqual(
            [m["xml"] for m in (yield archive.recent("other@conference.example.org", 10))],
            ["<message n='%d'/>" % n for n in range(3)],
        )
        self.assertIs((yield archive.replace(room, "id-9", tombstone)), False)
        self.assertIs((yield archive.replace("empty@conference.example.org", "id-1", tombstone)), False)
        yield self.appendMessages(room, 1, start=3)
        self.assertEqual(
            [m["stanza_id"] for m in (yield archive.recent(room, 10))], ["id-0", "id-1", "id-2", "id-3"]
        )

    @defer.inlineCallbacks
    def test_archiveBounded(self):
        """
        A room keeps about maxPerRoom messages (up to a trimming batch more),
        always the newest.
        """
        storage = yield self.startStorage(archiveMax=5)
        self.storage = storage
        room = "busy@conference.example.org"
        yield self.appendMessages(room, 237)
        kept = yield storage.archive.recent(room, 10000)
        bound = 5 + getattr(storage.archive, "trimEvery", 1) - 1
        self.assertTrue(5 <= len(kept) <= bound, len(kept))
        self.assertEqual(kept[-1]["stanza_id"], "id-236")
        self.assertEqual(
            [m["stanza_id"] for m in kept],
            ["id-%d" % n for n in range(237 - len(kept), 237)],
        )


    # --- offline messages

    @defer.inlineCallbacks
    def test_offlinePushPop(self):
        offline = self.storage.offline
        self.assertEqual((yield offline.pop("alice@example.org")), [])
        self.assertEqual((yield offline.count("alice@example.org")), 0)
        for n in range(3):
            self.assertIs(
                (yield offline.push("alice@example.org", 100.5 + n, "<message n='%d'/>" % n)),
                True,
            )
        yield offline.push("bob@example.org", 7.0, "<message/>")
        self.assertEqual((yield offline.count("alice@example.org")), 3)
        self.assertEqual(
            (yield offline.pop("alice@example.org")),
            [dict(when=100.5 + n, xml="<message n='%d'/>" % n) for n in range(3)],
        )
        self.assertEqual((yield offline.pop("alice@example.org")), [])
        self.assertEqual((yield offline.count("alice@example.org")), 0)
        self.assertEqual((yield offline.count("bob@example.org")), 1)

    @defer.inlineCallbacks
    def test_offlineUnicode(self):
        offline = self.storage.offline
        xml = "<message><body>Grüße ☃ 你好</body></message>"
        yield offline.push(UNICODE_USER2, 1.25, xml)
        self.assertEqual((yield offline.pop(UNICODE_USER2)), [dict(when=1.25, xml=xml)])

    @defer.inlineCallbacks
    def test_offlineLimit(self):
        """
        Past C{limit} messages push refuses (and stores nothing); after a
        pop the user may receive again.  Other users are not affected.
        """
        offline = self.storage.offline
        offline.limit = 3
        results = yield defer.gatherResults(
            [offline.push("alice@example.org", n, "<m n='%d'/>" % n) for n in range(5)]
        )
        self.assertEqual(results, [True, True, True, False, False])
        self.assertEqual((yield offline.count("alice@example.org")), 3)
        self.assertIs((yield offline.push("bob@example.org", 1, "<m/>")), True)
        popped = yield offline.pop("alice@example.org")
        self.assertEqual([m["xml"] for m in popped], ["<m n='%d'/>" % n for n in range(3)])
        self.assertIs((yield offline.push("alice@example.org", 9, "<m/>")), True)

    @defer.inlineCallbacks
    def test_offlinePopWhilePushing(self):
        """
        Pushes and pops fired together: every message is popped exactly
        once.
        """
        offline = self.storage.offline
        calls = []
        for n in range(10):
            calls.append(offline.push("alice@example.org", n, "<m n='%d'/>" % n))
            if n % 3 == 1:
                calls.append(offline.pop("alice@example.org"))
        calls.append(offline.pop("alice@example.org"))
        results = yield defer.gatherResults(calls)
        popped = [m["xml"] for result in results if isinstance(result, list) for m in result]
        self.assertEqual(popped, ["<m n='%d'/>" % n for n in range(10)])

    @defer.inlineCallbacks
    def test_offlineDelete(self):
        offline = self.storage.offline
        yield offline.push("alice@example.org", 1, "<m/>")
        yield offline.push("bob@example.org", 1, "<m/>")
        yield offline.delete("alice@example.org")
        yield offline.delete("nobody@example.org")
        self.assertEqual((yield offline.count("alice@example.org")), 0)
        self.assertEqual((yield offline.pop("alice@example.org")), [])
        self.assertEqual((yield offline.count("bob@example.org")), 1)

    # --- PEP

    @defer.inlineCallbacks
    def test_pepNodes(self):
        pep = self.storage.pep
        owner = "alice@example.org"
        self.assertIsNone((yield pep.getNode(owner, "urn:xmpp:avatar:data")))
        self.assertEqual((yield pep.listNodes(owner)), [])
        config = {"access_model": "presence", "max_items": 1, "title": "Ä"}
        yield pep.setNode(owner, "urn:xmpp:avatar:metadata", config)
        yield pep.setNode(owner, "http://jabber.org/protocol/mood", {})
        yield pep.setNode("bob@example.org", "urn:xmpp:avatar:metadata", {"b": 1})
        self.assertEqual((yield pep.getNode(owner, "urn:xmpp:avatar:metadata")), config)
        yield pep.setNode(owner, "http://jabber.org/protocol/mood", {"access_model": "open"})
        self.assertEqual(
            (yield pep.listNodes(owner)),
            [
                ("http://jabber.org/protocol/mood", {"access_model": "open"}),
                ("urn:xmpp:avatar:metadata", config),
            ],
        )
        self.assertIs((yield pep.deleteNode(owner, "urn:xmpp:avatar:metadata")), True)
        self.assertIs((yield pep.deleteNode(owner, "urn:xmpp:avatar:metadata")), False)
        self.assertIsNone((yield pep.getNode(owner, "urn:xmpp:avatar:metadata")))
        self.assertEqual(
            (yield pep.getNode("bob@example.org", "urn:xmpp:avatar:metadata")), {"b": 1}
        )

    @defer.inlineCallbacks
    def test_pepPublishItems(self):
        """
        Items come newest first; republishing an id replaces it and makes
        it the newest; C{max} and C{ids} select.
        """
        pep = self.storage.pep
        owner, node = "alice@example.org", "urn:xmpp:microblog:0"
        yield pep.setNode(owner, node, {})
        for n in range(4):
            yield pep.publish(owner, node, "i%d" % n, "<item n='%d'/>" % n, 10.0 + n)
        yield pep.publish(owner, "other", "i0", "<other/>", 1.0)
        yield pep.publish(owner, node, "i1", "<item n='1b'/>", 20.5)
        got = yield pep.items(owner, node)
        self.assertEqual(
            got,
            [
                dict(id="i1", xml="<item n='1b'/>", when=20.5),
                dict(id="i3", xml="<item n='3'/>", when=13.0),
                dict(id="i2", xml="<item n='2'/>", when=12.0),
                dict(id="i0", xml="<item n='0'/>", when=10.0),
            ],
        )
        self.assertEqual([i["id"] for i in (yield pep.items(owner, node, max=2))], ["i1", "i3"])
        self.assertEqual((yield pep.items(owner, node, max=0)), [])
        self.assertEqual(
            [i["id"] for i in (yield pep.items(owner, node, ids=["i0", "i3", "nope"]))],
            ["i3", "i0"],
        )
        self.assertEqual(
            [i["id"] for i in (yield pep.items(owner, node, max=1, ids=["i0", "i2"]))],
            ["i2"],
        )
        self.assertEqual((yield pep.items(owner, "other")), [dict(id="i0", xml="<other/>", when=1.0)])
        self.assertEqual((yield pep.items(owner, "missing")), [])
        self.assertEqual((yield pep.items("bob@example.org", node)), [])

    @defer.inlineCallbacks
    def test_pepMaxItems(self):
        """
        A node whose configuration has an integer C{max_items} keeps that
        many newest items; C{'max'} or none keeps all.
        """
        pep = self.storage.pep
        owner = UNICODE_USER
        yield pep.setNode(owner, "one", {"max_items": 1})
        yield pep.setNode(owner, "three", {"max_items": "3"})
        yield pep.setNode(owner, "all", {"max_items": "max"})
        for n in range(5):
            for node in ["one", "three", "all", "unset"]:
                yield pep.publish(owner, node, "i%d" % n, "<i>☃%d</i>" % n, n)
        self.assertEqual(
            (yield pep.items(owner, "one")), [dict(id="i4", xml="<i>☃4</i>", when=4.0)]
        )
        self.assertEqual([i["id"] for i in (yield pep.items(owner, "three"))], ["i4", "i3", "i2"])
        self.assertEqual(len((yield pep.items(owner, "all"))), 5)
        self.assertEqual(len((yield pep.items(owner, "unset"))), 5)
        # Republishing an old id keeps the bound and the newest.
        yield pep.publish(owner, "three", "i2", "<i>again</i>", 9)
        self.assertEqual([i["id"] for i in (yield pep.items(owner, "three"))], ["i2", "i4", "i3"])

    @defer.inlineCallbacks
    def test_pepRetract(self):
        pep = self.storage.pep
        owner, node = "alice@example.org", "n"
        yield pep.publish(owner, node, "a", "<a/>", 1)
        yield pep.publish(owner, node, "b", "<b/>", 2)
        yield pep.publish("bob@example.org", node, "a", "<a/>", 1)
        self.assertIs((yield pep.retract(owner, node, "a")), True)
        self.assertIs((yield pep.retract(owner, node, "a")), False)
        self.assertIs((yield pep.retract(owner, "other", "b")), False)
        self.assertEqual([i["id"] for i in (yield pep.items(owner, node))], ["b"])
        self.assertEqual([i["id"] for i in (yield pep.items("bob@example.org", node))], ["a"])

    @defer.inlineCallbacks
    def test_pepDeleteNodeDropsItems(self):
        pep = self.storage.pep
        owner = "alice@example.org"
        yield pep.setNode(owner, "n", {})
        yield pep.publish(owner, "n", "a", "<a/>", 1)
        yield pep.publish(owner, "m", "a", "<a/>", 1)
        self.assertIs((yield pep.deleteNode(owner, "n")), True)
        self.assertEqual((yield pep.items(owner, "n")), [])
        self.assertEqual(len((yield pep.items(owner, "m"))), 1)
        # Recreated, the node starts empty.
        yield pep.setNode(owner, "n", {})
        self.assertEqual((yield pep.items(owner, "n")), [])

    @defer.inlineCallbacks
    def test_pepDeleteAll(self):
        pep = self.storage.pep
        for owner in ["alice@example.org", "bob@example.org"]:
            yield pep.setNode(owner, "n", {"o": owner})
            yield pep.publish(owner, "n", "a", "<a/>", 1)
        yield pep.deleteAll("alice@example.org")
        yield pep.deleteAll("nobody@example.org")
        self.assertEqual((yield pep.listNodes("alice@example.org")), [])
        self.assertEqual((yield pep.items("alice@example.org", "n")), [])
        self.assertEqual(
            (yield pep.listNodes("bob@example.org")), [("n", {"o": "bob@example.org"})]
        )
        self.assertEqual(len((yield pep.items("bob@example.org", "n"))), 1)

    @defer.inlineCallbacks
    def test_pepValuesAreCopies(self):
        pep = self.storage.pep
        config = {"l": [1]}
        yield pep.setNode("alice@example.org", "n", config)
        config["l"].append(2)
        got = yield pep.getNode("alice@example.org", "n")
        got["l"].append(3)
        self.assertEqual((yield pep.getNode("alice@example.org", "n")), {"l": [1]})

    def test_pepConfigNotJSON(self):
        return self.assertFailure(
            self.storage.pep.setNode("alice@example.org", "n", {"bad": object()}), TypeError
        )


    # --- account documents

    @defer.inlineCallbacks
    def test_accountDataSetGet(self):
        data = self.storage.accountData
        owner = UNICODE_USER
        self.assertIsNone((yield data.get(owner, "vcard")))
        yield data.set(owner, "vcard", "<vCard xmlns='vcard-temp'><FN>☃</FN></vCard>")
        yield data.set(owner, "blocklist", ["romeo@example.org", "example.net"])
        yield data.set("bob@example.org", "vcard", "<vCard xmlns='vcard-temp'/>")
        self.assertEqual(
            (yield data.get(owner, "vcard")), "<vCard xmlns='vcard-temp'><FN>☃</FN></vCard>"
        )
        self.assertEqual(
            (yield data.get(owner, "blocklist")), ["romeo@example.org", "example.net"]
        )
        # Replaced, not added.
        yield data.set(owner, "blocklist", [])
        self.assertEqual((yield data.get(owner, "blocklist")), [])
        self.assertEqual((yield data.get("bob@example.org", "vcard")), "<vCard xmlns='vcard-temp'/>")

    @defer.inlineCallbacks
    def test_accountDataDelete(self):
        data = self.storage.accountData
        for owner in ("alice@example.org", "bob@example.org"):
            yield data.set(owner, "a", {"o": owner})
            yield data.set(owner, "b", 1)
        self.assertIs((yield data.delete("alice@example.org", "a")), True)
        self.assertIs((yield data.delete("alice@example.org", "a")), False)
        self.assertIsNone((yield data.get("alice@example.org", "a")))
        self.assertEqual((yield data.get("alice@example.org", "b")), 1)
        yield data.deleteAll("alice@example.org")
        yield data.deleteAll("nobody@example.org")
        self.assertIsNone((yield data.get("alice@example.org", "b")))
        self.assertEqual((yield data.get("bob@example.org", "a")), {"o": "bob@example.org"})

    @defer.inlineCallbacks
    def test_accountDataValuesAreCopies(self):
        data = self.storage.accountData
        value = {"l": [1]}
        yield data.set("alice@example.org", "d", value)
        value["l"].append(2)
        got = yield data.get("alice@example.org", "d")
        self.assertEqual(got, {"l": [1]})
        got["l"].append(3)
        self.assertEqual((yield data.get("alice@example.org", "d")), {"l": [1]})

    def test_accountDataBadValues(self):
        """
        What JSON cannot hold, and None, give failed Deferreds.
        """
        data = self.storage.accountData
        return defer.gatherResults([
            self.assertFailure(data.set("alice@example.org", "d", {"bad": object()}), TypeError),
            self.assertFailure(data.set("alice@example.org", "d", None), ValueError),
        ])


class MemoryStorageTests(StorageContractMixin, unittest.TestCase):
    backendName = "memory"

    def makeStorage(self, archiveMax):
        return MemoryStorage(archiveMax=archiveMax)


#: The first schema, as the backends made it; C{{boolean}} and C{{double}}
#: are the column types of the backend.
VERSION1_DDL = [
    "CREATE TABLE xmuc_schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE xmuc_accounts (bare TEXT PRIMARY KEY, credentials TEXT NOT NULL)",
    "CREATE TABLE xmuc_rosters (owner TEXT NOT NULL, contact TEXT NOT NULL,"
    " name TEXT, subscription TEXT NOT NULL, ask TEXT, groups_json TEXT NOT NULL,"
    " pending_in {boolean} NOT NULL, PRIMARY KEY (owner, contact))",
    "CREATE TABLE xmuc_tombstones (jid TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " stamp {double} NOT NULL)",
]


class SQLStorageMixin:
    """
    What the SQL backends have in common beyond the contract.
    Subclasses define C{reopenArguments()} and C{executeByHand(statements)},
    and the backend's C{TRUE} literal and C{BOOLEAN} and C{DOUBLE} column
    types.
    """

    @defer.inlineCallbacks
    def test_persistsAcrossRestart(self):
        storage = self.storage
        yield storage.accounts.create(UNICODE_USER, {"k": "v"})
        yield storage.rosters.set(UNICODE_USER, "bob@example.org", {"subscription": "from"})
        yield storage.rooms.save("lounge@conference.example.org", {"subject": "hi"})
        yield storage.tombstones.add("gone@example.org", "account", 5.0)
        yield self.appendMessages("lounge@conference.example.org", 3)
        yield storage.offline.push(UNICODE_USER, 3.0, "<message>☃</message>")
        yield storage.pep.setNode(UNICODE_USER, "n", {"max_items": 2})
        yield storage.pep.publish(UNICODE_USER, "n", "a", "<a/>", 4.0)
        yield storage.accountData.set(UNICODE_USER, "blocklist", ["☃@example.org"])
        yield storage.stop()

        again = yield self.startStorage()
        self.assertEqual(again.schemaVersions, (sql.SCHEMA_VERSION, sql.SCHEMA_VERSION))
        self.assertEqual((yield again.accounts.get(UNICODE_USER)), {"k": "v"})
        self.assertEqual(
            (yield again.rosters.get(UNICODE_USER))["bob@example.org"]["subscription"],
            "from",
        )
        self.assertEqual(
            (yield again.rooms.list("conference.example.org")),
            [("lounge@conference.example.org", {"subject": "hi"})],
        )
        self.assertEqual((yield again.tombstones.get("gone@example.org"))["when"], 5.0)
        self.assertEqual(
            [m["stanza_id"] for m in (yield again.archive.recent("lounge@conference.example.org", 9))],
            ["id-0", "id-1", "id-2"],
        )
        self.assertEqual((yield again.offline.count(UNICODE_USER)), 1)
        self.assertEqual(
            (yield again.offline.pop(UNICODE_USER)), [dict(when=3.0, xml="<message>☃</message>")]
        )
        self.assertEqual((yield again.pep.listNodes(UNICODE_USER)), [("n", {"max_items": 2})])
        self.assertEqual(
            (yield again.pep.items(UNICODE_USER, "n")), [dict(id="a", xml="<a/>", when=4.0)]
        )
        self.assertEqual(
            (yield again.accountData.get(UNICODE_USER, "blocklist")), ["☃@example.org"]
        )

    @defer.inlineCallbacks
    def test_callAfterStop(self):
        """
        Calls made after stop fail at once instead of waiting forever.
        """
        yield self.storage.stop()
        yield self.assertFailure(
            self.storage.accounts.get("a@example.org"), StorageUnavailable
        )

    def test_freshSchema(self):
        self.assertEqual(self.storage.schemaVersions, (0, sql.SCHEMA_VERSION))

    @defer.inlineCallbacks
    def test_migrationFromVersion1(self):
        """
        A database made by the first schema (by hand here) is brought to the
        current one, keeping its data.
        """
        yield self.storage.stop()
        self.dropAll()
        version1 = [
            statement.format(boolean=self.BOOLEAN, double=self.DOUBLE)
            for statement in VERSION1_DDL
        ]
        self.executeByHand(version1 + [
            "INSERT INTO xmuc_schema_version (version) VALUES (1)",
            "INSERT INTO xmuc_accounts (bare, credentials) VALUES"
            " ('alice@a.example', '{\"v\": 1}'), ('bob@b.example', '{}')",
            "INSERT INTO xmuc_rosters VALUES ('alice@a.example', 'bob@b.example',"
            " 'Bob', 'both', NULL, '[\"G\"]', %s)" % (self.TRUE,),
            "INSERT INTO xmuc_tombstones VALUES ('old@a.example', 'account', 3.5)",
        ])
        storage = yield self.startStorage()
        self.assertEqual(storage.schemaVersions, (1, sql.SCHEMA_VERSION))
        self.assertEqual((yield storage.accounts.get("alice@a.example")), {"v": 1})
        self.assertEqual((yield storage.accounts.list("a.example")), ["alice@a.example"])
        self.assertEqual(
            (yield storage.rosters.get("alice@a.example")),
            {"bob@b.example": dict(name="Bob", subscription="both", ask=None,
                                   groups=["G"], pending_in=True)},
        )
        self.assertEqual((yield storage.tombstones.list())[0]["jid"], "old@a.example")
        # What version 2 added works.
        yield storage.rooms.save("r@conference.a.example", {"x": 1})
        self.assertEqual(len((yield storage.rooms.list("conference.a.example"))), 1)
        yield storage.archive.append("r@conference.a.example", "i", 1.0, "n", "<m/>")
        self.assertEqual(len((yield storage.archive.recent("r@conference.a.example", 5))), 1)
        yield self.checkVersion3Works(storage)
        self.assertEqual(self.readByHand("SELECT version FROM xmuc_schema_version"),
                         [(sql.SCHEMA_VERSION,)])

    @defer.inlineCallbacks
    def checkVersion3Works(self, storage):
        """
        The stores version 3 added (offline messages, PEP) work.
        """
        self.assertIs((yield storage.offline.push("alice@a.example", 1.0, "<m/>")), True)
        self.assertEqual((yield storage.offline.pop("alice@a.example")), [dict(when=1.0, xml="<m/>")])
        yield storage.pep.setNode("alice@a.example", "n", {"max_items": 1})
        yield storage.pep.publish("alice@a.example", "n", "a", "<a/>", 1.0)
        yield storage.pep.publish("alice@a.example", "n", "b", "<b/>", 2.0)
        self.assertEqual([i["id"] for i in (yield storage.pep.items("alice@a.example", "n"))], ["b"])
        # And version 4's account documents.
        yield storage.accountData.set("alice@a.example", "vcard", "<vCard/>")
        self.assertEqual((yield storage.accountData.get("alice@a.example", "vcard")), "<vCard/>")

    @defer.inlineCallbacks
    def test_migrationFromVersion2(self):
        """
        A database of schema version 2 (rooms and archive, no offline
        messages or PEP) is brought to the current one, keeping its data.
        """
        yield self.storage.stop()
        self.dropAll()
        version1 = [
            statement.format(boolean=self.BOOLEAN, double=self.DOUBLE)
            for statement in VERSION1_DDL
        ]
        self.executeByHand(version1 + [
            "INSERT INTO xmuc_schema_version (version) VALUES (1)",
            "INSERT INTO xmuc_accounts (bare, credentials) VALUES ('alice@a.example', '{}')",
        ])
        # Version 2 as this code makes it, then data in it by hand.
        storage = self.makeStorage(1000)
        yield storage.pool.runInteraction(
            lambda transaction: sql._migrateTo2(sql.Tx(transaction, storage.dialect))
        )
        yield storage.stop()
        self.executeByHand([
            "UPDATE xmuc_schema_version SET version = 2",
            "INSERT INTO xmuc_rooms VALUES ('r@conference.a.example', 'conference.a.example', '{\"x\": 1}')",
        ])
        storage = yield self.startStorage()
        self.assertEqual(storage.schemaVersions, (2, sql.SCHEMA_VERSION))
        self.assertEqual((yield storage.accounts.list("a.example")), ["alice@a.example"])
        self.assertEqual((yield storage.rooms.get("r@conference.a.example")), {"x": 1})
        yield self.checkVersion3Works(storage)

    @defer.inlineCallbacks
    def test_newerSchemaRefused(self):
        """
        A database from a newer xmuc is left alone and start fails.
        """
        yield self.storage.stop()
        self.executeByHand(["UPDATE xmuc_schema_version SET version = 99"])
        storage = self.makeStorage(1000)
        self.addCleanup(storage.stop)
        failure = yield self.assertFailure(storage.start(), StorageError)
        self.assertIn("99", str(failure))
        self.assertEqual(self.readByHand("SELECT version FROM xmuc_schema_version"), [(99,)])

    def dropAll(self):
        self.executeByHand(
            ["DROP TABLE IF EXISTS %s" % (table,) for table in [
                "xmuc_schema_version", "xmuc_accounts", "xmuc_rosters",
                "xmuc_tombstones", "xmuc_rooms", "xmuc_room_archive",
                "xmuc_offline", "xmuc_pep_nodes", "xmuc_pep_items",
                "xmuc_account_data"]]
        )


class SQLiteStorageTests(SQLStorageMixin, StorageContractMixin, unittest.TestCase):
    backendName = "sqlite"
    TRUE = "1"
    BOOLEAN = "INTEGER"
    DOUBLE = "REAL"

    def makeStorage(self, archiveMax):
        if not hasattr(self, "path"):
            self.path = os.path.join(os.path.abspath(self.mktemp()), "xmuc.sqlite")
            os.makedirs(os.path.dirname(self.path))
        return SQLiteStorage(self.path, archiveMax=archiveMax)

    def executeByHand(self, statements):
        connection = sqlite3.connect(self.path)
        try:
            for statement in statements:
                connection.execute(statement)
            connection.commit()
        finally:
            connection.close()

    def readByHand(self, statement):
        connection = sqlite3.connect(self.path)
        try:
            return connection.execute(statement).fetchall()
        finally:
            connection.close()

    def test_walMode(self):
        self.assertEqual(self.readByHand("PRAGMA journal_mode"), [("wal",)])

    def test_fromConfigRelativePath(self):
        """
        The path is relative to the configuration file; missing parent
        directories are made.
        """
        from xmuc.storage.sqlite import fromConfig

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        storage = fromConfig(makeConfig(directory, path="state/deep/x.sqlite"))
        self.addCleanup(storage.stop)
        self.assertEqual(storage.path, os.path.join(directory, "state/deep/x.sqlite"))
        self.assertTrue(os.path.exists(storage.path))
        return storage.start()

    def test_fromConfigUnusableFile(self):
        """
        A file that is no SQLite database, or a path under a plain file, is
        a ConfigError naming [storage] path.
        """
        from xmuc.storage.sqlite import fromConfig

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        with open(os.path.join(directory, "junk"), "wb") as f:
            f.write(b"this is not a database, not at all" * 100)
        for path in ["junk", "junk/below/x.sqlite"]:
            error = self.assertRaises(
                ConfigError, fromConfig, makeConfig(directory, path=path)
            )
            self.assertEqual((error.section, error.key), ("storage", "path"))
            self.assertIn("[storage] path", str(error))
            self.assertIn(os.path.join(directory, "junk"), str(error))

    def test_durableAfterSIGKILL(self):
        """
        Once a call's Deferred fired, its change survives the process being
        killed at once (no clean shutdown, no checkpoint).
        """
        self.storage.stop()
        script = textwrap.dedent(
            """
            import os, signal, sys
            from twisted.internet import defer, task
            from xmuc.storage.sqlite import SQLiteStorage

            @defer.inlineCallbacks
            def main(reactor):
                storage = SQLiteStorage(sys.argv[1])
                yield storage.start()
                yield storage.accounts.create("killed@example.org", {"k": 1})
                yield storage.rooms.save("r@conference.example.org", {"s": 2})
                os.kill(os.getpid(), signal.SIGKILL)

            task.react(main)
            """
        )
        process = subprocess.run(
            [sys.executable, "-c", script, self.path],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
        self.assertEqual(process.returncode, -9, process.stderr)
        self.assertEqual(
            self.readByHand("SELECT credentials FROM xmuc_accounts"), [('{"k": 1}',)]
        )
        self.assertEqual(self.readByHand("SELECT state FROM xmuc_rooms"), [('{"s": 2}',)])

    def test_brokenDatabaseIsStorageError(self):
        """
        A table gone under the backend's feet gives StorageError failures.
        """
        self.executeByHand(["DROP TABLE xmuc_rooms"])
        return self.assertFailure(
            self.storage.rooms.get("a@conference.example.org"), StorageError
        )


# --- PostgreSQL

class PostgreSQLStorageTests(SQLStorageMixin, StorageContractMixin, unittest.TestCase):
    backendName = "postgresql"
    TRUE = "TRUE"
    BOOLEAN = "BOOLEAN"
    DOUBLE = "DOUBLE PRECISION"

    def setUp(self):
        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)
        return StorageContractMixin.setUp(self)

    def makeStorage(self, archiveMax):
        return PostgreSQLStorage(self.schema.dsn, archiveMax=archiveMax)

    def executeByHand(self, statements):
        self.schema.execute(statements, dsn=self.schema.dsn)

    def readByHand(self, statement):
        return self.schema.execute([statement], dsn=self.schema.dsn, fetch=True)

    def test_tablesInOwnSchema(self):
        """
        The tables go to the first schema of the search path, not public.
        """
        tables = self.schema.execute(
            ["SELECT table_name FROM information_schema.tables"
             " WHERE table_schema = '%s' ORDER BY table_name" % (self.schema.name,)],
            fetch=True,
        )
        self.assertEqual(
            [name for (name,) in tables],
            ["xmuc_account_data", "xmuc_accounts", "xmuc_offline", "xmuc_pep_items", "xmuc_pep_nodes",
             "xmuc_room_archive", "xmuc_rooms", "xmuc_rosters",
             "xmuc_schema_version", "xmuc_tombstones"],
        )

    @defer.inlineCallbacks
    def test_reconnectsAfterConnectionKilled(self):
        """
        When the server drops the pool's connection, the next call is redone
        on a new connection and succeeds; so do later ones.
        """
        yield self.storage.accounts.create("alice@example.org", {"v": 1})
        killed = self.schema.terminatePool()
        self.assertEqual(len(killed), 1)
        self.assertEqual((yield self.storage.accounts.get("alice@example.org")), {"v": 1})
        self.assertIs((yield self.storage.accounts.create("bob@example.org", {})), True)
        now = self.schema.poolPIDs()
        self.assertEqual(len(now), 1)
        self.assertNotIn(now[0], killed)

    @defer.inlineCallbacks
    def test_unavailableWhileServerRefuses(self):
        """
        While the server refuses connections, calls fail with
        StorageUnavailable; once it accepts them again, calls succeed.

        The server is not stopped (others use it): the backend logs in as a
        role of its own, which is then forbidden to log in.
        """
        # The role's backend makes (and owns) its tables.
        yield self.storage.stop()
        self.dropAll()
        role = self.schema.name + "_role"
        self.schema.execute([
            "CREATE ROLE %s LOGIN" % (role,),
            "GRANT ALL ON SCHEMA %s TO %s" % (self.schema.name, role),
        ])
        self.addCleanup(self.schema.execute, ["DROP ROLE IF EXISTS %s" % (role,)])
        dsn = "%s user=%s" % (self.schema.dsn, role)
        storage = PostgreSQLStorage(dsn)
        # Dropped before the schema is (cleanups run last in, first out).
        self.addCleanup(self.schema.execute, ["DROP OWNED BY %s" % (role,)])
        self.addCleanup(storage.stop)
        yield storage.start()
        yield storage.rooms.save("r@conference.example.org", {"v": 1})

        self.schema.execute(["ALTER ROLE %s NOLOGIN" % (role,)])
        self.schema.terminatePool()
        for attempt in range(2):
            failure = yield self.assertFailure(
                storage.rooms.get("r@conference.example.org"), StorageUnavailable
            )
            self.assertIn("postgresql", str(failure))
        self.flushLoggedErrors()

        self.schema.execute(["ALTER ROLE %s LOGIN" % (role,)])
        self.assertEqual((yield storage.rooms.get("r@conference.example.org")), {"v": 1})
        yield storage.rooms.save("r@conference.example.org", {"v": 2})
        self.assertEqual((yield storage.rooms.get("r@conference.example.org")), {"v": 2})


class PostgreSQLConfigTests(unittest.TestCase):
    """
    Building the backend from the configuration (no server needed).
    """

    def test_unreachableIsConfigError(self):
        from xmuc.storage.postgresql import fromConfig

        dsn = "host=127.0.0.1 port=1 dbname=test user=postgres password=s3cret"
        error = self.assertRaises(
            ConfigError, fromConfig, makeConfig(os.path.abspath("."), dsn=dsn)
        )
        self.assertEqual((error.section, error.key), ("storage", "dsn"))
        text = str(error)
        self.assertIn("postgresql", text)
        self.assertIn("host=127.0.0.1 port=1 dbname=test user=postgres password=***", text)
        self.assertNotIn("s3cret", text)

    def test_emptyDSNIsConfigError(self):
        from xmuc.storage.postgresql import fromConfig

        error = self.assertRaises(
            ConfigError, fromConfig, makeConfig(os.path.abspath("."), dsn="")
        )
        self.assertEqual((error.section, error.key), ("storage", "dsn"))

    def test_maskDSN(self):
        self.assertEqual(maskDSN("host=h password=abc user=u"), "host=h password=*** user=u")
        self.assertEqual(maskDSN("host=h password = 'a b\\'c' user=u"), "host=h password = *** user=u")
        self.assertEqual(maskDSN("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db")
        self.assertEqual(maskDSN("postgresql://h/db?user=u&password=pw&x=1"),
                         "postgresql://h/db?user=u&password=***&x=1")
        self.assertEqual(maskDSN("host=h user=u"), "host=h user=u")
