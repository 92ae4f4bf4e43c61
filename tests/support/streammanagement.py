"""
Stream Management (XEP-0198) from the client side of a real stream:
enabling it, counting what to acknowledge, and waiting for (or for the
absence of) what the server sends.
"""

from twisted.internet import defer, reactor, task

from tests.support.client import NS_CLIENT, NS_STREAMS, NS_TLS, errorCondition, firstChild

NS_SM = "urn:xmpp:sm:3"
NS_DELAY = "urn:xmpp:delay"
SERVICE = "conference.localhost"
ROOM = "room@" + SERVICE

_STANZAS = ("message", "presence", "iq")


def isSM(element, name):
    return element.uri == NS_SM and element.name == name


def sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


def handledCount(client, since):
    """
    @return: the stanzas the client parsed after C{client.received[since]}
        (what a real client acknowledges).
    """
    return sum(
        1
        for element in client.received[since + 1 :]
        if element.uri == NS_CLIENT and element.name in _STANZAS
    )


@defer.inlineCallbacks
def receiveSkippingRequests(client, timeout=5.0):
    """
    @return: the next element that is not a server C{<r/>}.
    """
    while True:
        element = yield client.receive(timeout)
        if not isSM(element, "r"):
            return element


@defer.inlineCallbacks
def streamError(client, timeout=5.0):
    """
    Expect a stream error (skipping C{<r/>}s and stanzas).

    @return: its condition.
    """
    while True:
        element = yield client.receive(timeout)
        if element.uri == NS_STREAMS and element.name == "error":
            return errorCondition(element)
        if element.uri == NS_STREAMS or not (isSM(element, "r") or element.name in _STANZAS):
            raise AssertionError(element.toXml())


@defer.inlineCallbacks
def expectNothing(client, seconds, what=_STANZAS):
    """
    Fail if the client receives one of the stanza kinds C{what} within
    C{seconds}.
    """
    try:
        while True:
            element = yield client.receive(seconds)
            if element.name in what and element.uri == NS_CLIENT:
                raise AssertionError("unexpected %s" % (element.toXml(),))
    except defer.TimeoutError:
        pass


@defer.inlineCallbacks
def enable(client, resume=True):
    """
    Send C{<enable/>} and wait for C{<enabled/>}.

    @return: C{(enabled element, index in client.received)}.
    """
    client.send("<enable xmlns='%s'%s/>" % (NS_SM, " resume='true'" if resume else ""))
    element = yield receiveSkippingRequests(client)
    if not isSM(element, "enabled"):
        raise AssertionError(element.toXml())
    return element, client.received.index(element)


@defer.inlineCallbacks
def authenticateOnly(client, user, password="pw"):
    """
    Open a stream, STARTTLS, SASL PLAIN: everything before binding.

    @return: the features offered after authentication.
    """
    features = yield client.openStream()
    if firstChild(features, NS_TLS, "starttls") is not None:
        features = yield client.startTLS()
    features = yield client.authenticate(user, password, "PLAIN")
    return features


@defer.inlineCallbacks
def joinRoom(client, nick):
    """
    Join L{ROOM} and wait for the subject, the end of the join.
    """
    client.send("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>" % (ROOM, nick))
    while True:
        element = yield receiveSkippingRequests(client)
        if element.name == "message" and firstChild(element, name="subject") is not None:
            return element
