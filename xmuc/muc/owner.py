"""
Owner use cases (XEP-0045 section 10, C{muc#owner}): an owner asks for
the room configuration form (L{xmuc.muc.configform}), submits or cancels
it, or destroys the room (L{xmuc.muc.destroy}).
"""

from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.configform import configForm, submitForm
from xmuc.muc.destroy import destroyRequest
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID


def isOwner(room, stanza):
    sender = parseJID(stanza.getAttribute("from", ""))
    return sender is not None and room.getAffiliation(sender.userhost()) == "owner"


def getConfig(room, stanza, **kw):
    if not isOwner(room, stanza):
        raise StanzaError("forbidden", text="Only owners can configure rooms")
    query = domish.Element((ns.MUC_OWNER, "query"))
    query.addChild(configForm(room, stanza.getAttribute("from")).toElement())
    return query


def setConfig(room, stanza, **kw):
    if not isOwner(room, stanza):
        raise StanzaError("forbidden", text="Only owners can configure rooms")
    query = stanza.firstChildElement()
    for child in query.elements():
        if child.uri == ns.DATA_FORMS and child.name == "x":
            return submitForm(room, stanza, child)
        if child.uri == ns.MUC_OWNER and child.name == "destroy":
            return destroyRequest(room, stanza, child)
    raise StanzaError("bad-request")


def install(service):
    service.hooks.add(hooks.ROOM_IQ_GET + ns.MUC_OWNER, getConfig)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.MUC_OWNER, setConfig)
