"""
A minimal host server's component port for tests of the connecting end:
Twisted Words' L{ListenComponentAuthenticator} on a real socket, which
keeps what the component sends and lets the test write anything to it.
"""

from twisted.internet import defer, endpoints, reactor
from twisted.words.protocols.jabber import component, xmlstream


class ComponentHost:
    """
    Accepts components on 127.0.0.1 (a free port) with C{secret}.

    @ivar received: top-level elements received from authenticated
        components, in order.
    @ivar streams: the authenticated streams, in order.
    @ivar closed: how many streams ended.
    @ivar errors: stream errors (L{StreamError}) the component sent.
    """

    def __init__(self, secret="s3cret"):
        self.secret = secret
        self.received = []
        self.streams = []
        self.closed = 0
        self.port = None
        self._waiting = []
        self._waitingStream = []
        self._waitingClose = []

    @defer.inlineCallbacks
    def listen(self, portNumber=0):
        """
        @return: Deferred firing with the port number once listening.
        """
        factory = xmlstream.XmlStreamFactory(component.ListenComponentAuthenticator(self.secret))
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self._authenticated)
        factory.addBootstrap(xmlstream.STREAM_END_EVENT, self._ended)
        endpoint = endpoints.TCP4ServerEndpoint(reactor, portNumber, interface="127.0.0.1")
        self.port = yield endpoint.listen(factory)
        return self.port.getHost().port

    def stop(self):
        """
        Stop listening and drop every connection.
        """
        for xs in self.streams:
            if xs.transport is not None:
                xs.transport.abortConnection()
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
        return defer.succeed(None)

    def _authenticated(self, xs):
        self.streams.append(xs)
        xs.addObserver("/*", self._received)
        waiting, self._waitingStream = self._waitingStream, []
        for d in waiting:
            d.callback(xs)

    def _ended(self, reason):
        self.closed += 1
        waiting, self._waitingClose = self._waitingClose, []
        for d in waiting:
            d.callback(None)

    def _received(self, element):
        self.received.append(element)
        for entry in list(self._waiting):
            predicate, d = entry
            if predicate(element):
                self._waiting.remove(entry)
                d.callback(element)

    def nextStream(self):
        """
        @return: Deferred firing with the next authenticated stream (or
            the current one).
        """
        d = defer.Deferred()
        self._waitingStream.append(d)
        return d

    def nextClose(self):
        """
        @return: Deferred firing when a component stream next ends.
        """
        d = defer.Deferred()
        self._waitingClose.append(d)
        return d

    def waitFor(self, predicate):
        """
        @return: Deferred firing with the first element received from now
            (or already received) for which C{predicate} is true.
        """
        for element in self.received:
            if predicate(element):
                return defer.succeed(element)
        d = defer.Deferred()
        self._waiting.append((predicate, d))
        return d
