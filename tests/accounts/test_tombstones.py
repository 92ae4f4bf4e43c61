"""
Tombstones, over real streams: a deleted account (XEP-0077
C{<remove/>} or C{xmucctl deluser}) cannot be registered again while its
tombstone lasts, loses its affiliations in every room (persistent ones
too, occupants told), its contacts lose their subscriptions, and probes
to it are answered with an error and C{unsubscribed}; a destroyed
persistent room's name answers C{gone} for a while, unless a server
administrator recreates it.
"""

import os
import sys

from twisted.internet import defer, reactor, task, utils
from twisted.trial import unittest

from tests.support.database import (
    NS_MUC_USER,
    NS_REGISTER,
    PASSWORD,
    SERVICE,
    ServerOnDatabase,
    assertResult,
    field,
    mucItems,
)
from tests.support.client import NS_CLIENT, connectClient, errorCondition, firstChild

ROOM = "capulet@" + SERVICE
QUIET = "crypt@" + SERVICE


def registerIQ(username, password):
    return ("<iq xmlns='%s' type='set' id='reg'><query xmlns='%s'><username>%s</username>"
            "<password>%s</password></query></iq>" % (NS_CLIENT, NS_REGISTER, username, password))


class TombstoneTestCase(unittest.TestCase):
    extra = {}

    def setUp(self):
        self.database = os.path.abspath(self.mktemp()) + ".sqlite"
        extra = {"c2s": {"allow_registration": "true"}, "muc": {"lock_new_rooms": "false"},
                 "server": {"admins": "prince@localhost"}}
        for section, values in self.extra.items():
            extra.setdefault(section, {}).update(values)
        self.server = ServerOnDatabase(self, {"backend": "sqlite", "path": self.database}, extra)

    @defer.inlineCallbacks
    def registerOverTheWire(self, username, password=PASSWORD):
        """
        @return: Deferred firing with the reply to an in-band registration
            on a new stream.
        """
        client = yield connectClient(self.server.running.c2sPort)
        self.server.clients.append(client)
        yield client.openStream()
        reply = yield client.iq(registerIQ(username, password))
        return reply

    def xmucctl(self, *arguments):
        """
        @return: Deferred firing with C{(out, err, code)} of xmucctl on our
            tap.conf.
        """
        xmucctl = os.path.join(os.path.dirname(sys.executable), "xmucctl")
        return utils.getProcessOutputAndValue(
            xmucctl, ("-c", self.server.path) + arguments, env=dict(os.environ))

    @defer.inlineCallbacks
    def makeRooms(self):
        """
        Romeo owns two persistent rooms where Juliet has a place: member
        (reserved nick) of the first, admin of the second, which nobody
        occupies.
        """
        romeo = yield self.server.login("romeo")
        for room, affiliation in ((ROOM, "member"), (QUIET, "admin")):
            yield romeo.join(room, "Romeo")
            assertResult((yield romeo.configure(room, field("muc#roomconfig_persistentroom", "1"))))
            assertResult((yield romeo.setAffiliation(room, "juliet@localhost", affiliation,
                                                     "Jules" if affiliation == "member" else None)))
        romeo.send("<presence xmlns='%s' to='%s/Romeo' type='unavailable'/>" % (NS_CLIENT, QUIET))
        yield romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == QUIET + "/Romeo")
        return romeo

    @defer.inlineCallbacks
    def assertForgotten(self, romeo):
        """
        Juliet has no affiliation left in either room.
        """
        self.assertEqual((yield romeo.affiliationList(ROOM, "member")), {})
        self.assertEqual((yield romeo.affiliationList(QUIET, "admin")), {})


