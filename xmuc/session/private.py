"""
Private XML storage (XEP-0049), as Prosody's mod_private: an account keeps
XML fragments on the server, each under the qualified name of its root
element, and only the account reads or writes them.

A get or set carries exactly one element in C{<query
xmlns='jabber:iq:private'/>} (else C{bad-request}); a get answers the
stored element, or the requested one as sent when there is none; a set
stores the element, or forgets it when it is empty (no attributes, no
children), as Prosody.  Elements in a C{jabber:} namespace are refused
with C{not-acceptable} (XEP-0049 section 2: those namespaces are
reserved).  Each element is an account document (C{private:{namespace}name}),
and they go with the account.
"""

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.hooks import IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply
from xmuc.xmpp.stanza import parseElement

log = Logger()

#: The prefix of the documents holding the fragments.
PREFIX = "private:"


def documentName(element):
    """
    @return: the account document of the fragment named like C{element}.
    """
    return "%s{%s}%s" % (PREFIX, element.uri or "", element.name)


def isEmpty(element):
    """
    @return: whether a set of C{element} means "forget it" (no attributes
        but its namespace, no content).
    """
    return not element.attributes and not element.children


class PrivateStorage:
    """
    @ivar store: the L{xmuc.storage.interfaces.IAccountDataStore}.
    """

    def __init__(self, store):
        self.store = store

    def handleIQ(self, iq, child, reply, bare, **kw):
        """
        A private storage get or set from one of the account's sessions.
        """
        fragments = list(child.elements())
        if len(fragments) != 1 or any(isinstance(c, str) and c.strip() for c in child.children):
            reply(errorReply(iq, "bad-request", text="exactly one element is stored at a time", payload=False))
            return
        (fragment,) = fragments
        if not fragment.uri or fragment.uri.startswith("jabber:"):
            reply(errorReply(iq, "not-acceptable", text="reserved namespace", payload=False))
            return
        name = documentName(fragment)
        if iq["type"] == "get":
            d = self.store.get(bare, name)
            d.addCallback(self._sendFragment, iq, reply, fragment)
        else:
            if isEmpty(fragment):
                d = self.store.delete(bare, name)
            else:
                d = self.store.set(bare, name, fragment.toXml())
            d.addCallback(lambda _: reply(toResponse(iq, "result")))
        d.addErrback(self._failed, iq, reply)

    def _sendFragment(self, stored, iq, reply, asked):
        result = toResponse(iq, "result")
        query = result.addElement((ns.PRIVATE, "query"))
        query.addChild(asked if stored is None else parseElement(stored))
        reply(result)

    def _failed(self, failure, iq, reply):
        log.failure("private storage request failed", failure)
        reply(errorReply(iq, "internal-server-error", payload=False))

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the fragments, with every other document of
        the account, go with it.
        """
        return self.store.deleteAll(jid)


def install(sm):
    """
    Private XML storage for the account's own sessions.
    """
    private = PrivateStorage(sm.server.storage.accountData)
    sm.serverFeatures.append(ns.PRIVATE)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_SET_SELF), ns.PRIVATE, private.handleIQ)
    sm.server.hooks.add(ACCOUNT_DELETED, private.accountDeleted)
