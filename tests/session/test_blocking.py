"""
The blocking command (XEP-0191) over real sockets: the list and its
pushes, what a blocked entity can no longer send or receive, presence on
block and unblock, MUC private messages, and the list going with the
account.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.storage.interfaces import StorageUnavailable

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session import blocking
from xmuc.xmpp import ns
from xmuc.xmpp.jid import parseJID

from tests.support.account import child, nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition
from tests.support.session import SMHarness

GET = "<iq type='get' id='%s'><blocklist xmlns='urn:xmpp:blocking'/></iq>"
BLOCK = "<iq type='set' id='%s'><block xmlns='urn:xmpp:blocking'>%s</block></iq>"
UNBLOCK = "<iq type='set' id='%s'><unblock xmlns='urn:xmpp:blocking'>%s</unblock></iq>"


def items(*jids):
    return "".join("<item jid='%s'/>" % (jid,) for jid in jids)


def listed(element):
    return [item["jid"] for item in element.elements() if item.name == "item"]


class MatchingTests(unittest.TestCase):
    """
    Which items block which JIDs (XEP-0191 section 3.5, after XEP-0016).
    """

    def test_candidates(self):
        cases = {
            "romeo@montague.lit/orchard": {
                "romeo@montague.lit/orchard",
                "romeo@montague.lit",
                "montague.lit/orchard",
                "montague.lit",
            },
            "romeo@montague.lit": {"romeo@montague.lit", "montague.lit"},
            "montague.lit": {"montague.lit"},
            "montague.lit/orchard": {"montague.lit/orchard", "montague.lit"},
        }
        for jid, expected in cases.items():
            self.assertEqual(set(blocking.candidates(parseJID(jid))), expected, jid)

    def test_fullJIDBlocksOnlyThatResource(self):
        blocklist = {"romeo@montague.lit/orchard"}
        self.assertTrue(blocking.isBlocked(blocklist, parseJID("romeo@montague.lit/orchard")))
        self.assertFalse(blocking.isBlocked(blocklist, parseJID("romeo@montague.lit/home")))
        self.assertFalse(blocking.isBlocked(blocklist, parseJID("romeo@montague.lit")))


class BlockingWireTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        self.phone = yield signIn(self, self.running, "juliet", "phone")
        self.laptop = yield signIn(self, self.running, "juliet", "laptop")
        # Each sees the other come online.
        yield nextStanza(self.phone, "presence")
        self.romeo = yield signIn(self, self.running, "romeo", "garden")

    @defer.inlineCallbacks
    def command(self, client, template, *jids):
        result = yield client.iq(template % (client.nextID(), items(*jids)))
        return result

    @defer.inlineCallbacks
    def test_advertised(self):
        info = yield self.phone.iq(
            "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        features = [f["var"] for f in info.query.elements() if f.name == "feature"]
        self.assertIn(ns.BLOCKING, features)

    @defer.inlineCallbacks
    def test_listAndPushes(self):
        """
        The list starts empty; block and unblock are pushed, with the
        request's items, to the resources that read the list only.
        """
        first = yield self.phone.iq(GET % ("g1",))
        self.assertEqual(first["type"], "result")
        self.assertEqual(listed(child(first, ns.BLOCKING, "blocklist")), [])

        result = yield self.command(self.phone, BLOCK, "romeo@localhost", "Evil.Example/Res")
        self.assertEqual(result["type"], "result")
        push = yield nextStanza(self.phone, "iq")
        self.assertEqual((push["type"], push["to"]), ("set", "juliet@localhost/phone"))
        self.assertEqual(listed(child(push, ns.BLOCKING, "block")), ["romeo@localhost", "evil.example/Res"])

        # The laptop never read the list: it is not pushed (its next iq
        # answer comes first).
        current = yield self.laptop.iq(GET % ("g2",))
        self.assertEqual(
            sorted(listed(child(current, ns.BLOCKING, "blocklist"))),
            ["evil.example/Res", "romeo@localhost"],
        )

        result = yield self.command(self.laptop, UNBLOCK, "evil.example/Res")
        self.assertEqual(result["type"], "result")
        for client in (self.phone, self.laptop):
            push = yield nextStanza(client, "iq")
            self.assertEqual(listed(child(push, ns.BLOCKING, "unblock")), ["evil.example/Res"])

        # An unblock without items empties the list, and says so.
        result = yield self.command(self.phone, UNBLOCK)
        self.assertEqual(result["type"], "result")
        push = yield nextStanza(self.laptop, "iq")
        self.assertEqual(listed(child(push, ns.BLOCKING, "unblock")), [])
        current = yield self.phone.iq(GET % ("g3",))
        self.assertEqual(listed(child(current, ns.BLOCKING, "blocklist")), [])

    @defer.inlineCallbacks
    def test_badRequests(self):
        result = yield self.command(self.phone, BLOCK)
        self.assertEqual(errorCondition(result), "bad-request")
        result = yield self.command(self.phone, BLOCK, "@bad@")
        self.assertEqual(errorCondition(result), "jid-malformed")
        # Someone else's list is not for reading.
        result = yield self.romeo.iq(
            "<iq type='get' id='o' to='juliet@localhost'><blocklist xmlns='urn:xmpp:blocking'/></iq>"
        )
        self.assertEqual(errorCondition(result), "service-unavailable")

    @defer.inlineCallbacks
    def test_blockedSenderRefused(self):
        """
        From a blocked JID: messages and iqs get service-unavailable and are
        not delivered, presence is dropped; others still get through.
        """
        yield self.command(self.phone, BLOCK, "romeo@localhost")
        self.romeo.send(
            "<message to='juliet@localhost' type='chat' id='m1'><body>hi</body></message>"
        )
        bounced = yield nextStanza(self.romeo, "message")
        self.assertEqual((bounced["type"], bounced["id"]), ("error", "m1"))
        self.assertEqual(errorCondition(bounced), "service-unavailable")
        # To a connected full JID, a headline, presence: dropped without
        # an answer (the next answer Romeo gets is the iq's).
        self.romeo.send(
            "<message to='juliet@localhost/phone' type='chat' id='m0'><body>hi</body></message>"
        )
        self.romeo.send(
            "<message to='juliet@localhost' type='headline' id='h1'><body>news</body></message>"
        )
        self.romeo.send("<presence to='juliet@localhost/phone'/>")
        result = yield self.romeo.iq(
            "<iq type='get' id='v1' to='juliet@localhost/phone'><query xmlns='jabber:iq:version'/></iq>"
        )
        self.assertEqual(errorCondition(result), "service-unavailable")
        nothing = yield self.romeo.iq("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(nothing["type"], "result")
        self.assertEqual(self.romeo._queue.pending, [])
        # To an offline resource's bare JID, as an account's own iq: the same.
        result = yield self.romeo.iq(
            "<iq type='get' id='v2' to='juliet@localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        self.assertEqual(errorCondition(result), "service-unavailable")

        # Someone else gets through, and nothing of Romeo's reached Juliet
        # before it.
        mercutio = yield signIn(self, self.running, "mercutio", "street")
        mercutio.send("<message to='juliet@localhost/phone' type='chat' id='m2'><body>yo</body></message>")
        message = yield nextStanza(self.phone, "message")
        self.assertEqual(message["id"], "m2")

    @defer.inlineCallbacks
    def test_toBlockedRefused(self):
        """
        To a blocked JID: not-acceptable with <blocked/>, nothing routed.
        """
        yield self.command(self.phone, BLOCK, "localhost/garden")
        self.phone.send("<message to='romeo@localhost/garden' type='chat' id='m1'><body>x</body></message>")
        refused = yield nextStanza(self.phone, "message")
        self.assertEqual(errorCondition(refused), "not-acceptable")
        self.assertIsNotNone(child(refused.error, ns.BLOCKING_ERRORS, "blocked"))
        result = yield self.phone.iq(
            "<iq type='get' id='p' to='romeo@localhost/garden'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        self.assertEqual(errorCondition(result), "not-acceptable")
        # Another resource of the same account is not blocked.
        self.phone.send("<message to='romeo@localhost/other' type='chat' id='m2'><body>y</body></message>")
        self.phone.send("<message to='romeo@localhost/garden' type='chat' id='m3'><body>z</body></message>")
        refused = yield nextStanza(self.phone, "message")
        self.assertEqual(refused["id"], "m3")
        romeoOther = yield signIn(self, self.running, "romeo", "other", available=False)
        self.phone.send("<message to='romeo@localhost/other' type='chat' id='m4'><body>w</body></message>")
        message = yield nextStanza(romeoOther, "message")
        self.assertEqual(message["id"], "m4")

    @defer.inlineCallbacks
    def subscribe(self):
        """
        Romeo and Juliet see each other's presence; Romeo has seen both of
        Juliet's resources.
        """
        self.romeo.send("<presence to='juliet@localhost' type='subscribe'/>")
        request = yield nextStanza(self.phone, "presence")
        while request.getAttribute("type") != "subscribe":
            request = yield nextStanza(self.phone, "presence")
        self.phone.send("<presence to='romeo@localhost' type='subscribed'/>")
        self.phone.send("<presence to='romeo@localhost' type='subscribe'/>")
        seen = set()
        asked = False
        while len(seen) < 2 or not asked:
            p = yield nextStanza(self.romeo, "presence")
            kind = p.getAttribute("type")
            if kind == "subscribe":
                asked = True
            elif kind is None and p["from"].startswith("juliet@"):
                seen.add(p["from"])
        self.romeo.send("<presence to='juliet@localhost' type='subscribed'/>")

    @defer.inlineCallbacks
    def test_presenceOnBlockAndUnblock(self):
        yield self.subscribe()
        yield self.command(self.phone, BLOCK, "romeo@localhost")
        gone = set()
        while len(gone) < 2:
            p = yield nextStanza(self.romeo, "presence")
            self.assertEqual(p.getAttribute("type"), "unavailable")
            gone.add(p["from"])
        self.assertEqual(gone, {"juliet@localhost/phone", "juliet@localhost/laptop"})
        # A presence change no longer reaches Romeo...
        self.laptop.send("<presence><show>away</show></presence>")
        # (The laptop's answer to a ping means its presence was handled.)
        yield self.laptop.iq("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        yield self.command(self.phone, UNBLOCK, "romeo@localhost")
        # ...and the unblock sends the current presence of each resource.
        back = {}
        while len(back) < 2:
            p = yield nextStanza(self.romeo, "presence")
            self.assertIsNone(p.getAttribute("type"))
            back[p["from"]] = str(p.show) if p.show else None
        self.assertEqual(back, {"juliet@localhost/phone": None, "juliet@localhost/laptop": "away"})

    @defer.inlineCallbacks
    def test_keptAcrossSessionsAndDeletedWithAccount(self):
        yield self.command(self.phone, BLOCK, "romeo@localhost")
        self.phone.close()
        self.laptop.close()
        yield self.phone.waitClosed()
        yield self.laptop.waitClosed()
        # Juliet offline: still blocked (her list is read from storage).
        self.romeo.send("<message to='juliet@localhost' type='chat' id='o1'><body>x</body></message>")
        bounced = yield nextStanza(self.romeo, "message")
        self.assertEqual(errorCondition(bounced), "service-unavailable")
        storage = self.running.server.storage
        self.assertEqual((yield storage.accountData.get("juliet@localhost", "blocklist")), ["romeo@localhost"])
        again = yield signIn(self, self.running, "juliet", "tablet")
        current = yield again.iq(GET % ("g",))
        self.assertEqual(listed(child(current, ns.BLOCKING, "blocklist")), ["romeo@localhost"])
        again.close()
        yield again.waitClosed()
        yield self.running.server.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost")
        self.assertIsNone((yield storage.accountData.get("juliet@localhost", "blocklist")))


class OccupantTests(unittest.TestCase):
    """
    Private messages through a MUC room come from the occupant's address
    in the room, which is what can be blocked.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(
            self, {"muc": {"enabled": "true", "lock_new_rooms": "false"}}
        )

    @defer.inlineCallbacks
    def join(self, client, room, nick):
        client.send(
            "<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>" % (room, nick)
        )
        while True:
            p = yield nextStanza(client, "presence")
            x = child(p, ns.MUC_USER, "x")
            if p["from"] == "%s/%s" % (room, nick) and x is not None:
                if any(s.name == "status" and s.getAttribute("code") == "110" for s in x.elements()):
                    return p

    @defer.inlineCallbacks
    def nextWithID(self, client, wanted):
        """
        @return: the next message with id C{wanted}; no error comes before.
        """
        message = yield nextStanza(client, "message")
        while message.getAttribute("id") != wanted:
            self.assertNotEqual(message.getAttribute("type"), "error", message.toXml())
            message = yield nextStanza(client, "message")
        return message

    @defer.inlineCallbacks
    def test_privateMessageFromBlockedOccupant(self):
        """
        A private message from a blocked occupant address is dropped
        without an answer: answered, the error would reach the room as
        Juliet's, and the room would remove her session as gone.
        """
        room = "lounge@conference.localhost"
        juliet = yield signIn(self, self.running, "juliet", "phone")
        romeo = yield signIn(self, self.running, "romeo", "garden")
        yield self.join(juliet, room, "Juliet")
        yield self.join(romeo, room, "Romeo")
        result = yield juliet.iq(BLOCK % ("b", items(room + "/Romeo")))
        self.assertEqual(result["type"], "result")
        romeo.send("<message to='%s/Juliet' type='chat' id='pm1'><body>psst</body></message>" % (room,))
        romeo.send("<message to='%s' type='groupchat' id='g1'><body>hello all</body></message>" % (room,))
        message = yield self.nextWithID(juliet, "g1")
        self.assertEqual(message["type"], "groupchat")
        # Nothing came back to Romeo but his own groupchat message; Juliet
        # is still there to speak.
        yield self.nextWithID(romeo, "g1")
        juliet.send("<message to='%s' type='groupchat' id='g2'><body>still here</body></message>" % (room,))
        yield self.nextWithID(romeo, "g2")
        # Juliet's own private messages to that address are refused.
        juliet.send("<message to='%s/Romeo' type='chat' id='pm2'><body>x</body></message>" % (room,))
        refused = yield nextStanza(juliet, "message")
        while refused.getAttribute("id") != "pm2":
            refused = yield nextStanza(juliet, "message")
        self.assertEqual(errorCondition(refused), "not-acceptable")


    @defer.inlineCallbacks
    def test_privateMessageFromBlockedRealJID(self):
        """
        Blocking an account's real JID also stops its private messages
        through a room, where it speaks under a nickname: the room asks the
        recipient's server before relaying, and the sender gets
        C{service-unavailable} (XEP-0191 3.5) from the room, not from
        Juliet (the room would take that for Juliet being gone).
        """
        room = "parlour@conference.localhost"
        juliet = yield signIn(self, self.running, "juliet", "phone")
        romeo = yield signIn(self, self.running, "romeo", "garden")
        yield self.join(juliet, room, "Juliet")
        yield self.join(romeo, room, "Romeo")
        result = yield juliet.iq(BLOCK % ("b", items("romeo@localhost")))
        self.assertEqual(result["type"], "result")
        romeo.send("<message to='%s/Juliet' type='chat' id='pm1'><body>psst</body></message>" % (room,))
        refused = yield self.nextWithID(romeo, "pm1")
        self.assertEqual(errorCondition(refused), "service-unavailable")
        self.assertEqual(refused["from"], room + "/Juliet")
        romeo.send("<message to='%s' type='groupchat' id='g1'><body>hello all</body></message>" % (room,))
        message = yield self.nextWithID(juliet, "g1")
        self.assertEqual(message["type"], "groupchat")
        self.assertNotIn("psst", "".join(e.toXml() for e in juliet.received))
        result = yield juliet.iq(UNBLOCK % ("u", items("romeo@localhost")))
        self.assertEqual(result["type"], "result")
        romeo.send("<message to='%s/Juliet' type='chat' id='pm2'><body>again</body></message>" % (room,))
        delivered = yield self.nextWithID(juliet, "pm2")
        self.assertEqual(str(delivered.body), "again")


