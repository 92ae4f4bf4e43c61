"""
C{xmucctl check s2s DOMAIN} against a real second xmuc server: one line
per step with its verdict, and the exit code.
"""

import io
import os
import subprocess
import sys

from twisted.internet import defer, reactor
from twisted.trial import unittest

from xmuc.ctl import storedDialbackSecret, main
from xmuc.s2s.check import checkS2S

from tests.support.federation import s2sPort, startFederation

SECRET = {"s2s": {"dialback_secret": "shared between the server and xmucctl"}}


class CheckTests(unittest.TestCase):
    @defer.inlineCallbacks
    def check(self, running, domain, target):
        """
        @return: Deferred firing with C{(passed, {step: (verdict, text)})}.
        """
        lines = {}
        passed = yield checkS2S(
            running.server.config,
            domain,
            lambda verdict, step, text: lines.setdefault(step, (verdict, text)),
            reactor,
            routes={domain: s2sPort(target)},
        )
        return passed, lines

    @defer.inlineCallbacks
    def test_trustedCertificate(self):
        """
        With certificates of a trusted authority, every step passes and
        authentication is SASL EXTERNAL.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="ca")
        passed, lines = yield self.check(a, "b.test", b)
        self.assertTrue(passed)
        self.assertEqual(
            {step: verdict for step, (verdict, _) in lines.items()},
            {
                "our certificate": "OK",
                "route": "OK",
                "connect": "OK",
                "tls": "OK",
                "certificate": "OK",
                "authentication": "OK",
                "dialback": "INFO",
            },
        )
        self.assertIn("valid for b.test", lines["certificate"][1])
        self.assertIn("SASL EXTERNAL", lines["authentication"][1])

    @defer.inlineCallbacks
    def test_dialback(self):
        """
        With self-signed certificates: the certificate is reported
        untrusted (a warning without secure_auth), and dialback works when
        the check shares the running server's dialback secret.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="selfsigned", extra={"a.test": SECRET})
        passed, lines = yield self.check(a, "b.test", b)
        self.assertTrue(passed)
        self.assertEqual(lines["certificate"][0], "WARN")
        self.assertIn("not trusted", lines["certificate"][1])
        self.assertEqual(lines["authentication"], ("OK", "a.test authenticated to b.test with dialback"))
        self.assertEqual(lines["dialback"][0], "OK")

    @defer.inlineCallbacks
    def test_noWayToAuthenticate(self):
        """
        Self-signed and no shared dialback secret: authentication fails,
        and so does the check.
        """
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="selfsigned")
        passed, lines = yield self.check(a, "b.test", b)
        self.assertFalse(passed)
        self.assertEqual(lines["authentication"][0], "FAIL")
        self.assertEqual(lines["dialback"][0], "INFO")

    @defer.inlineCallbacks
    def test_storedSecret(self):
        """
        Without C{[s2s] dialback_secret}, xmucctl reads the secret the
        running server keeps in its (SQLite) storage, and dialback works.
        """
        path = os.path.abspath(self.mktemp())
        storage = {"a.test": {"storage": {"backend": "sqlite", "path": path}}}
        a, b = yield startFederation(self, ["a.test", "b.test"], mode="selfsigned", extra=storage)
        secret = yield storedDialbackSecret(a.server.config)
        self.assertTrue(secret)
        lines = {}
        passed = yield checkS2S(
            a.server.config,
            "b.test",
            lambda verdict, step, text: lines.setdefault(step, (verdict, text)),
            reactor,
            routes={"b.test": s2sPort(b)},
            storedSecret=secret,
        )
        self.assertTrue(passed, lines)
        self.assertEqual(lines["dialback"][0], "OK")

    def test_exitCodes(self):
        """
        xmucctl exits with 1 when the domain cannot be reached (each step
        said), and 2 without a domain.
        """
        directory = self.mktemp()
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        with open(path, "w") as f:
            f.write(
                "[server]\nhosts = a.test\n[c2s]\nrequire_encryption = false\n"
                "[storage]\nbackend = memory\n[s2s]\nroutes = nowhere.test=127.0.0.1:1\n"
            )
        done = subprocess.run(
            [sys.executable, "-m", "xmuc.ctl", "-c", path, "check", "s2s", "nowhere.test"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 1, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(
            [line.split()[:2] for line in lines], [["WARN", "our"], ["OK", "route"], ["FAIL", "connect"]]
        )
        stderr = io.StringIO()
        self.assertEqual(main(["-c", path, "check", "s2s"], stdout=io.StringIO(), stderr=stderr), 2)
        self.assertIn("domain", stderr.getvalue())
