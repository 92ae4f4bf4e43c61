"""
vCards (XEP-0054) and the avatar hash in presence (XEP-0153) over real
sockets.
"""

import base64
import hashlib

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session import vcard
from xmuc.xmpp import ns
from xmuc.xmpp.stanza import parseElement

from tests.support.account import child, nextStanza, signIn, startAccountServer
from tests.support.client import errorCondition

IMAGE = b"\x89PNG\r\n\x1a\n not really a picture"
IMAGE_HASH = hashlib.sha1(IMAGE).hexdigest()

SET = "<iq type='set' id='%s'><vCard xmlns='vcard-temp'>%s</vCard></iq>"
GET = "<iq type='get' id='%s'%s><vCard xmlns='vcard-temp'/></iq>"


def photoElement(data=IMAGE):
    encoded = base64.b64encode(data).decode("ascii")
    # Clients wrap BINVAL in lines; the hash is of the decoded bytes.
    wrapped = "\n".join(encoded[i:i + 16] for i in range(0, len(encoded), 16))
    return "<PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL></PHOTO>" % (wrapped,)


def photoOf(presence):
    """
    @return: the text of the XEP-0153 photo of C{presence}, L{None} when it
        has no update element; fails when there are several.
    """
    updates = [x for x in presence.elements() if x.uri == ns.VCARD_UPDATE and x.name == "x"]
    assert len(updates) <= 1, presence.toXml()
    if not updates:
        return None
    photo = child(updates[0], ns.VCARD_UPDATE, "photo")
    return None if photo is None else str(photo)


class PhotoHashTests(unittest.TestCase):
    def test_hashOfDecodedBinval(self):
        card = parseElement("<vCard xmlns='vcard-temp'>%s</vCard>" % (photoElement(),))
        self.assertEqual(vcard.photoHash(card), IMAGE_HASH)

    def test_noPhoto(self):
        for inner in ("", "<FN>x</FN>", "<PHOTO><EXTVAL>http://x/y.png</EXTVAL></PHOTO>", "<PHOTO><BINVAL/></PHOTO>"):
            card = parseElement("<vCard xmlns='vcard-temp'>%s</vCard>" % (inner,))
            self.assertEqual(vcard.photoHash(card), "", inner)

    def test_badBase64(self):
        card = parseElement("<vCard xmlns='vcard-temp'><PHOTO><BINVAL>!!!</BINVAL></PHOTO></vCard>")
        self.assertRaises(ValueError, vcard.photoHash, card)


class VCardWireTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self, {"server": {"vcard_max_size": "2048"}})
        self.juliet = yield signIn(self, self.running, "juliet", "phone")
        self.romeo = yield signIn(self, self.running, "romeo", "garden")

    def get(self, client, to=None):
        extra = "" if to is None else " to='%s'" % (to,)
        return client.iq(GET % (client.nextID(), extra))

    def assertEmptyVCard(self, answer):
        self.assertEqual(answer["type"], "result", answer.toXml())
        card = child(answer, ns.VCARD_TEMP, "vCard")
        self.assertEqual(list(card.elements()), [])

    @defer.inlineCallbacks
    def test_setGetByOwnerAndOthers(self):
        missing = yield self.get(self.juliet)
        self.assertEmptyVCard(missing)
        result = yield self.juliet.iq(SET % ("s1", "<FN>Juliet Capulet</FN>" + photoElement()))
        self.assertEqual(result["type"], "result")
        for client, to in ((self.juliet, None), (self.juliet, "juliet@localhost"), (self.romeo, "juliet@localhost")):
            answer = yield self.get(client, to)
            self.assertEqual(answer["type"], "result", answer.toXml())
            card = child(answer, ns.VCARD_TEMP, "vCard")
            self.assertEqual(str(child(card, ns.VCARD_TEMP, "FN")), "Juliet Capulet")
            self.assertEqual(vcard.photoHash(card), IMAGE_HASH)
        # An account with no vCard, and one that does not exist.
        answer = yield self.get(self.juliet, "romeo@localhost")
        self.assertEmptyVCard(answer)
        answer = yield self.get(self.juliet, "nobody@localhost")
        self.assertEqual(errorCondition(answer), "service-unavailable")
        # Nobody else sets it.
        answer = yield self.romeo.iq(
            "<iq type='set' id='x' to='juliet@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>"
        )
        self.assertEqual(errorCondition(answer), "service-unavailable")
        answer = yield self.get(self.romeo, "juliet@localhost")
        self.assertEqual(str(child(child(answer, ns.VCARD_TEMP, "vCard"), ns.VCARD_TEMP, "FN")), "Juliet Capulet")

    @defer.inlineCallbacks
    def test_refused(self):
        result = yield self.juliet.iq(SET % ("big", "<DESC>%s</DESC>" % ("x" * 3000,)))
        self.assertEqual(errorCondition(result), "not-acceptable")
        result = yield self.juliet.iq(SET % ("bad", "<PHOTO><BINVAL>not base64!</BINVAL></PHOTO>"))
        self.assertEqual(errorCondition(result), "bad-request")
        # Nothing was stored.
        missing = yield self.get(self.juliet)
        self.assertEmptyVCard(missing)

    @defer.inlineCallbacks
    def test_hashInPresence(self):
        """
        Available presence carries the server's photo hash, empty before
        there is a photo; the client's own update element is replaced.
        Directed presence carries it too.
        """
        laptop = yield signIn(self, self.running, "juliet", "laptop", available=False)
        self.juliet.send(
            "<presence><x xmlns='vcard-temp:x:update'><photo>0000</photo></x></presence>"
        )
        own = yield nextStanza(self.juliet, "presence")
        self.assertEqual(photoOf(own), "")
        yield self.juliet.iq(SET % ("s", photoElement()))
        self.juliet.send("<presence><show>away</show></presence>")
        own = yield nextStanza(self.juliet, "presence")
        self.assertEqual(photoOf(own), IMAGE_HASH)
        self.juliet.send("<presence to='romeo@localhost/garden'/>")
        directed = yield nextStanza(self.romeo, "presence")
        self.assertEqual((directed["from"], photoOf(directed)), ("juliet@localhost/phone", IMAGE_HASH))
        # Another session of the account (its hash read at login) too.
        laptop.send("<presence/>")
        own = yield nextStanza(laptop, "presence")
        while own["from"] != "juliet@localhost/laptop":
            own = yield nextStanza(laptop, "presence")
        self.assertEqual(photoOf(own), IMAGE_HASH)
        # Removing the photo empties it; unavailable presence has none.
        yield self.juliet.iq(SET % ("s2", "<FN>J</FN>"))
        self.juliet.send("<presence to='romeo@localhost/garden'/>")
        directed = yield nextStanza(self.romeo, "presence")
        self.assertEqual(photoOf(directed), "")
        self.juliet.send("<presence to='romeo@localhost/garden' type='unavailable'/>")
        directed = yield nextStanza(self.romeo, "presence")
        self.assertEqual(photoOf(directed), None)

    @defer.inlineCallbacks
    def test_keptAndDeletedWithAccount(self):
        yield self.juliet.iq(SET % ("s", "<FN>Juliet</FN>" + photoElement()))
        self.juliet.close()
        yield self.juliet.waitClosed()
        answer = yield self.get(self.romeo, "juliet@localhost")
        self.assertEqual(answer["type"], "result")
        # Her next login reads the hash from storage.
        again = yield signIn(self, self.running, "juliet", "tablet", available=False)
        again.send("<presence/>")
        own = yield nextStanza(again, "presence")
        self.assertEqual(photoOf(own), IMAGE_HASH)
        again.close()
        yield again.waitClosed()
        storage = self.running.server.storage
        yield self.running.server.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost")
        self.assertIsNone((yield storage.accountData.get("juliet@localhost", vcard.DOCUMENT)))
        self.assertIsNone((yield storage.accountData.get("juliet@localhost", vcard.PHOTO_DOCUMENT)))

    @defer.inlineCallbacks
    def test_advertised(self):
        info = yield self.juliet.iq(
            "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        features = [f["var"] for f in info.query.elements() if f.name == "feature"]
        self.assertIn(ns.VCARD_TEMP, features)


PUBLISH = (
    "<iq type='set' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
    "<publish node='%s'><item id='%s'>%s</item></publish></pubsub></iq>"
)
ITEMS = (
    "<iq type='get' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
    "<items node='%s'/></pubsub></iq>"
)


class AvatarConversionTests(unittest.TestCase):
    """
    The PEP avatar (XEP-0084) and the vCard photo follow each other
    (XEP-0398).
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        self.juliet = yield signIn(self, self.running, "juliet", "phone", available=False)
        self.romeo = yield signIn(self, self.running, "romeo", "garden")

    @defer.inlineCallbacks
    def publish(self, node, itemID, payload):
        result = yield self.juliet.iq(PUBLISH % (self.juliet.nextID(), node, itemID, payload))
        self.assertEqual(result["type"], "result", result.toXml())

    @defer.inlineCallbacks
    def pepItems(self, node):
        result = yield self.juliet.iq(ITEMS % (self.juliet.nextID(), node))
        self.assertEqual(result["type"], "result", result.toXml())
        items = child(child(result, ns.PUBSUB, "pubsub"), ns.PUBSUB, "items")
        return list(items.elements())

    @defer.inlineCallbacks
    def test_pepAvatarBecomesVCardPhoto(self):
        info = yield self.juliet.iq(
            "<iq type='get' id='d' to='juliet@localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        self.assertIn(ns.PEP_VCARD_CONVERSION, [f["var"] for f in info.query.elements() if f.name == "feature"])
        yield self.juliet.iq(SET % ("s", "<FN>Juliet</FN>"))
        encoded = base64.b64encode(IMAGE).decode("ascii")
        yield self.publish(ns.AVATAR_DATA, IMAGE_HASH, "<data xmlns='urn:xmpp:avatar:data'>%s</data>" % (encoded,))
        yield self.publish(
            ns.AVATAR_METADATA,
            IMAGE_HASH,
            "<metadata xmlns='urn:xmpp:avatar:metadata'>"
            "<info id='%s' bytes='%d' type='image/png'/></metadata>" % (IMAGE_HASH, len(IMAGE)),
        )
        answer = yield self.romeo.iq(GET % ("g", " to='juliet@localhost'"))
        card = child(answer, ns.VCARD_TEMP, "vCard")
        # The rest of the vCard stays.
        self.assertEqual(str(child(card, ns.VCARD_TEMP, "FN")), "Juliet")
        self.assertEqual(vcard.photoParts(card), ("image/png", IMAGE))
        self.juliet.send("<presence to='romeo@localhost/garden'/>")
        directed = yield nextStanza(self.romeo, "presence")
        self.assertEqual(photoOf(directed), IMAGE_HASH)

        # An empty metadata disables the avatar: the vCard loses its photo.
        yield self.publish(ns.AVATAR_METADATA, "off", "<metadata xmlns='urn:xmpp:avatar:metadata'/>")
        answer = yield self.romeo.iq(GET % ("g2", " to='juliet@localhost'"))
        card = child(answer, ns.VCARD_TEMP, "vCard")
        self.assertIsNone(vcard.photoParts(card))
        self.assertEqual(str(child(card, ns.VCARD_TEMP, "FN")), "Juliet")
        self.juliet.send("<presence to='romeo@localhost/garden'/>")
        directed = yield nextStanza(self.romeo, "presence")
        self.assertEqual(photoOf(directed), "")

    @defer.inlineCallbacks
    def test_vCardPhotoBecomesPepAvatar(self):
        yield self.juliet.iq(SET % ("s", "<FN>Juliet</FN>" + photoElement()))
        # (With the memory storage every write is done at once: the
        # publication is over when the result is sent.)
        (data,) = yield self.pepItems(ns.AVATAR_DATA)
        self.assertEqual(data["id"], IMAGE_HASH)
        self.assertEqual(base64.b64decode(str(data.firstChildElement())), IMAGE)
        (meta,) = yield self.pepItems(ns.AVATAR_METADATA)
        info = child(meta.firstChildElement(), ns.AVATAR_METADATA, "info")
        self.assertEqual(
            (meta["id"], info["id"], info["bytes"], info["type"]),
            (IMAGE_HASH, IMAGE_HASH, str(len(IMAGE)), "image/png"),
        )
        # Removing the photo publishes an empty metadata.
        yield self.juliet.iq(SET % ("s2", "<FN>Juliet</FN>"))
        (meta,) = yield self.pepItems(ns.AVATAR_METADATA)
        self.assertEqual(list(meta.firstChildElement().elements()), [])
