"""
External components attached to the real server process (C{twistd -n
xmuc}): what the log says, and a component told C{system-shutdown} when the
server stops.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectClient
from tests.support.components import ACCEPT, handshakeToken
from tests.support.twistd import freePort, startTwistd, stopCleanly, tapConfig


class TwistdComponentTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_lifeCycle(self):
        """
        The server listens for components, logs the component's arrival,
        and on SIGTERM ends its stream with C{system-shutdown}.
        """
        port = freePort()
        server = yield startTwistd(
            self,
            tapConfig(
                log={"level": "info"},
                components={"listen": "tcp:%d:interface=127.0.0.1" % (port,), "secrets": "echo.localhost=s3cret"},
            ),
        )
        yield server.waitForOutput("listening for components (echo.localhost) on 127.0.0.1 port %d" % (port,))
        component = yield connectClient(port, "echo.localhost")
        self.addCleanup(lambda: component.transport.abortConnection())
        component.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        header = yield component.receive()
        component.send("<handshake>%s</handshake>" % (handshakeToken(header.getAttribute("id"), "s3cret"),))
        self.assertEqual((yield component.receive()).name, "handshake")
        yield server.waitForOutput("component echo.localhost connected from 127.0.0.1")
        output = yield stopCleanly(self, server)
        self.assertEqual((yield component.streamError()), "system-shutdown")
        self.assertIn("component echo.localhost disconnected: stream error system-shutdown sent", output)
        self.assertNotIn("Traceback", output)
