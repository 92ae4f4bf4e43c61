"""
Message Archive Management of rooms (XEP-0313, L{xmuc.muc.mam}), with
Prosody's mod_muc_mam behaviour: component-level tests for every rule, and
a persistent room's archive across a restart of a real server on SQLite.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import MUCTestCase, ROOM, codes, condition, configure, field
from tests.support.database import ServerOnDatabase, assertResult
from xmuc.muc import mam
from xmuc.testing.muc import DOMAIN
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import parseStamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.mam import Query, find

MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
FORWARD = "urn:xmpp:forward:0"


def mamForm(*fields):
    return "<x xmlns='jabber:x:data' type='submit'>%s%s</x>" % (
        field("FORM_TYPE", MAM), "".join(fields))


def rsmSet(**values):
    inner = ""
    for name in ("max", "after", "before"):
        if name in values:
            value = values[name]
            inner += "<%s/>" % (name,) if value == "" else "<%s>%s</%s>" % (name, value, name)
    return "<set xmlns='%s'>%s</set>" % (RSM, inner)


def child(element, uri, name):
    for found in element.elements(uri, name):
        return found
    return None


class Answer:
    """
    What a query brought: the result messages, the iq.

    @ivar ids: the result ids, in the order received.
    @ivar bodies: the archived bodies, in the order received.
    @ivar fin: the C{<fin/>} of a result, or L{None}.
    @ivar rsm: C{{first, last, count}} texts of the fin's set.
    """

    def __init__(self, stanzas):
        self.messages = [s for s in stanzas if s.name == "message"]
        [self.iq] = [s for s in stanzas if s.name == "iq"]
        self.results = [child(m, MAM, "result") for m in self.messages]
        self.ids = [r["id"] for r in self.results]
        self.forwarded = [child(child(r, FORWARD, "forwarded"), ns.CLIENT, "message") for r in self.results]
        self.bodies = [str(child(m, ns.CLIENT, "body")) for m in self.forwarded]
        self.fin = child(self.iq, MAM, "fin")
        self.rsm = {}
        if self.fin is not None:
            for element in child(self.fin, RSM, "set").elements():
                self.rsm[element.name] = str(element)

    @property
    def complete(self):
        return self.fin.getAttribute("complete") == "true"


class MAMTestCase(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.romeo.received()

    def say(self, *bodies, client=None):
        """
        Send groupchat messages.

        @return: the stanza-ids the room gave them.
        """
        client = client or self.romeo
        ids = []
        for body in bodies:
            client.received()
            client.send("<message type='groupchat' to='%s'><body>%s</body></message>" % (ROOM, body))
            [echo] = [s for s in client.received() if s.name == "message"]
            ids.append(child(echo, ns.STANZA_ID, "stanza-id")["id"])
        return ids

    def query(self, client=None, inside="", queryid=None, to=ROOM):
        client = client or self.juliet
        client.received()
        attribute = " queryid='%s'" % (queryid,) if queryid else ""
        client.send("<iq id='q' to='%s' type='set'><query xmlns='%s'%s>%s</query></iq>" % (to, MAM, attribute, inside))
        return Answer(client.received())


class QueryTests(MAMTestCase):
    def test_results(self):
        """
        Every historic groupchat message comes back, oldest first, as a
        C{<result/>} (queryid, the stanza-id) from the room's bare JID with
        the message forwarded as broadcast (from room/nick, no stanza-id,
        no C{to}) and a delay; the fin is complete with first, last, count.
        """
        ids = self.say("One", "Two")
        self.romeo.send("<message type='groupchat' to='%s'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
                        "</message>" % (ROOM,))
        ids += self.say("Three")
        answer = self.query(queryid="f27")
        self.assertEqual(answer.bodies, ["One", "Two", "Three"])
        self.assertEqual(answer.ids, ids)
        message = answer.messages[0]
        self.assertEqual((message["from"], message["to"]), (ROOM, self.juliet.jid))
        self.assertEqual(answer.results[0]["queryid"], "f27")
        forwarded = child(answer.results[0], FORWARD, "forwarded")
        self.assertRegex(child(forwarded, ns.DELAY, "delay")["stamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        archived = answer.forwarded[0]
        self.assertEqual((archived["type"], archived["from"]), ("groupchat", ROOM + "/Romeo"))
        self.assertIsNone(archived.getAttribute("to"))
        self.assertIsNone(child(archived, ns.STANZA_ID, "stanza-id"))
        self.assertIsNone(child(archived, ns.DELAY, "delay"))
        self.assertEqual(answer.iq["type"], "result")
        self.assertTrue(answer.complete)
        self.assertEqual(answer.rsm, {"first": ids[0], "last": ids[2], "count": "3"})
        self.assertEqual([e.name for e in child(answer.fin, RSM, "set").elements()], ["first", "last", "count"])

    def test_noQueryID(self):
        self.say("One")
        answer = self.query()
        self.assertIsNone(answer.results[0].getAttribute("queryid"))

    def test_emptyArchive(self):
        answer = self.query()
        self.assertEqual(answer.messages, [])
        self.assertTrue(answer.complete)
        self.assertEqual(answer.rsm, {"count": "0"})

    def test_pagingForward(self):
        """
        RSM max and after page from the start; the last page is complete.
        """
        ids = self.say("1", "2", "3", "4", "5")
        first = self.query(inside=rsmSet(max=2))
        self.assertEqual(first.ids, ids[:2])
        self.assertFalse(first.complete)
        self.assertIsNone(first.fin.getAttribute("complete"))
        self.assertEqual(first.rsm, {"first": ids[0], "last": ids[1], "count": "5"})
        second = self.query(inside=rsmSet(max=2, after=ids[1]))
        self.assertEqual(second.ids, ids[2:4])
        third = self.query(inside=rsmSet(max=2, after=ids[3]))
        self.assertEqual(third.ids, ids[4:])
        self.assertTrue(third.complete)

    def test_pagingBackward(self):
        """
        An empty before asks for the last page, in chronological order;
        before an id pages further back.
        """
        ids = self.say("1", "2", "3", "4", "5")
        last = self.query(inside=rsmSet(max=2, before=""))
        self.assertEqual(last.ids, ids[3:])
        self.assertEqual(last.rsm, {"first": ids[3], "last": ids[4], "count": "5"})
        self.assertFalse(last.complete)
        earlier = self.query(inside=rsmSet(max=2, before=ids[3]))
        self.assertEqual(earlier.ids, ids[1:3])
        first = self.query(inside=rsmSet(max=2, before=ids[1]))
        self.assertEqual(first.ids, ids[:1])
        self.assertTrue(first.complete)

    def test_flipPage(self):
        """
        flip-page sends a page in the other order; first and last do not
        change.
        """
        ids = self.say("1", "2", "3")
        flipped = self.query(inside=rsmSet(max=2, before="") + "<flip-page/>")
        self.assertEqual(flipped.ids, [ids[2], ids[1]])
        self.assertEqual((flipped.rsm["first"], flipped.rsm["last"]), (ids[1], ids[2]))
        forward = self.query(inside=rsmSet(max=2) + "<flip-page/>")
        self.assertEqual(forward.ids, [ids[1], ids[0]])

    def test_maxZeroCounts(self):
        self.say("1", "2")
        answer = self.query(inside=rsmSet(max=0))
        self.assertEqual(answer.messages, [])
        self.assertEqual(answer.rsm, {"count": "2"})
        self.assertFalse(answer.complete)

    def test_maxCapped(self):
        """
        Without max a page has 20 messages; max is capped at 50.
        """
        ids = self.say(*[str(n) for n in range(55)])
        default = self.query()
        self.assertEqual(default.ids, ids[:20])
        capped = self.query(inside=rsmSet(max=500))
        self.assertEqual(capped.ids, ids[:50])
        self.assertFalse(capped.complete)
        self.assertEqual(capped.rsm["count"], "55")
        garbage = self.query(inside=rsmSet(max="lots"))
        self.assertEqual(len(garbage.ids), 20)

    def test_unknownIds(self):
        """
        An unknown RSM after/before id, or after-id, is item-not-found
        (modify).
        """
        self.say("1")
        for inside in (rsmSet(after="nope"), rsmSet(before="nope"), mamForm(field("after-id", "nope")),
                       rsmSet(after="")):
            answer = self.query(inside=inside)
            self.assertEqual(answer.iq["type"], "error")
            self.assertEqual(condition(answer.iq)[0], "item-not-found")
            self.assertEqual(answer.iq.error["type"], "modify")
            self.assertEqual(answer.messages, [])

    def test_unknownIdEmptyArchive(self):
        answer = self.query(inside=mamForm(field("before-id", "nope")))
        self.assertEqual(condition(answer.iq)[0], "item-not-found")

    def test_unknownBeforeIdStopsNowhere(self):
        """
        A before-id that is not in a non-empty archive is no error, as in
        Prosody: nothing stops the page.
        """
        ids = self.say("1", "2")
        answer = self.query(inside=mamForm(field("before-id", "nope")))
        self.assertEqual(answer.ids, ids)


class FilterTests(MAMTestCase):
    def setUp(self):
        MAMTestCase.setUp(self)
        self.ids = self.say("1", "2", "3", "4")
        # Spread the messages over four days of 2020.
        for day, record in enumerate(mam.memoryArchive(self.room()), 1):
            record.when = parseStamp("2020-01-0%dT12:00:00Z" % (day,))

    def test_startEnd(self):
        answer = self.query(inside=mamForm(field("start", "2020-01-02T00:00:00Z"), field("end", "2020-01-03T12:00:00Z")))
        self.assertEqual(answer.ids, self.ids[1:3])
        self.assertEqual(answer.rsm["count"], "2")
        self.assertEqual(answer.results[0].forwarded.delay["stamp"], "2020-01-02T12:00:00Z")

    def test_startWithOffsetAndFraction(self):
        answer = self.query(inside=mamForm(field("start", "2020-01-03T13:59:59.5+02:00")))
        self.assertEqual(answer.ids, self.ids[2:])

    def test_beforeAfterIds(self):
        answer = self.query(inside=mamForm(field("after-id", self.ids[0]), field("before-id", self.ids[3])))
        self.assertEqual(answer.ids, self.ids[1:3])

    def test_ids(self):
        answer = self.query(inside=mamForm(field("ids", self.ids[3], self.ids[1], "unknown")))
        self.assertEqual(answer.ids, [self.ids[1], self.ids[3]])
        self.assertEqual(answer.rsm["count"], "2")

    def test_withIgnored(self):
        """
        C{with} is checked and then ignored, as in Prosody.
        """
        answer = self.query(inside=mamForm(field("with", ROOM + "/Nobody")))
        self.assertEqual(answer.ids, self.ids)

    def test_badForms(self):
        """
        Bad dates, a bad JID, a missing or wrong FORM_TYPE: bad-request
        with Prosody's texts.
        """
        cases = [
            (mamForm(field("start", "yesterday")), "invalid timestamp"),
            (mamForm(field("end", "2020-01-01")), "invalid timestamp"),
            (mamForm(field("with", "@@bad@@")), "Invalid JID: @@bad@@"),
            ("<x xmlns='jabber:x:data' type='submit'>%s</x>" % (field("FORM_TYPE", "urn:xmpp:mam:1"),),
             "Unexpected FORM_TYPE, expected 'urn:xmpp:mam:2'"),
            ("<x xmlns='jabber:x:data' type='submit'>%s</x>" % (field("start", "2020-01-01T00:00:00Z"),),
             "Unexpected FORM_TYPE, expected 'urn:xmpp:mam:2'"),
        ]
        for inside, text in cases:
            answer = self.query(inside=inside)
            self.assertEqual(condition(answer.iq)[:2], ("bad-request", "modify"))
            self.assertEqual(str(child(answer.iq.error, ns.XMPP_STANZAS, "text")), text)
            self.assertEqual(answer.messages, [])


class AccessTests(MAMTestCase):
    def test_nonOccupantOfOpenRoom(self):
        """
        Occupancy does not matter: anyone may read an open room's archive.
        """
        self.say("Hello")
        answer = self.query(client=self.rosaline)
        self.assertEqual(answer.bodies, ["Hello"])

    def test_membersOnly(self):
        self.say("Secret")
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        refused = self.query(client=self.rosaline)
        self.assertEqual(condition(refused.iq)[0], "forbidden")
        self.assertEqual(refused.iq.error["type"], "auth")
        self.assertEqual(refused.messages, [])
        self.romeo.send("<iq id='m' to='%s' type='set'><query xmlns='%s'><item affiliation='member' jid='%s'/></query>"
                        "</iq>" % (ROOM, ns.MUC_ADMIN, self.rosaline.bare))
        self.assertEqual(self.query(client=self.rosaline).bodies, ["Secret"])

    def test_outcast(self):
        self.romeo.send("<iq id='b' to='%s' type='set'><query xmlns='%s'><item affiliation='outcast' jid='%s'/></query>"
                        "</iq>" % (ROOM, ns.MUC_ADMIN, self.rosaline.bare))
        refused = self.query(client=self.rosaline)
        self.assertEqual(condition(refused.iq)[0], "forbidden")

    def test_formForAnyone(self):
        """
        The search form (an iq get) is served to anyone, with Prosody's
        fields (#extended ones included).
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        self.rosaline.received()
        self.rosaline.send("<iq id='f' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, MAM))
        [reply] = self.rosaline.received()
        self.assertEqual(reply["type"], "result")
        x = child(child(reply, MAM, "query"), ns.DATA_FORMS, "x")
        fields = [(f.getAttribute("var"), f["type"]) for f in x.elements(ns.DATA_FORMS, "field")]
        self.assertEqual(fields, [("FORM_TYPE", "hidden"), ("with", "jid-single"), ("start", "text-single"),
                                  ("end", "text-single"), ("before-id", "text-single"), ("after-id", "text-single"),
                                  ("ids", "list-multi")])

    def test_otherElementsUnsupported(self):
        """
        Only C{<query/>} is served (no XEP-0313 metadata in Prosody 0.12).
        """
        self.juliet.received()
        self.juliet.send("<iq id='m' to='%s' type='get'><metadata xmlns='%s'/></iq>" % (ROOM, MAM))
        [reply] = self.juliet.received()
        self.assertEqual(condition(reply)[0], "service-unavailable")

    def test_toOccupantIsNotAnArchiveQuery(self):
        self.juliet.join("room", "Juliet")
        answer = self.query(client=self.romeo, to=ROOM + "/Nobody")
        self.assertEqual(answer.iq["type"], "error")


class AnonymityTests(MAMTestCase):
    def test_semiAnonymousNoRealJIDs(self):
        """
        In a semi-anonymous room nobody, moderators included, gets real
        JIDs from the archive.
        """
        self.say("Hi")
        answer = self.query(client=self.romeo)
        self.assertIsNone(child(answer.forwarded[0], ns.MUC_USER, "x"))

    def test_nonAnonymousSender(self):
        """
        A non-anonymous room archives who sent each message (bare JID,
        affiliation and role then), shown to anyone.
        """
        configure(self.romeo, field("muc#roomconfig_whois", "anyone"))
        self.juliet.join("room", "Juliet")
        self.say("Hi")
        self.say("Hello", client=self.juliet)
        answer = self.query(client=self.rosaline)
        items = [dict(child(child(m, ns.MUC_USER, "x"), ns.MUC_USER, "item").attributes) for m in answer.forwarded]
        self.assertEqual(items, [
            {"jid": self.romeo.bare, "affiliation": "owner", "role": "moderator"},
            {"jid": self.juliet.bare, "affiliation": "none", "role": "participant"},
        ])
        # Without history the archive serializes for itself: same answer.
        configure(self.romeo, field("muc#roomconfig_historylength", "0"))
        self.say("No history")
        answer = self.query(client=self.rosaline)
        self.assertEqual(answer.bodies, ["Hi", "Hello", "No history"])
        last = child(child(answer.forwarded[2], ns.MUC_USER, "x"), ns.MUC_USER, "item")
        self.assertEqual(last["jid"], self.romeo.bare)
        self.assertIsNone(child(answer.forwarded[2], ns.DELAY, "delay"))
        # Back to semi-anonymous: the archive hides them again.
        configure(self.romeo, field("muc#roomconfig_whois", "moderators"))
        answer = self.query(client=self.romeo)
        self.assertEqual([child(m, ns.MUC_USER, "x") for m in answer.forwarded], [None, None, None])


class ConfigurationTests(MAMTestCase):
    def features(self):
        self.juliet.received()
        self.juliet.send("<iq id='d' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.DISCO_INFO))
        [answer] = self.juliet.received()
        return {f["var"] for f in answer.query.elements(ns.DISCO_INFO, "feature")}

    def formValue(self):
        self.romeo.received()
        self.romeo.send("<iq id='c' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.MUC_OWNER))
        [reply] = self.romeo.received()
        x = child(child(reply, ns.MUC_OWNER, "query"), ns.DATA_FORMS, "x")
        for element in x.elements(ns.DATA_FORMS, "field"):
            if element.getAttribute("var") == mam.ARCHIVING_FIELD:
                self.assertEqual((element["type"], element["label"]), ("boolean", "Enable archiving?"))
                return str(element.value)

    def test_enabledByDefault(self):
        self.assertEqual(self.formValue(), "1")
        features = self.features()
        for feature in (MAM, MAM + "#extended", ns.STANZA_ID, ns.MUC_REQUEST, "urn:xmpp:occupant-id:0"):
            self.assertIn(feature, features)

    def test_serviceFeatures(self):
        self.juliet.received()
        self.juliet.send("<iq id='d' to='%s' type='get'><query xmlns='%s'/></iq>" % (DOMAIN, ns.DISCO_INFO))
        [answer] = self.juliet.received()
        features = {f["var"] for f in answer.query.elements(ns.DISCO_INFO, "feature")}
        self.assertIn(MAM, features)
        self.assertIn("urn:xmpp:occupant-id:0", features)

    def notice(self, received):
        return [codes(s) for s in received if s.name == "message"]

    def test_disable(self):
        """
        Switching archiving off: status 171 alone (no 104), no MAM
        features, new messages are not archived; older ones still answer.
        """
        self.say("Kept")
        self.romeo.received()
        self.assertEqual(self.notice(configure(self.romeo, field(mam.ARCHIVING_FIELD, "0"))), [["171"]])
        self.assertEqual(self.formValue(), "0")
        self.assertNotIn(MAM, self.features())
        self.assertNotIn(MAM + "#extended", self.features())
        self.say("Lost")
        self.assertEqual(self.query().bodies, ["Kept"])
        received = configure(self.romeo, field(mam.ARCHIVING_FIELD, "1") + field("muc#roomconfig_moderatedroom", "1"))
        self.assertEqual(self.notice(received), [["104", "170"]])
        self.say("Kept too")
        self.assertEqual(self.query().bodies, ["Kept", "Kept too"])

    def test_unchangedStillAnnounced(self):
        """
        As Prosody: the submitted field announces 170 even unchanged.
        """
        self.romeo.received()
        self.assertEqual(self.notice(configure(self.romeo, field(mam.ARCHIVING_FIELD, "1"))), [["170"]])

    def test_badValue(self):
        self.romeo.received()
        self.romeo.send("<iq id='c' to='%s' type='set'><query xmlns='%s'>%s</query></iq>" % (
            ROOM, ns.MUC_OWNER, "<x xmlns='jabber:x:data' type='submit'>%s</x>" % (field(mam.ARCHIVING_FIELD, "maybe"),)))
        [reply] = self.romeo.received()
        self.assertEqual(condition(reply)[0], "not-acceptable")
        self.assertTrue(mam.archivingEnabled(self.room()))


class StorageTests(MAMTestCase):
    def stored(self):
        store = self.harness.storage.archive
        return [record["xml"] for record in store._messages.get(ROOM, [])]

    def test_temporaryRoomInMemory(self):
        """
        A temporary room's archive is in memory and goes with the room.
        """
        self.say("Fleeting")
        self.assertEqual(self.stored(), [])
        self.assertEqual(len(mam.memoryArchive(self.room())), 1)
        self.romeo.send("<presence type='unavailable' to='%s/Romeo'/>" % (ROOM,))
        self.assertIsNone(self.room())
        self.romeo.join("room", "Romeo")
        self.assertEqual(self.query().messages, [])

    def test_clientDelayKept(self):
        """
        Only the history's own delay is left out of archived messages.
        """
        self.romeo.send("<message type='groupchat' to='%s'><body>Old</body>"
                        "<delay xmlns='urn:xmpp:delay' from='elsewhere' stamp='2001-01-01T00:00:00Z'/></message>" % (ROOM,))
        [archived] = self.query().forwarded
        self.assertEqual([d["from"] for d in archived.elements(ns.DELAY, "delay")], ["elsewhere"])

    def test_memoryArchiveBounded(self):
        self.patch(mam, "MEMORY_ARCHIVE_SIZE", 3)
        self.romeo.send("<presence type='unavailable' to='%s/Romeo'/>" % (ROOM,))
        self.romeo.join("room", "Romeo")
        self.say("1", "2", "3", "4")
        self.assertEqual(self.query().bodies, ["2", "3", "4"])

    def test_persistentRoomInStorage(self):
        """
        A persistent room archives to storage; becoming persistent moves
        the memory archive there, in order; becoming temporary moves it
        back.
        """
        self.say("Before")
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1"))
        self.assertEqual(len(self.stored()), 1)
        self.say("After")
        self.assertEqual(len(self.stored()), 2)
        self.assertEqual(len(mam.memoryArchive(self.room())), 0)
        self.assertEqual(self.query().bodies, ["Before", "After"])
        configure(self.romeo, field("muc#roomconfig_persistentroom", "0"))
        self.assertEqual(self.stored(), [])
        self.assertEqual(self.query().bodies, ["Before", "After"])

    def test_disabledPersistentRoomStoresNothing(self):
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1") + field(mam.ARCHIVING_FIELD, "0"))
        self.say("Unarchived")
        self.assertEqual(self.stored(), [])

    @defer.inlineCallbacks
    def test_restart(self):
        """
        A persistent room's archive and archiving setting survive a
        restart; the history comes back without real JIDs.
        """
        configure(self.romeo, field("muc#roomconfig_persistentroom", "1") + field("muc#roomconfig_whois", "anyone"))
        ids = self.say("Remember", "Me")
        harness = yield self.harness.restart()
        self.harness = harness
        juliet = harness.client(self.juliet.jid)
        self.juliet = juliet
        answer = self.query()
        self.assertEqual((answer.ids, answer.bodies), (ids, ["Remember", "Me"]))
        self.assertIsNotNone(child(answer.forwarded[0], ns.MUC_USER, "x"))
        received = juliet.join("room", "Juliet")
        history = [s for s in received if s.name == "message" and child(s, ns.CLIENT, "body") is not None]
        self.assertEqual([str(child(m, ns.CLIENT, "body")) for m in history], ["Remember", "Me"])
        self.assertEqual([child(m, ns.MUC_USER, "x") for m in history], [None, None])


class FindTests(unittest.TestCase):
    """
    L{xmuc.xmpp.mam.find}, the selection rules of Prosody's archive stores.
    """

    def setUp(self):
        self.records = [mam.Record(str(n), float(n), "nick", "<message/>") for n in range(1, 8)]

    def ids(self, query, limit=100):
        page, total = find(self.records, query, limit)
        return [r.id for r in page], total

    def test_afterAndBefore(self):
        self.assertEqual(self.ids(Query(after="2", before="5")), (["3", "4"], 7))

    def test_reverseBeforeAfter(self):
        self.assertEqual(self.ids(Query(reverse=True, before="6", after="2")), (["5", "4", "3"], 7))

    def test_limit(self):
        self.assertEqual(self.ids(Query(reverse=True), 2), (["7", "6"], 7))

    def test_timeAndIds(self):
        self.assertEqual(self.ids(Query(start=2, end=6, ids={"1", "3", "6", "7"})), (["3", "6"], 2))

    def test_afterFilteredOut(self):
        with self.assertRaises(StanzaError):
            find(self.records, Query(start=5, after="2"), 10)


class RestartOnSQLiteTests(unittest.TestCase):
    """
    Over the wire, on a real SQLite file: the archive of a persistent room
    answers a client after the server restarted.
    """

    @defer.inlineCallbacks
    def test_archiveSurvivesRestart(self):
        database = os.path.abspath(self.mktemp()) + ".sqlite"
        server = ServerOnDatabase(self, {"backend": "sqlite", "path": database})
        yield server.start()
        yield server.register("romeo", "juliet")
        romeo = yield server.login("romeo")
        room = "vault@" + DOMAIN
        yield romeo.join(room, "Romeo")
        reply = yield romeo.configure(room, field("muc#roomconfig_persistentroom", "1"))
        assertResult(reply)
        sent = []
        for body in ("First", "Second", "Third"):
            romeo.send("<message xmlns='jabber:client' type='groupchat' to='%s'><body>%s</body></message>" % (room, body))
            echo = yield romeo.waitFor(lambda s: s.name == "message" and child(s, ns.CLIENT, "body") is not None)
            sent.append(child(echo, ns.STANZA_ID, "stanza-id")["id"])
        yield server.stop()
        yield server.start()
        juliet = yield server.login("juliet")
        juliet.send("<iq xmlns='jabber:client' type='set' id='mam1' to='%s'><query xmlns='%s' queryid='after'>%s</query>"
                    "</iq>" % (room, MAM, rsmSet(max=2, before="")))
        received = []
        while True:
            stanza = yield juliet.receive()
            received.append(stanza)
            if stanza.name == "iq":
                break
        answer = Answer(received)
        self.assertEqual(answer.iq["type"], "result")
        self.assertEqual(answer.ids, sent[1:])
        self.assertEqual(answer.bodies, ["Second", "Third"])
        self.assertEqual(answer.rsm, {"first": sent[1], "last": sent[2], "count": "3"})
        self.assertFalse(answer.complete)
