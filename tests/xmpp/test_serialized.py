"""
L{xmuc.xmpp.serialized}: one serialization per stanza, recipients and
delays spliced into the text.
"""

from twisted.trial import unittest

from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized, delayText, withDelay
from xmuc.xmpp.stanza import copyElement, newStanza, parseElement

WHEN = 1577836800


def delayedCopy(element, sender):
    delayed = copyElement(element)
    delay = delayed.addElement((ns.DELAY, "delay"))
    delay["from"] = sender
    delay["stamp"] = "2020-01-01T00:00:00Z"
    return delayed


class DelayTests(unittest.TestCase):
    def test_delayText(self):
        """
        The delay is written as domish writes it, its values escaped.
        """
        self.assertEqual(
            delayText("r'oom@c", WHEN),
            "<delay xmlns='urn:xmpp:delay' from='r&apos;oom@c' stamp='2020-01-01T00:00:00Z'/>",
        )

    def test_withDelay(self):
        """
        Splicing the delay into a serialized stanza, with or without
        children, gives the text of the stanza with the delay last.
        """
        full = newStanza("message", type="chat", **{"from": "a@b/c"})
        full.addElement("body", content="x < y")
        full.addElement(("urn:example", "payload")).addElement("inner")
        for element in (full, newStanza("presence", id="p")):
            text = element.toXml(defaultUri=ns.CLIENT)
            spliced = withDelay(text, element.name, "host", WHEN)
            self.assertEqual(spliced, delayedCopy(element, "host").toXml(defaultUri=ns.CLIENT))
            parseElement(spliced)

    def test_serializedWithDelay(self):
        """
        L{Serialized.withDelay} splices without serializing again, and
        leaves the original alone.
        """
        element = newStanza("message", type="groupchat", **{"from": "r@c/n"})
        element.addElement("body", content="hi")
        serialized = Serialized(element)
        made = Serialized.made
        delayed = serialized.withDelay("r@c", WHEN)
        self.assertEqual(Serialized.made, made)
        self.assertEqual(delayed.text("u@h/r"), Serialized(delayedCopy(element, "r@c")).text("u@h/r"))
        self.assertEqual(serialized.text("u@h/r"), Serialized(element).text("u@h/r"))


class SerializedTests(unittest.TestCase):
    def test_textPerRecipient(self):
        """
        Each recipient's address is spliced in, escaped; the text is
        serialized once.
        """
        element = newStanza("presence", **{"from": "r@c/n"})
        made = Serialized.made
        serialized = Serialized(element)
        self.assertEqual(Serialized.made, made + 1)
        self.assertEqual(parseElement(serialized.text("a'b@c/d"))["to"], "a'b@c/d")
        self.assertEqual(parseElement(serialized.text("e@f"))["to"], "e@f")
        self.assertEqual(Serialized.made, made + 1)

    def test_sendTo(self):
        """
        The router gets the text, and a way of building the element for
        the slow path.
        """
        calls = []

        class Router:
            def routeSerialized(self, to, data, build):
                calls.append((to, data, build()))

        serialized = Serialized(newStanza("message", id="m"))
        built = Serialized.built
        serialized.sendTo(Router(), "u@h/r")
        [(to, data, element)] = calls
        self.assertEqual((to, data), ("u@h/r", serialized.text("u@h/r")))
        self.assertEqual((element["to"], element["id"]), ("u@h/r", "m"))
        self.assertEqual(Serialized.built, built + 1)
