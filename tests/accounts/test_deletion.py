"""
Deleting an account, over real streams: a deleted account (XEP-0077
C{<remove/>} or C{xmucctl deluser}) leaves a tombstone, so its name cannot
be registered again while the tombstone lasts; it loses its affiliations
in every room (persistent ones too, occupants told), its contacts lose
their subscriptions, and probes to it are answered with an error and
C{unsubscribed}; once the tombstone expired the name is free again.
"""

from twisted.internet import defer, reactor, task

from tests.support.database import NS_REGISTER, assertResult, mucItems
from tests.support.client import NS_CLIENT, errorCondition
from tests.support.tombstones import ROOM, TombstoneTestCase


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
