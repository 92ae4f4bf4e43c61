"""
L{xmuc.xmpp.jid}: the two ways of parsing a JID, the one list of
exceptions they share, and the bounded cache behind them.
"""

import random

from twisted.trial import unittest
from twisted.words.protocols.jabber import jid as jidmod

from xmuc.xmpp.jid import (
    CACHE_SIZE,
    CACHED_LENGTH,
    bareJID,
    cachedAddresses,
    jidFromParts,
    jidOrNone,
    parseJID,
)


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


class ParseJIDMalformedTests(unittest.TestCase):
    def test_emptyDomainLabel(self):
        """
        A domain with an empty label (two dots in a row, a leading dot) is
        not a JID: L{None}, not the C{IndexError} Twisted's nameprep
        raises for it.
        """
        for text in ("a@b..c", "a@.b", "b..c/r", ".b"):
            self.assertIsNone(parseJID(text), text)
            self.assertIsNone(jidOrNone(text), text)
            self.assertIsNone(bareJID(text), text)

    def test_finalDotStripped(self):
        """
        A final dot in the domain is stripped (RFC 7622 section 3.2): the
        address is the same as without it; a domain of a dot alone is not
        a domain.
        """
        self.assertEqual(parseJID("Juliet@Capulet.lit./r").full(), "juliet@capulet.lit/r")
        self.assertEqual(bareJID("capulet.lit."), "capulet.lit")
        self.assertIsNone(parseJID("a@."))
        self.assertIsNone(parseJID("."))

    def test_noDomain(self):
        """
        An address without a domain (C{/x}, C{@b}, C{a@/r}) is not a JID.
        """
        for text in ("/x", "@b", "a@/r", "a@", "@"):
            self.assertIsNone(parseJID(text), text)


class NeverRaisesTests(unittest.TestCase):
    #: Characters that exercise every branch of the parsing: separators,
    #: the other full stops of IDNA, hyphens, combining marks,
    #: bidirectional text, characters stringprep maps, forbids, or does not
    #: know.
    ALPHABET = list("ab@/.-_ xZ0") + [
        "\u3002", "\uff0e", "\uff61", "\u0301", "\u05d0", "\u0627", "\U0001F916",
        "\u00df", "\u200b", "\ufeff", "\u0000", "\x7f", "\u2028", "\u01c5", "\u0130",
    ]

    def test_seededAddresses(self):
        """
        Whatever a peer writes as an address, parsing answers a JID or
        L{None}, never an exception (seeded: every run tries the same
        strings).
        """
        generator = random.Random(7622)
        for _ in range(20000):
            text = "".join(generator.choice(self.ALPHABET) for _ in range(generator.randrange(12)))
            parseJID(text)
            jidOrNone(text)
            bareJID(text)


class BoundedCacheTests(unittest.TestCase):
    """
    Parsed addresses are kept in a cache of bounded size, never in
    Twisted's C{internJID} cache, which keeps every string it was given.
    """

    def interned(self):
        return len(vars(jidmod)["__internJIDs"])

    def test_manyDistinctAddresses(self):
        """
        Parsing twice as many distinct addresses as the cache holds leaves
        it full, not larger, and adds nothing to Twisted's cache.
        """
        before = self.interned()
        for i in range(2 * CACHE_SIZE):
            self.assertIsNotNone(parseJID("user%d@example.org/%s" % (i, "r" * 100)))
            self.assertIsNotNone(jidOrNone("other%d@example.org" % (i,)))
        self.assertEqual(cachedAddresses(), CACHE_SIZE)
        self.assertEqual(self.interned(), before)

    def test_longAddressesNotCached(self):
        """
        An address longer than L{CACHED_LENGTH} characters is parsed
        every time, not kept.
        """
        text = "a@b/" + "r" * CACHED_LENGTH
        self.assertEqual(parseJID(text).resource, "r" * CACHED_LENGTH)
        self.assertIsNot(jidOrNone(text), jidOrNone(text))
        short = "a@b/" + "r" * (CACHED_LENGTH - 4)
        self.assertIs(jidOrNone(short), jidOrNone(short))
