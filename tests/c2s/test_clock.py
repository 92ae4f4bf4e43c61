"""
The timers of a client stream run on the clock its factory was given, so
that timeouts can be tested without waiting.
"""

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from xmuc.c2s.limits import ConnectionLimits
from xmuc.c2s.stream import CLOSE_TIMEOUT, ClientAuthenticator, ClientXmlStream


class _Factory:
    negotiationTimeout = 30.0
    maxStanzaSize = 10000

    def __init__(self, clock):
        self.streams = set()
        self.limits = ConnectionLimits(clock)


class _Transport(StringTransport):
    aborted = False

    def abortConnection(self):
        self.aborted = True


class ClockTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.authenticator = ClientAuthenticator(_Factory(self.clock), self.clock)
        self.stream = ClientXmlStream(self.authenticator)
        self.transport = _Transport()
        self.stream.makeConnection(self.transport)

    def test_negotiationTimeout(self):
        """
        A client that does not log in within the negotiation timeout gets
        a C{connection-timeout} stream error, and the connection is
        aborted C{CLOSE_TIMEOUT} seconds later if it does not close.
        """
        self.clock.advance(29.9)
        self.assertEqual(self.transport.value(), b"")
        self.clock.advance(0.1)
        self.assertIn(b"connection-timeout", self.transport.value())
        self.assertFalse(self.transport.aborted)
        self.clock.advance(CLOSE_TIMEOUT)
        self.assertTrue(self.transport.aborted)
