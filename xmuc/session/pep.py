"""
Personal Eventing Protocol (XEP-0163): every account is a small pubsub
service (XEP-0060) at its bare JID, the subset modern clients rely on
(OMEMO device lists and bundles, avatars, XEP-0402 bookmarks, nicknames),
behaving as Prosody 0.12's mod_pep.

Nodes are created when first published to (C{auto-create}), with the
configuration given in C{<publish-options/>} over the defaults (access
model C{presence}, one persistent item, last item sent on presence).
Publishing with options that do not match an existing node fails with
C{conflict}/C{precondition-not-met}.  Access models: C{presence} (the
owner and contacts with a C{from}/C{both} subscription), C{open} (anyone)
and C{whitelist} (the owner only; there are no affiliations); C{roster}
and C{authorize} are C{not-acceptable}, as in Prosody.

Notifications follow entity capabilities (XEP-0115): the available
presence of the owner's own resources, and of contacts allowed to see the
owner's presence, carries a C{<c/>}; its features are asked for once per
C{ver} (a disco#info iq from the owner's bare JID, as Prosody does) and
the nodes with a C{<node>+notify} feature are what that resource gets
notifications for, and the last item of, when it becomes interested.
Interests live in memory and are forgotten with the resource's
unavailable presence.

Explicit subscriptions (XEP-0060 section 6) are for those who may read
the node, with their own JID; they are kept in the node's configuration
(L{SUBSCRIBERS}), go with the node, and are notified as the interested
resources are (the access model is checked at each notification).  The
owner is the only affiliate of its nodes; it lists and sets
subscriptions, not affiliations.

Storage: C{server.storage.pep} (L{xmuc.storage.interfaces.IPepStore});
items are stored as their serialized payload.
"""

import time
import uuid

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session import caps as capsmod
from xmuc.session.hooks import (
    IQ_GET_BARE,
    IQ_GET_SELF,
    IQ_RESPONSE,
    IQ_SET_BARE,
    IQ_SET_SELF,
    PEP_ITEM_PUBLISHED,
    PEP_ITEMS_REMOVED,
    addIQHandler,
)
from xmuc.session.items import hasFrom
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.xmpp import ns
from xmuc.xmpp import forms
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.jid import parseJID

log = Logger()


#: The id of the disco#info queries of entity capabilities (Prosody's).
CAPS_QUERY_ID = "disco"

#: Largest C{max_items} (Prosody's C{pep_max_items}); C{max} means it.
MAX_ITEMS = 256

#: A node's configuration before publish-options or configure change it.
DEFAULT_CONFIG = {
    "access_model": "presence",
    "persist_items": True,
    "max_items": 1,
    "send_last_published_item": "on_sub_and_presence",
}

#: Access models a node may have (Prosody's C{check_node_config}).
ACCESS_MODELS = ("presence", "open", "whitelist")

#: The account's disco#info features for PEP: those of Prosody 0.12's
#: mod_pep that are implemented here.
FEATURES = (ns.PUBSUB,) + tuple(
    ns.PUBSUB + "#" + feature
    for feature in (
        "access-presence",
        "auto-create",
        "auto-subscribe",
        "config-node",
        "config-node-max",
        "create-and-configure",
        "create-nodes",
        "delete-items",
        "delete-nodes",
        "filtered-notifications",
        "instant-nodes",
        "item-ids",
        "last-published",
        "multi-items",
        "persistent-items",
        "presence-notifications",
        "presence-subscribe",
        "publish",
        "publish-options",
        "purge-nodes",
        "retract-items",
        "manage-subscriptions",
        "retrieve-affiliations",
        "retrieve-default",
        "retrieve-items",
        "retrieve-subscriptions",
        "subscribe",
    )
)


def _text(value):
    return value


def _maxItems(value):
    if value == "max":
        return MAX_ITEMS
    number = int(value)
    if number < 0:
        raise ValueError("negative")
    return number


def _choice(*allowed):
    def parse(value):
        if value not in allowed:
            raise ValueError("not one of %s" % (", ".join(allowed),))
        return value

    return parse


#: The choices of the list fields of the node configuration.
PUBLISH_MODELS = ("publishers", "subscribers", "open")
SEND_LAST_PUBLISHED_ITEM = ("never", "on_sub", "on_sub_and_presence")
NOTIFICATION_TYPES = ("normal", "headline")

#: Node configuration form fields: var -> (config key, parser).  The access
#: model is checked after parsing (not-acceptable rather than bad-request).
CONFIG_FIELDS = {
    "pubsub#title": ("title", _text),
    "pubsub#description": ("description", _text),
    "pubsub#type": ("payload_type", _text),
    "pubsub#max_items": ("max_items", _maxItems),
    "pubsub#persist_items": ("persist_items", forms.parseBoolean),
    "pubsub#access_model": ("access_model", _text),
    "pubsub#publish_model": ("publish_model", _choice(*PUBLISH_MODELS)),
    "pubsub#send_last_published_item": ("send_last_published_item", _choice(*SEND_LAST_PUBLISHED_ITEM)),
    "pubsub#deliver_notifications": ("notify_items", forms.parseBoolean),
    "pubsub#deliver_payloads": ("include_payload", forms.parseBoolean),
    "pubsub#notify_delete": ("notify_delete", forms.parseBoolean),
    "pubsub#notify_retract": ("notify_retract", forms.parseBoolean),
    "pubsub#notification_type": ("notification_type", _choice(*NOTIFICATION_TYPES)),
}