class UnreadableBlocklistTests(unittest.TestCase):
    """
    When the blocklist cannot be read, stanzas are answered with an error:
    neither delivered on a guess nor silently lost; the next stanza tries
    again.
    """

    def setUp(self):
        self.h = SMHarness()
        self.failing = True
        lists = self.h.sm.blocking.lists
        read = lists.store.get

        def get(owner, name):
            if self.failing and owner == "juliet@localhost":
                return defer.fail(StorageUnavailable("down"))
            return read(owner, name)

        lists.store = type("FailingStore", (), {"get": staticmethod(get)})()

    def test_incomingAnswered(self):
        romeo = self.h.connect("romeo@localhost", "garden")
        self.h.createAccount("juliet@localhost")
        self.h.send(romeo, "<message to='juliet@localhost' type='chat' id='m1'><body>hi</body></message>")
        (bounced,) = romeo.take("message")
        self.assertEqual((bounced["type"], errorCondition(bounced)), ("error", "internal-server-error"))
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        # Readable again: the message is kept offline as usual.
        self.failing = False
        self.h.send(romeo, "<message to='juliet@localhost' type='chat' id='m2'><body>hi</body></message>")
        self.assertEqual(romeo.take("message"), [])
        self.assertEqual(self.h.successResultOf(self.h.storage.offline.count("juliet@localhost")), 1)

    def test_outgoingAnswered(self):
        """
        A session whose own list cannot be read gets its stanzas answered.
        """
        juliet = self.h.connect("juliet@localhost", "phone", roster=False, available=False)
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.h.send(juliet, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
        (answer,) = juliet.take("iq")
        self.assertEqual(errorCondition(answer), "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(StorageUnavailable)), 1)
        self.failing = False
        self.h.send(juliet, "<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>")
        (answer,) = juliet.take("iq")
        self.assertEqual(answer["type"], "result")
