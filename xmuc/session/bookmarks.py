"""
Bookmarks that sync (XEP-0402, with its XEP-0048 compatibility), as
Prosody's mod_bookmarks: the rooms an account keeps are the items of its
C{urn:xmpp:bookmarks:1} PEP node (item id the room's JID, payload a
C{<conference/>}), and the older XEP-0048 views are made from them, so a
client of either kind sees the same rooms on every device.

  - Private XML storage (XEP-0049) of C{<storage xmlns='storage:bookmarks'/>}:
    a get answers the XEP-0402 items as one C{<storage/>}; a set publishes
    each conference as a XEP-0402 item (only those that changed) and
    retracts the items of the rooms it no longer has (an empty
    C{<storage/>} purges the node).  XEP-0402 section 5
    (C{urn:xmpp:bookmarks:1#compat}).
  - The XEP-0048 PEP node C{storage:bookmarks}: a get of its items from
    the owner answers the same C{<storage/>} (item C{current}); a publish
    to it is converted as a private storage set.  After any change of the
    XEP-0402 node, the server publishes the C{<storage/>} there, so
    clients with C{storage:bookmarks+notify} are told
    (C{urn:xmpp:bookmarks:1#compat-pep}).
  - Bookmarks kept in private storage before, or published by a client
    on the XEP-0048 PEP node before the server kept it, are moved to the
    XEP-0402 node when a resource of the account binds (merged: no
    XEP-0402 item is retracted), then forgotten from private storage.

The XEP-0402 node is given its private options whenever XEP-0048 bookmarks
are converted into it, and the XEP-0048 node whenever the server publishes
there, whatever a client made of them before.

A conversion keeps the C{name} and C{autojoin} attributes and the
C{<nick/>} and C{<password/>} of each conference, and the
C{<extensions/>} of a XEP-0402 item it replaces (XEP-0048 has none).
C{<url/>} bookmarks have no XEP-0402 form and are not kept, as in
Prosody.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.session import pep
from xmuc.session.hooks import (
    IQ_GET_SELF,
    IQ_SET_SELF,
    PEP_ITEM_PUBLISHED,
    PEP_ITEMS_REMOVED,
    RESOURCE_BOUND,
)
from xmuc.session.private import documentName
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import parseElement

log = Logger()

#: The publish-options of the XEP-0402 node (XEP-0402 section 3: the
#: bookmarks are private and every one is kept).
OPTIONS = {
    "persist_items": True,
    "max_items": pep.MAX_ITEMS,
    "send_last_published_item": "never",
    "access_model": "whitelist",
}

#: The options of the XEP-0048 PEP node the server keeps (XEP-0048
#: section 3.3: private), its one item sent to the resources that want
#: it when they come.
LEGACY_OPTIONS = {
    "persist_items": True,
    "max_items": 1,
    "send_last_published_item": "on_sub_and_presence",
    "access_model": "whitelist",
}

#: The single item of the XEP-0048 PEP node.
LEGACY_ITEM = "current"

#: The private storage document of XEP-0048 bookmarks.
PRIVATE_DOCUMENT = documentName(domish.Element((ns.BOOKMARKS_LEGACY, "storage")))

#: The XEP-0402 features advertised by the account (XEP-0402 section 5),
#: and that of XEP-0411, which older clients look for.
FEATURES = (ns.BOOKMARKS + "#compat", ns.BOOKMARKS + "#compat-pep", ns.BOOKMARKS_CONVERSION)


def _childText(element, name):
    """
    @return: the text of the first child C{name} of C{element} (in its
        namespace), or L{None}.
    """
    for found in element.elements():
        if found.name == name and found.uri == element.uri:
            return str(found)
    return None


def _conference(uri, source, extensions=None):
    """
    @param uri: the namespace of the conference made.
    @param source: a conference of either kind.
    @param extensions: the C{<extensions/>} to keep, or L{None}.
    @return: a C{<conference/>} in C{uri} with the C{name}, C{autojoin},
        nick and password of C{source}.
    """
    conference = domish.Element((uri, "conference"))
    for attribute in ("name", "autojoin"):
        value = source.getAttribute(attribute)
        if value is not None:
            conference[attribute] = value
    for name in ("nick", "password"):
        text = _childText(source, name)
        if text is not None:
            conference.addElement(name, content=text)
    if extensions is not None:
        conference.addChild(extensions)
    return conference


def _same(new, old):
    """
    @return: whether two XEP-0402 conferences say the same (Prosody's
        C{compare_bookmark2}).
    """
    if old is None:
        return False
    return all(new.getAttribute(a) == old.getAttribute(a) for a in ("name", "autojoin")) and all(
        _childText(new, n) == _childText(old, n) for n in ("nick", "password")
    )


def _extensions(conference):
    if conference is None:
        return None
    for found in conference.elements():
        if found.name == "extensions" and found.uri == ns.BOOKMARKS:
            return found
    return None


def legacyStorage(records):
    """
    The XEP-0048 view of XEP-0402 items.

    @param records: the stored items of the XEP-0402 node (C{dict(id=,
        xml=)}), newest first.
    @return: the C{<storage xmlns='storage:bookmarks'/>}, rooms in the
        order they were bookmarked.
    """
    storage = domish.Element((ns.BOOKMARKS_LEGACY, "storage"))
    for record in reversed(records):
        try:
            found = parseElement(record["xml"])
        except ValueError:
            continue
        if found.uri != ns.BOOKMARKS or found.name != "conference":
            # Not a bookmark (Prosody logs it and lists the room bare).
            found = domish.Element((ns.BOOKMARKS, "conference"))
        conference = storage.addChild(_conference(ns.BOOKMARKS_LEGACY, found))
        conference["jid"] = record["id"]
    return storage


def legacyConferences(storage):
    """
    Read a XEP-0048 C{<storage/>}.

    @return: list of C{(room JID str, XEP-0048 conference)}.
    @raise StanzaError: C{bad-request} for a conference without a valid
        room JID.
    """
    conferences = []
    for conference in storage.elements():
        if conference.name != "conference" or conference.uri != ns.BOOKMARKS_LEGACY:
            continue
        room = parseJID(conference.getAttribute("jid") or "")
        if room is None or room.resource is not None or not room.user:
            raise StanzaError("bad-request", text="a conference needs the room's bare JID")
        conferences.append((room.full(), conference))
    return conferences


def _isServers(config):
    """
    @return: whether a XEP-0048 PEP node has the server's options (its item
        is the server's view, not a client's publication to move).
    """
    current = pep.fullConfig(config)
    return all(current.get(key) == value for key, value in LEGACY_OPTIONS.items())


class Bookmarks:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm
        # Accounts whose XEP-0048 PEP node is being remade -> whether it
        # must be remade again (a change came meanwhile).
        self._remaking = {}
        # Accounts converting a XEP-0048 set: their XEP-0048 node is
        # remade once at the end, not per item.
        self._converting = set()

    @property
    def store(self):
        return self.sm.server.storage.pep

    # --- private XML storage

    def handlePrivate(self, iq, child, reply, bare, **kw):
        """
        A private storage get or set (priority over L{xmuc.session.private}):
        taken when it is about XEP-0048 bookmarks.
        """
        fragments = list(child.elements())
        if len(fragments) != 1:
            return None
        (storage,) = fragments
        if storage.uri != ns.BOOKMARKS_LEGACY or storage.name != "storage":
            return None
        if iq["type"] == "get":
            d = self.store.items(bare, ns.BOOKMARKS)

            def answer(records):
                result = toResponse(iq, "result")
                result.addElement((ns.PRIVATE, "query")).addChild(legacyStorage(records))
                return result

            d.addCallback(answer)
        else:
            d = defer.maybeDeferred(self.convert, bare, storage, True)
            d.addCallback(lambda _: toResponse(iq, "result"))
        d.addCallbacks(reply, self._failed, errbackArgs=(iq, reply))
        return True

    # --- the XEP-0048 PEP node

    def handleLegacyPEP(self, iq, child, reply, bare, **kw):
        """
        A pubsub iq of the account to its own PEP service (priority over
        L{xmuc.session.pep}): taken when it gets or publishes the items of
        the XEP-0048 node.
        """
        if child.uri != ns.PUBSUB:
            return None
        actions = [e for e in child.elements() if e.name not in ("publish-options", "configure")]
        if len(actions) != 1:
            return None
        (action,) = actions
        if (iq["type"], action.name, action.getAttribute("node")) == ("set", "publish", ns.BOOKMARKS_OLD):
            # As Prosody: that version's clients would not see the others'.
            text = "Your client does XEP-0402 version 0.3.0 but 0.4.0+ is required"
            reply(errorReply(iq, StanzaError("not-allowed", text=text), payload=False))
            return True
        if action.getAttribute("node") != ns.BOOKMARKS_LEGACY:
            return None
        if (iq["type"], action.name) == ("get", "items"):
            d = self._legacyItems(iq, bare)
        elif (iq["type"], action.name) == ("set", "publish"):
            d = defer.maybeDeferred(self._legacyPublish, iq, action, bare)
        else:
            return None
        d.addCallbacks(reply, self._failed, errbackArgs=(iq, reply))
        return True

    @defer.inlineCallbacks
    def _legacyItems(self, iq, bare):
        stored = yield self.store.getNode(bare, ns.BOOKMARKS)
        if stored is None:
            raise StanzaError("item-not-found")
        records = yield self.store.items(bare, ns.BOOKMARKS)
        result = toResponse(iq, "result")
        items = result.addElement((ns.PUBSUB, "pubsub")).addElement("items")
        items["node"] = ns.BOOKMARKS_LEGACY
        item = items.addElement("item")
        item["id"] = LEGACY_ITEM
        item.addChild(legacyStorage(records))
        return result

    @defer.inlineCallbacks
    def _legacyPublish(self, iq, publish, bare):
        storage = None
        for item in publish.elements():
            if item.name == "item":
                for found in item.elements():
                    if found.name == "storage" and found.uri == ns.BOOKMARKS_LEGACY:
                        storage = found
        if storage is None:
            raise StanzaError("bad-request", text="a storage:bookmarks item is published")
        yield self.convert(bare, storage, True)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB, "pubsub")).addElement("publish")
        answer["node"] = ns.BOOKMARKS_LEGACY
        answer.addElement("item")["id"] = LEGACY_ITEM
        return result

    # --- conversion

    @defer.inlineCallbacks
    def convert(self, bare, storage, synchronise):
        """
        Make the XEP-0402 node say what a XEP-0048 C{<storage/>} says.  The
        node gets the XEP-0402 options (private, every item kept) even if
        it had others, as Prosody does.

        @param synchronise: whether rooms the storage does not have are
            retracted (a set), or only added and updated (a migration).
        @return: Deferred firing when published.
        @raise StanzaError: C{bad-request} for an invalid conference.
        """
        conferences = legacyConferences(storage)
        changed = False
        self._converting.add(bare)
        try:
            node = yield self.store.getNode(bare, ns.BOOKMARKS)
            if not conferences:
                if synchronise and node is not None:
                    changed = True
                    yield self.sm.pep.purgeNode(bare, ns.BOOKMARKS)
                return
            yield self.sm.pep.configureNode(bare, ns.BOOKMARKS, OPTIONS)
            current = {}
            for record in (yield self.store.items(bare, ns.BOOKMARKS)):
                try:
                    current[record["id"]] = parseElement(record["xml"])
                except ValueError:
                    current[record["id"]] = None
            for room, legacy in conferences:
                old = current.get(room)
                conference = _conference(ns.BOOKMARKS, legacy, _extensions(old))
                if _same(conference, old):
                    continue
                changed = True
                yield self.sm.pep.publishItem(bare, ns.BOOKMARKS, room, conference)
            if synchronise:
                rooms = {room for room, _ in conferences}
                for itemID in current:
                    if itemID not in rooms:
                        changed = True
                        yield self.sm.pep.retractItem(bare, ns.BOOKMARKS, itemID, True)
        finally:
            self._converting.discard(bare)
            if changed:
                self._changed(bare)

    def resourceBound(self, session, bare, **kw):
        """
        C{resource-bound}: XEP-0048 bookmarks still in private storage or
        published by a client on the XEP-0048 PEP node move to the XEP-0402
        node.
        """
        self.migrate(bare)

    @defer.inlineCallbacks
    def migrate(self, bare):
        """
        Move XEP-0048 bookmarks kept in private storage, or published on
        the XEP-0048 PEP node before the server kept it, to the XEP-0402
        node (merged), then forget them there; the XEP-0048 node gets the
        server's options.

        @return: Deferred firing when done (failures are logged).
        """
        accountData = self.sm.server.storage.accountData
        try:
            legacyNode = yield self.store.getNode(bare, ns.BOOKMARKS_LEGACY)
            if legacyNode is not None and not _isServers(legacyNode):
                for record in (yield self.store.items(bare, ns.BOOKMARKS_LEGACY)):
                    found = parseElement(record["xml"])
                    if found.uri == ns.BOOKMARKS_LEGACY and found.name == "storage":
                        yield self.convert(bare, found, False)
                yield self.sm.pep.configureNode(bare, ns.BOOKMARKS_LEGACY, LEGACY_OPTIONS)
                self._changed(bare)
            stored = yield accountData.get(bare, PRIVATE_DOCUMENT)
            if stored is None:
                return
            yield self.convert(bare, parseElement(stored), False)
            yield accountData.delete(bare, PRIVATE_DOCUMENT)
        except StorageUnavailable as e:
            # The database away (or closed at shutdown): the next session
            # tries again.
            log.warn("bookmarks of {jid} not moved to XEP-0402: {error}", jid=bare, error=e)
        except Exception:
            # Kept where they are: the next session tries again.
            log.failure("moving the bookmarks of {jid} to XEP-0402 failed", jid=bare)

    # --- the XEP-0048 PEP node follows

    def itemPublished(self, owner, node, **kw):
        """
        C{pep-item-published}: a XEP-0402 change is shown on the XEP-0048
        node.
        """
        if node == ns.BOOKMARKS and owner not in self._converting:
            self._changed(owner)

    def itemsRemoved(self, owner, node, **kw):
        """
        C{pep-items-removed}: as L{itemPublished}.
        """
        self.itemPublished(owner, node)

    def _changed(self, owner):
        if owner in self._remaking:
            self._remaking[owner] = True
            return
        self._remaking[owner] = False
        self._remake(owner)

    @defer.inlineCallbacks
    def _remake(self, owner):
        # One remake at a time per account, again while changes came in:
        # the last one reads the last state.
        try:
            while True:
                self._remaking[owner] = False
                records = yield self.store.items(owner, ns.BOOKMARKS)
                # Private whatever it was before.
                yield self.sm.pep.configureNode(owner, ns.BOOKMARKS_LEGACY, LEGACY_OPTIONS)
                yield self.sm.pep.publishItem(owner, ns.BOOKMARKS_LEGACY, LEGACY_ITEM, legacyStorage(records))
                if not self._remaking[owner]:
                    break
        except StorageUnavailable as e:
            log.warn("XEP-0048 bookmarks of {jid} not updated: {error}", jid=owner, error=e)
        except Exception:
            log.failure("updating the XEP-0048 bookmarks of {jid} failed", jid=owner)
        finally:
            del self._remaking[owner]

    def _failed(self, failure, iq, reply):
        if failure.check(StanzaError):
            reply(errorReply(iq, failure.value, payload=False))
            return
        log.failure("a bookmarks request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))


def install(sm):
    """
    Bookmarks (C{sm.bookmarks}): private storage and PEP requests about
    XEP-0048 bookmarks are taken before the private storage and PEP
    handlers; the XEP-0048 node follows the XEP-0402 one.
    """
    sm.bookmarks = Bookmarks(sm)
    sm.accountFeatures.extend(FEATURES)
    for family in (IQ_GET_SELF, IQ_SET_SELF):
        sm.hooks.add(family + ns.PRIVATE, sm.bookmarks.handlePrivate, priority=1)
        sm.hooks.add(family + ns.PUBSUB, sm.bookmarks.handleLegacyPEP, priority=1)
    sm.hooks.add(PEP_ITEM_PUBLISHED, sm.bookmarks.itemPublished)
    sm.hooks.add(PEP_ITEMS_REMOVED, sm.bookmarks.itemsRemoved)
    sm.hooks.add(RESOURCE_BOUND, sm.bookmarks.resourceBound)
