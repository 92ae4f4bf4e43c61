"""
Ban reasons (L{xmuc.muc.banreasons}): the reason given with an outcast
affiliation comes back in the outcast list (XEP-0045 9.5), over a real
socket and after the server is started again on the same database; it is
replaced when the ban is given again and forgotten when the ban is lifted,
and not kept when storing the ban fails.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import firstChild
from tests.support.muc import FlakyStorage, adminGet, adminSet, affItem, condition, iqResult, populateRoom
from tests.support.database import NS_MUC_ADMIN, ROOM, ServerOnDatabase, assertResult, field
from xmuc.muc.banreasons import EXTRA_KEY
from xmuc.storage.interfaces import StorageUnavailable

BAN = "<query xmlns='%s'><item affiliation='%%s' jid='%%s'>%%s</item></query>" % (NS_MUC_ADMIN,)


def ban(client, jid, reason=None, affiliation="outcast"):
    """
    Set the affiliation of C{jid} in the balcony with C{reason}.

    @return: Deferred firing with the reply iq.
    """
    return client.iq(ROOM, "set", BAN % (affiliation, jid, "<reason>%s</reason>" % (reason,) if reason else ""))


@defer.inlineCallbacks
def outcasts(client):
    """
    @return: Deferred firing with C{{jid: reason or None}} of the outcast
        list.
    """
    reply = yield client.iq(ROOM, "get", "<query xmlns='%s'><item affiliation='outcast'/></query>" % (NS_MUC_ADMIN,))
    assertResult(reply)
    listed = {}
    for item in firstChild(reply, NS_MUC_ADMIN, "query").elements(NS_MUC_ADMIN, "item"):
        reason = firstChild(item, NS_MUC_ADMIN, "reason")
        listed[item.getAttribute("jid")] = None if reason is None else str(reason)
    return listed


class BanReasonTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        storage = {"backend": "sqlite", "path": os.path.abspath(self.mktemp()) + ".sqlite"}
        self.server = ServerOnDatabase(self, storage, {"muc": {"lock_new_rooms": "false"}})
        yield self.server.start()
        yield self.server.register("romeo")
        self.romeo = yield self.server.login("romeo")
        yield self.romeo.join(ROOM, "Romeo")
        assertResult((yield self.romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))

    @defer.inlineCallbacks
    def test_reasonListedAfterRestart(self):
        """
        The reason of each ban is in the outcast list, before and after a
        restart; a ban without a reason has none.
        """
        assertResult((yield ban(self.romeo, "tybalt@localhost", "Slew Mercutio")))
        assertResult((yield ban(self.romeo, "paris@localhost")))
        expected = {"tybalt@localhost": "Slew Mercutio", "paris@localhost": None}
        self.assertEqual((yield outcasts(self.romeo)), expected)

        yield self.server.stop()
        yield self.server.start()
        romeo = yield self.server.login("romeo")
        self.assertEqual((yield outcasts(romeo)), expected)

    @defer.inlineCallbacks
    def test_reasonReplacedAndForgotten(self):
        """
        Banning again replaces the reason (or drops it when none is given);
        a lifted ban given again later does not bring the old reason back.
        """
        assertResult((yield ban(self.romeo, "tybalt@localhost", "Slew Mercutio")))
        assertResult((yield ban(self.romeo, "tybalt@localhost", "Drew on Romeo")))
        self.assertEqual((yield outcasts(self.romeo)), {"tybalt@localhost": "Drew on Romeo"})
        assertResult((yield ban(self.romeo, "tybalt@localhost", affiliation="none")))
        self.assertEqual((yield outcasts(self.romeo)), {})
        assertResult((yield ban(self.romeo, "tybalt@localhost")))
        self.assertEqual((yield outcasts(self.romeo)), {"tybalt@localhost": None})


class BanReasonSaveFailureTests(unittest.TestCase):
    """
    A ban whose storing fails leaves no reason behind (the room goes back
    to its state before the change).
    """

    def test_failedBanKeepsNoReason(self):
        populateRoom(self, FlakyStorage())
        self.storage.rooms.failing = True
        received = adminSet(self.romeo, affItem("tybalt@localhost", "outcast", reason="Slew Mercutio"), id="b1")
        self.assertEqual(condition(iqResult(received, "b1"))[0], "internal-server-error")
        self.flushLoggedErrors(StorageUnavailable)
        self.assertNotIn(EXTRA_KEY, self.room.extra)
        self.storage.rooms.failing = False
        received = adminSet(self.romeo, affItem("tybalt@localhost", "outcast"), id="b2")
        self.assertEqual(iqResult(received, "b2")["type"], "result")
        listed = adminGet(self.romeo, "<item affiliation='outcast'/>", id="l1")
        items = list(iqResult(listed, "l1").firstChildElement().elements())
        self.assertEqual([(i["jid"], [c.name for c in i.elements()]) for i in items], [("tybalt@localhost", [])])
