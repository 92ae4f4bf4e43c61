"""
What every harness of a real peer server (Prosody, ejabberd) does with
its process: collect its output, wait until it listens, signal it, and
log a client in on it.
"""

import os
import socket

from twisted.internet import defer, error, protocol, task
from twisted.trial import unittest

from tests.support.client import connectClient


def requirePeer(found, name, package, variable):
    """
    For a test's C{setUp}: a peer server must be installed.

    @param found: what finding it gave (L{None}: not installed).
    @param name: its name, for the reason.
    @param package: the Debian package that installs it.
    @param variable: the environment variable that, at C{1}, makes its
        absence a failure (CI sets it).
    @return: C{found}.
    @raise unittest.SkipTest: when it is not, saying how to install it.
    @raise AssertionError: instead, when C{variable} is C{1}.
    """
    if found is not None:
        return found
    reason = "%s is not installed (apt-get install %s); these tests need a real %s" % (name, package, name)
    if os.environ.get(variable) == "1":
        raise AssertionError("%s and %s=1" % (reason, variable))
    raise unittest.SkipTest(reason)


class PeerProcess(protocol.ProcessProtocol):
    """
    Collects a peer server's console output and tells when the process
    ended.

    @ivar output: the bytes it printed, stdout and stderr mixed.
    @ivar ended: a Deferred firing with the reason once it has ended.
    """

    def __init__(self):
        self.output = []
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self.output.append(data)

    errReceived = outReceived

    def processEnded(self, reason):
        self.ended.callback(reason.value)


def accepts(port, address="127.0.0.1"):
    """
    @return: whether something accepts TCP connections on C{address}:C{port}.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect((address, port))
        except OSError:
            return False
        return True


def signal(transport, name):
    """
    Send signal C{name} (e.g. C{"TERM"}) to a process unless it has
    already exited.
    """
    try:
        transport.signalProcess(name)
    except error.ProcessExitedAlready:
        pass


@defer.inlineCallbacks
def waitUntilListening(server, name, ports, reactor, timeout, interval=0.1):
    """
    Wait until a peer server just spawned accepts connections on all of
    C{ports} of its address.

    @param server: the harness: C{_process} (a L{PeerProcess}),
        C{address}, C{output()} and C{stop()}.
    @param name: the server's name for the error messages.
    @raise RuntimeError: it exited early, or did not listen within
        C{timeout} seconds (then it is stopped); the message holds its
        output.
    """
    deadline = reactor.seconds() + timeout
    while True:
        if server._process.ended.called:
            raise RuntimeError("%s exited at start:\n%s" % (name, server.output()))
        if all(accepts(port, server.address) for port in ports):
            return
        if reactor.seconds() > deadline:
            yield server.stop()
            raise RuntimeError(
                "%s did not listen on %s within %ss:\n%s"
                % (name, ", ".join(str(port) for port in ports), timeout, server.output())
            )
        yield task.deferLater(reactor, interval, lambda: None)


@defer.inlineCallbacks
def loginClient(testCase, address, port, domain, user, resource="r", available=True, keepEarly=False):
    """
    Log a client in on a peer server as C{user@domain} with SASL PLAIN
    (password C{pw}).

    @param testCase: the trial test case; the connection is aborted
        when it ends, if still open.
    @param available: send initial presence and wait for its echo.
    @param keepEarly: keep for the test what comes before that echo
        (offline messages, say) instead of dropping it.
    @return: Deferred firing with a logged-in
        L{tests.support.client.XMPPTestClient}.
    """
    client = yield connectClient(port, domain, host=address)

    def cleanup():
        if not client.closed.called:
            client.transport.abortConnection()
        return client.closed

    testCase.addCleanup(cleanup)
    try:
        yield client.login(user, "pw", resource, mechanism="PLAIN")
        if available:
            client.send("<presence/>")
            before = []
            while True:
                element = yield client.receive()
                if element.name == "presence":
                    break
                before.append(element)
            if keepEarly:
                client._pushBack(before)
    except BaseException:
        client.transport.abortConnection()
        raise
    return client
