"""
Service discovery (XEP-0030) answered by the server: for a local host
(its identity, the features the installed session-manager features
declare, the components as items) and for an account (its identities and
features, its PEP nodes as items).

Every feature module declares its disco features at install time, in
C{sm.serverFeatures} (the host's, with the extended forms of
C{sm.serverInfoForms}) or C{sm.accountFeatures} and
C{sm.accountIdentities} (an account's).
"""

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from xmuc.session.hooks import IQ_GET_BARE, IQ_GET_HOST, addIQHandler
from xmuc.session.items import hasFrom
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply

log = Logger()


def _discoInfoResult(iq, identities, features, name=None):
    """
    @param identities: C{(category, type)} pairs, in order.
    @param name: the name of the first identity, or L{None}.
    @return: the disco#info result to C{iq}: the identities, then
        C{features}.
    """
    result = toResponse(iq, "result")
    info = result.addElement((ns.DISCO_INFO, "query"))
    for category, type in identities:
        identity = info.addElement("identity")
        identity["category"] = category
        identity["type"] = type
        if name:
            identity["name"] = name
            name = None
    for feature in features:
        info.addElement("feature")["var"] = feature
    return result


class Discovery:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm

    # --- a local host

    def serverInfo(self, iq, child, reply, **kw):
        if child.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        features = sorted(self.sm.serverFeatures)
        result = _discoInfoResult(iq, [("server", "im")], features, name="xmuc")
        # XEP-0128: the extended information the features declared.
        for form in self.sm.serverInfoForms:
            result.query.addChild(form)
        reply(result)

    def serverItems(self, iq, child, reply, **kw):
        if child.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        router = self.sm.router
        result = toResponse(iq, "result")
        listing = result.addElement((ns.DISCO_ITEMS, "query"))
        for domain in sorted(router.components):
            item = listing.addElement("item")
            item["jid"] = domain
            component = router.components[domain]
            # The MUC service calls its display name 'title'.
            name = getattr(component, "title", None) or getattr(component, "name", None)
            if isinstance(name, str) and name:
                item["name"] = name
        reply(result)

    # --- an account

    def accountInfo(self, iq, child, reply, session, bare, **kw):
        """
        The account's disco#info: for its own sessions always; asked by
        someone else (C{session} is L{None}), only contacts receiving the
        account's presence (subscription from or both) get it, others
        C{service-unavailable} as if there were no account, as Prosody's
        mod_disco (checked with tests/interop/record.py).

        @return: L{None}, or a Deferred firing once answered.
        """
        if session is not None:
            self._accountInfo(iq, child, reply)
            return None
        requester = iq.getAttribute("from", "").split("/", 1)[0]

        def answer(roster):
            if hasFrom(roster.get(requester)):
                self._accountInfo(iq, child, reply)
            else:
                self.sm.bounce(iq, "service-unavailable")

        return self.sm.rosters.get(bare).addCallback(answer)

    def _accountInfo(self, iq, query, reply):
        """
        The account's identities and features.  Like Prosody, the list
        names what the account offers (archive, PEP), not disco#info
        itself.
        """
        if query.getAttribute("node"):
            reply(errorReply(iq, "item-not-found"))
            return
        identities = [("account", "registered")] + self.sm.accountIdentities
        reply(_discoInfoResult(iq, identities, self.sm.accountFeatures))

    def accountItems(self, iq, child, reply, bare, **kw):
        """
        The account's disco#items: its PEP nodes the requester may see.
        """
        if child.getAttribute("node"):
            self._emptyItems(iq, child, reply)
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


def install(sm):
    """
    Answer disco#info and disco#items gets to the local hosts and to the
    accounts.
    """
    discovery = Discovery(sm)
    sm.serverFeatures.extend((ns.DISCO_INFO, ns.DISCO_ITEMS))
    hooks = sm.hooks
    addIQHandler(hooks, (IQ_GET_HOST,), ns.DISCO_INFO, discovery.serverInfo)
    addIQHandler(hooks, (IQ_GET_HOST,), ns.DISCO_ITEMS, discovery.serverItems)
    addIQHandler(hooks, (IQ_GET_BARE,), ns.DISCO_INFO, discovery.accountInfo)
    addIQHandler(hooks, (IQ_GET_BARE,), ns.DISCO_ITEMS, discovery.accountItems)
