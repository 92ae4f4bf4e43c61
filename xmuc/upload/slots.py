"""
Upload slots (XEP-0363): what a slot promises (a file name, a size, a
content type, an uploader, an expiry) and the signed PUT URL carrying it.

The PUT URL is the GET URL plus a query string holding the slot's terms and
an HMAC-SHA256 of them under the server's secret: the HTTP side checks the
signature and needs no state about granted slots (a restart between the
slot and the PUT loses nothing).  The path is C{<token>/<name>}: the token
(L{TOKEN_BYTES} random bytes) makes the GET URL unguessable, the name is
the sanitized file name, kept for the browser and the user.
"""

import hashlib
import hmac
import mimetypes
import re
import secrets
import unicodedata
from urllib.parse import quote, urlencode

#: Random bytes of a slot token (32 URL-safe characters).
TOKEN_BYTES = 24

#: What a token looks like; anything else in the first path segment is no
#: file of ours.
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")

#: Longest file name kept, in characters (most file systems: 255 bytes).
MAX_NAME = 120

#: A media type as the slot request may give it: C{type/subtype}, tokens
#: of RFC 9110 section 5.6.2 (parameters are dropped).
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")

#: The type of a file whose slot request gave none and whose name says
#: nothing.
DEFAULT_TYPE = "application/octet-stream"


def newToken():
    """
    @return: a fresh random slot token (L{TOKEN}).
    """
    return secrets.token_urlsafe(TOKEN_BYTES)


def sanitizeName(name):
    """
    The file name as stored and shown: no directory part, no control or
    separator characters, no leading dot, bounded length.  The file system
    never sees it (files are stored under their token), but it ends up in
    URLs and C{Content-Disposition} headers.

    @param name: the file name the client asked for (str).
    @return: a non-empty name without C{/}, C{\\}, control characters or a
        leading dot.
    """
    name = unicodedata.normalize("NFC", name)
    # Only the last component of a path: 'a/../../etc/passwd' -> 'passwd'.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join("_" if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in name)
    name = name.strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name or "file"


def mediaType(given, name):
    """
    The content type a file is stored and served with.

    @param given: the slot request's C{content-type} (str) or L{None}.
    @param name: the sanitized file name.
    @return: the lower-case C{type/subtype}.
    @raise ValueError: when C{given} is no media type.
    """
    if given:
        bare = given.split(";", 1)[0].strip()
        if not MEDIA_TYPE.match(bare):
            raise ValueError("not a media type: %r" % (given,))
        return bare.lower()
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_TYPE


def typeAllowed(contentType, allowed):
    """
    @param contentType: a lower-case media type.
    @param allowed: the C{[upload] allowed_types} list: media types or
        C{type/*} patterns; empty allows any.
    @return: whether C{contentType} may be uploaded.
    """
    if not allowed:
        return True
    major = contentType.split("/", 1)[0]
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == contentType or pattern == major + "/*":
            return True
    return False


class Slot:
    """
    The terms of one upload.

    @ivar token: the random path component (str).
    @ivar name: the sanitized file name.
    @ivar size: bytes promised.
    @ivar contentType: the media type it is served with.
    @ivar typeGiven: whether the slot request named the type (then the PUT
        must send the same C{Content-Type}).
    @ivar owner: the uploader's bare JID (str).
    @ivar expires: unix time after which the PUT URL is refused (int).
    """

    def __init__(self, token, name, size, contentType, typeGiven, owner, expires):
        self.token = token
        self.name = name
        self.size = size
        self.contentType = contentType
        self.typeGiven = typeGiven
        self.owner = owner
        self.expires = expires

    def path(self):
        """
        @return: the URL path below the upload root: C{token/quoted-name}.
        """
        return "%s/%s" % (self.token, quote(self.name, safe=""))

    def _signed(self):
        return "\0".join(
            (self.token, self.name, str(self.size), self.contentType, "1" if self.typeGiven else "0", self.owner,
             str(self.expires))).encode("utf-8")

    def signature(self, secret):
        """
        @param secret: the HMAC key (bytes).
        @return: the hex HMAC-SHA256 of every term.
        """
        return hmac.new(secret, self._signed(), hashlib.sha256).hexdigest()

    def query(self, secret):
        """
        @return: the query string of the PUT URL (without C{?}).
        """
        return urlencode([
            ("size", str(self.size)),
            ("type", self.contentType),
            ("strict", "1" if self.typeGiven else "0"),
            ("uploader", self.owner),
            ("expires", str(self.expires)),
            ("signature", self.signature(secret)),
        ])


class BadSlot(Exception):
    """
    A PUT URL that is not one this server signed (HTTP 403).
    """


def slotFromURL(token, name, args, secret, now):
    """
    Rebuild the slot from a PUT URL and check its signature and expiry.

    @param token: the first path segment (str).
    @param name: the second path segment, unquoted (str).
    @param args: the parsed query, C{{bytes: [bytes]}} as twisted.web
        gives it.
    @param secret: the HMAC key (bytes).
    @param now: unix time.
    @return: the L{Slot}.
    @raise BadSlot: a term missing, a wrong signature or an expired one.
    """

    def one(key):
        values = args.get(key.encode("ascii"))
        if not values or len(values) != 1:
            raise BadSlot("missing %s" % (key,))
        try:
            return values[0].decode("utf-8")
        except UnicodeDecodeError:
            raise BadSlot("bad %s" % (key,))

    try:
        size, expires = int(one("size")), int(one("expires"))
    except ValueError:
        raise BadSlot("bad size or expiry")
    slot = Slot(token, name, size, one("type"), one("strict") == "1", one("uploader"), expires)
    if not hmac.compare_digest(slot.signature(secret), one("signature")):
        raise BadSlot("wrong signature")
    if expires < now:
        raise BadSlot("expired")
    return slot
