"""
Upload slots (L{xmuc.upload.slots}): file names made harmless, content
types checked, and PUT URLs that only this server's secret can sign.
"""

from urllib.parse import parse_qs

from twisted.trial import unittest

from xmuc.upload import slots

SECRET = b"k" * 64


def args(query):
    """
    @return: C{query} parsed as twisted.web does (bytes keys and values).
    """
    return {k.encode(): [v.encode() for v in vs] for k, vs in parse_qs(query, keep_blank_values=True).items()}


class NameTests(unittest.TestCase):
    def test_pathTricks(self):
        """
        Only the last path component is kept, whatever the separator.
        """
        self.assertEqual(slots.sanitizeName("../../etc/passwd"), "passwd")
        self.assertEqual(slots.sanitizeName("..\\..\\boot.ini"), "boot.ini")
        self.assertEqual(slots.sanitizeName("a/b/"), "file")

    def test_dots(self):
        """
        A name of dots, or starting with one, loses them.
        """
        self.assertEqual(slots.sanitizeName(".."), "file")
        self.assertEqual(slots.sanitizeName(".htaccess"), "htaccess")
        self.assertEqual(slots.sanitizeName(" . "), "file")

    def test_controlCharacters(self):
        """
        Control and line/paragraph separator characters become C{_};
        spaces and letters of any script stay.
        """
        self.assertEqual(slots.sanitizeName("a\r\nb\x00c\u2028d.txt"), "a__b_c_d.txt")
        self.assertEqual(slots.sanitizeName("très cool.jpg"), "très cool.jpg")

    def test_long(self):
        """
        A long name is cut to L{slots.MAX_NAME} characters, its extension
        kept.
        """
        name = slots.sanitizeName("x" * 500 + ".jpeg")
        self.assertEqual(len(name), slots.MAX_NAME)
        self.assertTrue(name.endswith("x.jpeg"))


class TypeTests(unittest.TestCase):
    def test_given(self):
        """
        A given type is kept lowercased, without its parameters.
        """
        self.assertEqual(slots.mediaType("Image/PNG", "a"), "image/png")
        self.assertEqual(slots.mediaType("text/plain; charset=utf-8", "a"), "text/plain")

    def test_notAType(self):
        for bad in ("png", "image/", "image/png/x", "text/<b>", "a b/c"):
            self.assertRaises(ValueError, slots.mediaType, bad, "a")

    def test_guessed(self):
        """
        Without a given type, the name's extension decides, else
        C{application/octet-stream}.
        """
        self.assertEqual(slots.mediaType(None, "photo.jpg"), "image/jpeg")
        self.assertEqual(slots.mediaType(None, "noextension"), slots.DEFAULT_TYPE)

    def test_allowed(self):
        self.assertTrue(slots.typeAllowed("application/zip", []))
        self.assertTrue(slots.typeAllowed("image/png", ["image/*"]))
        self.assertTrue(slots.typeAllowed("text/plain", ["image/*", "Text/Plain"]))
        self.assertFalse(slots.typeAllowed("text/html", ["image/*", "text/plain"]))
        self.assertFalse(slots.typeAllowed("imagex/png", ["image/*"]))


class SignatureTests(unittest.TestCase):
    def setUp(self):
        self.slot = slots.Slot(slots.newToken(), "a b.png", 1234, "image/png", True, "alice@localhost", 1000)

    def check(self, query, secret=SECRET, now=999, name=None):
        return slots.slotFromURL(self.slot.token, name or self.slot.name, args(query), secret, now)

    def test_roundTrip(self):
        """
        The slot rebuilt from its URL has every term of the slot.
        """
        slot = self.check(self.slot.query(SECRET))
        self.assertEqual(
            (slot.token, slot.name, slot.size, slot.contentType, slot.typeGiven, slot.owner, slot.expires),
            (self.slot.token, "a b.png", 1234, "image/png", True, "alice@localhost", 1000))

    def test_path(self):
        """
        The path is the token and the quoted name.
        """
        self.assertEqual(self.slot.path(), self.slot.token + "/a%20b.png")
        self.assertRegex(self.slot.token, slots.TOKEN)

    def test_tokensDiffer(self):
        self.assertEqual(len({slots.newToken() for _ in range(100)}), 100)

    def test_tampered(self):
        """
        Changing any term, or the name or token of the path, breaks the
        signature.
        """
        query = self.slot.query(SECRET)
        for old, new in (("size=1234", "size=1235"), ("uploader=alice", "uploader=bob"),
                         ("type=image%2Fpng", "type=text%2Fhtml"), ("strict=1", "strict=0"),
                         ("expires=1000", "expires=9999")):
            self.assertIn(old, query)
            self.assertRaises(slots.BadSlot, self.check, query.replace(old, new))
        self.assertRaises(slots.BadSlot, self.check, query, name="other.png")

    def test_otherSecret(self):
        self.assertRaises(slots.BadSlot, self.check, self.slot.query(SECRET), secret=b"x" * 64)

    def test_expired(self):
        self.assertRaises(slots.BadSlot, self.check, self.slot.query(SECRET), now=1001)

    def test_missingOrRepeated(self):
        """
        A term missing, given twice or not a number is refused.
        """
        query = self.slot.query(SECRET)
        self.assertRaises(slots.BadSlot, self.check, "&".join(p for p in query.split("&") if not p.startswith("uploader")))
        self.assertRaises(slots.BadSlot, self.check, query + "&size=1234")
        self.assertRaises(slots.BadSlot, self.check, query.replace("size=1234", "size=abc"))
        self.assertRaises(slots.BadSlot, self.check, "")
