"""
End to end with a third-party client library: two slixmpp clients log in
over STARTTLS with SCRAM-SHA-256 (trusting the test's throwaway
certificate, hostname checked) and exchange messages through the real
server.

slixmpp runs on asyncio, so it runs in a child process with its own event
loop while the server runs in the test's reactor.
"""

import os
import sys

from twisted.internet import defer, utils
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from tests.helpers_client import startTestServer

CLIENT_SCRIPT = r'''
import asyncio
import ssl
import sys

import slixmpp

port = int(sys.argv[1])
certificate = sys.argv[2]


def client(jid, password):
    xmpp = slixmpp.ClientXMPP(jid, password, sasl_mech="SCRAM-SHA-256")
    # Trust only the test certificate; the host name (localhost) is checked.
    xmpp.ssl_context = ssl.create_default_context(cafile=certificate)
    xmpp.started = asyncio.get_running_loop().create_future()
    xmpp.messages = asyncio.Queue()
    xmpp.add_event_handler(
        "session_start",
        lambda event: xmpp.started.done() or xmpp.started.set_result(True),
    )
    xmpp.add_event_handler(
        "failed_auth",
        lambda event: xmpp.started.done()
        or xmpp.started.set_exception(RuntimeError("authentication failed")),
    )
    xmpp.add_event_handler("message", lambda msg: xmpp.messages.put_nowait(msg))
    xmpp.connect("127.0.0.1", port)
    return xmpp


async def main():
    alice = client("alice@localhost/wonderland", "rabbit hole")
    bob = client("bob@localhost/site", "can we fix it")
    await asyncio.wait_for(asyncio.gather(alice.started, bob.started), 30)
    # Available presence, so that a message to a bare JID has a resource
    # to go to (RFC 6121 8.5.2.1.1).
    for xmpp in (alice, bob):
        xmpp.send_presence()
    await asyncio.sleep(0.3)

    alice.send_message(mto="bob@localhost/site", mbody="hello bob", mtype="chat")
    message = await asyncio.wait_for(bob.messages.get(), 10)
    print("BOB GOT", message["from"], message["body"], flush=True)

    bob.send_message(mto="alice@localhost", mbody="hello alice", mtype="chat")
    message = await asyncio.wait_for(alice.messages.get(), 10)
    print("ALICE GOT", message["from"], message["body"], flush=True)

    for xmpp in (alice, bob):
        xmpp.disconnect()
    await asyncio.sleep(0.2)


asyncio.run(main())
'''


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
        directory = os.path.dirname(running.server.config.path)
        script = os.path.join(directory, "slixmpp_clients.py")
        with open(script, "w") as f:
            f.write(CLIENT_SCRIPT)
        certificate = running.server.config.get("c2s", "tls_certificate")

        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            [script, str(running.c2sPort), certificate],
            env=dict(os.environ),
        )
        output = out.decode("utf-8", "replace")
        self.assertEqual(code, 0, output + err.decode("utf-8", "replace")[-3000:])
        self.assertIn("BOB GOT alice@localhost/wonderland hello bob", output)
        self.assertIn("ALICE GOT bob@localhost/site hello alice", output)
        self.assertEqual(
            sorted(logins),
            [("alice", "SCRAM-SHA-256", True), ("bob", "SCRAM-SHA-256", True)],
        )
