"""
A TCP proxy a test can cut: Twisted's port forwarder on 127.0.0.1, which
the test kills (the listening port closed and every proxied connection
aborted at both ends, as a network failure would) and starts again on the
same port.
"""

from twisted.internet import defer, endpoints, reactor
from twisted.protocols import portforward


class _ProxyServer(portforward.ProxyServer):
    def connectionMade(self):
        self.factory.connections.add(self)
        portforward.ProxyServer.connectionMade(self)

    def connectionLost(self, reason):
        self.factory.connections.discard(self)
        portforward.ProxyServer.connectionLost(self, reason)


class _ProxyFactory(portforward.ProxyFactory):
    protocol = _ProxyServer

    def __init__(self, host, port):
        portforward.ProxyFactory.__init__(self, host, port)
        self.connections = set()


class CuttableProxy:
    """
    Forwards 127.0.0.1:C{port} to C{targetPort}.

    @ivar port: the port number it listens on (the same after a restart).
    @ivar cuts: how many times it was killed.
    """

    def __init__(self, targetPort):
        self.factory = _ProxyFactory("127.0.0.1", targetPort)
        self.port = 0
        self.cuts = 0
        self._listening = None

    @defer.inlineCallbacks
    def start(self):
        """
        Listen (on a free port the first time, the same one afterwards).

        @return: Deferred firing with the port number.
        """
        endpoint = endpoints.TCP4ServerEndpoint(reactor, self.port, interface="127.0.0.1")
        self._listening = yield endpoint.listen(self.factory)
        self.port = self._listening.getHost().port
        return self.port

    @defer.inlineCallbacks
    def kill(self):
        """
        Stop listening and abort every proxied connection, both sides.
        """
        self.cuts += 1
        listening, self._listening = self._listening, None
        if listening is not None:
            yield listening.stopListening()
        for server in list(self.factory.connections):
            server.transport.abortConnection()
            if server.peer is not None and server.peer.transport is not None:
                server.peer.transport.abortConnection()

    def stop(self):
        """
        For the test's cleanup.
        """
        return self.kill()
