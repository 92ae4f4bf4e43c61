"""
The HTTP side of the upload service: C{PUT} of a slot's body, C{GET} and
C{HEAD} of a stored file, C{OPTIONS} for browsers' CORS preflight, all at
C{<upload root>/<token>/<name>}.

A PUT is checked before anything is written: the URL's signature and
expiry (403), the C{Content-Length} against the slot (411 without one,
413 over it, 400 under it), the C{Content-Type} against the slot's when
the slot request named one (400), the slot not used already (409).  With
L{uploadRequestFactory} these checks run as soon as the headers are in
and the body streams to the upload directory (or, refused, nowhere);
without it twisted.web buffers the body in a temporary file first, and
an accepted one is copied in a thread.

GET answers are made so that a file cannot act as a page of this origin:
its stored type, C{X-Content-Type-Options: nosniff}, a C{Content-Security-
Policy} allowing nothing and sandboxing it, and C{Content-Disposition:
attachment} unless the type is in L{INLINE_TYPES}.
"""

import shutil
from urllib.parse import quote, unquote

from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import http, resource, server, static

from xmuc.upload import slots
from xmuc.upload.files import DiscardedBody, StoredFile

log = Logger()

#: Types a browser may show in place: images without scripts, audio, video,
#: plain text.  Anything else (HTML, SVG, PDF...) is served as an
#: attachment, to be saved rather than opened from this origin.
INLINE_TYPES = frozenset([
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
    "audio/mpeg", "audio/ogg", "audio/opus", "audio/webm", "audio/aac", "audio/mp4", "audio/wav", "audio/flac",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime",
    "text/plain",
])

#: Nothing runs, nothing loads but the media itself, no framing.
CONTENT_SECURITY_POLICY = b"default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'; sandbox"

#: Browsers upload from the web client's origin: anyone holding a signed
#: URL may PUT it, anyone holding a GET URL may read it (no cookies count).
CORS_HEADERS = (
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Access-Control-Allow-Methods", b"GET, HEAD, PUT, OPTIONS"),
    (b"Access-Control-Allow-Headers", b"Content-Type, Authorization"),
    (b"Access-Control-Max-Age", b"86400"),
)


class Refused(Exception):
    """
    An HTTP request refused.

    @ivar code: the HTTP status.
    @ivar message: the text of the answer.
    """

    def __init__(self, code, message):
        Exception.__init__(self, code, message)
        self.code = code
        self.message = message


def parsePath(segments, quoted=False):
    """
    @param segments: the path segments below the upload root (bytes).
    @param quoted: whether they are as sent (percent-encoded) rather than
        decoded already (as twisted.web's C{postpath}).
    @return: C{(token, name)}.
    @raise Refused: 404 unless it is C{token/name}.
    """
    if len(segments) != 2:
        raise Refused(404, "No such file")
    try:
        token, name = segments[0].decode("ascii"), segments[1]
        name = unquote(name.decode("ascii"), errors="strict") if quoted else name.decode("utf-8")
    except UnicodeError:
        raise Refused(404, "No such file")
    if not slots.TOKEN.match(token) or not name:
        raise Refused(404, "No such file")
    return token, name


def checkPut(service, token, name, args, headers, length):
    """
    Every check of a PUT that can be made before its body arrives.

    @param args: the query, C{{bytes: [bytes]}}.
    @param headers: the request's L{Headers}.
    @param length: its C{Content-Length} (int) or L{None}.
    @return: the L{slots.Slot}.
    @raise Refused: what is wrong with it.
    """
    if service.secret is None:
        raise Refused(503, "Uploads are not served yet")
    try:
        slot = slots.slotFromURL(token, name, args, service.secret, service.clock.seconds())
    except slots.BadSlot as e:
        raise Refused(403, "Not a valid upload URL: %s" % (e,))
    if length is None:
        raise Refused(411, "Content-Length is required")
    if length > slot.size:
        raise Refused(413, "The slot is for %d bytes" % (slot.size,))
    if length != slot.size:
        raise Refused(400, "The slot is for %d bytes" % (slot.size,))
    if slot.typeGiven:
        given = (headers.getRawHeaders(b"content-type") or [b""])[0].decode("latin-1")
        if given.split(";", 1)[0].strip().lower() != slot.contentType:
            raise Refused(400, "The slot is for a file of type %s" % (slot.contentType,))
    if service.store.taken(token):
        raise Refused(409, "This slot was used already")
    return slot


def _contentLength(headers):
    values = headers.getRawHeaders(b"content-length")
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def uploadRequestFactory(base, service, prefix):
    """
    A request class for the site serving the upload root that checks a
    PUT under it as soon as its headers are in, and streams its body into
    the upload directory (accepted) or nowhere (refused).

    @param base: the site's request class (a L{server.Request}).
    @param service: the L{xmuc.upload.service.UploadService}.
    @param prefix: the upload root's path on the site (bytes, with the
        trailing slash: C{b'/upload/'}).
    @return: a subclass of C{base}.
    """

    class UploadRequest(base):
        uploadBody = None
        uploadToken = None
        uploadRefusal = None

        def gotLength(self, length):
            # The method and path are the channel's until the body is
            # complete (private attributes of twisted.web's HTTPChannel):
            # without them this is an ordinary request, its body buffered
            # by twisted.web and copied by UploadResource.render_PUT.
            method = getattr(self.channel, "_command", None)
            path = getattr(self.channel, "_path", None)
            if method != b"PUT" or not isinstance(path, bytes) or not path.startswith(prefix):
                return base.gotLength(self, length)
            location, _, query = path[len(prefix):].partition(b"?")
            try:
                token, name = parsePath(location.split(b"/"), quoted=True)
                slot = checkPut(service, token, name, http.parse_qs(query, 1), self.requestHeaders,
                                _contentLength(self.requestHeaders))
                self.uploadBody = service.store.receive(token, slot.size)
                self.uploadToken = token
            except Refused as refusal:
                self.uploadRefusal = refusal
                self.content = DiscardedBody()
                return
            except OSError:
                log.failure("cannot create an upload file")
                self.uploadRefusal = Refused(500, "Cannot store the file")
                self.content = DiscardedBody()
                return
            self.content = self.uploadBody

        def connectionLost(self, reason):
            body, self.uploadBody = self.uploadBody, None
            if body is not None and not self.finished:
                # The client went away before the whole body came.
                service.store.abandon(self.uploadToken, body)
            return base.connectionLost(self, reason)

    return UploadRequest


