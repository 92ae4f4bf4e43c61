"""
L{xmuc.xmpp.jid}: the two ways of parsing a JID and the one list of
exceptions they share.
"""

from twisted.trial import unittest

from xmuc.xmpp.jid import bareJID, jidFromParts, jidOrNone, parseJID


class JIDOrNoneTests(unittest.TestCase):
    def test_valid(self):
        """
        A valid JID is parsed and prepared (interned: the same object for
        the same text).
        """
        parsed = jidOrNone("Juliet@Capulet.LIT/Balcony")
        self.assertEqual(parsed.full(), "juliet@capulet.lit/Balcony")
        self.assertIs(jidOrNone("Juliet@Capulet.LIT/Balcony"), parsed)

    def test_invalid(self):
        """
        Whatever Twisted raises for bad input (a bad structure, a
        stringprep failure, the empty string) gives L{None}.
        """
        for text in ("", "a@@b", "a@b c", "\U0001F916@localhost", "a\u0000@b"):
            self.assertIsNone(jidOrNone(text), text)

    def test_twistedRules(self):
        """
        Twisted's own rules hold (an empty resource is dropped), unlike
        L{parseJID}, which refuses it.
        """
        self.assertEqual(jidOrNone("a@b/").full(), "a@b")
        self.assertIsNone(parseJID("a@b/"))


class JIDFromPartsTests(unittest.TestCase):
    def test_parts(self):
        self.assertEqual(jidFromParts("a", "B", "r").full(), "a@b/r")
        self.assertEqual(jidFromParts(None, "b", None).full(), "b")

    def test_invalid(self):
        self.assertIsNone(jidFromParts("a", "b c", "r"))
        self.assertIsNone(jidFromParts("a b", "b", "r"))


class BareJIDTests(unittest.TestCase):
    def test_bare(self):
        self.assertEqual(bareJID("Romeo@Montague.LIT/orchard"), "romeo@montague.lit")
        self.assertEqual(bareJID("montague.lit"), "montague.lit")

    def test_noneOrInvalid(self):
        for text in (None, "", "@@", "a@b c"):
            self.assertIsNone(bareJID(text), text)


class ParseJIDLengthTests(unittest.TestCase):
    def test_partTooLong(self):
        """
        A part longer than 1023 bytes (RFC 7622 3.1) is refused, one of
        1023 bytes is not.
        """
        self.assertIsNone(parseJID("a@b/" + "r" * 1024))
        self.assertEqual(parseJID("a@b/" + "r" * 1023).resource, "r" * 1023)
        self.assertIsNone(parseJID("a" * 1024 + "@b"))
