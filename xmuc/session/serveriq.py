"""
The small iqs a local host answers itself: ping (XEP-0199), software
version (XEP-0092), the legacy session establishment (RFC 3921), and
in-band registration (XEP-0077) from a signed-in session, which
L{xmuc.accounts.inband} answers.
"""

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

import xmuc
from xmuc.accounts import inband
from xmuc.session.hooks import IQ_GET_HOST, IQ_SET_HOST, addIQHandler
from xmuc.xmpp import ns
from xmuc.xmpp.errors import errorReply

log = Logger()


def answerEmpty(iq, reply, **kw):
    """
    An empty result: a ping, or the legacy session request (a no-op since
    RFC 6120).
    """
    reply(toResponse(iq, "result"))


def answerVersion(iq, reply, **kw):
    result = toResponse(iq, "result")
    query = result.addElement((ns.VERSION, "query"))
    query.addElement("name", content="xmuc")
    query.addElement("version", content=xmuc.__version__)
    reply(result)


class Registration:
    """
    The signed-in part of in-band registration: registration state,
    password change, account removal.

    @ivar server: the L{xmuc.server.XmucServer}.
    """

    def __init__(self, server):
        self.server = server

    def handleIQ(self, iq, reply, session, **kw):
        # Only a session of the account itself may change it; an iq routed
        # from elsewhere has no account to act on.
        if session is None:
            reply(errorReply(iq, "service-unavailable"))
            return

        def failed(failure):
            log.failure("in-band registration request failed", failure)
            reply(errorReply(iq, "internal-server-error", payload=False))

        try:
            d = inband.handleRegisterIQ(self.server, session, iq)
        except Exception:
            log.failure("in-band registration request failed")
            reply(errorReply(iq, "internal-server-error", payload=False))
            return
        d.addErrback(failed)


def install(sm):
    """
    Answer ping, version, legacy session and in-band registration iqs to
    the local hosts.
    """
    hooks = sm.hooks
    sm.serverFeatures.extend((ns.PING, ns.VERSION))
    addIQHandler(hooks, (IQ_GET_HOST,), ns.PING, answerEmpty)
    addIQHandler(hooks, (IQ_GET_HOST,), ns.VERSION, answerVersion)
    addIQHandler(hooks, (IQ_SET_HOST,), ns.SESSION, answerEmpty)
    # Advertised only when streams may register, though signed-in sessions
    # may always change their password or remove their account.
    if sm.server.config.get("c2s", "allow_registration"):
        sm.serverFeatures.append(ns.REGISTER)
    registration = Registration(sm.server)
    addIQHandler(hooks, (IQ_GET_HOST, IQ_SET_HOST), ns.REGISTER, registration.handleIQ)
