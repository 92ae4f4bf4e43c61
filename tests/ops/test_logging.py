"""
Tests for the logging settings (L{xmuc.logsetup}): levels per namespace,
the JSON log file, twistd's own output choices kept, and — with the real
server as a process — no stanza and no password in the logs at info, and
at debug still no password nor SASL payload (PLAIN, SCRAM, in-band
registration, password change).
"""

import base64
import os
import shutil
import signal
import tempfile

from twisted.internet import defer
from twisted.logger import Logger, LogLevel, eventsFromJSONLogFile, globalLogPublisher
from twisted.trial import unittest

from tests.support.client import connectClient, makeSelfSignedCertificate
from tests.support.twistd import openRegistrationConfig, startTwistd, stopCleanly, tapConfig
import xmuc
from xmuc import logsetup
from xmuc.auth.scram import DEFAULT_ITERATIONS
from xmuc.config import loadConfig

def config(**log):
    """
    @param log: the C{[log]} keys, the only ones there.
    @return: a tap.conf text for these tests (C{{port}} still in it).
    """
    return tapConfig(muc={"lock_new_rooms": "false"}, log=dict({"level": None}, **log))


def writeConfig(testCase, **log):
    """
    @param log: the C{[log]} keys, the only ones there.
    @return: the path of a new tap.conf (port 0).
    """
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w") as f:
        f.write(config(**log).replace("{port}", "0"))
    return path


def emit(observer, namespace, level, text):
    Logger(namespace=namespace, observer=observer).emit(level, text)


class CollectingObserver(list):
    def __call__(self, event):
        self.append(event)

    def texts(self):
        return [event["log_format"] for event in self]


class PredicateTests(unittest.TestCase):
    """
    C{[log] level} and C{[log] levels} decide what passes.
    """

    def observer(self, **log):
        config = loadConfig(writeConfig(self, **log))
        collected = CollectingObserver()
        return logsetup.buildObserver(config, collected), collected

    def test_default(self):
        observer, collected = self.observer()
        emit(observer, "xmuc.c2s", LogLevel.debug, "stanza")
        emit(observer, "xmuc.c2s", LogLevel.info, "connected")
        emit(observer, "twisted.internet", LogLevel.warn, "careful")
        self.assertEqual(collected.texts(), ["connected", "careful"])

    def test_perNamespace(self):
        observer, collected = self.observer(level="warn", levels="xmuc.c2s=debug, twisted=error")
        emit(observer, "xmuc.c2s.stream", LogLevel.debug, "c2s child debug")
        emit(observer, "xmuc.muc", LogLevel.info, "muc info")
        emit(observer, "xmuc.muc", LogLevel.warn, "muc warn")
        emit(observer, "twisted.internet.base", LogLevel.warn, "twisted warn")
        emit(observer, "twisted.internet.base", LogLevel.error, "twisted error")
        self.assertEqual(
            collected.texts(), ["c2s child debug", "muc warn", "twisted error"]
        )

    def test_levelNamed(self):
        self.assertIs(logsetup.levelNamed("WARN"), LogLevel.warn)
        self.assertRaises(ValueError, logsetup.levelNamed, "loud")


class JSONFileTests(unittest.TestCase):
    def test_json(self):
        """
        The JSON file receives the same filtered events, one JSON text per
        event, readable by L{eventsFromJSONLogFile}; its path is relative to
        the configuration file.
        """
        path = writeConfig(self, level="info", json_file="logs.json")
        config = loadConfig(path)
        jsonFile = logsetup.openJSONFile(config)
        self.addCleanup(jsonFile.close)
        self.assertEqual(jsonFile.name, os.path.join(os.path.dirname(path), "logs.json"))
        observer = logsetup.buildObserver(config, CollectingObserver(), jsonFile)
        emit(observer, "xmuc.session", LogLevel.debug, "hidden")
        Logger(namespace="xmuc.session", observer=observer).info(
            "session {jid} opened", jid="alice@localhost/x"
        )
        jsonFile.flush()
        with open(jsonFile.name) as f:
            events = list(eventsFromJSONLogFile(f))
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["jid"], "alice@localhost/x")
        self.assertEqual(events[0]["log_namespace"], "xmuc.session")

    def test_unwritable(self):
        path = writeConfig(self, json_file="missing-dir/logs.json")
        config = loadConfig(path)
        error = self.assertRaises(Exception, logsetup.openJSONFile, config)
        self.assertIn("[log] json_file", str(error))
        self.assertIn("%s:" % (path,), str(error))


