"""
Room tombstones, over real streams: a destroyed persistent room's name
answers C{gone} for a while, unless a server administrator recreates it; a
temporary room leaves no tombstone.
"""

from twisted.internet import defer, reactor, task

from tests.support.database import NS_MUC_USER, SERVICE, assertResult, field
from tests.support.client import errorCondition, firstChild
from tests.support.tombstones import ROOM, TombstoneTestCase


class RoomTombstoneTests(TombstoneTestCase):
    extra = {"storage": {"room_tombstone_expiry": "2"}}

    @defer.inlineCallbacks
    def destroy(self, owner, room, alternate=None):
        reply = yield owner.iq(room, "set", "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                               "<destroy%s><reason>Plague</reason></destroy></query>"
                               % (" jid='%s'" % (alternate,) if alternate else "",))
        assertResult(reply)

    @defer.inlineCallbacks
    def test_destroyedNameAnswersGone(self):
        """
        Joining a destroyed persistent room gets C{gone} (type cancel) with
        the alternate venue as an xmpp: URI, also after a restart; the name
        is free again after room_tombstone_expiry seconds.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.server.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        yield self.destroy(romeo, ROOM, "tomb@" + SERVICE)

        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        error = received[-1]
        self.assertEqual(errorCondition(error), "gone")
        self.assertEqual(firstChild(error, name="error").getAttribute("type"), "cancel")
        gone = firstChild(firstChild(error, name="error"), name="gone")
        self.assertEqual(str(gone), "xmpp:tomb@%s?join" % (SERVICE,))
        self.assertNotIn(ROOM, self.server.server.muc.rooms)
        # Its owner may not take it back either.
        received = yield romeo.join(ROOM, "Romeo")
        self.assertEqual(errorCondition(received[-1]), "gone")

        yield self.server.stop()
        yield self.server.start()
        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        self.assertEqual(errorCondition(received[-1]), "gone")

        yield task.deferLater(reactor, 2.2, lambda: None)
        received = yield juliet.join(ROOM, "Juliet")
        self.assertIn("201", [c.getAttribute("code") for s in received if s.name == "presence"
                              for x in s.elements(NS_MUC_USER, "x") for c in x.elements(NS_MUC_USER, "status")])

    @defer.inlineCallbacks
    def test_temporaryRoomLeavesNoTombstone(self):
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        romeo = yield self.server.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        yield self.destroy(romeo, ROOM)
        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        self.assertNotEqual(received[-1].getAttribute("type"), "error")

    @defer.inlineCallbacks
    def test_adminRecreates(self):
        """
        A server administrator may recreate a destroyed room at once; the
        tombstone is lifted (then others may join it).
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet", "prince")
        romeo = yield self.server.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        assertResult((yield romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        yield self.destroy(romeo, ROOM)
        prince = yield self.server.login("prince")
        received = yield prince.join(ROOM, "Escalus")
        self.assertNotEqual(received[-1].getAttribute("type"), "error")
        self.assertIn(ROOM, self.server.server.muc.rooms)
        self.assertIsNone((yield self.server.server.storage.tombstones.get(ROOM)))
        juliet = yield self.server.login("juliet")
        received = yield juliet.join(ROOM, "Juliet")
        self.assertNotEqual(received[-1].getAttribute("type"), "error")
