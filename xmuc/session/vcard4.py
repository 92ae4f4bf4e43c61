"""
vCard4 over PEP (XEP-0292), as Prosody's mod_vcard4: the vCard4 of an
account is the item C{current} of its C{urn:xmpp:vcard4} PEP node, which
clients publish and read like any PEP node; and an iq with C{<vcard
xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>} reads it (a get to the
account's bare JID, with the node's access model: C{forbidden} to who may
not read it, C{item-not-found} when there is none) or publishes it (a set
from the account's own session, on the node's configuration or the PEP
defaults).
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from xmuc.session import pep
from xmuc.session.hooks import IQ_GET_BARE, IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.stanza import parseElement

log = Logger()

#: The item holding the vCard4 (XEP-0292 section 3).
ITEM = "current"


class VCard4:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm

    def handleGet(self, iq, child, reply, bare, **kw):
        """
        A vCard4 get to the account C{bare}, from itself or anyone.
        """
        if child.name != "vcard":
            reply(errorReply(iq, "bad-request", payload=False))
            return
        requester = iq.getAttribute("from", "").split("/", 1)[0] or bare
        d = self._read(bare, requester)
        d.addCallback(self._result, iq)
        d.addCallbacks(reply, self._failed, errbackArgs=(iq, reply))

    @staticmethod
    def _result(vcard, iq):
        result = toResponse(iq, "result")
        result.addChild(vcard)
        return result

    @defer.inlineCallbacks
    def _read(self, owner, requester):
        store = self.sm.server.storage.pep
        stored = yield store.getNode(owner, ns.VCARD4_NODE)
        if stored is not None and requester != owner:
            roster = yield self.sm.rosters.get(owner)
            if not pep.mayAccess(owner, pep.fullConfig(stored), requester, roster):
                raise StanzaError("forbidden")
        found = [] if stored is None else (yield store.items(owner, ns.VCARD4_NODE, max=1))
        if not found:
            raise StanzaError("item-not-found")
        return parseElement(found[0]["xml"])

    def handleSet(self, iq, child, reply, bare, **kw):
        """
        The account sets its vCard4: published on its PEP node.
        """
        if child.name != "vcard":
            reply(errorReply(iq, "bad-request", payload=False))
            return
        d = self.sm.pep.publishItem(bare, ns.VCARD4_NODE, ITEM, child)
        d.addCallback(lambda _: toResponse(iq, "result"))
        d.addCallbacks(reply, self._failed, errbackArgs=(iq, reply))

    def _failed(self, failure, iq, reply):
        if failure.check(StanzaError):
            reply(errorReply(iq, failure.value, payload=False))
            return
        log.failure("a vCard4 request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))


def install(sm):
    """
    vCard4 iqs of an account (C{urn:ietf:params:xml:ns:vcard-4.0} in its
    disco#info).
    """
    vcard4 = VCard4(sm)
    sm.accountFeatures.append(ns.VCARD4)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_GET_BARE), ns.VCARD4, vcard4.handleGet)
    addIQHandler(sm.hooks, (IQ_SET_SELF,), ns.VCARD4, vcard4.handleSet)