class TwistdOptionsTests(unittest.TestCase):
    """
    Under twistd's real option parser, the plugin puts xmuc's filter in
    front of the output twistd chose (here C{--logfile}), unless the
    operator gave a C{--logger}.
    """

    def setUp(self):
        # twistd's log file handling sets a SIGUSR1 handler (log rotation).
        previous = signal.getsignal(signal.SIGUSR1)
        self.addCleanup(signal.signal, signal.SIGUSR1, previous)
        self.addCleanup(logsetup._pending.clear)

    def parse(self, *argv):
        from twisted.scripts.twistd import ServerOptions

        options = ServerOptions()
        options.parseOptions(list(argv))
        return options

    def test_logfile(self):
        path = writeConfig(self, level="warn", levels="xmuc.session=debug")
        logfile = os.path.join(os.path.dirname(path), "server.log")
        options = self.parse("-n", "--logfile", logfile, "xmuc", "-c", path)
        self.assertIs(options["logger"], logsetup.twistdObserver)
        observer = options["logger"]()
        emit(observer, "xmuc.c2s", LogLevel.info, "not kept")
        emit(observer, "xmuc.c2s", LogLevel.error, "kept error")
        emit(observer, "xmuc.session", LogLevel.debug, "kept debug")
        with open(logfile) as f:
            text = f.read()
        self.assertNotIn("not kept", text)
        self.assertIn("kept error", text)
        self.assertIn("kept debug", text)

    def test_operatorLogger(self):
        from twisted.logger import LogPublisher

        path = writeConfig(self, level="warn")
        options = self.parse("-n", "--logger", "twisted.logger.LogPublisher", "xmuc", "-c", path)
        self.assertIs(options["logger"], LogPublisher)
        self.assertEqual(logsetup._pending, {})


class LogCaptureTests(unittest.TestCase):
    def test_capture(self):
        log = Logger(namespace="xmuc.test")
        with logsetup.LogCapture() as capture:
            log.info("hello {who}", who="world", secret="hunter2")
            log.debug("detail")
        log.info("after")
        self.assertEqual(capture.messages(), ["hello world", "detail"])
        self.assertEqual(capture.messages(LogLevel.info), ["hello world"])
        # Values not in the message are searched too.
        self.assertIn("hunter2", capture.text())
        self.assertNotIn("after", capture.text())
        self.assertNotIn(capture, getattr(globalLogPublisher, "_observers", []))


def _serverMissing():
    try:
        import tests.support.client  # noqa: F401
        import xmuc.c2s.stream  # noqa: F401
        import xmuc.muc.service  # noqa: F401
        import xmuc.session.manager  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


class ServerLogTests(unittest.TestCase):
    """
    The real server, as a process: what its log holds.
    """

    PASSWORD = "Very-Secret-Password-4711"

    def setUp(self):
        missing = _serverMissing()
        if missing:
            raise unittest.SkipTest("the server cannot run yet: %s" % (missing,))

    @defer.inlineCallbacks
    def chat(self, server):
        """
        Log in with PLAIN and exchange a few stanzas.
        """
        from tests.support.client import connectClient

        client = yield connectClient(server.port)
        jid = yield client.login("alice", self.PASSWORD, mechanism="PLAIN")
        client.send("<presence/>")
        client.send(
            "<message to='%s' type='chat' id='m1'><body>MessageBody-12345</body></message>"
            % (jid,)
        )
        while True:
            stanza = yield client.receive()
            if stanza.name == "message":
                break
        # And a room: join, talk.
        room = "logs@conference.localhost"
        client.send(
            "<presence to='%s/Al'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
            % (room,)
        )
        client.send(
            "<message to='%s' type='groupchat'><body>RoomBody-67890</body></message>" % (room,)
        )
        while True:
            stanza = yield client.receive()
            if stanza.name == "message" and stanza.getAttribute("type") == "groupchat":
                break
        yield client.close()

    @defer.inlineCallbacks
    def test_noStanzasNoPasswordsAtInfo(self):
        from tests.support.twistd import startTwistd

        server = yield startTwistd(self, config(level="info"))
        yield self.chat(server)
        output = yield stopCleanly(self, server)
        self.assertIn("SIGTERM received", output)
        plain = base64.b64encode(b"\0alice\0" + self.PASSWORD.encode()).decode()
        for secret in (
            self.PASSWORD,
            plain,
            "MessageBody-12345",
            "RoomBody-67890",
            "<message",
            "<presence",
        ):
            self.assertNotIn(secret, output)
        self.assertNotIn("Traceback", output)

    @defer.inlineCallbacks
    def test_startup(self):
        """
        At info, the start names the hosts, the MUC domain, the storage
        backend, TLS, and every listener with its interface and port.
        """
        from tests.support.twistd import startTwistd

        socketDirectory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, socketDirectory)
        socketPath = os.path.join(socketDirectory, "c2s.sock")
        server = yield startTwistd(
            self,
            tapConfig(
                c2s={"listen": "tcp:{port}:interface=127.0.0.1, unix:%s" % (socketPath,)},
                log={"level": "info"},
            ),
        )
        # An answered stream header: the reactor runs, with xmuc's signal
        # handlers (the port accepts connections before that).
        client = yield connectClient(server.port)
        yield client.openStream()
        yield client.close()
        output = yield stopCleanly(self, server)
        self.assertIn(
            "[xmuc.server#info] xmuc %s: hosts localhost; MUC service conference.localhost; "
            "storage memory; authentication insecure\n" % (xmuc.__version__,),
            output,
        )
        self.assertIn("[xmuc.server#info] TLS: off (no [c2s] tls_certificate)\n", output)
        self.assertIn(
            "[xmuc.server#info] listening for clients on 127.0.0.1 port %d\n" % (server.port,),
            output,
        )
        self.assertIn(
            "[xmuc.server#info] listening for clients on unix socket %s\n" % (socketPath,), output
        )
        self.assertIn("[xmuc.server#info] ready: accepting client connections\n", output)
        self.assertNotIn("Starting factory", output)

    @defer.inlineCallbacks
    def test_levelsAndJSON(self):
        """
        At C{level = warn}, twistd's own info lines are gone but a namespace
        set to info keeps its lines; the JSON file has the same events.
        """
        from tests.support.twistd import startTwistd

        server = yield startTwistd(
            self,
            config(level="warn", levels="xmuc.startup=info", json_file="events.json"),
        )
        yield self.chat(server)
        output = yield stopCleanly(self, server)
        self.assertNotIn("starting up", output)
        self.assertIn("SIGTERM received: shutting down", output)
        with open(os.path.join(server.directory, "events.json")) as f:
            events = list(eventsFromJSONLogFile(f))
        namespaces = {event.get("log_namespace") for event in events}
        self.assertIn("xmuc.startup", namespaces)
        self.assertTrue(
            all(
                event["log_level"] >= LogLevel.warn
                or event["log_namespace"].startswith("xmuc.startup")
                for event in events
            ),
            events,
        )
        with open(os.path.join(server.directory, "events.json")) as f:
            self.assertNotIn(self.PASSWORD, f.read())


