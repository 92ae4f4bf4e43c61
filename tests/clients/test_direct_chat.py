"""
End to end with a third-party client library: two slixmpp clients log in
over STARTTLS with SCRAM-SHA-256 (trusting the test's throwaway
certificate, hostname checked) and exchange messages through the real
server.

slixmpp runs on asyncio, so it runs in a child process with its own event
loop (C{tests/clients/direct_chat.py}) while the server runs in the test's
reactor.
"""

from twisted.internet import defer
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from tests.support.slixmpp import runScriptProcess
from tests.support.client import startTestServer


class SlixmppTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_loginAndMessages(self):
        logins = []

        def observe(event):
            if event.get("mechanism") and event.get("user"):
                logins.append((event["user"], event["mechanism"], event.get("encrypted")))

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)

        running = yield startTestServer(self)
        yield running.server.accounts.register("alice", "localhost", "rabbit hole")
        yield running.server.accounts.register("bob", "localhost", "can we fix it")
        certificate = running.server.config.get("c2s", "tls_certificate")

        out, err, code = yield runScriptProcess(running.c2sPort, certificate, "direct_chat")
        output = out.decode("utf-8", "replace")
        self.assertEqual(code, 0, output + err.decode("utf-8", "replace")[-3000:])
        self.assertIn("BOB GOT alice@localhost/wonderland hello bob", output)
        self.assertIn("ALICE GOT bob@localhost/site hello alice", output)
        self.assertEqual(
            sorted(logins),
            [("alice", "SCRAM-SHA-256", True), ("bob", "SCRAM-SHA-256", True)],
        )
