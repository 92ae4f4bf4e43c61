"""
The upload service over XMPP (L{xmuc.upload.service}), on a real server:
disco, slot requests and each refusal XEP-0363 defines, the daily quota,
who may upload, expiry.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from tests.support.upload import UPLOAD, UPLOAD_OVERRIDES, UploadClients
from tests.support.wire import condition
from xmuc.upload import slots
from xmuc.xmpp.errors import StanzaError

DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DATA = "jabber:x:data"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def errorOf(reply):
    for error in reply.elements():
        if error.name == "error":
            return error
    raise AssertionError("no error in " + reply.toXml())


def child(element, uri, name):
    for found in element.elements(uri, name):
        return found
    return None


class DiscoTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_listed(self):
        """
        The server's disco#items lists the upload service.
        """
        alice = yield self.login("alice")
        reply = yield alice.iq("<iq type='get' id='i' to='localhost'><query xmlns='%s'/></iq>" % (DISCO_ITEMS,))
        jids = [item["jid"] for item in reply.query.elements(DISCO_ITEMS, "item")]
        self.assertIn("upload.localhost", jids)

    @defer.inlineCallbacks
    def test_info(self):
        """
        The service's disco#info: a store/file identity, the XEP-0363
        feature and a form (XEP-0128) giving C{max-file-size}.
        """
        alice = yield self.login("alice")
        reply = yield alice.iq("<iq type='get' id='i' to='upload.localhost'><query xmlns='%s'/></iq>" % (DISCO_INFO,))
        self.assertEqual(reply["type"], "result")
        query = reply.query
        identity = child(query, DISCO_INFO, "identity")
        self.assertEqual((identity["category"], identity["type"]), ("store", "file"))
        features = [f["var"] for f in query.elements(DISCO_INFO, "feature")]
        self.assertIn(UPLOAD, features)
        form = child(query, DATA, "x")
        self.assertEqual(form["type"], "result")
        values = {f["var"]: [str(v) for v in f.elements(DATA, "value")] for f in form.elements(DATA, "field")}
        self.assertEqual(values["FORM_TYPE"], [UPLOAD])
        self.assertEqual(values["max-file-size"], ["100000"])

    @defer.inlineCallbacks
    def test_otherRequests(self):
        """
        Other iqs are refused C{service-unavailable}; a node is
        C{item-not-found}.
        """
        alice = yield self.login("alice")
        reply = yield alice.iq("<iq type='get' id='i' to='upload.localhost'><query xmlns='jabber:iq:version'/></iq>")
        self.assertEqual(condition(reply), "service-unavailable")
        reply = yield alice.iq("<iq type='set' id='j' to='upload.localhost'><request xmlns='%s' filename='a' size='1'/>"
                               "</iq>" % (UPLOAD,))
        self.assertEqual(condition(reply), "service-unavailable")
        reply = yield alice.iq("<iq type='get' id='k' to='upload.localhost'><query xmlns='%s' node='x'/></iq>"
                               % (DISCO_INFO,))
        self.assertEqual(condition(reply), "item-not-found")
        yield self.assertServed(alice)


class SlotTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_granted(self):
        """
        A slot has a PUT URL (the GET URL and its signed terms) and a GET
        URL: the upload root, a random token, the file name.
        """
        alice = yield self.login("alice")
        put, get = yield self.slot(alice, "photo.png", 1000, "image/png")
        base = "http://127.0.0.1:%d/upload/" % (self.running.server.http.listeners[0].port.getHost().port,)
        self.assertTrue(get.startswith(base), get)
        token, name = get[len(base):].split("/")
        self.assertRegex(token, slots.TOKEN)
        self.assertEqual(name, "photo.png")
        self.assertTrue(put.startswith(get + "?"), put)
        self.assertIn("signature=", put)

    @defer.inlineCallbacks
    def test_unguessable(self):
        """
        Two slots for the same name have different GET URLs.
        """
        alice = yield self.login("alice")
        _, one = yield self.slot(alice, "a.png", 10)
        _, two = yield self.slot(alice, "a.png", 10)
        self.assertNotEqual(one, two)

    @defer.inlineCallbacks
    def test_pathTricks(self):
        """
        A file name with directories keeps only its last part, and the
        file is stored under its token, inside the upload directory.
        """
        alice = yield self.login("alice")
        get = yield self.upload(alice, "../../../etc/passwd", b"root", "text/plain")
        self.assertTrue(get.endswith("/passwd"), get)
        token = get.split("/")[-2]
        self.assertEqual(os.path.dirname(self.store.contentPath(token)), self.store.directory)
        self.assertEqual(self.store.files[token].name, "passwd")

    @defer.inlineCallbacks
    def test_tooLarge(self):
        """
        XEP-0363 section 4: a file over C{[upload] max_size} is refused
        C{not-acceptable} with C{<file-too-large/>} giving the limit.
        """
        alice = yield self.login("alice")
        reply = yield self.requestSlot(alice, "big.bin", 100001)
        error = errorOf(reply)
        self.assertEqual((error["type"], condition(reply)), ("modify", "not-acceptable"))
        tooLarge = child(error, UPLOAD, "file-too-large")
        self.assertEqual(str(child(tooLarge, UPLOAD, "max-file-size")), "100000")
        reply = yield self.requestSlot(alice, "limit.bin", 100000)
        self.assertEqual(reply["type"], "result")

    @defer.inlineCallbacks
    def test_badRequests(self):
        """
        No file name, no size, a size that is no positive number, or a
        content type that is none: C{bad-request}.
        """
        alice = yield self.login("alice")
        for request in ("size='10'", "filename='a'", "filename='a' size='0'", "filename='a' size='-5'",
                        "filename='a' size='ten'", "filename='a' size='10' content-type='image'"):
            reply = yield alice.iq("<iq type='get' id='%s' to='upload.localhost'><request xmlns='%s' %s/></iq>"
                                   % (alice.nextID(), UPLOAD, request))
            self.assertEqual(condition(reply), "bad-request", request)

    @defer.inlineCallbacks
    def test_quota(self):
        """
        Slots count against the daily quota (250000 bytes here) when
        granted: beyond it, C{resource-constraint} (type wait) with the
        time the oldest stops counting; other users are not affected.
        """
        alice = yield self.login("alice")
        for _ in range(2):
            yield self.slot(alice, "a.bin", 100000)
        reply = yield self.requestSlot(alice, "a.bin", 50001)
        self.assertEqual(condition(reply), "resource-constraint")
        error = errorOf(reply)
        self.assertEqual(error["type"], "wait")
        self.assertRegex(child(error, UPLOAD, "retry")["stamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        yield self.slot(alice, "a.bin", 50000)
        bob = yield self.login("bob")
        yield self.slot(bob, "b.bin", 100000)

    def test_quotaPeriod(self):
        """
        What was granted more than a day ago no longer counts.
        """
        service = self.running.server.upload
        service.checkQuota("carol@localhost", 250000, 5000.0)
        service._count("carol@localhost", "t1", 5000.0, 250000)
        self.assertRaises(StanzaError, service.checkQuota, "carol@localhost", 1, 5000.0 + 86399)
        service.checkQuota("carol@localhost", 250000, 5000.0 + 86400)
        self.assertEqual(service.usage, {})

    def test_remoteUsers(self):
        """
        Users of other servers may not upload unless C{[upload]
        allow_remote}; the service's domain and bare hosts neither.
        """
        service = self.running.server.upload
        for sender in ("mallory@elsewhere.example/r", "localhost", "upload.localhost"):
            error = self.assertRaises(StanzaError, service.requestSlot, JID(sender),
                                      _request("a.png", 10))
            self.assertEqual(error.condition, "not-allowed")
        service.allowRemote = True
        slot = service.requestSlot(JID("mallory@elsewhere.example/r"), _request("a.png", 10))
        self.assertEqual(slot.name, "slot")


def _request(filename, size, contentType=None):
    from twisted.words.xish import domish

    request = domish.Element((UPLOAD, "request"))
    request["filename"] = filename
    request["size"] = str(size)
    if contentType:
        request["content-type"] = contentType
    return request


class TypesTests(UploadClients, unittest.TestCase):
    overrides = dict(UPLOAD_OVERRIDES, upload=dict(UPLOAD_OVERRIDES["upload"], allowed_types="image/* text/plain"))

    @defer.inlineCallbacks
    def test_allowedTypes(self):
        """
        Only the types of C{[upload] allowed_types} get a slot; a type
        guessed from the name counts when none is given.
        """
        alice = yield self.login("alice")
        yield self.slot(alice, "a.png", 10, "image/png")
        yield self.slot(alice, "a.txt", 10, "text/plain")
        yield self.slot(alice, "a.jpg", 10)
        for name, contentType in (("a.html", "text/html"), ("a.html", None), ("a", None)):
            reply = yield self.requestSlot(alice, name, 10, contentType)
            self.assertEqual(condition(reply), "not-acceptable", (name, contentType))


class ExpiryTests(UploadClients, unittest.TestCase):
    @defer.inlineCallbacks
    def test_sweep(self):
        """
        Files older than C{[upload] expire_after} are deleted by the
        sweep: no longer served, gone from the disk; newer ones stay.
        """
        alice = yield self.login("alice")
        old = yield self.upload(alice, "old.png", b"old")
        new = yield self.upload(alice, "new.png", b"new")
        service = self.running.server.upload
        oldToken, newToken = old.split("/")[-2], new.split("/")[-2]
        service.store.files[oldToken].created -= service.expireAfter + 10
        deleted = yield service.sweep()
        self.assertEqual([f.token for f in deleted], [oldToken])
        response = yield self.http(b"GET", old)
        self.assertEqual(response.code, 404)
        self.assertFalse(os.path.exists(service.store.contentPath(oldToken)))
        response = yield self.http(b"GET", new)
        self.assertEqual((response.code, response.body), (200, b"new"))
        self.assertTrue(os.path.exists(service.store.contentPath(newToken)))


class DomainTests(UploadClients, unittest.TestCase):
    uploadDomain = "files.localhost"
    overrides = dict(UPLOAD_OVERRIDES, upload=dict(UPLOAD_OVERRIDES["upload"], domain="files.localhost",
                                                   url="https://chat.example/files"))

    @defer.inlineCallbacks
    def test_configured(self):
        """
        C{[upload] domain} and C{[upload] url} replace the defaults.
        """
        alice = yield self.login("alice")
        put, get = yield self.slot(alice, "a.png", 10)
        self.assertTrue(get.startswith("https://chat.example/files/"), get)


ROOM = "spam@conference.localhost"
STANZA_ID = "urn:xmpp:sid:0"
OOB = "jabber:x:oob"


class ModerationTests(UploadClients, unittest.TestCase):
    """
    Files linked from messages that moderation takes down are deleted:
    Alice owns a room, Bob posts links to his uploads in it.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield UploadClients.setUp(self)
        self.alice = yield self.login("alice")
        self.bob = yield self.login("bob")
        self.assertIsNone((yield self.joinRoom(self.alice, ROOM, "Alice")))
        self.assertIsNone((yield self.joinRoom(self.bob, ROOM, "Bob")))

    @defer.inlineCallbacks
    def post(self, payload):
        """
        Bob says C{payload} in the room.

        @return: Deferred firing with the room's stanza-id of it, once
            Alice got it.
        """
        self.bob.send("<message type='groupchat' to='%s'>%s</message>" % (ROOM, payload))
        message = yield self.until(self.alice, lambda e: e.name == "message" and e.getAttribute("from") == ROOM + "/Bob")
        return child(message, STANZA_ID, "stanza-id")["id"]

    @defer.inlineCallbacks
    def statuses(self, *urls):
        """
        @return: Deferred firing with the status of a GET of each URL.
        """
        codes = []
        for url in urls:
            response = yield self.http(b"GET", url)
            codes.append(response.code)
        return codes

    @defer.inlineCallbacks
    def test_retractedAndDestroyed(self):
        """
        A moderator's retraction deletes the file the message's body links
        to, before the moderator's answer; destroying the room deletes the
        files its remaining messages link to (an out-of-band URL here);
        a file no message linked to stays.
        """
        inBody = yield self.upload(self.bob, "spam.png", b"spam")
        inOOB = yield self.upload(self.bob, "more.png", b"more")
        unposted = yield self.upload(self.bob, "mine.png", b"mine")
        spam = yield self.post("<body>look %s !</body>" % (inBody,))
        yield self.post("<body>%s</body><x xmlns='%s'><url>%s</url></x>" % (inOOB, OOB, inOOB))
        reply = yield self.alice.iq(
            "<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='urn:xmpp:message-moderate:1'>"
            "<retract xmlns='urn:xmpp:message-retract:1'/></moderate></iq>" % (ROOM, spam))
        self.assertEqual(reply["type"], "result")
        self.assertEqual((yield self.statuses(inBody, inOOB, unposted)), [404, 200, 200])
        self.assertFalse(os.path.exists(self.store.contentPath(inBody.split("/")[-2])))
        reply = yield self.alice.iq("<iq type='set' id='d' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                                    "<destroy/></query></iq>" % (ROOM,))
        self.assertEqual(reply["type"], "result")
        self.assertEqual((yield self.statuses(inOOB, unposted)), [404, 200])

    @defer.inlineCallbacks
    def test_otherLinksIgnored(self):
        """
        Links elsewhere, or to files that are not (or no longer) here, are
        ignored; the moderator is answered as usual.
        """
        kept = yield self.upload(self.bob, "kept.png", b"kept")
        token = kept.split("/")[-2]
        spam = yield self.post("<body>https://elsewhere.example/%s x https://elsewhere.example/%s/a.png</body>"
                               % (token[:-1], slots.newToken()))
        reply = yield self.alice.iq(
            "<iq type='set' id='mod' to='%s'><moderate id='%s' xmlns='urn:xmpp:message-moderate:1'>"
            "<retract xmlns='urn:xmpp:message-retract:1'/></moderate></iq>" % (ROOM, spam))
        self.assertEqual(reply["type"], "result")
        self.assertEqual((yield self.statuses(kept)), [200])


class ConfigurationTests(unittest.TestCase):
    def test_needsHTTP(self):
        """
        The upload service without the HTTP listener is a configuration
        error naming the file, the line and the key.
        """
        from xmuc.config import ConfigError, loadConfig
        from xmuc.server import XmucServer

        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("[c2s]\nrequire_encryption = false\n[storage]\nbackend = memory\n[upload]\nenabled = true\n")
        error = self.assertRaises(ConfigError, XmucServer, loadConfig(path))
        self.assertEqual((error.path, error.line, error.section, error.key), (path, 6, "upload", "enabled"))
        self.assertIn("[http] listen", str(error))

    def test_domainTaken(self):
        """
        An upload domain that is a host or the MUC's is a configuration
        error.
        """
        from xmuc.config import ConfigError, loadConfig
        from xmuc.server import XmucServer

        for domain in ("localhost", "conference.localhost"):
            path = os.path.abspath(self.mktemp())
            with open(path, "w") as f:
                f.write("[c2s]\nrequire_encryption = false\n[storage]\nbackend = memory\n"
                        "[http]\nlisten = tcp:0:interface=127.0.0.1\n"
                        "[upload]\nenabled = true\ndomain = %s\n" % (domain,))
            error = self.assertRaises(ConfigError, XmucServer, loadConfig(path))
            self.assertEqual((error.section, error.key, error.line), ("upload", "domain", 9))