#: The type each field is sent with, as XEP-0060's registry of the
#: C{pubsub#node_config} FORM_TYPE gives it (clients with typed form
#: templates refuse a form whose field types differ), and the options of
#: the list fields.
CONFIG_FIELD_TYPES = {
    "pubsub#title": ("text-single", ()),
    "pubsub#description": ("text-single", ()),
    "pubsub#type": ("text-single", ()),
    "pubsub#max_items": ("text-single", ()),
    "pubsub#persist_items": ("boolean", ()),
    "pubsub#access_model": ("list-single", ACCESS_MODELS),
    "pubsub#publish_model": ("list-single", PUBLISH_MODELS),
    "pubsub#send_last_published_item": ("list-single", SEND_LAST_PUBLISHED_ITEM),
    "pubsub#deliver_notifications": ("boolean", ()),
    "pubsub#deliver_payloads": ("boolean", ()),
    "pubsub#notify_delete": ("boolean", ()),
    "pubsub#notify_retract": ("boolean", ()),
    "pubsub#notification_type": ("list-single", NOTIFICATION_TYPES),
}

_BOOLEAN_KEYS = {key for key, parse in CONFIG_FIELDS.values() if parse is forms.parseBoolean}


#: The requests of the pubsub namespace that may name no node (all the
#: requester's subscriptions or affiliations on the service).
_NODE_OPTIONAL = frozenset((ns.PUBSUB + "subscriptions", ns.PUBSUB + "affiliations"))

#: The requests of the pubsub namespace only the owner makes.
_OWNER_ONLY = frozenset(("publish", "retract", "create"))

#: The node configuration key of the explicit subscriptions (XEP-0060
#: section 6.1): C{{subscriber JID: "subscribed"}}, kept with the node
#: (they go when it is deleted).
SUBSCRIBERS = "subscribers"


def pubsubError(condition, pubsubCondition=None, text=None, feature=None):
    """
    @param condition: the RFC 6120 condition.
    @param pubsubCondition: optional XEP-0060 application condition (in
        C{http://jabber.org/protocol/pubsub#errors}).
    @param feature: the C{feature} of an C{<unsupported/>} condition.
    @return: a L{StanzaError}.
    """
    app = None
    if pubsubCondition is not None:
        app = domish.Element((ns.PUBSUB_ERRORS, pubsubCondition))
        if feature is not None:
            app["feature"] = feature
    return StanzaError(condition, text=text, appCondition=app)


def parseForm(form):
    """
    Read a node configuration (or publish-options) data form.

    @param form: the C{<x xmlns='jabber:x:data'/>}.
    @return: dict of the configuration keys it sets (unknown fields are
        ignored).
    @raise StanzaError: C{bad-request} for a value that does not parse.
    """
    config = {}
    for var, values in forms.submittedFields(form):
        spec = CONFIG_FIELDS.get(var)
        if spec is None or not values:
            continue
        key, parse = spec
        try:
            config[key] = parse(values[0].strip() if key in _BOOLEAN_KEYS or key == "max_items" else values[0])
        except ValueError:
            raise StanzaError("bad-request", text="%s: invalid value" % (var,))
    return config


def configForm(config, formType="form"):
    """
    @param config: a complete node configuration.
    @return: the C{<x xmlns='jabber:x:data'/>} showing it.
    """
    form = forms.Form(formType, ns.PUBSUB_NODE_CONFIG)
    for var, (key, parse) in CONFIG_FIELDS.items():
        if key not in config:
            continue
        value = config[key]
        type, options = CONFIG_FIELD_TYPES[var]
        if type == "boolean":
            value = "1" if value else "0"
        form.add(var, type, values=[value], options=[(option, None) for option in options])
    return form.toElement()


def fullConfig(stored):
    """
    @return: the defaults overridden by a stored configuration.
    """
    config = dict(DEFAULT_CONFIG)
    config.update(stored or {})
    return config


def mayAccess(owner, config, requester, roster):
    """
    Whether C{requester} may see the items of a node (and be notified).

    @param owner: the owner's bare JID str.
    @param config: the node's complete configuration.
    @param requester: the requester's bare JID str.
    @param roster: the owner's roster dict.
    """
    if requester == owner:
        return True
    model = config.get("access_model")
    if model == "open":
        return True
    if model == "presence":
        return hasFrom(roster.get(requester))
    return False


def _payloadOf(item):
    """
    @return: the single payload element of a published C{<item/>}, or
        L{None} when it has none or several (Prosody's C{is_item_stanza}).
    """
    children = list(item.elements())
    return children[0] if len(children) == 1 else None


def _logPresenceFailure(failure):
    # The database being away (or already closed at shutdown) is not a bug.
    if failure.check(StorageUnavailable):
        log.warn("PEP presence handling skipped: {error}", error=failure.value)
    else:
        log.failure("PEP presence handling failed", failure)


def _logLastItemFailure(failure):
    # As for presence: a database away is not a bug.
    if failure.check(StorageUnavailable):
        log.warn("the last PEP item was not sent: {error}", error=failure.value)
    else:
        log.failure("sending the last PEP item failed", failure)


