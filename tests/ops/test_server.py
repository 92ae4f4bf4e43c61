"""
Tests for the service tree of L{xmuc.server}.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectClient, startTestServer


class ShutdownOrderTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_unauthenticatedStreamsClosed(self):
        """
        Streams that never authenticated get C{system-shutdown} too, and the
        stop waits for them to close.
        """
        running = yield startTestServer(self)
        client = yield connectClient(running.c2sPort)
        yield client.openStream()
        yield running.stop()
        condition = yield client.streamError()
        self.assertEqual(condition, "system-shutdown")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_storageStopsLast(self):
        """
        The storage stops after every other service: the session manager
        is already stopped when it does.
        """
        running = yield startTestServer(self)
        server = running.server
        seen = []
        original = server.storage.stop

        def stop():
            seen.append(server.sm.running)
            return original()

        server.storage.stop = stop
        yield running.stop()
        self.assertEqual(seen, [0])