def _copyInto(source, incoming):
    source.seek(0, 0)
    shutil.copyfileobj(source, incoming)


def contentDisposition(stored):
    """
    @return: the C{Content-Disposition} of C{stored}: C{inline} for the
        safe types, C{attachment} otherwise, with its name (RFC 6266, the
        UTF-8 form of RFC 8187 and an ASCII fallback).
    """
    kind = "inline" if stored.contentType in INLINE_TYPES else "attachment"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in stored.name)
    value = '%s; filename="%s"; filename*=UTF-8\'\'%s' % (kind, fallback, quote(stored.name, safe=""))
    return value.encode("ascii")


class UploadResource(resource.Resource):
    """
    The upload root: C{<token>/<name>} below it.
    """

    isLeaf = True

    def __init__(self, service):
        resource.Resource.__init__(self)
        self.service = service

    def render(self, request):
        for name, value in CORS_HEADERS:
            request.setHeader(name, value)
        try:
            return resource.Resource.render(self, request)
        except Refused as refusal:
            return self.refuse(request, refusal)

    def refuse(self, request, refusal):
        request.setResponseCode(refusal.code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.setHeader(b"x-content-type-options", b"nosniff")
        return (refusal.message + "\n").encode("utf-8")

    def render_OPTIONS(self, request):
        """
        The CORS preflight of a browser's PUT or GET.
        """
        request.setResponseCode(204)
        return b""

    def _stored(self, request):
        token, name = parsePath(request.postpath)
        stored = self.service.store.files.get(token)
        if stored is None or stored.name != name:
            raise Refused(404, "No such file")
        return stored

    def render_GET(self, request):
        """
        The file, as stored, with the headers that keep it inert.
        """
        stored = self._stored(request)
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"content-security-policy", CONTENT_SECURITY_POLICY)
        request.setHeader(b"content-disposition", contentDisposition(stored))
        request.setHeader(b"referrer-policy", b"no-referrer")
        content = static.File(self.service.store.contentPath(stored.token), defaultType=stored.contentType)
        content.type, content.encoding = stored.contentType, None
        if not content.exists():
            raise Refused(404, "No such file")
        return content.render_GET(request)

    render_HEAD = render_GET

    def render_PUT(self, request):
        """
        Store a slot's body (XEP-0363 section 5): 201 once stored.
        """
        refusal = getattr(request, "uploadRefusal", None)
        if refusal is not None:
            raise refusal
        body = getattr(request, "uploadBody", None)
        token, name = parsePath(request.postpath)
        if body is None:
            # An ordinary request: the body is in twisted.web's file.
            slot = checkPut(self.service, token, name, request.args, request.requestHeaders,
                            _contentLength(request.requestHeaders))
            try:
                body = self.service.store.receive(token, slot.size)
            except OSError:
                log.failure("cannot create an upload file")
                raise Refused(500, "Cannot store the file")
            d = threads.deferToThreadPool(self.service.clock, self.service.clock.getThreadPool(), _copyInto,
                                          request.content, body)
        else:
            request.uploadBody = None
            slot = slots.slotFromURL(token, name, request.args, self.service.secret, 0)
            d = None
        if d is None:
            self._store(request, slot, body)
        else:
            d.addCallbacks(lambda _: self._store(request, slot, body),
                           lambda f: self._failed(request, token, body, f))
        return server.NOT_DONE_YET

    def _store(self, request, slot, body):
        store = self.service.store
        if body.overflow or body.received != slot.size:
            store.abandon(slot.token, body)
            self._finish(request, Refused(400, "The slot is for %d bytes" % (slot.size,)))
            return
        stored = StoredFile(slot.token, slot.name, slot.size, slot.contentType, slot.owner,
                            self.service.clock.seconds())
        d = store.commit(body, stored)
        d.addCallbacks(lambda _: self._created(request, stored), lambda f: self._failed(request, slot.token, body, f))

    def _created(self, request, stored):
        log.debug("stored upload {token} ({size} bytes) of {owner}", token=stored.token, size=stored.size,
                  owner=stored.owner)
        request.setResponseCode(201)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        self._write(request, b"Created\n")

    def _failed(self, request, token, body, failure):
        log.failure("cannot store an upload", failure)
        self.service.store.abandon(token, body)
        self._finish(request, Refused(500, "Cannot store the file"))

    def _finish(self, request, refusal):
        self._write(request, self.refuse(request, refusal))

    def _write(self, request, data):
        if request.finished or getattr(request, "_disconnected", False):
            return
        request.write(data)
        request.finish()
