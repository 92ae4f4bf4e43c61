"""
vCards (XEP-0054) and the avatar hash in presence (XEP-0153).

Each account has at most one vCard-temp: its owner sets it (an iq set of
C{<vCard xmlns='vcard-temp'/>}, at most C{[server] vcard_max_size} bytes
as serialized), anyone reads it (an iq get to the account's bare JID,
answered by the server on the account's behalf, RFC 6120 10.5.3.3).  A
get when there is none is answered with an empty C{<vCard/>}, which
XEP-0054 section 3.1 allows beside C{item-not-found}, as Prosody 13's
mod_vcard_legacy does; clients such as slixmpp read the vCard before
changing its photo and give up on an error.

The SHA-1 of the photo's binary value (C{PHOTO/BINVAL}, base64) is kept
beside it (L{PHOTO_DOCUMENT}, C{''} when there is no photo), and every
available presence the account sends, broadcast or directed (a MUC join
too), carries it as Prosody's mod_vcard_legacy does: the server replaces
any C{<x xmlns='vcard-temp:x:update'/>} of the client by its own, with
C{<photo>HASH</photo>}, or an empty C{<photo/>} when the account has no
avatar (XEP-0153 section 3.2: "the user has no avatar").

The vCard photo and the PEP avatar (XEP-0084) are kept the same, as
XEP-0398 and Prosody's mod_vcard_legacy do (C{urn:xmpp:pep-vcard-conversion:0}
in the account's disco#info), so that clients of either kind see each
other's avatars: a vCard set with a new photo publishes it on the
account's C{urn:xmpp:avatar:data} and C{urn:xmpp:avatar:metadata} nodes
(an empty metadata when the photo was removed); an avatar published there
becomes the vCard's photo (when its data is on the data node) and the
presence hash is the metadata's item id, the SHA-1 of the image either
way.
"""

import base64
import binascii
import hashlib

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.documents import DocumentCache
from xmuc.session.hooks import (
    IQ_GET_BARE,
    IQ_GET_SELF,
    IQ_SET_SELF,
    PEP_ITEM_PUBLISHED,
    addIQHandler,
)
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply
from xmuc.xmpp.stanza import parseElement
from xmuc.xmpp.vcard import photoHash

log = Logger()

#: The vCard among the account's documents: its serialized XML.
DOCUMENT = "vcard"
#: The SHA-1 (hex) of its photo, C{''} when it has none.
PHOTO_DOCUMENT = "vcard_photo"

#: Avatar hashes kept in memory for accounts without a session.
RECENT_PHOTOS = 1024


def _decodePhoto(stored):
    return stored or ""


def photoParts(vcard):
    """
    @param vcard: a C{<vCard/>} element.
    @return: C{(type, data)} of its binary photo (the MIME type, or
        L{None}; the decoded bytes), or L{None} when it has none.
    """
    for photo in vcard.elements(ns.VCARD_TEMP, "PHOTO"):
        mediaType = None
        for element in photo.elements(ns.VCARD_TEMP, "TYPE"):
            mediaType = str(element).strip() or None
        for value in photo.elements(ns.VCARD_TEMP, "BINVAL"):
            text = "".join(str(value).split())
            if text:
                return mediaType, base64.b64decode(text)
    return None


def replacePhoto(vcard, mediaType, data):
    """
    Replace the photo of C{vcard} in place.

    @param data: the image bytes, or L{None} to remove the photo.
    """
    vcard.children = [
        child
        for child in vcard.children
        if not (isinstance(child, domish.Element) and child.name == "PHOTO")
    ]
    if data is not None:
        photo = vcard.addElement("PHOTO")
        if mediaType:
            photo.addElement("TYPE", content=mediaType)
        photo.addElement("BINVAL", content=base64.b64encode(data).decode("ascii"))


def avatarItems(mediaType, data):
    """
    The XEP-0084 items of an image.

    @return: C{(data element, metadata element)}.
    """
    dataElement = domish.Element((ns.AVATAR_DATA, "data"))
    dataElement.addContent(base64.b64encode(data).decode("ascii"))
    metadata = domish.Element((ns.AVATAR_METADATA, "metadata"))
    info = metadata.addElement("info")
    info["id"] = hashlib.sha1(data).hexdigest()
    info["bytes"] = str(len(data))
    info["type"] = mediaType or "image/png"
    return dataElement, metadata


def withPhoto(stanza, photo):
    """
    Put the account's avatar hash in an available presence it sends, in
    place of the client's.

    @param stanza: the presence (L{domish.Element}), changed in place.
    @param photo: the hash, or C{''} for none.
    """
    stanza.children = [
        child
        for child in stanza.children
        if not (
            isinstance(child, domish.Element) and child.name == "x" and child.uri == ns.VCARD_UPDATE
        )
    ]
    update = stanza.addElement((ns.VCARD_UPDATE, "x"))
    update.addElement("photo", content=photo or None)


