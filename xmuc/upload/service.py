"""
The upload service (XEP-0363): a component at C{[upload] domain} that
answers disco and hands out upload slots, keeps the files' index, deletes
files once expired or once the messages linking to them are taken down by
a room's moderation.

Who may upload: the accounts of the local hosts; users of other servers
only when C{[upload] allow_remote} is on (their uploads count against the
same quota, and a server's disk is its own users' to fill by default).
"""

import re
from urllib.parse import unquote, urlsplit

from twisted.application import service
from twisted.internet import task
from twisted.logger import Logger
from twisted.words.xish import domish
from zope.interface import implementer

from xmuc.hooks import ROOM_MESSAGES_REMOVED
from xmuc.interfaces import IComponent
from xmuc.upload import slots
from xmuc.upload.files import FileStore
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.forms import Form
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import resultFor

log = Logger()

#: The quota counts what one user was granted over this many seconds.
QUOTA_PERIOD = 86400

#: Longest pause between two sweeps of expired files, in seconds.
SWEEP_INTERVAL = 3600

#: An http(s) URL in a message's text or attributes.
_URL = re.compile(r"https?://[^\s<>\"']+", re.I)


def linkedTokens(text):
    """
    @param text: a serialized message (or any text).
    @return: the set of path segments of its http(s) URLs that look like
        slot tokens and are followed by a file name (C{.../token/name}).
    """
    found = set()
    for url in _URL.findall(text):
        segments = [unquote(s) for s in urlsplit(url.replace("&amp;", "&")).path.split("/")]
        for index, segment in enumerate(segments[:-1]):
            if slots.TOKEN.match(segment) and segments[index + 1]:
                found.add(segment)
    return found


