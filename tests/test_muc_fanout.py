"""
Fan-out cost: a broadcast is serialized once per recipient variant and
reaches sessions as text; a join costs a constant number of
serializations (issue 3, point 6).
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from tests.test_muc_core import ROOM
from xmuc.muc.fanout import Serialized, copyElement, newStanza, parseElement
from xmuc.muc.testing import MUCHarness


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
        One groupchat message: the same number of serializations whatever
        the number of occupants (broadcast + history entry), and every
        occupant gets text.
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
        self.assertLessEqual(counts[1], 2)

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
