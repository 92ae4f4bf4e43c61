"""
Running the real server as a separate process (C{twistd -n xmuc -c
tap.conf}) from trial tests, without blocking the reactor::

    server = yield startTwistd(self, tapConfig(muc={"enabled": "false"}))
    client = yield connectClient(server.port)        # tests.support.client
    server.signal("TERM")
    code = yield server.ended                        # the exit status
    self.assertNotIn("Traceback", server.text())
"""

import configparser
import os
import socket
import subprocess
import sys
import time

from twisted.internet import defer, endpoints, error, protocol, reactor, task

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")

#: The configuration every test configuration starts from: the one the
#: scansion scripts run under (open test authentication, no TLS, memory
#: storage).
BASE_CONFIG = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tap-scansion.conf"
)

#: The client listener of a test configuration: C{{port}} is replaced by
#: L{startTwistd} with the port it chose.
LISTEN = "tcp:{port}:interface=127.0.0.1"

#: How long a server may take to start listening.
START_TIMEOUT = 30.0


def _baseSections():
    """
    @return: the sections of L{BASE_CONFIG}, in file order, as
        C{{section: {key: raw string}}}, listening on L{LISTEN}.
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    with open(BASE_CONFIG, encoding="utf-8") as f:
        parser.read_file(f)
    sections = {name: dict(parser[name]) for name in parser.sections()}
    sections["c2s"]["listen"] = LISTEN
    return sections


def renderConfig(sections):
    """
    @param sections: C{{section: {key: value}}}, in the order to write.
    @return: the INI text: one C{key = value} line a key, an empty line
        between sections.
    """
    return "\n".join(
        "[%s]\n" % (name,)
        + "".join("%s = %s\n" % (key, value) for key, value in values.items())
        for name, values in sections.items()
    )


def tapConfig(*layers, **sections):
    """
    A tap.conf text for a test: L{BASE_CONFIG} (listening on L{LISTEN})
    with the changes of the test.

    @param layers: C{{section: changes}} dicts, applied in order before
        C{sections}.
    @param sections: per section, C{{key: value}} to set (a value of
        L{None} removes the key), or L{None} to leave the section out.
        Sections the base does not have are added at the end.
    @return: the text (see L{renderConfig}).
    """
    rendered = _baseSections()
    for changes in layers + (sections,):
        for name, values in changes.items():
            if values is None:
                rendered.pop(name, None)
                continue
            section = rendered.setdefault(name, {})
            for key, value in values.items():
                if value is None:
                    section.pop(key, None)
                else:
                    section[key] = value
    return renderConfig(rendered)


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
        self._waiting = []

    def outReceived(self, data):
        self.output += data
        waiting, self._waiting = self._waiting, []
        for text, d in waiting:
            if text in self.output:
                d.callback(self.text())
            else:
                self._waiting.append((text, d))

    errReceived = outReceived

    def processEnded(self, reason):
        value = reason.value
        if isinstance(value, error.ProcessTerminated) and value.signal is not None:
            self.exitStatus = -value.signal
        else:
            self.exitStatus = value.exitCode or 0
        self.ended.callback(self.exitStatus)

    def waitForOutput(self, text, timeout=START_TIMEOUT):
        """
        @param text: what the server is expected to write (str).
        @return: Deferred firing with the whole output once C{text} is in
            it; failing with the output when the server ends or
            C{timeout} seconds pass first.
        """
        wanted = text.encode("utf-8")
        if wanted in self.output:
            return defer.succeed(self.text())
        d = defer.Deferred()
        self._waiting.append((wanted, d))

        def missing(_=None):
            if not d.called:
                self._waiting = [(t, w) for t, w in self._waiting if w is not d]
                d.errback(AssertionError("%r never written:\n%s" % (text, self.text())))

        call = reactor.callLater(timeout, missing)
        self.ended.addBoth(lambda result: (missing(), result)[1])
        d.addBoth(lambda result: (call.active() and call.cancel(), result)[1])
        return d

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


class _HeaderProbe(protocol.Protocol):
    """
    Sends a client stream header and fires L{answered} at the first byte
    back: the server's reactor runs (its signal handlers are installed),
    not only its listening socket, which twistd opens before that.
    """

    def __init__(self):
        self.answered = defer.Deferred()

    def connectionMade(self):
        self.transport.write(
            b"<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
            b" xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
        )

    def dataReceived(self, data):
        if not self.answered.called:
            self.answered.callback(True)
        self.transport.abortConnection()

    def connectionLost(self, reason):
        if not self.answered.called:
            self.answered.callback(False)


@defer.inlineCallbacks
def _waitForPort(server, timeout):
    deadline = reactor.seconds() + timeout
    endpoint_ = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", server.port, timeout=1)
    while reactor.seconds() < deadline and server.exitStatus is None:
        try:
            probe = yield endpoints.connectProtocol(endpoint_, _HeaderProbe())
        except Exception:
            yield task.deferLater(reactor, 0.05, lambda: None)
            continue
        probe.answered.addTimeout(2, reactor, onTimeoutCancel=lambda *a: False)
        answered = yield probe.answered
        if answered:
            return True
        probe.transport.abortConnection()
        yield task.deferLater(reactor, 0.05, lambda: None)
    return False


@defer.inlineCallbacks
def startTwistd(testCase, configText, twistdArguments=(), port=None):
    """
    Start C{twistd -n xmuc -c tap.conf} in a new directory and wait until it
    answers a stream header (so its reactor runs and its signal handlers are
    installed).

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
    server = yield runTwistdIn(testCase, directory, port, twistdArguments, path)
    return server


