"""
L{xmuc.xmpp.stanza}: building, copying and parsing stanzas.
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.stanza import clientCopy, copyElement, newStanza, parseElement, resultFor


class NewStanzaTests(unittest.TestCase):
    def test_attributes(self):
        """
        A stanza in C{jabber:client}; attributes given as None are left out.
        """
        element = newStanza("message", type="chat", id=None, to="a@b")
        self.assertEqual((element.uri, element.name), (ns.CLIENT, "message"))
        self.assertEqual(element.attributes, {"type": "chat", "to": "a@b"})


class ResultForTests(unittest.TestCase):
    def test_addressedBack(self):
        """
        The result goes back to the sender, from the recipient, with the id.
        """
        iq = parseElement("<iq type='get' id='q1' from='a@b/r' to='room@c'><query xmlns='urn:x'/></iq>")
        result = resultFor(iq)
        self.assertEqual(result.name, "iq")
        self.assertEqual(
            result.attributes, {"type": "result", "id": "q1", "to": "a@b/r", "from": "room@c"}
        )
        self.assertEqual(result.children, [])

    def test_child(self):
        iq = parseElement("<iq type='get' id='q1' from='a@b/r' to='c'/>")
        child = domish.Element(("urn:x", "query"))
        self.assertEqual(resultFor(iq, child).children, [child])


class CopyTests(unittest.TestCase):
    def test_copyElement(self):
        """
        A deep copy: same text, no shared element.
        """
        original = parseElement("<message a='1'><body>x &amp; y</body><p:c xmlns:p='urn:p'><d/></p:c></message>")
        copy = copyElement(original)
        self.assertEqual(copy.toXml(), original.toXml())
        copy.body.addContent("z")
        copy["a"] = "2"
        self.assertEqual(str(original.body), "x & y")
        self.assertEqual(original["a"], "1")

    def test_clientCopyNamespaces(self):
        """
        Elements built with the namespace left implicit get it explicit, so
        the copy means the same once nested in another namespace.
        """
        built = domish.Element((None, "message"))
        built.addElement("body", content="hi")
        built.addElement(("urn:x", "payload")).addElement("inner")
        copy = clientCopy(built)
        self.assertEqual(copy.uri, ns.CLIENT)
        self.assertEqual(copy.body.uri, ns.CLIENT)
        payload = list(copy.elements())[1]
        self.assertEqual(payload.uri, "urn:x")
        self.assertEqual(list(payload.elements())[0].uri, "urn:x")
        forwarded = domish.Element(("urn:xmpp:forward:0", "forwarded"))
        forwarded.addChild(copy)
        reparsed = parseElement(forwarded.toXml())
        self.assertEqual(list(reparsed.elements())[0].uri, ns.CLIENT)


class ParseElementTests(unittest.TestCase):
    def test_clientDefault(self):
        """
        The text is read as in a client stream: C{jabber:client} by default
        and the C{stream} prefix declared.
        """
        element = parseElement("<message><stream:x/></message>")
        self.assertEqual(element.uri, ns.CLIENT)
        self.assertEqual(list(element.elements())[0].uri, ns.STREAMS)
        self.assertEqual(parseElement(b"<iq type='get'/>")["type"], "get")

    def test_invalid(self):
        for text in ("", "<message>", "not xml", "<a></b>"):
            self.assertRaises(ValueError, parseElement, text)
