"""
Host servers for xmuc's MUC run as an external component: a private
Prosody or ejabberd accepting the component C{conference.localhost} on a
port of its own, and the xmuc component connected to it.

A host is a plain child process (not a reactor process), so that one host
may serve every test of a class and outlive the reactor's turn of each
test; it is stopped when the tests end (L{HostProcess.stopNow}, also
registered with L{atexit}).  Its ports stay the same across a
L{HostProcess.restart}, so that the component finds it again.
"""

import atexit
import os
import shutil
import signal
import subprocess
import tempfile

from twisted.internet import defer, task

from tests.interop import ejabberd, prosody
from tests.interop.prosody import freePort
from tests.support.peerprocess import accepts
from xmuc.componentserver import ComponentServer
from xmuc.config import loadConfig

#: The component's domain and secret, as the scripts want the MUC.
DOMAIN = "localhost"
MUC_DOMAIN = "conference.localhost"
SECRET = "component-secret"


class HostProcess:
    """
    One host server process.

    @ivar c2sPort: its client port on 127.0.0.1.
    @ivar componentPort: its component port on 127.0.0.1.
    @ivar directory: where its configuration, data and log are.
    """

    name = "host"

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="xmuc-%s-" % (self.name,))
        self.c2sPort = freePort()
        self.componentPort = freePort()
        self.process = None
        self._output = None
        atexit.register(self.stopNow)

    def command(self):
        """
        @return: C{(argv, env)} of the host in the foreground.
        """
        raise NotImplementedError()

    @defer.inlineCallbacks
    def start(self, reactor=None, timeout=30.0):
        """
        Start the host and wait until both its ports accept connections.

        @return: a Deferred firing with C{self}.
        """
        if reactor is None:
            from twisted.internet import reactor
        argv, env = self.command()
        self._output = open(os.path.join(self.directory, "console.log"), "ab")
        self.process = subprocess.Popen(
            argv, env=env, cwd=self.directory, stdin=subprocess.DEVNULL,
            stdout=self._output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = reactor.seconds() + timeout
        while not (accepts(self.c2sPort) and accepts(self.componentPort)):
            if self.process.poll() is not None:
                raise RuntimeError("%s exited at start:\n%s" % (self.name, self.output()))
            if reactor.seconds() > deadline:
                self.stopNow()
                raise RuntimeError("%s did not listen within %ss:\n%s" % (self.name, timeout, self.output()))
            yield task.deferLater(reactor, 0.1, lambda: None)
        return self

    @defer.inlineCallbacks
    def stop(self, reactor=None, timeout=15.0, crash=False):
        """
        Stop the host (SIGTERM, SIGKILL after C{timeout} seconds), without
        blocking the reactor.

        @param crash: kill it at once (SIGKILL): it tells nobody that its
            users' sessions end.
        """
        if reactor is None:
            from twisted.internet import reactor
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        deadline = reactor.seconds() + timeout
        while process.poll() is None:
            if reactor.seconds() > deadline:
                process.kill()
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.process = None

    @defer.inlineCallbacks
    def restart(self, crash=False):
        """
        Stop the host and start it again on the same ports.

        @param crash: kill it (see L{stop}).
        """
        yield self.stop(crash=crash)
        yield self.start()

    def stopNow(self):
        """
        Kill the host at once (end of the tests) and remove its directory
        unless C{XMUC_KEEP_HOSTS=1}.
        """
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if os.environ.get("XMUC_KEEP_HOSTS") != "1":
            shutil.rmtree(self.directory, ignore_errors=True)

    def output(self):
        """
        @return: the tail of what the host wrote (console and log).
        """
        text = ""
        for name in ("console.log", "prosody.log", "ejabberd.log"):
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += "--- %s ---\n%s" % (name, "".join(f.readlines()[-40:]))
        return text


class ProsodyHost(HostProcess):
    """
    Prosody 0.12 with open test authentication and no MUC of its own: the
    component C{conference.localhost} on L{componentPort}.
    """

    name = "prosody"

    def command(self):
        config = prosody.writeConfig(
            self.directory, self.c2sPort, level="info",
            component=(MUC_DOMAIN, self.componentPort, SECRET))
        return [prosody.findProsody(), "--config", config, "-F"], dict(os.environ)


class EjabberdHost(HostProcess):
    """
    ejabberd 23.01 (see L{tests.interop.ejabberd}) with the component
    C{conference.localhost} on L{componentPort}.
    """

    name = "ejabberd"

    def command(self):
        config = ejabberd.writeConfig(
            self.directory, self.c2sPort, self.componentPort, MUC_DOMAIN, SECRET)
        return ejabberd.command(self.directory, config)


def componentConfig(testCase, host, **sections):
    """
    Write the configuration of an xmuc component for C{host}: memory
    storage, the MUC at C{conference.localhost} locking new rooms (as the
    scripts expect), quick reconnection.

    @param sections: C{{section: {key: value}}} over those.
    @return: the path of the file.
    """
    values = {
        "storage": {"backend": "memory"},
        "muc": {"domain": MUC_DOMAIN, "lock_new_rooms": "true"},
        "component": {
            "connect": "tcp:host=127.0.0.1:port=%d" % (host.componentPort,),
            "secret": SECRET,
            "reconnect_delay": "0.1",
            "max_reconnect_delay": "1",
        },
        "log": {"level": "warn"},
    }
    for section, keys in sections.items():
        values.setdefault(section, {}).update(keys)
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w") as f:
        for section, keys in values.items():
            f.write("[%s]\n" % (section,))
            for key, value in keys.items():
                f.write("%s = %s\n" % (key, value))
    return path


@defer.inlineCallbacks
def startComponent(testCase, host, **sections):
    """
    Start an xmuc component connected to C{host}; stopped when the test
    ends.

    @return: a Deferred firing with the L{ComponentServer} once its link
        is up.
    """
    server = ComponentServer(loadConfig(componentConfig(testCase, host, **sections)))
    server.startService()
    testCase.addCleanup(server.stopService)
    yield server.link.whenUp()
    return server
