"""
Audit of issue 7 (operations) for what the other tests left out:

 - on SIGTERM the listeners close first: while a stuck session holds the
   stop up, new connections are refused; SIGINT stops gracefully too
   (C{<system-shutdown/>}, exit status 0);
 - at C{level = debug}, passwords and SASL payloads are still never logged
   (PLAIN, SCRAM, in-band registration, password change);
 - C{xmucctl} on PostgreSQL while the server runs on the same database
   (the SQLite case is in test_ctl): its changes are what the server uses;
 - README.rst's operations section covers starting, stopping, every admin
   command with an example, and the logging settings.
"""

import base64
import os
import re
import sys
import time

from twisted.internet import defer, endpoints, error, protocol, reactor, utils
from twisted.trial import unittest

from tests.helpers_client import (
    StreamClosed,
    connectClient,
    connectStuckClient,
    connectTestClient,
)
from tests.helpers_twistd import stopCleanly, tapConfig
from xmuc.auth.scram import DEFAULT_ITERATIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
NS_REGISTER = "jabber:iq:register"

def config(timeout=3, level="info", **sections):
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

@defer.inlineCallbacks
def collectUntilClosed(client, timeout=15):
    """
    @return: Deferred firing with every element received until the stream
        ended.
    """
    elements = []
    while True:
        try:
            element = yield client.receive(timeout)
        except StreamClosed:
            break
        elements.append(element)
    yield client.waitClosed(timeout)
    return elements


def streamErrorConditions(elements):
    return [
        child.name
        for element in elements
        if element.name == "error" and element.uri == "http://etherx.jabber.org/streams"
        for child in element.elements()
    ]


class ShutdownOrderTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_listenersCloseFirst(self):
        from tests.helpers_twistd import startTwistd

        server = yield startTwistd(self, config(timeout=4))
        polite = yield connectClient(server.port)
        yield polite.login("alice", "pw")
        stuck = yield connectStuckClient(server.port, "stuck")
        self.addCleanup(stuck.transport.abortConnection)

        started = time.time()
        server.signal("TERM")
        received = yield collectUntilClosed(polite)
        self.assertIn("system-shutdown", streamErrorConditions(received))
        # The stuck session holds the process up: it still runs, but no
        # longer accepts connections.
        self.assertIsNone(server.exitStatus, server.text())
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", server.port, timeout=2)
        yield self.assertFailure(
            endpoints.connectProtocol(endpoint, protocol.Protocol()),
            error.ConnectionRefusedError,
        )
        self.assertIsNone(server.exitStatus, "the stop was not held up: the test proves nothing")
        status = yield server.ended
        self.assertEqual(status, 0, server.text())
        self.assertLess(time.time() - started, 4 + 5)
        self.assertNotIn("Traceback", server.text())

    @defer.inlineCallbacks
    def test_sigint(self):
        from tests.helpers_twistd import startTwistd

        server = yield startTwistd(self, config())
        client = yield connectClient(server.port)
        yield client.login("alice", "pw")
        unbound = yield connectClient(server.port)
        yield unbound.openStream()
        server.signal("INT")
        received = yield collectUntilClosed(client)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        received = yield collectUntilClosed(unbound)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertIn("SIGINT received", output)
        self.assertNotIn("Traceback", output)


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
        from tests.helpers_twistd import startTwistd

        from tests.helpers_client import makeSelfSignedCertificate

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        # The internal backend, so that SCRAM really runs; TLS, so that
        # PLAIN is offered.
        text = config(
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


class XmucctlOnPostgreSQLTests(unittest.TestCase):
    """
    xmucctl as a separate process on the PostgreSQL database of a server
    running in this process.
    """

    timeout = 90

    @defer.inlineCallbacks
    def setUp(self):
        from tests.test_audit_defaults_wire import startServerWith
        from tests.test_storage_contract import PostgresSchema, findPostgres

        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)
        self.running = yield startServerWith(
            self,
            {
                "server": {"hosts": "localhost"},
                "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"},
                "auth": {"backend": "internal"},
                "storage": {"backend": "postgresql", "dsn": self.schema.dsn},
                "muc": {"enabled": "false"},
                "log": {"level": "warn"},
            },
        )
        self.path = self.running.server.config.path

    def xmucctl(self, *argv):
        """
        @return: Deferred firing with C{(stdout, stderr, exit code)}.
        """
        return utils.getProcessOutputAndValue(
            PYTHON, ["-m", "xmuc.ctl", "-c", self.path] + list(argv), env=os.environ
        )

    @defer.inlineCallbacks
    def login(self, password, resource):
        client = yield connectTestClient(self, self.running)
        jid = yield client.login("dora", password, resource, mechanism="SCRAM-SHA-256")
        return client, jid

    @defer.inlineCallbacks
    def test_whileRunning(self):
        out, err, code = yield self.xmucctl("adduser", "dora", "--password", "first")
        self.assertEqual((code, err), (0, b""), out)
        _, jid = yield self.login("first", "a")
        self.assertEqual(jid, "dora@localhost/a")

        out, err, code = yield self.xmucctl("users")
        self.assertEqual((code, out), (0, b"dora@localhost\n"), err)

        out, err, code = yield self.xmucctl("passwd", "dora", "--password", "second")
        self.assertEqual((code, err), (0, b""), out)
        yield self.login("second", "b")
        ok = yield self.running.server.auth.checkPassword("dora", "localhost", "first")
        self.assertFalse(ok)

        out, err, code = yield self.xmucctl("deluser", "dora")
        self.assertEqual((code, err), (0, b""), out)
        exists = yield self.running.server.auth.userExists("dora@localhost")
        self.assertFalse(exists)
        tombstone = yield self.running.server.storage.tombstones.get("dora@localhost")
        self.assertEqual(tombstone["kind"], "account")

        out, err, code = yield self.xmucctl("deluser", "dora")
        self.assertEqual((code, err), (1, b"xmucctl: no account dora@localhost\n"))


