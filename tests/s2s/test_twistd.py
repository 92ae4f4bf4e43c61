"""
Federation with xmuc running as C{twistd -n xmuc} in its own process: an
in-process server (a.test) and the process (localhost) authenticate each
other by dialback, and the process stops cleanly on SIGTERM.
"""

import os
import socket

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.federation import loginTo, s2sPort, startFederation
from tests.support.pki import selfSigned
from tests.support.twistd import startTwistd, tapConfig

PING = "urn:xmpp:ping"
ADDRESS = "127.0.0.5"


def freePortOn(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


class TwistdFederationTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_pingBothWays(self):
        (a,) = yield startFederation(self, ["a.test"], mode="selfsigned")
        directory = os.path.abspath(self.mktemp())
        certificate, key = selfSigned(directory, ["localhost", "conference.localhost"])
        port = freePortOn(ADDRESS)
        host, aPort = s2sPort(a)
        config = tapConfig(
            s2s={
                "listen": "tcp:%d:interface=%s" % (port, ADDRESS),
                "tls_certificate": certificate,
                "tls_key": key,
                "secure_auth": "false",
                "routes": "a.test=%s:%d, rooms.a.test=%s:%d" % (host, aPort, host, aPort),
            },
            log={"level": "info"},
        )
        server = yield startTwistd(self, config)
        yield server.waitForOutput("listening for servers on %s port %d" % (ADDRESS, port))
        for domain in ("localhost", "conference.localhost"):
            a.server.s2s.resolver.routes[domain] = (ADDRESS, port)
        alice = yield loginTo(self, a, "alice", available=False)
        for target in ("localhost", "conference.localhost"):
            reply = yield alice.iq("<iq type='get' id='p-%s' to='%s'><ping xmlns='%s'/></iq>" % (target, target, PING), timeout=15)
            self.assertEqual((reply.getAttribute("type"), reply.getAttribute("from")), ("result", target))
        yield server.waitForOutput("a.test authenticated to localhost with dialback (incoming stream)")
        server.signal("TERM")
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
