"""
Entity time (XEP-0202) of a local host, as Prosody's mod_time: the time
in UTC, with the offset C{+00:00}.
"""

import time

from twisted.words.protocols.jabber.xmlstream import toResponse

from xmuc.session.hooks import IQ_GET_HOST, addIQHandler
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import stamp


def answerTime(iq, reply, **kw):
    result = toResponse(iq, "result")
    element = result.addElement((ns.TIME, "time"))
    element.addElement("tzo", content="+00:00")
    element.addElement("utc", content=stamp(time.time()))
    reply(result)


def install(sm):
    """
    Answer entity time requests to the local hosts.
    """
    sm.serverFeatures.append(ns.TIME)
    addIQHandler(sm.hooks, (IQ_GET_HOST,), ns.TIME, answerTime)