class ReadmeOperationsTests(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
            self.text = f.read()

    def section(self, title, underline):
        """
        @return: the text under the heading C{title} up to the next heading
            of the same level.
        """
        match = re.search(
            r"^%s\n%s+\n(.*?)(?=^[^\n]+\n%s+\n|\Z)"
            % (re.escape(title), re.escape(underline), re.escape(underline)),
            self.text,
            re.M | re.S,
        )
        self.assertIsNotNone(match, "no section %r" % (title,))
        return match.group(1)

    def test_connectingAClient(self):
        body = self.section("Connecting a client", "=")
        self.assertIn("xmucctl", body)
        self.assertIn("5222", body)

    def test_operationsSections(self):
        operations = self.section("Operations", "=")
        for title in ("Starting", "Stopping", "Logging", "Administration: ``xmucctl``"):
            self.assertIn("\n%s\n" % (title,), "\n" + operations)

    def test_stopping(self):
        body = self.section("Stopping", "-")
        for word in ("SIGTERM", "SIGINT", "332", "system-shutdown", "shutdown_timeout"):
            self.assertIn(word, body)

    def test_loggingSettings(self):
        from xmuc.config import SCHEMA

        body = self.section("Logging", "-")
        for key in SCHEMA["log"]:
            self.assertIn("``%s``" % (key,), body)

    def test_everyCommandHasAnExample(self):
        from xmuc import ctl

        body = self.section("Administration: ``xmucctl``", "-")
        commands = set(ctl.STORAGE_COMMANDS) | {"check-config", "cert"}
        for command in commands:
            self.assertRegex(body, r"\n    (echo .*\| )?xmucctl %s\b" % (re.escape(command),))
        for code in ("0", "1", "2"):
            self.assertIn(code, body)


class ShippedTapConfTests(unittest.TestCase):
    """
    What C{make run} does, in a fresh directory: the shipped tap.conf (only
    the port changed), C{xmucctl cert localhost}, C{xmucctl adduser}, then
    C{twistd -n xmuc -c tap.conf}; a client logs in over STARTTLS with
    SCRAM-SHA-256 and talks; SIGINT (Ctrl-C) ends it with status 0.
    """

    timeout = 90

    def xmucctl(self, directory, *argv):
        return utils.getProcessOutputAndValue(
            PYTHON, ["-m", "xmuc.ctl", "-c", "tap.conf"] + list(argv),
            env=os.environ, path=directory,
        )

    @defer.inlineCallbacks
    def test_makeRunEquivalent(self):
        from tests.helpers_twistd import freePort, runTwistdIn

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        with open(os.path.join(ROOT, "tap.conf"), encoding="utf-8") as f:
            shipped = f.read()
        self.assertIn("tcp:5222:interface=127.0.0.1", shipped)
        port = freePort()
        with open(os.path.join(directory, "tap.conf"), "w", encoding="utf-8") as f:
            f.write(shipped.replace("tcp:5222:", "tcp:%d:" % (port,)))

        out, err, code = yield self.xmucctl(directory, "cert", "localhost")
        self.assertEqual(code, 0, err)
        out, err, code = yield self.xmucctl(directory, "adduser", "alice", "--password", "rabbit")
        self.assertEqual(code, 0, err)

        server = yield runTwistdIn(self, directory, port)

        client = yield connectClient(port)
        jid = yield client.login("alice", "rabbit", "here", tls=True, mechanism="SCRAM-SHA-256")
        self.assertTrue(client.transport.TLS)
        client.send("<message to='%s' id='hello'><body>hi</body></message>" % (jid,))
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "hello")

        server.signal("INT")
        received = yield collectUntilClosed(client)
        self.assertEqual(streamErrorConditions(received), ["system-shutdown"])
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
        self.assertIn("alice@localhost authenticated with SCRAM-SHA-256", output)
        for name in ("localhost.crt", "localhost.key", "xmuc.sqlite"):
            self.assertTrue(os.path.exists(os.path.join(directory, "data", name)), name)
