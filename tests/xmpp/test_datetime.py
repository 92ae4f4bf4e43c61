"""
L{xmuc.xmpp.datetime}: XEP-0082 DateTime both ways.
"""

from twisted.trial import unittest

from xmuc.xmpp.datetime import parseStamp, stamp


class StampTests(unittest.TestCase):
    def test_stamp(self):
        """
        A POSIX time becomes a UTC DateTime to the second.
        """
        self.assertEqual(stamp(0), "1970-01-01T00:00:00Z")
        self.assertEqual(stamp(1577836800.9), "2020-01-01T00:00:00Z")

    def test_roundTrip(self):
        self.assertEqual(parseStamp(stamp(1700000000)), 1700000000)


class ParseStampTests(unittest.TestCase):
    def test_zones(self):
        """
        C{Z}, an offset, fractions of a second and surrounding blanks are
        understood; no zone means UTC.
        """
        self.assertEqual(parseStamp("2020-01-01T00:00:00Z"), 1577836800)
        self.assertEqual(parseStamp(" 2020-01-01T01:00:00+01:00 "), 1577836800)
        self.assertEqual(parseStamp("2020-01-01T00:00:00.5Z"), 1577836800.5)
        self.assertEqual(parseStamp("2020-01-01T00:00:00"), 1577836800)

    def test_invalid(self):
        for text in ("yesterday", "9999-99-99T99:99:99Z", "", None):
            self.assertIsNone(parseStamp(text), text)
