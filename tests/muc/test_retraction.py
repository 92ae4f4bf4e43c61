"""
Moderated message retraction (XEP-0425, L{xmuc.muc.retraction}) at the
component level: the request in both versions, who may retract, errors,
the message to occupants, and the tombstone that replaces the message in
the history and the archive (in memory, in storage, across a restart, and
on a real SQLite database).
"""

import os

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.muc import MUCTestCase, ROOM, condition, configure, field
from xmuc.muc import retraction
from xmuc.muc.history import historyOf
from xmuc.muc.occupantid import occupantID
from xmuc.testing.muc import MUCHarness
from xmuc.xmpp import ns
from xmuc.storage.sqlite import SQLiteStorage
from xmuc.xmpp.ns import OCCUPANT_ID

MAM = "urn:xmpp:mam:2"
FORWARD = "urn:xmpp:forward:0"
MODERATE_1 = "urn:xmpp:message-moderate:1"
RETRACT_1 = "urn:xmpp:message-retract:1"
MODERATE_0 = "urn:xmpp:message-moderate:0"
RETRACT_0 = "urn:xmpp:message-retract:0"
FASTEN = "urn:xmpp:fasten:0"
FALLBACK = "urn:xmpp:fallback:0"
STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def child(element, uri, name):
    for found in element.elements(uri, name):
        return found
    return None


def names(element):
    return [(c.uri, c.name) for c in element.elements()]


def moderateV1(stanzaID, reason=None, id="mod"):
    inner = "<retract xmlns='%s'/>" % (RETRACT_1,)
    if reason is not None:
        inner += "<reason>%s</reason>" % (reason,)
    attribute = " id='%s'" % (stanzaID,) if stanzaID is not None else ""
    return "<iq type='set' id='%s' to='%s'><moderate%s xmlns='%s'>%s</moderate></iq>" % (
        id, ROOM, attribute, MODERATE_1, inner)


def moderateV0(stanzaID, reason=None, id="mod"):
    inner = "<retract xmlns='%s'/>" % (RETRACT_0,)
    if reason is not None:
        inner += "<reason>%s</reason>" % (reason,)
    return ("<iq type='set' id='%s' to='%s'><apply-to id='%s' xmlns='%s'><moderate xmlns='%s'>%s</moderate>"
            "</apply-to></iq>" % (id, ROOM, stanzaID, FASTEN, MODERATE_0, inner))


