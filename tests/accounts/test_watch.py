"""
The tombstone watch: C{xmucctl deluser} and C{destroy-room} run next to
the server (or while it is stopped), and the running server reads the
tombstones they leave, so its rooms do not put back what xmucctl removed.
"""

from twisted.internet import defer

from xmuc.storage.sqlite import SQLiteStorage

from tests.support.database import NS_MUC_OWNER, NS_MUC_USER, assertResult, field, mucItems
from tests.support.client import errorCondition
from tests.support.tombstones import ROOM, TombstoneTestCase


class ElsewhereTests(TombstoneTestCase):
    """
    xmucctl deluser / destroy-room while the server runs: the server reads
    the tombstones (every few seconds; here at once, with C{check()}), and
    its rooms do not put back what xmucctl removed.
    """

    @defer.inlineCallbacks
    def test_deluserWhileRunning(self):
        yield self.server.start()
        self.assertTrue(self.server.server.tombstoneWatcher.loop.running)
        yield self.server.register("romeo", "juliet")
        romeo = yield self.makeRooms()
        juliet = yield self.server.login("juliet")
        out, err, code = yield self.xmucctl("deluser", "juliet@localhost")
        self.assertEqual(code, 0, err)
        yield self.server.server.tombstoneWatcher.check()

        notice = yield romeo.waitFor(lambda s: s.name == "message" and s.getAttribute("from") == ROOM)
        self.assertEqual([(i.getAttribute("jid"), i.getAttribute("affiliation")) for i in mucItems(notice)],
                         [("juliet@localhost", "none")])
        self.assertEqual((yield juliet.client.streamError()), "not-authorized")
        yield self.assertForgotten(romeo)
        # A later change of the room stores it without her.
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_roomname", "Again"))))
        yield self.server.stop()
        yield self.server.start()
        romeo = yield self.server.login("romeo")
        yield self.assertForgotten(romeo)

    @defer.inlineCallbacks
    def test_deluserBeforeShutdown(self):
        """
        xmucctl deluser, then the server stops at once (storing its rooms):
        at the next start the rooms forget her before clients come in.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        yield self.makeRooms()
        out, err, code = yield self.xmucctl("deluser", "juliet@localhost")
        self.assertEqual(code, 0, err)
        yield self.server.stop()
        state = yield self._storedState(ROOM)
        self.assertIn("juliet@localhost", state["affiliations"])
        yield self.server.start()
        romeo = yield self.server.login("romeo")
        yield self.assertForgotten(romeo)

    @defer.inlineCallbacks
    def _storedState(self, room):
        storage = SQLiteStorage(self.database)
        yield storage.start()
        try:
            state = yield storage.rooms.get(room)
        finally:
            yield storage.stop()
        return state

    @defer.inlineCallbacks
    def test_destroyRoomWhileRunning(self):
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.makeRooms()
        out, err, code = yield self.xmucctl("destroy-room", ROOM)
        self.assertEqual(code, 0, err)
        yield self.server.server.tombstoneWatcher.check()
        presence = yield romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Romeo")
        self.assertEqual(presence.getAttribute("type"), "unavailable")
        destroy = [d for x in presence.elements(NS_MUC_USER, "x") for d in x.elements(NS_MUC_USER, "destroy")]
        self.assertEqual(len(destroy), 1)
        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        self.assertEqual(errorCondition(received[-1]), "gone")
        yield self.server.stop()
        self.assertIsNone((yield self._storedState(ROOM)))

    @defer.inlineCallbacks
    def assertJoinable(self, user, nick):
        """
        C{user} joins C{ROOM}: the name is free, the room is created anew.
        """
        client = yield self.server.login(user)
        received = yield client.join(ROOM, nick)
        self.assertEqual(received[-1].name, "message", received[-1].toXml())
        created = [s for s in received if s.name == "presence"
                   and "201" in [c.getAttribute("code") for x in s.elements(NS_MUC_USER, "x")
                                 for c in x.elements(NS_MUC_USER, "status")]]
        self.assertEqual(len(created), 1)

    @defer.inlineCallbacks
    def test_liftWhileRunning(self):
        """
        C{xmucctl lift-tombstone} on a room destroyed by C{xmucctl
        destroy-room}: once the server has read the tombstones again, the
        name is free (no administrator configured for Juliet).
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        yield self.makeRooms()
        out, err, code = yield self.xmucctl("destroy-room", ROOM)
        self.assertEqual(code, 0, err)
        yield self.server.server.tombstoneWatcher.check()
        out, err, code = yield self.xmucctl("lift-tombstone", ROOM)
        self.assertEqual((code, out), (0, b"the name %s is free again\n" % (ROOM.encode(),)), err)
        yield self.server.server.tombstoneWatcher.check()
        yield self.assertJoinable("juliet", "Juliet")

    @defer.inlineCallbacks
    def test_liftAfterOwnerDestroyed(self):
        """
        A room its owner destroyed over XMPP: the tombstone the MUC keeps in
        memory goes too when lifted by C{xmucctl}.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.makeRooms()
        reply = yield romeo.iq(ROOM, "set", "<query xmlns='%s'><destroy/></query>" % (NS_MUC_OWNER,))
        assertResult(reply)
        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        self.assertEqual(errorCondition(received[-1]), "gone")
        yield self.server.server.tombstoneWatcher.check()
        out, err, code = yield self.xmucctl("tombstones", "--kind", "room")
        self.assertEqual(code, 0, err)
        self.assertIn(ROOM.encode() + b"\troom\t", out)
        out, err, code = yield self.xmucctl("lift-tombstone", ROOM)
        self.assertEqual(code, 0, err)
        yield self.server.server.tombstoneWatcher.check()
        yield self.assertJoinable("juliet", "Juliet2")

    @defer.inlineCallbacks
    def test_liftBeforeSeen(self):
        """
        A room destroyed by its owner and lifted by C{xmucctl} before the
        watcher read the tombstone: the name is free after the next two
        readings (the first may come before the tombstone is stored).
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.makeRooms()
        reply = yield romeo.iq(ROOM, "set", "<query xmlns='%s'><destroy/></query>" % (NS_MUC_OWNER,))
        assertResult(reply)
        out, err, code = yield self.xmucctl("lift-tombstone", ROOM)
        self.assertEqual(code, 0, err)
        yield self.server.server.tombstoneWatcher.check()
        yield self.server.server.tombstoneWatcher.check()
        yield self.assertJoinable("juliet", "Juliet")