NS_REGISTER = "jabber:iq:register"


class DebugLoggingTests(unittest.TestCase):
    """
    Stanzas may be logged at debug; passwords and SASL payloads may not.
    """

    timeout = 60

    PASSWORDS = {
        "plain": "Plain-Password-3141",
        "registered": "Registered-Password-2718",
        "changed": "Changed-Password-1618",
    }

    @defer.inlineCallbacks
    def test_noSecretsAtDebug(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        # The internal backend, so that SCRAM really runs; TLS, so that
        # PLAIN is offered.
        text = openRegistrationConfig(
            level="debug",
            auth={"backend": "internal", "allow_insecure": None},
            c2s={"tls_certificate": certificate, "tls_key": key},
        )
        server = yield startTwistd(self, text)

        registrar = yield connectClient(server.port)
        yield registrar.openStream()
        reply = yield registrar.iq(
            "<iq type='set' id='r'><query xmlns='%s'><username>alice</username>"
            "<password>%s</password></query></iq>"
            % (NS_REGISTER, self.PASSWORDS["registered"])
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        yield registrar.close()

        scram = yield connectClient(server.port)
        yield scram.login("alice", self.PASSWORDS["registered"], "s", mechanism="SCRAM-SHA-256")
        reply = yield scram.iq(
            "<iq type='set' id='c'><query xmlns='%s'><username>alice</username>"
            "<password>%s</password></query></iq>" % (NS_REGISTER, self.PASSWORDS["changed"])
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        scram.send("<message to='alice@localhost/s' id='m'><body>Stanza-Body-777</body></message>")
        yield scram.receiveStanza()

        plain = yield connectClient(server.port)
        yield plain.login(
            "alice", self.PASSWORDS["changed"], "p", tls=True, mechanism="PLAIN"
        )
        yield plain.close()
        yield scram.close()

        output = yield stopCleanly(self, server)
        # Debug logging is on (else this test proves nothing).
        self.assertIn("#debug]", output)
        for password in self.PASSWORDS.values():
            self.assertNotIn(password, output)
        payload = base64.b64encode(b"\0alice\0" + self.PASSWORDS["changed"].encode()).decode()
        self.assertNotIn(payload, output)
        # SCRAM messages, decoded (c=biws: gs2 header "n,,"; i=: the
        # iteration count of server-first) or not.
        for scramPart in ("c=biws", ",i=%d" % (DEFAULT_ITERATIONS,), "Yz1iaXdz", "n,,n=alice"):
            self.assertNotIn(scramPart, output)
        self.assertNotIn("Traceback", output)