class VCards:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar store: the L{xmuc.storage.interfaces.IAccountDataStore}.
    @ivar photos: the L{DocumentCache} of the avatar hashes.
    @ivar maxSize: the largest vCard accepted, in bytes.
    """

    def __init__(self, sm):
        self.sm = sm
        self.store = sm.server.storage.accountData
        self.photos = DocumentCache(self.store, PHOTO_DOCUMENT, _decodePhoto, RECENT_PHOTOS)
        self.maxSize = sm.server.config.get("server", "vcard_max_size")

    def stamp(self, stanza, bare):
        """
        An available presence sent by C{bare}: add its avatar hash (the
        session manager read it before handling the account's stanzas).
        """
        photo = self.photos.cached(bare)
        if photo is not None:
            withPhoto(stanza, photo)

    def handleGet(self, iq, child, reply, bare, **kw):
        """
        A vCard get: the owner's, or anyone's to the account's bare JID.
        """
        if child.name != "vCard":
            reply(errorReply(iq, "bad-request", payload=False))
            return

        def answer(stored):
            result = toResponse(iq, "result")
            if stored is None:
                result.addElement((ns.VCARD_TEMP, "vCard"))
            else:
                result.addChild(parseElement(stored))
            reply(result)

        d = self.store.get(bare, DOCUMENT)
        d.addCallback(answer)
        d.addErrback(self._failed, iq, reply)

    def handleSet(self, iq, child, reply, bare, **kw):
        """
        The owner sets the account's vCard.
        """
        if child.name != "vCard":
            reply(errorReply(iq, "bad-request", payload=False))
            return
        xml = child.toXml()
        if len(xml.encode("utf-8")) > self.maxSize:
            reply(
                errorReply(
                    iq,
                    "not-acceptable",
                    text="vCard larger than %d bytes" % (self.maxSize,),
                    payload=False,
                )
            )
            return
        try:
            photo = photoHash(child)
        except ValueError as e:
            reply(errorReply(iq, "bad-request", text=str(e), payload=False))
            return
        previous = self.photos.cached(bare)
        d = self.store.set(bare, DOCUMENT, xml)
        d.addCallback(lambda _: self.store.set(bare, PHOTO_DOCUMENT, photo))

        def stored(_):
            self.photos.replace(bare, photo)
            reply(toResponse(iq, "result"))
            if photo != previous:
                self._publishAvatar(bare, child).addErrback(
                    lambda f: log.failure("publishing the vCard photo of {jid} failed", f, jid=bare)
                )

        d.addCallback(stored)
        d.addErrback(self._failed, iq, reply)

    # --- the PEP avatar (XEP-0398)

    @defer.inlineCallbacks
    def _publishAvatar(self, bare, vcard):
        """
        The vCard's photo changed: publish it as the PEP avatar.
        """
        parts = photoParts(vcard)
        if parts is None:
            # XEP-0084 section 4.5: an empty metadata disables the avatar.
            empty = domish.Element((ns.AVATAR_METADATA, "metadata"))
            yield self.sm.pep.publishItem(bare, ns.AVATAR_METADATA, "current", empty)
            return
        dataElement, metadata = avatarItems(*parts)
        itemID = metadata.firstChildElement()["id"]
        yield self.sm.pep.publishItem(bare, ns.AVATAR_DATA, itemID, dataElement)
        yield self.sm.pep.publishItem(bare, ns.AVATAR_METADATA, itemID, metadata)

    def avatarPublished(self, owner, node, itemID, payload, **kw):
        """
        C{pep-item-published}: a new avatar metadata becomes the vCard's
        photo and the presence hash.
        """
        if node != ns.AVATAR_METADATA:
            return None
        infos = list(payload.elements(ns.AVATAR_METADATA, "info"))
        # The image the data node holds (no 'url'), else any.
        stored = [info for info in infos if not info.getAttribute("url")]
        info = (stored or infos or [None])[0]
        photo = info.getAttribute("id", "") if info is not None else ""
        if photo == self.photos.cached(owner):
            # Nothing new (or the server's own publication of the vCard's).
            return None
        d = self._followAvatar(owner, photo, info)
        d.addErrback(lambda f: log.failure("taking the avatar of {jid} into its vCard failed", f, jid=owner))
        return None

    @defer.inlineCallbacks
    def _followAvatar(self, owner, photo, info):
        data = None
        if photo:
            found = yield self.sm.server.storage.pep.items(owner, ns.AVATAR_DATA, ids=[photo])
            if found:
                text = "".join(str(parseElement(found[0]["xml"])).split())
                try:
                    data = base64.b64decode(text, validate=True)
                except (binascii.Error, ValueError):
                    data = None
        if data is not None or not photo:
            stored = yield self.store.get(owner, DOCUMENT)
            vcard = domish.Element((ns.VCARD_TEMP, "vCard")) if stored is None else parseElement(stored)
            replacePhoto(vcard, info.getAttribute("type") if info is not None else None, data)
            yield self.store.set(owner, DOCUMENT, vcard.toXml())
        yield self.store.set(owner, PHOTO_DOCUMENT, photo)
        self.photos.replace(owner, photo)

    def _failed(self, failure, iq, reply):
        log.failure("vCard request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the vCard goes with the account.
        """
        self.photos.forget(jid)
        d = self.store.delete(jid, DOCUMENT)
        d.addCallback(lambda _: self.store.delete(jid, PHOTO_DOCUMENT))
        return d


def install(sm):
    """
    vCards (C{sm.vcard}): the iqs, and the avatar hash the presence path
    adds.
    """
    sm.vcard = VCards(sm)
    sm.serverFeatures.append(ns.VCARD_TEMP)
    sm.accountFeatures.extend((ns.VCARD_TEMP, ns.PEP_VCARD_CONVERSION))
    sm.hooks.add(PEP_ITEM_PUBLISHED, sm.vcard.avatarPublished)
    sm.accountDocuments.append(sm.vcard.photos)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_GET_BARE), ns.VCARD_TEMP, sm.vcard.handleGet)
    addIQHandler(sm.hooks, (IQ_SET_SELF,), ns.VCARD_TEMP, sm.vcard.handleSet)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.vcard.accountDeleted)
