"""
What one occupant may cost a room: its message rate, and how many rooms
one account may create per period.
"""

from twisted.trial import unittest

from tests.support.muc import ROOM, MUCTestCase, condition, configure, field, iqResult
from xmuc.testing.muc import DOMAIN, MUCHarness

GROUPCHAT = "<message to='%s' type='groupchat' id='%s'><body>hi</body></message>"


class MessageRateTests(MUCTestCase):
    muc = {"occupant_message_rate": "60", "occupant_message_burst": "3"}

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def say(self, client, id):
        client.send(GROUPCHAT % (ROOM, id))
        return client.received()

    def test_burstThenRefused(self):
        """
        An occupant sends its burst; the next message is refused with
        C{policy-violation} of type C{wait} and goes to no one; a second
        later (60 per minute) it may speak again.
        """
        for number in range(3):
            echo = self.say(self.juliet, "m%d" % (number,))
            self.assertEqual([s.getAttribute("type") for s in echo], ["groupchat"])
        self.romeo.received()
        refused = self.say(self.juliet, "m3")
        self.assertEqual([condition(s)[:2] for s in refused], [("policy-violation", "wait")])
        self.assertEqual(self.romeo.received(), [])
        self.harness.reactor.advance(1)
        echo = self.say(self.juliet, "m4")
        self.assertEqual([s.getAttribute("type") for s in echo], ["groupchat"])

    def test_privateMessagesCount(self):
        """
        Private messages in the room count against the same rate.
        """
        for number in range(3):
            self.say(self.juliet, "m%d" % (number,))
        self.juliet.send("<message to='%s/Romeo' type='chat' id='pm'><body>psst</body></message>" % (ROOM,))
        refused = self.juliet.received()
        self.assertEqual([condition(s)[:2] for s in refused], [("policy-violation", "wait")])

    def test_moderatorsNotLimited(self):
        """
        Moderators (here the owner) are not limited.
        """
        for number in range(10):
            echo = self.say(self.romeo, "o%d" % (number,))
            self.assertEqual([s.getAttribute("type") for s in echo], ["groupchat"])

    def test_ownerLowersRate(self):
        """
        The owner may set a lower rate for the room (messages per minute),
        never a higher one than the service's.
        """
        result = configure(self.romeo, field("xmuc#roomconfig_messagerate", "6"))
        self.assertEqual(iqResult(result, "config").getAttribute("type"), "result")
        for number in range(3):
            self.say(self.juliet, "m%d" % (number,))
        self.harness.reactor.advance(1)
        # 6 per minute: one second gave back a tenth of a message.
        refused = self.say(self.juliet, "m3")
        self.assertEqual([condition(s)[:2] for s in refused], [("policy-violation", "wait")])
        self.harness.reactor.advance(10)
        echo = self.say(self.juliet, "m4")
        self.assertEqual([s.getAttribute("type") for s in echo], ["groupchat"])
        result = configure(self.romeo, field("xmuc#roomconfig_messagerate", "600"), id="c2")
        self.assertEqual(condition(iqResult(result, "c2"))[0], "not-acceptable")


class CreationLimitTests(MUCTestCase):
    muc = {"max_rooms_per_account": "2", "room_creation_period": "600"}

    def join(self, client, name):
        return client.join(name, "Nick")

    def test_limitPerAccount(self):
        """
        An account creates its maximum of rooms in the period; the next
        creation is refused with C{policy-violation} (C{wait}); joining an
        existing room is not creating one; after the period it may create
        again.  Other accounts have their own count.
        """
        self.assertIn("201", self.codesOf(self.join(self.romeo, "one")))
        self.assertIn("201", self.codesOf(self.join(self.romeo, "two")))
        refused = self.join(self.romeo, "three")
        self.assertEqual([condition(s)[:2] for s in refused], [("policy-violation", "wait")])
        self.assertNotIn("three@" + DOMAIN, self.harness.muc.rooms)
        self.assertIn("201", self.codesOf(self.join(self.juliet, "four")))
        self.assertNotIn("201", self.codesOf(self.join(self.rosaline, "one")))
        self.harness.reactor.advance(600)
        self.assertIn("201", self.codesOf(self.join(self.romeo, "three")))

    def codesOf(self, stanzas):
        return [
            child["code"]
            for stanza in stanzas
            for x in stanza.elements("http://jabber.org/protocol/muc#user", "x")
            for child in x.elements()
            if child.name == "status"
        ]


class AdminCreationTests(unittest.TestCase):
    def test_adminsNotLimited(self):
        """
        Server administrators create rooms without limit.
        """
        harness = MUCHarness(muc={"max_rooms_per_account": "1"}, admins=("admin@localhost",))
        admin = harness.client("admin@localhost/desk")
        for name in ("a", "b", "c"):
            answer = admin.join(name, "Admin")
            self.assertNotEqual(answer[-1].getAttribute("type"), "error")


class ArchivePageTests(unittest.TestCase):
    def test_maxArchivePage(self):
        """
        An archive query asking for more than C{[server] max_archive_page}
        messages gets that many, and a fin that is not complete.
        """
        harness = MUCHarness(server={"max_archive_page": "3"})
        romeo = harness.client("user@localhost/balcony")
        romeo.join("room", "Romeo")
        for number in range(5):
            romeo.send("<message type='groupchat' to='%s'><body>%d</body></message>" % (ROOM, number))
        romeo.received()
        romeo.send(
            "<iq id='q' to='%s' type='set'><query xmlns='urn:xmpp:mam:2'>"
            "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set></query></iq>" % (ROOM,)
        )
        answer = romeo.received()
        results = [s for s in answer if s.name == "message"]
        [iq] = [s for s in answer if s.name == "iq"]
        self.assertEqual(len(results), 3)
        [fin] = list(iq.elements("urn:xmpp:mam:2", "fin"))
        self.assertNotEqual(fin.getAttribute("complete"), "true")
