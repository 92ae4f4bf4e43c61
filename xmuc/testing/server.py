"""
Running a real xmuc server inside the test process.
"""

from twisted.internet import defer

from xmuc.config import loadConfig
from xmuc.server import XmucServer


class RunningServer:
    """
    A started L{XmucServer}.

    @ivar server: the L{XmucServer}.
    @ivar c2sPort: the TCP port number of the first client listener.
    """

    def __init__(self, server, c2sPort):
        self.server = server
        self.c2sPort = c2sPort

    def stop(self):
        """
        Stop the whole service tree, as twistd does on SIGTERM.

        @return: a Deferred firing when it is stopped.
        """
        return defer.maybeDeferred(self.server.stopService)


@defer.inlineCallbacks
def startServer(configPath, overrides=None):
    """
    Start a server from C{configPath} with C{overrides} applied.

    @param configPath: a tap.conf-style file.
    @param overrides: C{{section: {key: raw string}}}; tests usually pass
        C{{'c2s': {'listen': 'tcp:0:interface=127.0.0.1'}}}.
    @return: a Deferred firing with a L{RunningServer} once it listens.
    """
    config = loadConfig(configPath, overrides)
    server = XmucServer(config)
    server.startService()
    yield server.ready
    port = yield server.listeners[0].listening
    return RunningServer(server, port.getHost().port)
