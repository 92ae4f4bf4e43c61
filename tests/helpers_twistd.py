"""
Running the real server as a separate process (C{twistd -n xmuc -c
tap.conf}) from trial tests, without blocking the reactor::

    server = yield startTwistd(self, CONFIG_TEXT)   # waits until it listens
    client = yield connectClient(server.port)        # helpers_client
    server.signal("TERM")
    code = yield server.ended                        # the exit status
    self.assertNotIn("Traceback", server.text())
"""

import os
import socket
import sys

from twisted.internet import defer, error, protocol, reactor, task

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")

#: How long a server may take to start listening.
START_TIMEOUT = 30.0


def freePort():
    """
    @return: a TCP port of 127.0.0.1 that was free a moment ago (the server
        must be told its port in advance to be reachable from the test).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwistdProcess(protocol.ProcessProtocol):
    """
    A running C{twistd}.

    @ivar port: the client port it listens on.
    @ivar directory: its working directory (holding its tap.conf).
    @ivar output: everything it wrote to stdout and stderr, as bytes.
    @ivar ended: Deferred firing with the exit status (a negative number
        when it was killed by a signal).
    """

    def __init__(self, port, directory):
        self.port = port
        self.directory = directory
        self.output = b""
        self.ended = defer.Deferred()
        self.exitStatus = None

    def outReceived(self, data):
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason):
        value = reason.value
        if isinstance(value, error.ProcessTerminated) and value.signal is not None:
            self.exitStatus = -value.signal
        else:
            self.exitStatus = value.exitCode or 0
        self.ended.callback(self.exitStatus)

    def text(self):
        """
        @return: the output so far, as text.
        """
        return self.output.decode("utf-8", "replace")

    def signal(self, name):
        """
        @param name: C{'TERM'}, C{'INT'}, C{'KILL'}.
        """
        if self.exitStatus is None:
            self.transport.signalProcess(name)


@defer.inlineCallbacks
def _waitForPort(server, timeout):
    deadline = reactor.seconds() + timeout
    endpoint_ = None
    from twisted.internet import endpoints

    endpoint_ = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", server.port, timeout=1)
    while reactor.seconds() < deadline and server.exitStatus is None:
        try:
            connected = yield endpoints.connectProtocol(endpoint_, protocol.Protocol())
        except Exception:
            yield task.deferLater(reactor, 0.05, lambda: None)
            continue
        connected.transport.abortConnection()
        return True
    return False


@defer.inlineCallbacks
def startTwistd(testCase, configText, twistdArguments=(), port=None):
    """
    Start C{twistd -n xmuc -c tap.conf} in a new directory and wait until it
    accepts connections.

    @param testCase: the test (for mktemp and cleanup: the process is
        killed at the end of the test if still running).
    @param configText: the tap.conf text; C{{port}} in it is replaced by the
        chosen port number.
    @param twistdArguments: options for twistd itself, before C{xmuc}.
    @return: Deferred firing with the L{TwistdProcess}; failing when the
        server ended or did not listen in time (with its output).
    """
    port = freePort() if port is None else port
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(configText.replace("{port}", str(port)))
    server = TwistdProcess(port, directory)
    argv = [TWISTD, "--pidfile=", "-n"] + list(twistdArguments) + ["xmuc", "-c", path]
    reactor.spawnProcess(server, TWISTD, argv, env=dict(os.environ), path=directory)

    def cleanup():
        if server.exitStatus is None:
            server.signal("KILL")
            return server.ended

    testCase.addCleanup(cleanup)
    listening = yield _waitForPort(server, START_TIMEOUT)
    if not listening:
        raise AssertionError(
            "the server did not listen on %d:\n%s" % (server.port, server.text())
        )
    return server
