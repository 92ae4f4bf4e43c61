"""
Fan-out cost: a broadcast is serialized once per recipient variant and
reaches sessions as text; a join costs a constant number of
serializations, whatever the number of occupants.
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from tests.support.muc import ROOM
from xmuc.muc import history
from xmuc.testing.muc import MUCHarness
from xmuc.xmpp import ns
from xmuc.muc.history import historyOf
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import copyElement, newStanza, parseElement


class TextSession:
    """
    What the router's fast path needs of a session: C{send(data)}.
    """

    def __init__(self):
        self.sent = []

    def send(self, data):
        self.sent.append(data)


class SerializedTests(unittest.TestCase):
    def test_spliceTo(self):
        element = newStanza("message", type="groupchat", **{"from": "r@c/n"})
        element.addElement("body", content="a < b & 'c'")
        serialized = Serialized(element)
        text = serialized.text("o'neil@localhost/x")
        parsed = parseElement(text)
        self.assertEqual(parsed["to"], "o'neil@localhost/x")
        self.assertEqual(str(parsed.body), "a < b & 'c'")
        self.assertNotIn("xmlns='jabber:client'", text)
        built = serialized.build("o'neil@localhost/x")
        self.assertEqual(built.attributes, parsed.attributes)
        self.assertEqual(built.toXml(), copyElement(built).toXml())

    def test_withDelay(self):
        """
        Splicing a serialized delay in gives the text domish writes for the
        stanza with that child last, with or without other children, and
        costs no serialization.
        """
        full = newStanza("message", type="groupchat", id="a'b", **{"from": "r@c/n<"})
        full.addElement("body", content="a < b & 'c'")
        full.addElement(("urn:example", "payload")).addElement("inner")
        for element in (full, newStanza("message", type="groupchat"), newStanza("presence", id="x")):
            serialized = Serialized(element)
            made = Serialized.made
            spliced = serialized.withDelay("r@c", 1577836800)
            self.assertEqual(Serialized.made, made)
            withChild = copyElement(element)
            child = withChild.addElement(("urn:xmpp:delay", "delay"))
            child["from"] = "r@c"
            child["stamp"] = "2020-01-01T00:00:00Z"
            self.assertEqual(spliced.text("u@h/r"), Serialized(withChild).text("u@h/r"))
            # The original is unchanged.
            self.assertEqual(serialized.text(""), Serialized(element).text(""))


class FanoutTests(unittest.TestCase):
    def setUp(self):
        self.harness = MUCHarness()
        self.calls = 0
        original = domish.Element.toXml

        def counting(element, *args, **kw):
            self.calls += 1
            return original(element, *args, **kw)

        self.patch(domish.Element, "toXml", counting)

    def join(self, count):
        sessions = []
        for n in range(count):
            jid = "user%d@localhost/r" % (n,)
            session = TextSession()
            self.harness.router.sessions[jid] = session
            sessions.append(session)
            self.harness.client(jid).join("room", "nick%d" % (n,))
        return sessions

    def test_messageSerializedOnce(self):
        """
        One groupchat message: one serialization whatever the number of
        occupants (the history entry reuses the broadcast's text), and
        every occupant gets text.
        """
        counts = []
        for size in (10, 60):
            self.harness = MUCHarness()
            sessions = self.join(size)
            for session in sessions:
                del session.sent[:]
            sender = self.harness.client("user0@localhost/r")
            self.calls = 0
            sender.send("<message to='%s' type='groupchat'><body>hello</body></message>" % (ROOM,))
            counts.append(self.calls)
            for session in sessions:
                [text] = session.sent
                self.assertIn("<body>hello</body>", text)
        self.assertEqual(counts[0], counts[1])
        self.assertEqual(counts[1], 1)
        # The history kept it, and a joiner gets it.
        self.assertEqual(len(historyOf(self.harness.muc.rooms[ROOM])), 1)

    def test_historyEntryAsBeforeSplicing(self):
        """
        A history entry is byte for byte what serializing a copy of the
        broadcast with its C{<delay/>} gives (the way before splicing), for
        messages with escaped text, xml:lang, foreign payloads and none.
        """
        self.harness = MUCHarness()
        self.join(2)
        sender = self.harness.client("user0@localhost/r")
        kept = []
        room = self.harness.muc.rooms[ROOM]
        room.hooks.add("groupchat-broadcast", lambda **kw: kept.append(kw), priority=5)
        for payload in ("<body>a &lt; b &amp; 'c' \"d\" &gt;</body>",
                        "<body xml:lang='fr'>é</body><thread>t1</thread>",
                        "<body>x</body><foo xmlns='urn:example:foo' a='1'><bar>&amp;</bar></foo>",
                        "<body>x</body><p:c xmlns:p='urn:example:p'/><delay xmlns='urn:xmpp:delay' stamp='1'/>",
                        "<store xmlns='urn:xmpp:hints'/>"):
            sender.send("<message to='%s' type='groupchat' id='i&apos;d' xml:lang='en'>%s</message>" % (ROOM, payload))
        self.assertEqual(len(kept), 5)
        for kw in kept:
            when = 1700000000.5
            entry = history.makeEntry(room, kw["message"], when, kw["serialized"])
            delayed = copyElement(kw["message"])
            delay = delayed.addElement((ns.DELAY, "delay"))
            delay["from"] = room.jidStr
            delay["stamp"] = stamp(when)
            self.assertEqual(entry.serialized.text("late@localhost/r"), Serialized(delayed).text("late@localhost/r"))
            self.assertEqual(entry.chars, len(Serialized(delayed).text("")))
            # Without the broadcast's text (messages restored from the archive).
            self.assertEqual(history.makeEntry(room, kw["message"], when).serialized.text(""),
                             Serialized(delayed).text(""))

    def test_joinIsConstantSerializations(self):
        """
        Joining a room of N: the others' presences come from their cached
        serializations; the joiner's presence is serialized per variant.
        """
        counts = []
        for size in (10, 60):
            self.harness = MUCHarness()
            self.join(size)
            session = TextSession()
            self.harness.router.sessions["late@localhost/r"] = session
            self.calls = 0
            before = len(self.harness.delivered)
            self.harness.client("late@localhost/r").join("room", "late")
            counts.append(self.calls)
            # Everyone's presence through the fast path (own presence and
            # subject are single stanzas, routed normally).
            self.assertEqual(len(session.sent), size)
            self.assertEqual(len(self.harness.delivered) - before, 2)
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(counts[1], 4)
