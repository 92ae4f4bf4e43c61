"""
Iqs the server answers itself: those addressed to a local host (service
discovery, ping, software version, legacy session, in-band registration)
and those addressed to a user's bare JID (RFC 6120 10.5.3.3: the server
answers on the user's behalf).
"""

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

import xmuc
from xmuc.sm import carbons, mam, offline
from xmuc.sm import pep
from xmuc.sm.items import hasFrom
from xmuc.sm.stanzas import onlyChild
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply

log = Logger()

#: Features of the server itself, always advertised.
SERVER_FEATURES = (
    ns.DISCO_INFO,
    ns.DISCO_ITEMS,
    ns.PING,
    ns.VERSION,
    ns.ROSTER,
    offline.FEATURE,
) + carbons.FEATURES



def _discoInfoResult(iq, category, type, features, name=None):
    """
    @return: the disco#info result to C{iq}: one identity, then C{features}.
    """
    result = toResponse(iq, "result")
    info = result.addElement((ns.DISCO_INFO, "query"))
    identity = info.addElement("identity")
    identity["category"] = category
    identity["type"] = type
    if name:
        identity["name"] = name
    for feature in features:
        info.addElement("feature")["var"] = feature
    return result

class ServerIQHandler:
    """
    @ivar sm: the L{xmuc.sm.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.server = sm.server

    def _payload(self, iq, reply):
        """
        @return: the payload of a get/set iq, or L{None} when the iq needs
            no further handling (a result/error, or a malformed one that
            was answered).
        """
        kind = iq.getAttribute("type")
        if kind not in ("get", "set"):
            if kind not in ("result", "error"):
                reply(errorReply(iq, "bad-request", payload=False))
            else:
                # The answer to a caps query of personal eventing.
                self.sm.pep.iqResponse(iq)
            return None
        child = onlyChild(iq)
        if child is None:
            reply(errorReply(iq, "bad-request", payload=False))
        return child

    def handleServer(self, iq, reply, session, bare):
        """
        An iq without C{to} or addressed to a local host.

        @param reply: callable sending a stanza back to the requester.
        @param session: the requesting local L{ISession}, or L{None} when
            the iq was routed (a component, another server part).
        @param bare: the requesting user's bare JID str, or L{None}.
        """
        child = self._payload(iq, reply)
        if child is None:
            return
        kind = iq["type"]
        uri = child.uri
        if uri == ns.ROSTER and session is not None and iq.getAttribute("to") is None:
            self.sm.rosterHandler.handle(session, iq, child, bare)
        elif uri == ns.CARBONS and session is not None and iq.getAttribute("to") is None:
            self.sm.carbons.handleIQ(session, iq, child, reply)
        elif uri == ns.MAM and session is not None and iq.getAttribute("to") is None:
            self.sm.mam.handleIQ(session, iq, child, reply, bare)
        elif uri in (ns.PUBSUB, ns.PUBSUB_OWNER) and session is not None and iq.getAttribute("to") is None:
            self.sm.pep.handleIQ(iq, child, reply, bare)
        elif uri == ns.DISCO_INFO and kind == "get":
            self._discoInfo(iq, child, reply)
        elif uri == ns.DISCO_ITEMS and kind == "get":
            self._discoItems(iq, child, reply)
        elif uri == ns.PING and kind == "get":
            reply(toResponse(iq, "result"))
        elif uri == ns.VERSION and kind == "get":
            self._version(iq, reply)
        elif uri == ns.SESSION and kind == "set":
            reply(toResponse(iq, "result"))
        elif uri == ns.REGISTER and session is not None:
            self._register(session, iq, reply)
        else:
            reply(errorReply(iq, "service-unavailable"))

    def handleAccount(self, iq, reply, bare, session):
        """
        An iq from a user's own session to the user's bare JID.
        """
        child = self._payload(iq, reply)
        if child is None:
            return
        kind = iq["type"]
        if child.uri == ns.ROSTER:
            self.sm.rosterHandler.handle(session, iq, child, bare)
        elif child.uri == ns.CARBONS:
            self.sm.carbons.handleIQ(session, iq, child, reply)
        elif child.uri == ns.MAM:
            self.sm.mam.handleIQ(session, iq, child, reply, bare)
        elif child.uri in (ns.PUBSUB, ns.PUBSUB_OWNER):
            self.sm.pep.handleIQ(iq, child, reply, bare)
        elif child.uri == ns.DISCO_INFO and kind == "get":
            self._accountInfo(iq, child, reply)
        elif child.uri == ns.DISCO_ITEMS and kind == "get":
            self._accountItems(iq, child, reply, bare)
        else:
            reply(errorReply(iq, "service-unavailable"))

    def handleForeignAccount(self, iq, bare):
        """
        An iq get/set routed to local user C{bare} by someone else.
        """
        reply = self.sm.router.route
        child = self._payload(iq, reply)
        if child is None:
            return
        isPubsub = child.uri in (ns.PUBSUB, ns.PUBSUB_OWNER)
        if not isPubsub and (iq["type"] != "get" or child.uri not in (ns.DISCO_INFO, ns.DISCO_ITEMS)):
            self.sm.bounce(iq, "service-unavailable")
            return

        def answer(state):
            if state != "exists":
                self.sm.bounce(iq, "service-unavailable")
            elif isPubsub:
                # Personal eventing: the service checks who may do what.
                self.sm.pep.handleIQ(iq, child, reply, bare)
            elif child.uri == ns.DISCO_INFO:
                return self._strangerInfo(iq, child, reply, bare)
            else:
                self._accountItems(iq, child, reply, bare)

        d = self.sm.accountState(bare)
        d.addCallback(answer)
        d.addErrback(lambda f: log.failure("disco of an account failed", f))

    # --- the handlers

    def _discoInfo(self, iq, query, reply):
        if query.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        features = list(SERVER_FEATURES)
        if self.server.config.get("c2s", "allow_registration"):
            features.append(ns.REGISTER)
        reply(_discoInfoResult(iq, "server", "im", sorted(features), name="xmuc"))

    def _discoItems(self, iq, query, reply):
        if query.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        result = toResponse(iq, "result")
        listing = result.addElement((ns.DISCO_ITEMS, "query"))
        for domain in sorted(self.sm.router.components):
            item = listing.addElement("item")
            item["jid"] = domain
            component = self.sm.router.components[domain]
            # The MUC service calls its display name 'title'.
            name = getattr(component, "title", None) or getattr(component, "name", None)
            if isinstance(name, str) and name:
                item["name"] = name
        reply(result)

    def _version(self, iq, reply):
        result = toResponse(iq, "result")
        query = result.addElement((ns.VERSION, "query"))
        query.addElement("name", content="xmuc")
        query.addElement("version", content=xmuc.__version__)
        reply(result)

    def _strangerInfo(self, iq, query, reply, bare):
        """
        The account's disco#info asked by someone else: only contacts
        receiving the account's presence (subscription from or both) get
        it, others C{service-unavailable} as if there were no account, as
        Prosody's mod_disco (checked with tests/interop/record.py).

        @param bare: the account queried (a bare JID string).
        @return: a Deferred firing when the answer is sent.
        """
        requester = iq.getAttribute("from", "").split("/", 1)[0]

        def answer(roster):
            if hasFrom(roster.get(requester)):
                self._accountInfo(iq, query, reply)
            else:
                self.sm.bounce(iq, "service-unavailable")

        return self.sm.rosters.get(bare).addCallback(answer)

    def _accountInfo(self, iq, query, reply):
        """
        The account's identities and features (the owner, or a contact).
        Like Prosody, the list names what the account offers (archive,
        PEP), not disco#info itself.
        """
        if query.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        result = _discoInfoResult(iq, "account", "registered", list(mam.FEATURES))
        query = result.firstChildElement()
        # Prosody's mod_pep: the account is also a pubsub/pep service.
        identity = domish.Element((ns.DISCO_INFO, "identity"))
        identity["category"] = "pubsub"
        identity["type"] = "pep"
        query.children.insert(1, identity)
        for feature in pep.FEATURES:
            query.addElement("feature")["var"] = feature
        reply(result)

    def _accountItems(self, iq, query, reply, bare):
        """
        The account's disco#items: its PEP nodes the requester may see.
        """
        if query.getAttribute("node"):
            self._emptyItems(iq, query, reply)
            return
        requester = iq.getAttribute("from")
        requester = requester.split("/", 1)[0] if requester else bare

        def answer(nodes):
            if nodes is None:
                reply(errorReply(iq, "service-unavailable"))
                return
            result = toResponse(iq, "result")
            listing = result.addElement((ns.DISCO_ITEMS, "query"))
            for node in nodes:
                item = listing.addElement("item")
                item["jid"] = bare
                item["node"] = node
            reply(result)

        def failed(failure):
            log.failure("listing the PEP nodes of an account failed", failure)
            reply(errorReply(iq, "internal-server-error", payload=False))

        self.sm.pep.nodesFor(bare, requester).addCallbacks(answer, failed)

    def _emptyItems(self, iq, query, reply):
        result = toResponse(iq, "result")
        items = result.addElement((ns.DISCO_ITEMS, "query"))
        node = query.getAttribute("node")
        if node:
            items["node"] = node
        reply(result)

    def _register(self, session, iq, reply):
        try:
            from xmuc.c2s.register import handleRegisterIQ
        except ImportError:
            reply(errorReply(iq, "service-unavailable"))
            return

        def failed(failure):
            log.failure("in-band registration request failed", failure)
            reply(errorReply(iq, "internal-server-error", payload=False))

        try:
            d = handleRegisterIQ(self.server, session, iq)
        except Exception:
            log.failure("in-band registration request failed")
            reply(errorReply(iq, "internal-server-error", payload=False))
            return
        if d is not None and hasattr(d, "addErrback"):
            d.addErrback(failed)