class ModerationTestCase(MUCTestCase):
    """
    Romeo (owner, moderator) and Juliet (participant) in C{room}.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def say(self, body, client=None, extra=""):
        """
        @return: the stanza-id the room gave the message.
        """
        client = client or self.juliet
        client.received()
        client.send("<message type='groupchat' to='%s' id='m'><body>%s</body>%s</message>" % (ROOM, body, extra))
        [echo] = [s for s in client.received() if s.name == "message"]
        self.romeo.received()
        self.juliet.received()
        return child(echo, ns.STANZA_ID, "stanza-id")["id"]

    def moderate(self, request, client=None):
        """
        @return: C{(messages, iq)} the requester received.
        """
        client = client or self.romeo
        client.received()
        client.send(request)
        received = client.received()
        [iq] = [s for s in received if s.name == "iq"]
        return [s for s in received if s.name == "message"], iq

    def join(self, client, nick):
        """
        @return: the history messages a joiner gets (the subject left out).
        """
        return [s for s in client.join("room", nick) if s.name == "message" and child(s, ns.CLIENT, "subject") is None]

    def query(self, client=None):
        """
        @return: the forwarded messages of a MAM query, and the result ids.
        """
        client = client or self.juliet
        client.received()
        client.send("<iq id='q' to='%s' type='set'><query xmlns='%s'/></iq>" % (ROOM, MAM))
        received = client.received()
        results = [child(m, MAM, "result") for m in received if m.name == "message"]
        forwarded = [child(child(r, FORWARD, "forwarded"), ns.CLIENT, "message") for r in results]
        return forwarded, [r["id"] for r in results]

    def assertTombstone(self, message, reason="Spam", by=ROOM + "/Romeo"):
        """
        C{message} is the v1 tombstone of a message of Juliet.
        """
        self.assertEqual((message["type"], message["from"], message["id"]), ("groupchat", ROOM + "/Juliet", "m"))
        self.assertIsNone(child(message, ns.CLIENT, "body"))
        self.assertEqual(child(message, OCCUPANT_ID, "occupant-id")["id"], occupantID(self.room(), self.juliet.bare))
        retracted = child(message, RETRACT_1, "retracted")
        self.assertRegex(retracted["stamp"], STAMP)
        moderated = child(retracted, MODERATE_1, "moderated")
        self.assertEqual(moderated.getAttribute("by"), by)
        self.assertEqual(child(moderated, OCCUPANT_ID, "occupant-id")["id"], occupantID(self.room(), self.romeo.bare))
        self.assertEqual(str(child(retracted, RETRACT_1, "reason")), reason)


class RetractionTests(ModerationTestCase):
    def test_broadcast(self):
        """
        Every occupant gets a groupchat message from the room's bare JID
        with C{<retract id/>}, C{<moderated by/>} (room/nick and the
        moderator's occupant-id), the reason, a fallback body and the room's
        stanza-id; the moderator gets it before the iq result.
        """
        stanzaID = self.say("Buy potions")
        self.romeo.send(moderateV1(stanzaID, "Spam"))
        romeo = self.romeo.received()
        self.assertEqual([s.name for s in romeo], ["message", "iq"])
        message, iq = romeo
        self.assertEqual((iq["type"], iq["id"], iq["from"]), ("result", "mod", ROOM))
        self.assertIsNone(iq.firstChildElement())
        [seen] = self.juliet.received()
        self.assertEqual(seen.toXml().replace(self.juliet.jid, self.romeo.jid), message.toXml())
        self.assertEqual((message["type"], message["from"]), ("groupchat", ROOM))
        self.assertTrue(message.getAttribute("id"))
        retract = child(message, RETRACT_1, "retract")
        self.assertEqual(retract["id"], stanzaID)
        self.assertEqual(names(retract), [(MODERATE_1, "moderated"), (RETRACT_1, "reason")])
        moderated = child(retract, MODERATE_1, "moderated")
        self.assertEqual(dict(moderated.attributes), {"by": ROOM + "/Romeo"})
        self.assertEqual(names(moderated), [(OCCUPANT_ID, "occupant-id")])
        self.assertEqual(child(moderated, OCCUPANT_ID, "occupant-id")["id"], occupantID(self.room(), self.romeo.bare))
        self.assertEqual(str(child(retract, RETRACT_1, "reason")), "Spam")
        self.assertEqual(child(message, FALLBACK, "fallback")["for"], RETRACT_1)
        self.assertIn("retracted by a moderator", str(child(message, ns.CLIENT, "body")))
        sid = child(message, ns.STANZA_ID, "stanza-id")
        self.assertEqual(sid["by"], ROOM)
        self.assertNotEqual(sid["id"], stanzaID)

    def test_noReason(self):
        stanzaID = self.say("Buy potions")
        [message], iq = self.moderate(moderateV1(stanzaID))
        self.assertEqual(iq["type"], "result")
        self.assertEqual(names(child(message, RETRACT_1, "retract")), [(MODERATE_1, "moderated")])

    def test_historyTombstone(self):
        """
        Joiners get the tombstone in place of the message (its body and
        other payloads gone, stanza-id, occupant-id and delay kept), then
        the retraction message; other history is untouched.
        """
        before = self.say("Hello")
        stanzaID = self.say("Buy potions", extra="<x xmlns='jabber:x:oob'><url>http://spam</url></x>")
        after = self.say("Bye")
        self.moderate(moderateV1(stanzaID, "Spam"))
        history = self.join(self.rosaline, "Rosaline")
        self.assertEqual([child(m, ns.STANZA_ID, "stanza-id")["id"] for m in history[:3]], [before, stanzaID, after])
        self.assertEqual(str(child(history[0], ns.CLIENT, "body")), "Hello")
        tombstone = history[1]
        self.assertTombstone(tombstone)
        self.assertEqual(names(tombstone), [(OCCUPANT_ID, "occupant-id"), (ns.STANZA_ID, "stanza-id"),
                                            (RETRACT_1, "retracted"), (ns.DELAY, "delay")])
        self.assertEqual(child(history[3], RETRACT_1, "retract")["id"], stanzaID)
        self.assertEqual(len(history), 4)

    def test_archiveTombstone(self):
        """
        A MAM query finds the tombstone under the message's stanza-id, and
        the retraction message after it.
        """
        stanzaID = self.say("Buy potions")
        self.moderate(moderateV1(stanzaID, "Spam"))
        forwarded, ids = self.query()
        self.assertEqual(ids[0], stanzaID)
        self.assertTombstone(forwarded[0])
        self.assertEqual(child(forwarded[1], RETRACT_1, "retract")["id"], stanzaID)
        self.assertEqual(len(ids), 2)

    def test_archiveTombstoneWithoutHistory(self):
        """
        With no history kept, the archive alone has the message: it is
        retracted there.
        """
        configure(self.romeo, field("muc#roomconfig_historylength", "0"))
        stanzaID = self.say("Buy potions")
        [_], iq = self.moderate(moderateV1(stanzaID, "Spam"))
        self.assertEqual(iq["type"], "result")
        self.assertTombstone(self.query()[0][0])

    def test_historyOnlyWhenNotArchived(self):
        """
        With archiving off, the history alone has the message: it is
        retracted there.
        """
        configure(self.romeo, field("muc#roomconfig_enablearchiving", "0"))
        stanzaID = self.say("Buy potions")
        [_], iq = self.moderate(moderateV1(stanzaID, "Spam"))
        self.assertEqual(iq["type"], "result")
        self.assertTombstone(self.join(self.rosaline, "Rosaline")[0])
        self.assertEqual(self.query()[1], [])

    def test_alreadyRetracted(self):
        """
        Retracting again is a result that changes and sends nothing.
        """
        stanzaID = self.say("Buy potions")
        self.moderate(moderateV1(stanzaID, "Spam"))
        self.juliet.received()
        messages, iq = self.moderate(moderateV1(stanzaID, "Again", id="again"))
        self.assertEqual((messages, iq["type"], iq["id"]), ([], "result", "again"))
        self.assertEqual(self.juliet.received(), [])
        self.assertTombstone(self.query()[0][0])

    def test_moderatorRetractsOwnMessage(self):
        stanzaID = self.say("Oops", client=self.romeo)
        [_], iq = self.moderate(moderateV1(stanzaID))
        self.assertEqual(iq["type"], "result")
        self.assertIsNone(child(self.query()[0][0], ns.CLIENT, "body"))

    def test_granted(self):
        """
        A participant made moderator may retract.
        """
        self.rosaline.join("room", "Rosaline")
        stanzaID = self.say("Buy potions")
        self.romeo.send("<iq type='set' id='role' to='%s'><query xmlns='%s'><item nick='Rosaline' role='moderator'/>"
                        "</query></iq>" % (ROOM, ns.MUC_ADMIN))
        [message], iq = self.moderate(moderateV1(stanzaID), client=self.rosaline)
        self.assertEqual(iq["type"], "result")
        self.assertEqual(child(child(message, RETRACT_1, "retract"), MODERATE_1, "moderated")["by"], ROOM + "/Rosaline")

    def test_ownerOutsideTheRoom(self):
        """
        An owner not in the room is a moderator by affiliation; without an
        occupant nick the C{by} is left out (the occupant-id stays).
        """
        stanzaID = self.say("Buy potions")
        self.romeo.send("<presence type='unavailable' to='%s/Romeo'/>" % (ROOM,))
        self.juliet.received()
        messages, iq = self.moderate(moderateV1(stanzaID))
        self.assertEqual((messages, iq["type"]), ([], "result"))
        [message] = self.juliet.received()
        moderated = child(child(message, RETRACT_1, "retract"), MODERATE_1, "moderated")
        self.assertIsNone(moderated.getAttribute("by"))
        self.assertEqual(child(moderated, OCCUPANT_ID, "occupant-id")["id"], occupantID(self.room(), self.romeo.bare))


class VersionZeroTests(ModerationTestCase):
    """
    The older form (C{urn:xmpp:message-moderate:0} in a fastening).
    """

    def test_broadcastAndTombstone(self):
        stanzaID = self.say("Buy potions")
        [message], iq = self.moderate(moderateV0(stanzaID, "Spam"))
        self.assertEqual(iq["type"], "result")
        applyTo = child(message, FASTEN, "apply-to")
        self.assertEqual(applyTo["id"], stanzaID)
        moderated = child(applyTo, MODERATE_0, "moderated")
        self.assertEqual(moderated["by"], ROOM + "/Romeo")
        self.assertEqual(names(moderated), [(OCCUPANT_ID, "occupant-id"), (RETRACT_0, "retract"),
                                            (MODERATE_0, "reason")])
        self.assertEqual(str(child(moderated, MODERATE_0, "reason")), "Spam")
        self.assertIsNone(child(message, RETRACT_1, "retract"))
        self.assertEqual(child(message, FALLBACK, "fallback")["for"], RETRACT_0)
        self.assertIsNotNone(child(message, ns.CLIENT, "body"))
        [archived] = self.query()[0][:1]
        self.assertIsNone(child(archived, ns.CLIENT, "body"))
        tombstone = child(archived, MODERATE_0, "moderated")
        self.assertEqual(tombstone["by"], ROOM + "/Romeo")
        self.assertRegex(child(tombstone, RETRACT_0, "retracted")["stamp"], STAMP)
        self.assertEqual(str(child(tombstone, MODERATE_0, "reason")), "Spam")
        # Already retracted, whichever version asks.
        messages, iq = self.moderate(moderateV1(stanzaID))
        self.assertEqual((messages, iq["type"]), ([], "result"))

    def test_otherFasteningUnsupported(self):
        self.romeo.send("<iq type='set' id='f' to='%s'><apply-to id='x' xmlns='%s'><other xmlns='urn:example'/>"
                        "</apply-to></iq>" % (ROOM, FASTEN))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "service-unavailable")


class RefusalTests(ModerationTestCase):
    def assertUnchanged(self, stanzaID):
        self.assertEqual(self.juliet.received(), [])
        [archived] = self.query()[0]
        self.assertEqual(str(child(archived, ns.CLIENT, "body")), "Buy potions")

    def test_participantForbidden(self):
        """
        Only moderators: others get C{forbidden} with the XEP's text (even
        for their own message); nothing changes.
        """
        stanzaID = self.say("Buy potions")
        messages, iq = self.moderate(moderateV1(stanzaID), client=self.juliet)
        self.assertEqual(messages, [])
        self.assertEqual(condition(iq)[:2], ("forbidden", "modify"))
        error = child(iq, None, "error")
        self.assertEqual(str(child(error, ns.XMPP_STANZAS, "text")), retraction.FORBIDDEN_TEXT)
        self.assertUnchanged(stanzaID)

    def test_nonOccupantForbidden(self):
        stanzaID = self.say("Buy potions")
        messages, iq = self.moderate(moderateV1(stanzaID), client=self.rosaline)
        self.assertEqual(condition(iq)[0], "forbidden")
        self.assertUnchanged(stanzaID)

    def test_visitorForbidden(self):
        stanzaID = self.say("Buy potions")
        configure(self.romeo, field("muc#roomconfig_moderatedroom", "1"))
        self.rosaline.join("room", "Rosaline")
        self.juliet.received()
        messages, iq = self.moderate(moderateV0(stanzaID), client=self.rosaline)
        self.assertEqual(condition(iq)[0], "forbidden")
        self.assertUnchanged(stanzaID)

    def test_missingID(self):
        self.say("Buy potions")
        messages, iq = self.moderate(moderateV1(None))
        self.assertEqual((messages, condition(iq)[0]), ([], "bad-request"))
        messages, iq = self.moderate(moderateV0(""))
        self.assertEqual((messages, condition(iq)[0]), ([], "bad-request"))

    def test_missingRetract(self):
        stanzaID = self.say("Buy potions")
        messages, iq = self.moderate("<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='%s'/></iq>"
                                     % (ROOM, stanzaID, MODERATE_1))
        self.assertEqual((messages, condition(iq)[0]), ([], "bad-request"))
        self.assertUnchanged(stanzaID)

    def test_unknownID(self):
        """
        An id the room never gave (or a client's own message id) is
        C{item-not-found}.
        """
        self.say("Buy potions")
        for unknown in ("nope", "m"):
            messages, iq = self.moderate(moderateV1(unknown))
            self.assertEqual((messages, condition(iq)[0]), ([], "item-not-found"))

    def test_notStoredMessage(self):
        """
        A message neither in the history nor archived (a chat state) cannot
        be found.
        """
        self.juliet.send("<message type='groupchat' to='%s'><active xmlns='http://jabber.org/protocol/chatstates'/>"
                         "</message>" % (ROOM,))
        [echo] = self.juliet.received()
        messages, iq = self.moderate(moderateV1(child(echo, ns.STANZA_ID, "stanza-id")["id"]))
        self.assertEqual(condition(iq)[0], "item-not-found")


class DiscoTests(ModerationTestCase):
    def test_features(self):
        self.juliet.received()
        self.juliet.send("<iq id='d' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_INFO))
        [answer] = self.juliet.received()
        features = {f["var"] for f in answer.query.elements(ns.DISCO_INFO, "feature")}
        self.assertIn(MODERATE_1, features)
        self.assertIn(MODERATE_0, features)


class PersistentRoomTests(ModerationTestCase):
    def setUp(self):
        ModerationTestCase.setUp(self)
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1") + field("muc#roomconfig_whois", "anyone"))
        self.juliet.received()

    def stored(self):
        return list(self.harness.storage.archive._messages.get(ROOM, []))

    @defer.inlineCallbacks
    def test_storedTombstoneSurvivesRestart(self):
        """
        The stored message is replaced by the tombstone (the sender item of
        a non-anonymous room kept); after a restart, the history and the
        archive have the tombstone and the retraction message.
        """
        stanzaID = self.say("Buy potions")
        kept = self.say("Hello")
        [_], iq = self.moderate(moderateV1(stanzaID, "Spam"))
        self.assertEqual(iq["type"], "result")
        stored = self.stored()
        self.assertEqual([row["stanza_id"] for row in stored[:2]], [stanzaID, kept])
        self.assertNotIn("Buy potions", stored[0]["xml"])
        self.assertIn(RETRACT_1, stored[0]["xml"])
        self.assertIn(self.juliet.bare, stored[0]["xml"])
        self.assertIn("Hello", stored[1]["xml"])
        self.assertIn("retracted by a moderator", stored[2]["xml"])
        self.assertTombstone(self.join(self.rosaline, "Rosaline")[0])

        self.harness = yield self.harness.restart()
        self.romeo = self.harness.client(self.romeo.jid)
        self.juliet = self.harness.client(self.juliet.jid)
        history = self.join(self.juliet, "Juliet")
        self.assertTombstone(history[0])
        self.assertIsNone(child(history[0], ns.MUC_USER, "x"))
        self.assertEqual(str(child(history[1], ns.CLIENT, "body")), "Hello")
        self.assertEqual(child(history[2], RETRACT_1, "retract")["id"], stanzaID)
        forwarded, ids = self.query()
        self.assertEqual(ids[:2], [stanzaID, kept])
        self.assertTombstone(forwarded[0])
        self.assertEqual(child(child(forwarded[0], ns.MUC_USER, "x"), ns.MUC_USER, "item")["jid"], self.juliet.bare)
        # Still retracted after the restart: nothing more happens.
        self.romeo.join("room", "Romeo")
        messages, iq = self.moderate(moderateV1(stanzaID))
        self.assertEqual((messages, iq["type"]), ([], "result"))

    def test_unknownInStorage(self):
        self.say("Buy potions")
        messages, iq = self.moderate(moderateV1("nope"))
        self.assertEqual(condition(iq)[0], "item-not-found")


class SQLiteTests(unittest.TestCase):
    """
    A persistent room on a real SQLite database: the tombstone is stored
    (through the database's threads) and comes back after a restart.
    """

    @defer.inlineCallbacks
    def waitFor(self, client, predicate):
        received = []
        for _ in range(200):
            received += client.received()
            found = [s for s in received if predicate(s)]
            if found:
                return found[0]
            yield task.deferLater(reactor, 0.02, lambda: None)
        self.fail("nothing came: %r" % ([s.toXml() for s in received],))

    @defer.inlineCallbacks
    def test_tombstoneStoredAndRestored(self):
        storage = SQLiteStorage(os.path.abspath(self.mktemp()) + ".sqlite")
        yield storage.start()
        self.addCleanup(storage.stop)
        harness = MUCHarness(storage=storage)
        romeo = harness.client("user@localhost/balcony")
        juliet = harness.client("user2@localhost/garden")
        romeo.join("room", "Romeo")
        configure(romeo, field("muc#roomconfig_persistentroom", "1"))
        yield self.waitFor(romeo, lambda s: s.name == "iq")
        juliet.join("room", "Juliet")
        juliet.send("<message type='groupchat' to='%s' id='m'><body>Buy potions</body></message>" % (ROOM,))
        echo = yield self.waitFor(juliet, lambda s: s.name == "message")
        stanzaID = child(echo, ns.STANZA_ID, "stanza-id")["id"]
        romeo.received()
        romeo.send(moderateV1(stanzaID, "Spam"))
        iq = yield self.waitFor(romeo, lambda s: s.name == "iq")
        self.assertEqual(iq["type"], "result")
        rows = yield storage.archive.recent(ROOM, 10)
        self.assertEqual(rows[0]["stanza_id"], stanzaID)
        self.assertNotIn("Buy potions", rows[0]["xml"])
        self.assertIn("<retracted", rows[0]["xml"])

        harness = yield harness.restart()
        for _ in range(200):
            # The room, then its history, load from the database.
            if ROOM in harness.muc.rooms and historyOf(harness.muc.rooms[ROOM]):
                break
            yield task.deferLater(reactor, 0.02, lambda: None)
        rosaline = harness.client("user3@localhost/street")
        [tombstone] = [s for s in rosaline.join("room", "Rosaline") if child(s, RETRACT_1, "retracted") is not None]
        self.assertEqual(child(tombstone, ns.STANZA_ID, "stanza-id")["id"], stanzaID)
        self.assertIsNone(child(tombstone, ns.CLIENT, "body"))
        self.assertEqual(str(child(child(tombstone, RETRACT_1, "retracted"), RETRACT_1, "reason")), "Spam")
