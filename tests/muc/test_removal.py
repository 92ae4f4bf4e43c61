"""
The messages moderation takes down reach the server event
C{room-messages-removed} (L{xmuc.muc.removal}): a retracted message as it
was, every message of a destroyed room's history and archive (in memory
and in storage), before the moderator's answer.
"""

from twisted.internet import defer

from tests.support.muc import MUCTestCase, ROOM, configure, field
from xmuc.hooks import ROOM_MESSAGES_REMOVED
from xmuc.xmpp import ns

MODERATE_1 = "urn:xmpp:message-moderate:1"
RETRACT_1 = "urn:xmpp:message-retract:1"


class RemovalTests(MUCTestCase):
    """
    Romeo owns C{room}, Juliet is in it; a listener records the event and
    what Romeo had received when it fired.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.removed = []
        self.answered = []
        self.harness.hooks.add(ROOM_MESSAGES_REMOVED, self.listen)

    def listen(self, room, messages, **kw):
        self.removed.append((room, list(messages)))
        self.answered.append([s.name for s in self.romeo.received()])

    def enter(self, fields=None):
        self.createRoom(fields)
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def say(self, body):
        """
        @return: the stanza-id the room gave the message.
        """
        self.juliet.received()
        self.juliet.send("<message type='groupchat' to='%s' id='m'><body>%s</body></message>" % (ROOM, body))
        [echo] = [s for s in self.juliet.received() if s.name == "message"]
        for sid in echo.elements(ns.STANZA_ID, "stanza-id"):
            return sid["id"]

    def bodies(self):
        """
        @return: the bodies of the messages of the events, in order.
        """
        found = []
        for _, messages in self.removed:
            for text in messages:
                for body in ("one", "two", "three", "kept"):
                    if ">%s<" % (body,) in text:
                        found.append(body)
        return found

    def test_retracted(self):
        """
        A retraction announces the message retracted (its body, as it
        was), once, before the moderator gets the iq result.
        """
        self.enter()
        self.say("kept")
        stanzaID = self.say("one")
        self.romeo.received()
        self.romeo.send("<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='%s'><retract xmlns='%s'/>"
                        "</moderate></iq>" % (ROOM, stanzaID, MODERATE_1, RETRACT_1))
        self.assertEqual([room for room, _ in self.removed], [ROOM])
        self.assertEqual(self.bodies(), ["one"])
        # The retraction was announced to the room, not yet answered.
        self.assertEqual(self.answered, [["message"]])
        self.assertEqual([s.name for s in self.romeo.received()], ["iq"])

    def test_retractedTwice(self):
        """
        Retracting a message already retracted announces nothing more.
        """
        self.enter()
        stanzaID = self.say("one")
        request = ("<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='%s'><retract xmlns='%s'/>"
                   "</moderate></iq>" % (ROOM, stanzaID, MODERATE_1, RETRACT_1))
        self.romeo.send(request)
        self.romeo.send(request)
        self.assertEqual(self.bodies(), ["one"])

    def destroy(self):
        self.romeo.received()
        self.romeo.send("<iq id='d1' to='%s' type='set'><query xmlns='%s'><destroy/></query></iq>"
                        % (ROOM, ns.MUC_OWNER))

    def test_destroyedTemporary(self):
        """
        Destroying a temporary room announces its messages: those of its
        history and those only its in-memory archive still has.
        """
        self.enter()
        configure(self.romeo, field("muc#roomconfig_historylength", "1"))
        for body in ("one", "two", "three"):
            self.say(body)
        self.destroy()
        self.assertEqual(set(self.bodies()), {"one", "two", "three"})
        self.assertEqual([room for room, _ in self.removed], [ROOM])
        self.assertNotIn("iq", self.answered[0])
        self.assertEqual(self.romeo.received()[-1]["type"], "result")

    @defer.inlineCallbacks
    def test_destroyedPersistent(self):
        """
        Destroying a persistent room announces the messages of its archive
        in storage, read before the archive is purged.
        """
        self.enter(field("muc#roomconfig_persistentroom", "1") + field("muc#roomconfig_historylength", "1"))
        for body in ("one", "two", "three"):
            self.say(body)
        self.destroy()
        self.assertEqual(set(self.bodies()), {"one", "two", "three"})
        remaining = yield self.harness.storage.archive.recent(ROOM, 100)
        self.assertEqual(remaining, [])

    def test_nobodyListening(self):
        """
        Without a listener, retraction and destruction work as before.
        """
        self.harness.hooks.remove(ROOM_MESSAGES_REMOVED, self.listen)
        self.enter()
        stanzaID = self.say("one")
        self.romeo.received()
        self.romeo.send("<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='%s'><retract xmlns='%s'/>"
                        "</moderate></iq>" % (ROOM, stanzaID, MODERATE_1, RETRACT_1))
        self.assertEqual([s.name for s in self.romeo.received()], ["message", "iq"])
        self.destroy()
        self.assertEqual(self.romeo.received()[-1]["type"], "result")
        self.assertEqual(self.removed, [])