@defer.inlineCallbacks
def runTwistdIn(testCase, directory, port, twistdArguments=(), configPath="tap.conf"):
    """
    Start C{twistd -n xmuc -c tap.conf} in C{directory}, which holds the
    tap.conf already, and wait until it accepts connections on C{port}.

    @param testCase: the test (the process is killed at the end of the test
        if still running).
    @param twistdArguments: options for twistd itself, before C{xmuc}.
    @param configPath: the C{-c} argument, as given (relative to
        C{directory} unless absolute).
    @return: Deferred firing with the L{TwistdProcess}; failing when the
        server ended or did not listen in time (with its output).
    """
    server = TwistdProcess(port, directory)
    argv = [TWISTD, "--pidfile=", "-n"] + list(twistdArguments) + ["xmuc", "-c", configPath]
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


@defer.inlineCallbacks
def stopCleanly(testCase, server, signalName="TERM"):
    """
    Stop C{server} with a signal; the test fails unless it exits with
    status 0.

    @param server: a L{TwistdProcess}.
    @param signalName: C{'TERM'} or C{'INT'}.
    @return: Deferred firing with its whole output, as text.
    """
    server.signal(signalName)
    status = yield server.ended
    output = server.text()
    testCase.assertEqual(status, 0, output)
    return output


def runTwistdToEnd(directory, configPath, twistdArguments=()):
    """
    Run C{twistd -n xmuc -c configPath} in C{directory} until it ends,
    blocking: for a configuration or options it refuses at once.

    @param twistdArguments: options for twistd itself, before C{xmuc}.
    @return: C{(exit code, stdout and stderr as text)}.
    """
    result = subprocess.run(
        [TWISTD, "--pidfile=", "-n"] + list(twistdArguments) + ["xmuc", "-c", configPath],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def waitForPortBlocking(port, process, timeout=START_TIMEOUT):
    """
    Wait, blocking, until something accepts connections on C{port}: for a
    server started with L{subprocess.Popen} by a test that does not use the
    reactor.

    @param process: the L{subprocess.Popen} of the server.
    @return: whether it did before C{timeout} seconds or the end of
        C{process}.
    """
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def openRegistrationConfig(timeout=3, level="info", **sections):
    """
    @param timeout: C{[server] shutdown_timeout}.
    @param level: C{[log] level}.
    @param sections: further changes for L{tapConfig}.
    @return: a tap.conf text: memory storage, registration open.
    """
    return tapConfig(
        {
            "server": {"shutdown_timeout": timeout},
            "c2s": {"allow_registration": "true"},
            "muc": {"lock_new_rooms": None},
            "log": {"level": level},
        },
        sections,
    )