@implementer(IComponent)
class UploadService(service.Service):
    """
    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar domain: the service domain.
    @ivar name: the name shown in disco.
    @ivar store: the L{FileStore}.
    @ivar secret: the key signing PUT URLs (bytes), once started.
    @ivar baseURL: the public URL of the upload root, ending with C{/}.
    @ivar usage: C{{owner: {token: (when, size)}}}: what each user was
        granted lately, for the daily quota.
    """

    name = "HTTP File Upload"

    def __init__(self, server, domain, http):
        """
        @param http: the L{xmuc.http.site.HTTPFrontend} serving the files
            under C{/upload/}.
        """
        config = server.config
        self.server = server
        self.domain = domain
        self.router = server.router
        self.clock = server.reactor
        self.maxSize = config.get("upload", "max_size")
        self.allowedTypes = config.get("upload", "allowed_types")
        self.quota = config.get("upload", "quota")
        self.slotLifetime = config.get("upload", "slot_lifetime")
        self.expireAfter = config.get("upload", "expire_after")
        self.allowRemote = config.get("upload", "allow_remote")
        configured = config.get("upload", "secret")
        self._configuredSecret = configured.encode("utf-8") if configured else None
        self.secret = None
        self.http = http
        url = config.get("upload", "url")
        self._url = url + "/" if url else None
        self.store = FileStore(config.resolvePath(config.get("upload", "path")), server.reactor)
        self.usage = {}
        self._sweeper = None
        self.started = None

    @property
    def baseURL(self):
        """
        C{[upload] url}, else C{[http] external_url} + C{/upload/}, else
        the address the first HTTP listener listens on (an unspecified
        address stands for the first host): fine for tests and a LAN, set
        C{[http] external_url} for the world.
        """
        if self._url:
            return self._url
        http = self.http
        if http is None:
            return None
        if http.externalURL:
            return http.externalURL + "/upload/"
        for listener in http.listeners:
            if listener.port is None:
                continue
            where = listener.port.getHost()
            host = getattr(where, "host", None)
            if host is None:
                continue
            if host in ("0.0.0.0", "::", ""):
                host = self.server.hosts[0]
            elif ":" in host:
                host = "[%s]" % (host,)
            scheme = "https" if (listener.description or "").startswith("ssl:") else "http"
            return "%s://%s:%d/upload/" % (scheme, host, where.port)
        return None

    # -- Service ---------------------------------------------------------------

    def startService(self):
        service.Service.startService(self)
        self.server.hooks.add(ROOM_MESSAGES_REMOVED, self.messagesRemoved)
        self.started = self.store.start(self._configuredSecret)
        self.started.addCallback(self._started)
        self.started.addErrback(
            lambda f: log.failure("the upload directory {path} is unusable", f, path=self.store.directory))

    def _started(self, secret):
        self.secret = secret
        for stored in self.store.files.values():
            self._count(stored.owner, stored.token, stored.created, stored.size)
        if self.expireAfter and self.running:
            interval = max(1.0, min(SWEEP_INTERVAL, self.expireAfter / 2.0))
            self._sweeper = task.LoopingCall(self.sweep)
            self._sweeper.clock = self.clock
            self._sweeper.start(interval, now=True)
        log.info("upload service {domain}: {count} file(s) in {path}", domain=self.domain,
                 count=len(self.store.files), path=self.store.directory)

    def stopService(self):
        service.Service.stopService(self)
        self.server.hooks.remove(ROOM_MESSAGES_REMOVED, self.messagesRemoved)
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()

    # -- Expiry and moderation ---------------------------------------------------

    def sweep(self, now=None):
        """
        Delete the files older than C{[upload] expire_after}.

        @param now: unix time (default: the clock's).
        @return: Deferred firing with the list of files deleted.
        """
        now = self.clock.seconds() if now is None else now
        for owner in list(self.usage):
            # Forget who no longer counts against the quota.
            self.used(owner, now)
        d = self.store.delete(self.store.expired(now - self.expireAfter))

        def swept(deleted):
            if deleted:
                log.info("deleted {count} expired upload(s)", count=len(deleted))
            return deleted

        def failed(failure):
            # Logged, and the next sweep tries again.
            log.failure("sweeping expired uploads failed", failure)
            return []

        return d.addCallbacks(swept, failed)

    def messagesRemoved(self, room, messages, **kw):
        """
        C{room-messages-removed}: delete the files the removed messages
        link to (in a body, an out-of-band URL, anywhere in the message),
        so that what moderation took down is not still served.

        @return: Deferred firing with the list of files deleted.
        """
        tokens = set()
        for text in messages:
            tokens.update(linkedTokens(text))
        d = self.store.delete(tokens)

        def deleted(files):
            if files:
                log.info("deleted {count} upload(s) linked from messages removed in {room}",
                         count=len(files), room=room)
            return files

        return d.addCallback(deleted)

    # -- Stanzas -----------------------------------------------------------------

    def receive(self, stanza):
        """
        A stanza for the service domain: disco and slot requests are
        answered, other iqs refused; messages and presences are dropped.
        """
        if stanza.name != "iq" or stanza.getAttribute("type") not in ("get", "set"):
            return
        sender = parseJID(stanza.getAttribute("from", ""))
        to = parseJID(stanza.getAttribute("to", ""))
        if sender is None or to is None:
            return
        child = stanza.firstChildElement()
        try:
            if to.user is not None or to.resource is not None:
                raise StanzaError("service-unavailable")
            if child is None:
                raise StanzaError("bad-request")
            key = (stanza["type"], child.uri, child.name)
            if key == ("get", ns.DISCO_INFO, "query"):
                result = self.discoInfo(child)
            elif key == ("get", ns.DISCO_ITEMS, "query"):
                result = self.discoItems(child)
            elif key == ("get", ns.HTTP_UPLOAD, "request"):
                result = self.requestSlot(sender, child)
            else:
                raise StanzaError("service-unavailable")
        except StanzaError as e:
            self.router.route(errorReply(stanza, e, payload=False))
            return
        self.router.route(resultFor(stanza, result))

    def discoInfo(self, query):
        """
        @return: the disco#info answer: the service's identity, the
            XEP-0363 feature and its largest file size (XEP-0128 form).
        """
        if query.getAttribute("node"):
            raise StanzaError("item-not-found")
        answer = domish.Element((ns.DISCO_INFO, "query"))
        identity = answer.addElement("identity")
        identity["category"] = "store"
        identity["type"] = "file"
        identity["name"] = self.name
        for feature in (ns.DISCO_INFO, ns.DISCO_ITEMS, ns.HTTP_UPLOAD):
            answer.addElement("feature")["var"] = feature
        form = Form("result", formType=ns.HTTP_UPLOAD)
        form.add("max-file-size", type=None, values=[str(self.maxSize)])
        answer.addChild(form.toElement())
        return answer

    def discoItems(self, query):
        if query.getAttribute("node"):
            raise StanzaError("item-not-found")
        return domish.Element((ns.DISCO_ITEMS, "query"))

    def requestSlot(self, sender, request):
        """
        XEP-0363 section 4: check a slot request and grant the slot.

        @param sender: the requester's L{JID}.
        @param request: the C{<request/>} element.
        @return: the C{<slot/>} element.
        @raise StanzaError: the request is refused, with the error the XEP
            gives for it.
        """
        if sender.user is None or not (self.allowRemote or sender.host in self.router.hosts):
            raise StanzaError("not-allowed", text="Only users of this server may upload files")
        if self.secret is None or self.baseURL is None:
            raise StanzaError("service-unavailable", type="wait", text="Uploads are not served yet")
        filename = request.getAttribute("filename")
        if not filename:
            raise StanzaError("bad-request", type="modify", text="A file name is required")
        try:
            size = int(request.getAttribute("size", ""))
        except ValueError:
            raise StanzaError("bad-request", type="modify", text="The size must be a number of bytes")
        if size <= 0:
            raise StanzaError("bad-request", type="modify", text="The size must be a positive number of bytes")
        if size > self.maxSize:
            # XEP-0363 section 4: not-acceptable with the limit.
            tooLarge = domish.Element((ns.HTTP_UPLOAD, "file-too-large"))
            tooLarge.addElement("max-file-size", content=str(self.maxSize))
            raise StanzaError("not-acceptable", type="modify", appCondition=tooLarge,
                              text="File too large. The maximum file size is %d bytes" % (self.maxSize,))
        name = slots.sanitizeName(filename)
        given = request.getAttribute("content-type") or None
        try:
            contentType = slots.mediaType(given, name)
        except ValueError:
            raise StanzaError("bad-request", type="modify", text="Not a content type")
        if not slots.typeAllowed(contentType, self.allowedTypes):
            raise StanzaError("not-acceptable", type="modify", text="Files of type %s are not accepted" % (contentType,))
        owner = sender.userhost()
        now = self.clock.seconds()
        self.checkQuota(owner, size, now)
        slot = slots.Slot(slots.newToken(), name, size, contentType, given is not None, owner,
                          int(now + self.slotLifetime))
        self._count(owner, slot.token, now, size)
        return self.slotElement(slot)

    def slotElement(self, slot):
        """
        @return: the C{<slot/>} answer for C{slot}: its signed PUT URL and
            its GET URL.
        """
        url = self.baseURL + slot.path()
        element = domish.Element((ns.HTTP_UPLOAD, "slot"))
        element.addElement("put")["url"] = url + "?" + slot.query(self.secret)
        element.addElement("get")["url"] = url
        return element

    # -- Quota -------------------------------------------------------------------

    def _count(self, owner, token, when, size):
        self.usage.setdefault(owner, {})[token] = (when, size)

    def used(self, owner, now):
        """
        @return: the bytes granted to C{owner} over the last
            L{QUOTA_PERIOD} and the time the oldest of them stops counting
            (or L{None} when nothing counts).
        """
        granted = self.usage.get(owner, {})
        since = now - QUOTA_PERIOD
        for token in [t for t, (when, _) in granted.items() if when <= since]:
            del granted[token]
        if not granted:
            self.usage.pop(owner, None)
            return 0, None
        return sum(size for _, size in granted.values()), min(when for when, _ in granted.values()) + QUOTA_PERIOD

    def checkQuota(self, owner, size, now):
        """
        @raise StanzaError: C{resource-constraint} (XEP-0363 section 4,
            with the time to retry) when C{size} more bytes would exceed
            C{[upload] quota} over a day.
        """
        if not self.quota:
            return
        used, freed = self.used(owner, now)
        if used + size <= self.quota:
            return
        retry = domish.Element((ns.HTTP_UPLOAD, "retry"))
        if freed is not None:
            retry["stamp"] = stamp(freed)
        raise StanzaError("resource-constraint", type="wait", appCondition=retry,
                          text="Quota reached: %d bytes may be uploaded per day, %d already are" % (self.quota, used))