class DeletedAccountTests(TombstoneTestCase):
    @defer.inlineCallbacks
    def test_inBandRemoval(self):
        """
        XEP-0077 removal: the result, the stream closed; occupants who see
        real JIDs get the affiliation notice; a contact gets unsubscribed
        and unsubscribe; the name cannot be registered again; both
        persistent rooms (one loaded from storage, empty) forgot Juliet,
        also after a restart; a probe to her gets gone + unsubscribed.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet", "nurse")
        yield self.makeRooms()
        rosters = self.server.server.storage.rosters
        yield rosters.set("juliet@localhost", "nurse@localhost", {"subscription": "both"})
        yield rosters.set("nurse@localhost", "juliet@localhost", {"subscription": "both"})
        # The rooms come back from storage.
        yield self.server.stop()
        yield self.server.start()

        romeo = yield self.server.login("romeo")
        yield romeo.join(ROOM, "Romeo")
        nurse = yield self.server.login("nurse")
        nurse.send("<presence xmlns='%s'/>" % (NS_CLIENT,))
        juliet = yield self.server.login("juliet")
        reply = yield juliet.iq(None, "set", "<query xmlns='%s'><remove/></query>" % (NS_REGISTER,))
        assertResult(reply)
        self.assertEqual((yield juliet.client.streamError()), "not-authorized")

        notice = yield romeo.waitFor(lambda s: s.name == "message" and s.getAttribute("from") == ROOM)
        self.assertEqual([(i.getAttribute("jid"), i.getAttribute("affiliation")) for i in mucItems(notice)],
                         [("juliet@localhost", "none")])
        told = []
        while len(told) < 2:
            stanza = yield nurse.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == "juliet@localhost"
                                         and s.getAttribute("type") in ("unsubscribed", "unsubscribe"))
            told.append(stanza.getAttribute("type"))
        self.assertEqual(told, ["unsubscribed", "unsubscribe"])

        reply = yield self.registerOverTheWire("juliet")
        self.assertEqual(errorCondition(reply), "conflict")
        yield self.assertForgotten(romeo)
        # Anyone may now take the nick she had reserved.
        yield self.server.register("tybalt")
        tybalt = yield self.server.login("tybalt")
        received = yield tybalt.join(ROOM, "Jules")
        self.assertNotEqual(received[-1].getAttribute("type"), "error")

        yield self.server.stop()
        yield self.server.start()
        # Romeo's roster still says he sees her (he missed the news): his
        # initial presence probes her, and the answer tells him.
        yield self.server.server.storage.rosters.set(
            "romeo@localhost", "juliet@localhost", {"subscription": "to"})
        romeo = yield self.server.login("romeo")
        yield self.assertForgotten(romeo)
        reply = yield self.registerOverTheWire("juliet")
        self.assertEqual(errorCondition(reply), "conflict")
        romeo.send("<presence xmlns='%s'/>" % (NS_CLIENT,))
        answers = []
        while len(answers) < 2:
            stanza = yield romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == "juliet@localhost")
            answers.append(stanza)
        self.assertEqual([(s.getAttribute("type"), errorCondition(s)) for s in answers],
                         [("error", "gone"), ("unsubscribed", None)])

    @defer.inlineCallbacks
    def test_xmucctlDeluserOffline(self):
        """
        xmucctl deluser on the stored data while the server is stopped:
        after the start, Juliet's name is refused and the rooms forgot her.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        yield self.makeRooms()
        yield self.server.stop()
        out, err, code = yield self.xmucctl("deluser", "juliet@localhost")
        self.assertEqual(code, 0, err)
        yield self.server.start()
        romeo = yield self.server.login("romeo")
        yield self.assertForgotten(romeo)
        reply = yield self.registerOverTheWire("juliet")
        self.assertEqual(errorCondition(reply), "conflict")


class TombstoneExpiryTests(TombstoneTestCase):
    extra = {"storage": {"tombstone_expiry": "1"}}

    @defer.inlineCallbacks
    def test_nameFreeAfterExpiry(self):
        """
        With [storage] tombstone_expiry = 1: refused at once, registered
        after a second, and the newcomer inherits nothing.
        """
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        yield self.makeRooms()
        juliet = yield self.server.login("juliet")
        reply = yield juliet.iq(None, "set", "<query xmlns='%s'><remove/></query>" % (NS_REGISTER,))
        assertResult(reply)
        yield juliet.client.waitClosed()
        reply = yield self.registerOverTheWire("juliet", "new")
        self.assertEqual(errorCondition(reply), "conflict")
        yield task.deferLater(reactor, 1.2, lambda: None)
        reply = yield self.registerOverTheWire("juliet", "new")
        assertResult(reply)
        romeo = yield self.server.login("romeo")
        yield self.assertForgotten(romeo)


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
        from xmuc.storage.sqlite import SQLiteStorage

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
