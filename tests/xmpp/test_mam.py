"""
L{xmuc.xmpp.mam}: the RSM page size of an archive query, shared by the
personal and the room archives.
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.mam import DEFAULT_MAX, MAX_MAX, parseQuery, selectPage


class Record:
    def __init__(self, id, when):
        self.id = id
        self.when = when


def query(size=None):
    element = domish.Element((ns.MAM, "query"))
    if size is not None:
        element.addElement((ns.RSM, "set")).addElement("max", content=size)
    return element


class PageSizeTests(unittest.TestCase):
    def test_default(self):
        self.assertEqual(parseQuery(query()).max, DEFAULT_MAX)

    def test_given(self):
        """
        A non-negative integer is the page size, at most L{MAX_MAX}; a huge
        one is L{MAX_MAX} too.
        """
        self.assertEqual(parseQuery(query("7")).max, 7)
        self.assertEqual(parseQuery(query(" 0 ")).max, 0)
        self.assertEqual(parseQuery(query("007")).max, 7)
        self.assertEqual(parseQuery(query("1000")).max, MAX_MAX)
        self.assertEqual(parseQuery(query("9" * 5000)).max, MAX_MAX)

    def test_invalid(self):
        """
        A negative or non-integer size is a C{bad-request}.
        """
        for text in ("-1", "-0x1", "x", "", "1.5", "5_0", "+5", "\u0665"):
            error = self.assertRaises(StanzaError, parseQuery, query(text))
            self.assertEqual(error.condition, "bad-request", text)

    def test_zero(self):
        """
        A page of size 0 has no records and is complete only when nothing
        matches (XEP-0059 section 2.6: the count alone).
        """
        records = [Record("a", 1), Record("b", 2)]
        self.assertEqual(selectPage(records, parseQuery(query("0"))), ([], False, 2))
        self.assertEqual(selectPage([], parseQuery(query("0"))), ([], True, 0))

    def test_lastPageComplete(self):
        records = [Record("a", 1), Record("b", 2)]
        page, complete, total = selectPage(records, parseQuery(query("2")))
        self.assertEqual(([r.id for r in page], complete, total), (["a", "b"], True, 2))
        page, complete, total = selectPage(records, parseQuery(query("1")))
        self.assertEqual(([r.id for r in page], complete, total), (["a"], False, 2))
