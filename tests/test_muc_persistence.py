"""
Persistent rooms across restarts, and shutdown (status 332).
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.test_muc_core import ROOM, codes, configure, field
from xmuc.muc.subject import subjectOf
from xmuc.testing.muc import MUCHarness


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
        self.assertEqual(subjectOf(room).text, "Topic")
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
