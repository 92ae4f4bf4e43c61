"""
Tests for the service tree of L{xmuc.server}, and the twistd plugin that
builds it from the file given with C{-c}.
"""

import os

from twisted.application.service import IServiceMaker, MultiService
from twisted.internet import defer
from twisted.plugin import IPlugin, getPlugins
from twisted.trial import unittest

from tests.support.client import connectClient, startTestServer
from tests.support.twistd import tapConfig

# A valid configuration: the sections and keys of the base.
GOOD = tapConfig(c2s={"listen": "tcp:0:interface=127.0.0.1"}, muc=None, log=None)


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


class ServiceMakerTests(unittest.TestCase):
    """
    The twistd plugin: an C{IServiceMaker} named C{xmuc}, found by twistd's
    plugin lookup, building a C{MultiService} from the file given with
    C{-c}.
    """

    def test_pluginBuildsMultiService(self):
        makers = [m for m in getPlugins(IServiceMaker) if m.tapname == "xmuc"]
        self.assertEqual(len(makers), 1)
        maker = makers[0]
        self.assertTrue(IServiceMaker.providedBy(maker))
        self.assertTrue(IPlugin.providedBy(maker))

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(GOOD.replace("tcp:0:", "tcp:5999:"))
        options = maker.options()
        options.parseOptions(["-c", path])
        service = maker.makeService(options)
        self.assertIsInstance(service, MultiService)
        self.assertEqual(service.config.path, path)
        self.assertEqual(
            [listener.endpoint._port for listener in service.listeners], [5999]
        )
        # Nothing was started: building listens on nothing.
        self.assertFalse(service.running)
        self.assertEqual([listener.port for listener in service.listeners], [None])