def _bare(full):
    """
    @param full: a JID the server stamped or routed (already normalized).
    @return: its bare part, or L{None} when there is none.
    """
    if not full:
        return None
    return full.split("/", 1)[0] or None


class PersonalEventing:
    """
    The PEP services of the local accounts.

    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar interests: owner bare JID -> {recipient full JID: (caps key,
        frozenset of nodes)}.
    @ivar knownCaps: caps key -> frozenset of the nodes it notifies for.
    """

    #: Most distinct caps remembered (a client cannot grow this forever).
    MAX_KNOWN_CAPS = 10000

    def __init__(self, sm):
        self.sm = sm
        self.router = sm.router
        self.interests = {}
        self.knownCaps = {}
        # caps key -> list of (owner, recipient) waiting for its features
        self._waiting = {}
        # (owner, recipient) -> the Caps of a query under way
        self._queries = {}
        self._locks = {}

    @property
    def store(self):
        return self.sm.server.storage.pep

    def _locked(self, owner, operation, *args):
        """
        Run C{operation(*args)} alone for C{owner} (node creation and
        configuration are read-modify-write).
        """
        lock = self._locks.get(owner)
        if lock is None:
            lock = self._locks[owner] = defer.DeferredLock()

        def release(result):
            if not lock.locked and not lock.waiting and self._locks.get(owner) is lock:
                del self._locks[owner]
            return result

        return lock.run(operation, *args).addBoth(release)

    # --- iqs

    def handleServiceIQ(self, iq, child, reply, bare, **kw):
        """
        A pubsub iq to the PEP service of the account C{bare}, from its
        own sessions or from anyone else (C{iq-get/self}, C{iq-get/bare}
        and their C{set} events): the service checks who may do what.
        """
        self.handleIQ(iq, child, reply, bare)

    def handleIQ(self, iq, child, reply, owner):
        """
        A pubsub iq to the PEP service of C{owner}.

        @param iq: the iq (its C{from} is the requester).
        @param child: its C{<pubsub/>} (pubsub or pubsub#owner namespace).
        @param reply: callable sending the answer.
        @param owner: the service's bare JID str (an existing account).
        """
        requester = _bare(iq.getAttribute("from"))
        action = None
        for element in child.elements():
            # <publish-options/> and <configure/> go with <publish/> and
            # <create/>; in the owner namespace <configure/> is the action.
            if child.uri == ns.PUBSUB_OWNER or element.name not in ("publish-options", "configure"):
                action = element
                break
        if action is None or requester is None:
            reply(errorReply(iq, "bad-request", payload=False))
            return
        kind = iq["type"]
        name = action.name
        isOwner = requester == owner
        if child.uri == ns.PUBSUB:
            handler = {
                ("set", "publish"): self._publish,
                ("get", "items"): self._items,
                ("set", "retract"): self._retract,
                ("set", "create"): self._create,
                ("set", "subscribe"): self._subscribe,
                ("set", "unsubscribe"): self._unsubscribe,
                ("get", "subscriptions"): self._ownSubscriptions,
                ("get", "affiliations"): self._ownAffiliations,
            }.get((kind, name))
        else:
            handler = {
                ("set", "delete"): self._delete,
                ("set", "purge"): self._purge,
                ("get", "configure"): self._getConfigure,
                ("set", "configure"): self._setConfigure,
                ("get", "default"): self._default,
                ("get", "subscriptions"): self._subscriptions,
                ("set", "subscriptions"): self._setSubscriptions,
                ("get", "affiliations"): self._affiliations,
            }.get((kind, name))
        if handler is None:
            feature = {"affiliations": "modify-affiliations", "options": "subscription-options"}.get(name, name)
            reply(errorReply(iq, pubsubError("feature-not-implemented", "unsupported", feature=feature), payload=False))
            return
        node = action.getAttribute("node")
        if not node and name not in ("create", "default") and child.uri + name not in _NODE_OPTIONAL:
            reply(errorReply(iq, pubsubError("bad-request", "nodeid-required"), payload=False))
            return
        if not isOwner and child.uri != ns.PUBSUB or (not isOwner and name in _OWNER_ONLY):
            reply(errorReply(iq, "forbidden", payload=False))
            return
        d = defer.maybeDeferred(handler, iq, child, action, node, owner, requester)
        d.addCallback(self._answer, reply)
        d.addErrback(self._failed, iq, reply)

    @staticmethod
    def _answer(result, reply):
        """
        Send what a request handler answered: its result iq, or C{(result
        iq, callable)} when something follows the answer (the last item
        after a subscription).
        """
        if isinstance(result, tuple):
            result, then = result
            reply(result)
            then()
        else:
            reply(result)

    def _failed(self, failure, iq, reply):
        if failure.check(StanzaError):
            reply(errorReply(iq, failure.value, payload=False))
            return
        log.failure("a PEP request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))

    def _publishOptions(self, pubsub):
        for element in pubsub.elements():
            if element.name == "publish-options":
                for form in element.elements():
                    if form.name == "x" and form.uri == ns.DATA_FORMS:
                        return parseForm(form)
                return None
        return None

    @staticmethod
    def _checkConfig(config):
        if config.get("access_model") not in ACCESS_MODELS:
            raise StanzaError("not-acceptable")
        if config.get("max_items", 1) > MAX_ITEMS:
            raise StanzaError("not-acceptable")

    def _publish(self, iq, pubsub, publish, node, owner, requester):
        required = self._publishOptions(pubsub)
        item = None
        for element in publish.elements():
            if element.name == "item":
                item = element
                break
        payload = None if item is None else _payloadOf(item)
        if payload is None:
            raise StanzaError("bad-request", text="invalid item")
        itemID = item.getAttribute("id") or str(uuid.uuid4())
        return self._locked(owner, self._publishLocked, iq, node, owner, itemID, payload, required)

    def publishItem(self, owner, node, itemID, payload, required=None):
        """
        Publish an item on behalf of the account (the server's own
        publications, e.g. the avatar taken from the vCard), as if the
        owner had: the node is created if needed, subscribers notified.

        @param payload: the item's payload (L{domish.Element}).
        @param required: publish-options the node must have, or L{None}.
        @return: Deferred firing when stored and notified.
        """
        return self._locked(owner, self._storeAndNotify, node, owner, itemID, payload, required)

    def configureNode(self, owner, node, settings):
        """
        Give the account's node these settings (the server's own nodes,
        e.g. bookmarks that must stay private): created with them over the
        defaults when it does not exist, else changed where they differ.

        @param settings: dict of configuration keys.
        @return: Deferred firing when stored.
        """
        return self._locked(owner, self._configureNodeLocked, owner, node, settings)

    @defer.inlineCallbacks
    def _configureNodeLocked(self, owner, node, settings):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            config = fullConfig(settings)
        else:
            current = fullConfig(stored)
            if all(current.get(key) == value for key, value in settings.items()):
                return
            config = dict(stored)
            config.update(settings)
        self._checkConfig(fullConfig(config))
        yield self.store.setNode(owner, node, config)

    @defer.inlineCallbacks
    def _publishLocked(self, iq, node, owner, itemID, payload, required):
        yield self._storeAndNotify(node, owner, itemID, payload, required)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB, "pubsub")).addElement("publish")
        answer["node"] = node
        answer.addElement("item")["id"] = itemID
        return result

    @defer.inlineCallbacks
    def _storeAndNotify(self, node, owner, itemID, payload, required):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            config = fullConfig(required)
            self._checkConfig(config)
            yield self.store.setNode(owner, node, config)
        else:
            config = fullConfig(stored)
            for key, value in (required or {}).items():
                if config.get(key) != value:
                    raise pubsubError(
                        "conflict", "precondition-not-met", text="Field does not match: " + key
                    )
        if config.get("persist_items"):
            yield self.store.publish(owner, node, itemID, payload.toXml(), time.time())
        if config.get("notify_items", True):
            event = self._itemEvent(owner, node, itemID, payload, publisher=owner)
            self._broadcast(owner, node, config, event)
        self.sm.hooks.fire(PEP_ITEM_PUBLISHED, owner=owner, node=node, itemID=itemID, payload=payload)

    def _itemEvent(self, owner, node, itemID, payload, publisher=None, raw=False):
        """
        @return: the headline notification of an item (C{to} unset).
        """
        message = domish.Element((None, "message"))
        message["from"] = owner
        message["type"] = "headline"
        message["id"] = uuid.uuid4().hex
        items = message.addElement((ns.PUBSUB_EVENT, "event")).addElement("items")
        items["node"] = node
        item = items.addElement("item")
        item["id"] = itemID
        if publisher is not None:
            item["publisher"] = publisher
        if raw:
            item.addRawXml(payload)
        else:
            item.addChild(payload)
        return message

    def _event(self, owner, name, node, **attrs):
        message = domish.Element((None, "message"))
        message["from"] = owner
        message["type"] = "headline"
        message["id"] = uuid.uuid4().hex
        event = message.addElement((ns.PUBSUB_EVENT, "event"))
        container = event.addElement(name)
        container["node"] = node
        return message, container

    def _broadcast(self, owner, node, config, message):
        """
        Send a notification about C{node} to every resource interested in
        it (caps C{+notify}) that may access it.
        """
        recipients = [
            recipient
            for recipient, (key, nodes) in self.interests.get(owner, {}).items()
            if node in nodes
        ]
        for subscriber in config.get(SUBSCRIBERS, {}):
            if subscriber not in recipients:
                recipients.append(subscriber)
        if not recipients:
            return

        def send(roster):
            route = self.router.route
            for recipient in recipients:
                if mayAccess(owner, config, _bare(recipient), roster):
                    copy = domish.Element((None, "message"))
                    copy.attributes = dict(message.attributes)
                    copy["to"] = recipient
                    copy.children = message.children
                    route(copy)

        d = self.sm.rosters.get(owner)
        d.addCallback(send)
        d.addErrback(lambda f: log.failure("PEP notification failed", f))

    @defer.inlineCallbacks
    def _items(self, iq, pubsub, request, node, owner, requester):
        stored = yield self.store.getNode(owner, node)
        config = fullConfig(stored)
        if requester != owner:
            roster = yield self.sm.rosters.get(owner)
            if not mayAccess(owner, config, requester, roster):
                raise StanzaError("forbidden")
        if stored is None:
            raise StanzaError("item-not-found")
        if not config.get("persist_items"):
            raise pubsubError("feature-not-implemented", "unsupported", feature="persistent-items")
        ids = [
            item.getAttribute("id")
            for item in request.elements()
            if item.name == "item" and item.getAttribute("id")
        ] or None
        limit = request.getAttribute("max_items")
        if limit is not None:
            try:
                limit = int(limit)
            except ValueError:
                raise StanzaError("bad-request", text="invalid max_items")
            if limit < 0:
                raise StanzaError("bad-request", text="invalid max_items")
        found = yield self.store.items(owner, node, max=limit if ids is None else None, ids=ids)
        if ids is None:
            # Oldest first, as Prosody answers.
            found.reverse()
        else:
            order = {itemID: index for index, itemID in enumerate(ids)}
            found.sort(key=lambda item: order.get(item["id"], 0))
            if limit is not None:
                found = found[:limit]
        result = toResponse(iq, "result")
        items = result.addElement((ns.PUBSUB, "pubsub")).addElement("items")
        items["node"] = node
        for record in found:
            item = items.addElement("item")
            item["id"] = record["id"]
            item.addRawXml(record["xml"])
        return result

    def _retract(self, iq, pubsub, retract, node, owner, requester):
        itemID = None
        for item in retract.elements():
            if item.name == "item":
                itemID = item.getAttribute("id")
                break
        if not itemID:
            raise StanzaError("item-not-found")
        notify = retract.getAttribute("notify") in ("1", "true")
        d = self.retractItem(owner, node, itemID, notify)
        d.addCallback(lambda _: toResponse(iq, "result"))
        return d

    @defer.inlineCallbacks
    def retractItem(self, owner, node, itemID, notify):
        """
        Retract an item of the account's node (from its owner, or by the
        server on its behalf).

        @param notify: whether the subscribers are told (when the node's
            C{notify_retract} allows).
        @return: Deferred firing when done.
        @raise StanzaError: C{item-not-found} when there is no such item.
        """
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        removed = yield self.store.retract(owner, node, itemID)
        if not removed:
            raise StanzaError("item-not-found")
        if notify:
            config = fullConfig(stored)
            if config.get("notify_retract", True):
                message, container = self._event(owner, "items", node)
                container.addElement("retract")["id"] = itemID
                self._broadcast(owner, node, config, message)
        self.sm.hooks.fire(PEP_ITEMS_REMOVED, owner=owner, node=node, itemID=itemID)

    def _create(self, iq, pubsub, create, node, owner, requester):
        options = {}
        for element in pubsub.elements():
            if element.name == "configure":
                for form in element.elements():
                    if form.name == "x" and form.uri == ns.DATA_FORMS:
                        options = parseForm(form)
        return self._locked(owner, self._createLocked, iq, node, owner, options)

    @defer.inlineCallbacks
    def _createLocked(self, iq, node, owner, options):
        instant = not node
        if instant:
            node = uuid.uuid4().hex
        config = fullConfig(options)
        self._checkConfig(config)
        stored = yield self.store.getNode(owner, node)
        if stored is not None:
            raise StanzaError("conflict")
        yield self.store.setNode(owner, node, config)
        result = toResponse(iq, "result")
        if instant:
            result.addElement((ns.PUBSUB, "pubsub")).addElement("create")["node"] = node
        return result

    @defer.inlineCallbacks
    def _delete(self, iq, pubsub, delete, node, owner, requester):
        stored = yield self.store.getNode(owner, node)
        deleted = yield self.store.deleteNode(owner, node)
        if not deleted:
            raise StanzaError("item-not-found")
        config = fullConfig(stored)
        if config.get("notify_delete", True):
            message, _ = self._event(owner, "delete", node)
            self._broadcast(owner, node, config, message)
        self.sm.hooks.fire(PEP_ITEMS_REMOVED, owner=owner, node=node, itemID=None)
        return toResponse(iq, "result")

    def _purge(self, iq, pubsub, purge, node, owner, requester):
        d = self.purgeNode(owner, node)
        d.addCallback(lambda _: toResponse(iq, "result"))
        return d

    def purgeNode(self, owner, node):
        """
        Remove every item of the account's node, telling the subscribers
        (from its owner, or by the server on its behalf).

        @return: Deferred firing when done.
        @raise StanzaError: C{item-not-found} when there is no such node.
        """
        return self._locked(owner, self._purgeLocked, node, owner)

    @defer.inlineCallbacks
    def _purgeLocked(self, node, owner):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        # The store has no purge: the node is created again, empty.
        yield self.store.deleteNode(owner, node)
        yield self.store.setNode(owner, node, stored)
        config = fullConfig(stored)
        if config.get("notify_retract", True):
            message, _ = self._event(owner, "purge", node)
            self._broadcast(owner, node, config, message)
        self.sm.hooks.fire(PEP_ITEMS_REMOVED, owner=owner, node=node, itemID=None)

    @defer.inlineCallbacks
    def _getConfigure(self, iq, pubsub, configure, node, owner, requester):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB_OWNER, "pubsub")).addElement("configure")
        answer["node"] = node
        answer.addChild(configForm(fullConfig(stored)))
        return result

    def _setConfigure(self, iq, pubsub, configure, node, owner, requester):
        form = None
        for element in configure.elements():
            if element.name == "x" and element.uri == ns.DATA_FORMS:
                form = element
        if form is None:
            raise StanzaError("bad-request", text="Missing dataform")
        if form.getAttribute("type") == "cancel":
            return toResponse(iq, "result")
        changes = parseForm(form)
        return self._locked(owner, self._configureLocked, iq, node, owner, changes)

    @defer.inlineCallbacks
    def _configureLocked(self, iq, node, owner, changes):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        config = fullConfig(stored)
        config.update(changes)
        self._checkConfig(config)
        yield self.store.setNode(owner, node, config)
        if config.get("persist_items") and config["max_items"] < fullConfig(stored)["max_items"]:
            # The store trims at the next publish; fewer items now.
            found = yield self.store.items(owner, node)
            for record in found[config["max_items"]:]:
                yield self.store.retract(owner, node, record["id"])
        return toResponse(iq, "result")

    def _default(self, iq, pubsub, default, node, owner, requester):
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB_OWNER, "pubsub")).addElement("default")
        answer.addChild(configForm(dict(DEFAULT_CONFIG)))
        return result

    # --- subscriptions (XEP-0060 sections 6.1, 6.2, 5.6, 5.7, 8.8, 8.9)

    def _subscriber(self, action, requester):
        """
        @return: the normalized C{jid} of a subscribe or unsubscribe.
        @raise StanzaError: C{bad-request}/C{jid-required} without one,
            C{bad-request}/C{invalid-jid} when it is not the requester's
            (XEP-0060 6.1.3.1: the bare JIDs must match).
        """
        found = parseJID(action.getAttribute("jid") or "")
        if found is None:
            raise pubsubError("bad-request", "jid-required")
        if found.userhost() != requester:
            raise pubsubError("bad-request", "invalid-jid")
        return found.full()

    def _subscribe(self, iq, pubsub, subscribe, node, owner, requester):
        subscriber = self._subscriber(subscribe, requester)
        d = self._locked(owner, self._subscribeLocked, iq, node, owner, requester, subscriber)

        def sendLast():
            d = self._sendLast(owner, node, subscriber, onSubscribe=True)
            d.addErrback(_logLastItemFailure)

        # The result goes before the last item (XEP-0060 6.1.7).
        d.addCallback(lambda result: (result, sendLast))
        return d

    @defer.inlineCallbacks
    def _subscribeLocked(self, iq, node, owner, requester, subscriber):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        config = fullConfig(stored)
        roster = yield self.sm.rosters.get(owner)
        if not mayAccess(owner, config, requester, roster):
            # XEP-0060 6.1.3.2 and 6.1.3.4.
            if config.get("access_model") == "presence":
                raise pubsubError("not-authorized", "presence-subscription-required")
            raise pubsubError("not-allowed", "closed-node")
        subscribers = dict(config.get(SUBSCRIBERS, {}))
        if subscribers.get(subscriber) != "subscribed":
            subscribers[subscriber] = "subscribed"
            stored = dict(stored)
            stored[SUBSCRIBERS] = subscribers
            yield self.store.setNode(owner, node, stored)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB, "pubsub")).addElement("subscription")
        answer["node"] = node
        answer["jid"] = subscriber
        answer["subscription"] = "subscribed"
        return result

    def _unsubscribe(self, iq, pubsub, unsubscribe, node, owner, requester):
        found = parseJID(unsubscribe.getAttribute("jid") or "")
        if found is None:
            raise pubsubError("bad-request", "jid-required")
        if found.userhost() != requester:
            # XEP-0060 6.2.3.3.
            raise StanzaError("forbidden")
        return self._locked(owner, self._unsubscribeLocked, iq, node, owner, found.full())

    @defer.inlineCallbacks
    def _unsubscribeLocked(self, iq, node, owner, subscriber):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        subscribers = dict(stored.get(SUBSCRIBERS, {}))
        if subscribers.pop(subscriber, None) is None:
            # XEP-0060 6.2.3.2.
            raise pubsubError("unexpected-request", "not-subscribed")
        stored = dict(stored)
        stored[SUBSCRIBERS] = subscribers
        yield self.store.setNode(owner, node, stored)
        return toResponse(iq, "result")

    @defer.inlineCallbacks
    def _ownSubscriptions(self, iq, pubsub, request, node, owner, requester):
        # XEP-0060 5.6: the requester's subscriptions on the service.
        nodes = yield self._nodes(owner, node)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB, "pubsub")).addElement("subscriptions")
        if node:
            answer["node"] = node
        for name, config in nodes:
            for subscriber, state in sorted(config.get(SUBSCRIBERS, {}).items()):
                if _bare(subscriber) == requester:
                    entry = answer.addElement("subscription")
                    entry["node"] = name
                    entry["jid"] = subscriber
                    entry["subscription"] = state
        return result

    @defer.inlineCallbacks
    def _ownAffiliations(self, iq, pubsub, request, node, owner, requester):
        # XEP-0060 5.7: the owner owns every node; nobody else has an
        # affiliation on a personal service.
        nodes = yield self._nodes(owner, node)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB, "pubsub")).addElement("affiliations")
        if node:
            answer["node"] = node
        if requester == owner:
            for name, config in nodes:
                entry = answer.addElement("affiliation")
                entry["node"] = name
                entry["affiliation"] = "owner"
        return result

    @defer.inlineCallbacks
    def _nodes(self, owner, node):
        """
        @return: Deferred firing with C{[(node, stored config)]}: every
            node of the service, or the one named (C{item-not-found} when
            it does not exist).
        """
        if node:
            stored = yield self.store.getNode(owner, node)
            if stored is None:
                raise StanzaError("item-not-found")
            return [(node, stored)]
        nodes = yield self.store.listNodes(owner)
        return sorted(nodes, key=lambda pair: pair[0])

    @defer.inlineCallbacks
    def _subscriptions(self, iq, pubsub, request, node, owner, requester):
        # XEP-0060 8.8.1: the owner lists a node's subscribers.
        ((name, stored),) = yield self._nodes(owner, node)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB_OWNER, "pubsub")).addElement("subscriptions")
        answer["node"] = node
        for subscriber, state in sorted(stored.get(SUBSCRIBERS, {}).items()):
            entry = answer.addElement("subscription")
            entry["jid"] = subscriber
            entry["subscription"] = state
        return result

    def _setSubscriptions(self, iq, pubsub, request, node, owner, requester):
        # XEP-0060 8.8.2: the owner subscribes or unsubscribes others
        # ("subscribed" or "none"; no pending nor unconfigured here).
        changes = {}
        for entry in request.elements():
            if entry.name != "subscription":
                continue
            found = parseJID(entry.getAttribute("jid") or "")
            state = entry.getAttribute("subscription")
            if found is None or state not in ("subscribed", "none"):
                raise StanzaError("bad-request", text="a subscription needs a jid and subscribed or none")
            changes[found.full()] = state
        return self._locked(owner, self._setSubscriptionsLocked, iq, node, owner, changes)

    @defer.inlineCallbacks
    def _setSubscriptionsLocked(self, iq, node, owner, changes):
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            raise StanzaError("item-not-found")
        subscribers = dict(stored.get(SUBSCRIBERS, {}))
        for subscriber, state in changes.items():
            if state == "none":
                subscribers.pop(subscriber, None)
            else:
                subscribers[subscriber] = state
        stored = dict(stored)
        stored[SUBSCRIBERS] = subscribers
        yield self.store.setNode(owner, node, stored)
        return toResponse(iq, "result")

    @defer.inlineCallbacks
    def _affiliations(self, iq, pubsub, request, node, owner, requester):
        # XEP-0060 8.9.1: the owner is the only affiliate of its nodes.
        yield self._nodes(owner, node)
        result = toResponse(iq, "result")
        answer = result.addElement((ns.PUBSUB_OWNER, "pubsub")).addElement("affiliations")
        answer["node"] = node
        entry = answer.addElement("affiliation")
        entry["jid"] = owner
        entry["affiliation"] = "owner"
        return result

    # --- service discovery of the account

    def nodesFor(self, owner, requester):
        """
        The nodes of C{owner} that C{requester} may see.

        @return: Deferred firing with a sorted list of node names, or
            L{None} when the requester may not list the account's items
            at all (as Prosody's mod_disco: only the owner and contacts
            receiving its presence may).
        """

        @defer.inlineCallbacks
        def visible():
            roster = yield self.sm.rosters.get(owner)
            if requester != owner and not hasFrom(roster.get(requester)):
                return None
            nodes = yield self.store.listNodes(owner)
            return [
                node
                for node, config in nodes
                if mayAccess(owner, fullConfig(config), requester, roster)
            ]

        return visible()

    # --- entity capabilities and presence

    def ownPresence(self, stanza, fullStr, bare):
        """
        An available presence of one of the owner's resources.
        """
        self._updateCaps(bare, fullStr, stanza)

    def contactPresence(self, stanza, owner):
        """
        An available or unavailable presence delivered to local user
        C{owner} (at the bare JID or a resource).
        """
        sender = stanza.getAttribute("from")
        if not sender:
            return
        kind = stanza.getAttribute("type")
        if kind == "unavailable":
            self.resourceGone(owner, sender)
            return
        if kind is not None or not self.sm.isOnline(owner):
            return
        senderBare = _bare(sender)
        if senderBare is None or senderBare == owner:
            return
        if senderBare.rpartition("@")[2] in self.sm.router.components:
            # A service's presence (a MUC occupant's) is no contact's: no
            # roster look-up.  Users of local hosts and of other servers
            # (federation) may be contacts.
            return
        roster = self.sm.rosters.cached(owner)
        if roster is not None:
            if hasFrom(roster.get(senderBare)):
                self._updateCaps(owner, sender, stanza)
            return

        def check(roster):
            if hasFrom(roster.get(senderBare)):
                self._updateCaps(owner, sender, stanza)

        d = self.sm.rosters.get(owner)
        d.addCallback(check)
        d.addErrback(_logPresenceFailure)

    def resourceGone(self, owner, recipient):
        """
        C{recipient} went unavailable: no more notifications from the
        PEP service of C{owner}, and its caps query will not be answered.
        """
        for waiting in self._waiting.values():
            if (owner, recipient) in waiting:
                waiting.remove((owner, recipient))
        found = self._queries.pop((owner, recipient), None)
        if found is not None:
            waiting = self._waiting.pop(found.key, [])
            self._askNext(found, [w for w in waiting if w[1] != recipient])
        interests = self.interests.get(owner)
        if interests is not None:
            interests.pop(recipient, None)
            if not interests or not self.sm.isOnline(owner):
                del self.interests[owner]

    def _updateCaps(self, owner, recipient, stanza):
        found = capsmod.fromPresence(stanza)
        current = self.interests.get(owner, {}).get(recipient)
        if found is None:
            self._setInterest(owner, recipient, None, frozenset())
            return
        if current is not None and current[0] == found.key:
            return
        nodes = self.knownCaps.get(found.key)
        if nodes is not None:
            self._setInterest(owner, recipient, found.key, nodes)
            return
        waiting = self._waiting.setdefault(found.key, [])
        if (owner, recipient) not in waiting:
            waiting.append((owner, recipient))
        if len(waiting) == 1:
            self._query(found, owner, recipient)

    def _query(self, found, owner, recipient):
        iq = domish.Element((None, "iq"))
        iq["type"] = "get"
        iq["from"] = owner
        iq["to"] = recipient
        # Prosody's fixed id: an answer is told apart by its addresses.
        iq["id"] = CAPS_QUERY_ID
        iq.addElement((ns.DISCO_INFO, "query"))["node"] = found.queryNode
        self._queries[(owner, recipient)] = found
        self.router.route(iq)

    def iqResponse(self, iq, **kw):
        """
        An iq result or error addressed to a user's bare JID: the answer
        to a caps query is taken here.

        @return: whether it was one.
        """
        if iq.getAttribute("id") != CAPS_QUERY_ID:
            return False
        recipient = iq.getAttribute("from")
        # Without 'to' (a client answering its own account), the sender's.
        owner = iq.getAttribute("to") or _bare(recipient)
        found = self._queries.pop((owner, recipient), None)
        if found is None:
            return False
        waiting = self._waiting.pop(found.key, [])
        info = None
        if iq.getAttribute("type") == "result":
            for child in iq.elements():
                if child.name == "query" and child.uri == ns.DISCO_INFO:
                    info = child
        others = [w for w in waiting if w[1] != recipient]
        if info is None:
            # No answer from this one: ask the next one waiting.
            self._askNext(found, others)
            return True
        nodes = capsmod.notifyNodes(info)
        if found.ver is not None and capsmod.verification(info) != found.ver:
            # A client cannot speak for the others announcing this ver:
            # its answer is for itself only.
            for waiter in waiting:
                if waiter[1] == recipient:
                    self._setInterest(waiter[0], recipient, found.key, nodes)
            self._askNext(found, others)
            return True
        if len(self.knownCaps) >= self.MAX_KNOWN_CAPS:
            self.knownCaps.pop(next(iter(self.knownCaps)))
        self.knownCaps[found.key] = nodes
        for waiter in waiting:
            self._setInterest(waiter[0], waiter[1], found.key, nodes)
        return True

    def _askNext(self, found, waiting):
        if waiting:
            self._waiting[found.key] = waiting
            self._query(found, *waiting[0])

    def _setInterest(self, owner, recipient, key, nodes):
        interests = self.interests.get(owner)
        current = interests.get(recipient) if interests else None
        old = current[1] if current is not None else frozenset()
        if key is None and not old:
            return
        if interests is None:
            interests = self.interests[owner] = {}
        interests[recipient] = (key, nodes)
        for node in sorted(nodes - old):
            d = self._sendLast(owner, node, recipient)
            d.addErrback(lambda f: log.failure("sending the last PEP item failed", f))

    @defer.inlineCallbacks
    def _sendLast(self, owner, node, recipient, onSubscribe=False):
        """
        Send the last item of C{node} to C{recipient}: it became interested
        (caps) or, C{onSubscribe}, subscribed.
        """
        stored = yield self.store.getNode(owner, node)
        if stored is None:
            return
        config = fullConfig(stored)
        wanted = ("on_sub", "on_sub_and_presence") if onSubscribe else ("on_sub_and_presence",)
        if config.get("send_last_published_item") not in wanted:
            return
        if not config.get("persist_items"):
            return
        roster = yield self.sm.rosters.get(owner)
        if not mayAccess(owner, config, _bare(recipient), roster):
            return
        found = yield self.store.items(owner, node, max=1)
        if not found:
            return
        # Only the owner publishes: Prosody's stored items name it.
        message = self._itemEvent(owner, node, found[0]["id"], found[0]["xml"], publisher=owner, raw=True)
        message["to"] = recipient
        self.router.route(message)

    # --- accounts

    def accountDeleted(self, jid, **kw):
        """
        Event handler of C{account-deleted}: the account's interests go
        (its stored nodes are deleted with the account's data).
        """
        self.interests.pop(jid, None)
        for interests in self.interests.values():
            for recipient in [r for r in interests if _bare(r) == jid]:
                del interests[recipient]


def install(sm):
    """
    Personal eventing (C{sm.pep}): pubsub iqs to an account, from its own
    sessions or from others; the answers to its caps queries; the account
    is a pubsub/pep service in its disco#info.  Notifications follow
    presence on the presence path.  The PEP data goes with a deleted
    account.
    """
    sm.pep = PersonalEventing(sm)
    sm.accountIdentities.append(("pubsub", "pep"))
    sm.accountFeatures.extend(FEATURES)
    families = (IQ_GET_SELF, IQ_SET_SELF, IQ_GET_BARE, IQ_SET_BARE)
    for namespace in (ns.PUBSUB, ns.PUBSUB_OWNER):
        addIQHandler(sm.hooks, families, namespace, sm.pep.handleServiceIQ)
    sm.hooks.add(IQ_RESPONSE, sm.pep.iqResponse)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.pep.accountDeleted)
