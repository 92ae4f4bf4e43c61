"""
Finding storage backends by name among the plugins, including one shipped
by a third party outside the xmuc tree (tests/storage/plugin_fixture).
"""

import os
import shutil
import subprocess
import sys
import textwrap

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

import xmuc.plugins
from xmuc.backends import IStorageBackendFactory, availableBackends, findBackend
from xmuc.config import ConfigError, validate
from xmuc.storage.interfaces import IStorage
from xmuc.storage.memory import MemoryStorage
from xmuc.storage.sqlite import SQLiteStorage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "storage", "plugin_fixture")


def makeConfig(directory, **storage):
    return validate({"storage": storage}, os.path.join(directory, "tap.conf"))


class ShippedBackendsTests(unittest.TestCase):
    def test_namesResolve(self):
        for name in ["memory", "sqlite", "postgresql"]:
            plugin = findBackend(IStorageBackendFactory, name)
            self.assertTrue(verifyObject(IStorageBackendFactory, plugin))
            self.assertEqual(plugin.name, name)
            self.assertTrue(plugin.description)

    def test_unknownName(self):
        error = self.assertRaises(
            KeyError, findBackend, IStorageBackendFactory, "oracle"
        )
        text = str(error)
        self.assertIn("oracle", text)
        for name in ["memory", "postgresql", "sqlite"]:
            self.assertIn(name, text)

    def test_buildMemory(self):
        storage = findBackend(IStorageBackendFactory, "memory").build(
            makeConfig(os.path.abspath("."))
        )
        self.assertIsInstance(storage, MemoryStorage)
        self.assertTrue(verifyObject(IStorage, storage))

    @defer.inlineCallbacks
    def test_buildSQLite(self):
        directory = os.path.abspath(self.mktemp())
        storage = findBackend(IStorageBackendFactory, "sqlite").build(
            makeConfig(directory, path="db/x.sqlite")
        )
        self.addCleanup(storage.stop)
        self.assertIsInstance(storage, SQLiteStorage)
        self.assertEqual(storage.path, os.path.join(directory, "db", "x.sqlite"))
        yield storage.start()
        self.assertIs((yield storage.accounts.create("a@example.org", {})), True)

    def test_buildPostgreSQLChecksServer(self):
        """
        The postgresql plugin reaches its factory, which checks the server.
        """
        plugin = findBackend(IStorageBackendFactory, "postgresql")
        error = self.assertRaises(
            ConfigError,
            plugin.build,
            makeConfig(os.path.abspath("."), dsn="host=127.0.0.1 port=1 dbname=x"),
        )
        self.assertIn("host=127.0.0.1 port=1 dbname=x", str(error))


class ThirdPartyBackendTests(unittest.TestCase):
    """
    A plugin module in another directory's C{xmuc/plugins}.
    """

    def setUp(self):
        # A copy, so that Twisted's dropin.cache and __pycache__ are not
        # written into the source tree.
        self.fixture = os.path.abspath(self.mktemp())
        shutil.copytree(FIXTURE, self.fixture)
        self.pluginDirectory = os.path.join(self.fixture, "xmuc", "plugins")

    def addToPath(self):
        """
        Make the fixture visible the way installing it would, in a process
        that has already imported xmuc.plugins: its __path__ was computed
        at import time from sys.path, so the new directory is added to it
        as well.
        """
        savedPath = list(xmuc.plugins.__path__)
        sys.path.insert(0, self.fixture)
        xmuc.plugins.__path__.append(self.pluginDirectory)

        def restore():
            sys.path.remove(self.fixture)
            xmuc.plugins.__path__[:] = savedPath
            for name in ["xmuc.plugins.thirdparty_storage", "xmuc_thirdparty_backend"]:
                sys.modules.pop(name, None)

        self.addCleanup(restore)

    def test_notFoundWithoutIt(self):
        self.assertNotIn("thirdparty", availableBackends(IStorageBackendFactory))

    def test_sysPathAloneIsNotEnoughOnceImported(self):
        """
        Why L{addToPath} extends C{xmuc.plugins.__path__}: a directory put
        on sys.path after xmuc.plugins was imported is not searched.
        """
        sys.path.insert(0, self.fixture)
        self.addCleanup(sys.path.remove, self.fixture)
        self.assertNotIn("thirdparty", availableBackends(IStorageBackendFactory))

    @defer.inlineCallbacks
    def test_found(self):
        self.addToPath()
        plugin = findBackend(IStorageBackendFactory, "thirdparty")
        self.assertTrue(verifyObject(IStorageBackendFactory, plugin))
        # The shipped ones are still there.
        self.assertEqual(
            sorted(availableBackends(IStorageBackendFactory)),
            ["memory", "postgresql", "sqlite", "thirdparty"],
        )
        config = makeConfig(os.path.abspath("."))
        storage = plugin.build(config)
        self.assertIs(storage.config, config)
        self.assertTrue(verifyObject(IStorage, storage))
        self.assertEqual(storage.name, "thirdparty")

        yield storage.start()
        self.assertIs((yield storage.accounts.create("a@example.org", {"k": 1})), True)
        self.assertIs((yield storage.accounts.create("a@example.org", {"k": 2})), False)
        self.assertEqual((yield storage.accounts.get("a@example.org")), {"k": 1})
        yield storage.rosters.set("a@example.org", "b@example.org", {"name": "B"})
        self.assertEqual(
            (yield storage.rosters.get("a@example.org"))["b@example.org"]["name"], "B"
        )
        yield storage.rooms.save("r@conference.example.org", {"s": 1})
        self.assertEqual(
            (yield storage.rooms.list("conference.example.org")),
            [("r@conference.example.org", {"s": 1})],
        )
        yield storage.tombstones.add("g@example.org", "account", 1.0)
        self.assertEqual((yield storage.tombstones.get("g@example.org"))["when"], 1.0)
        yield storage.archive.append("r@conference.example.org", "1", 2.0, "n", "<m/>")
        self.assertEqual(
            len((yield storage.archive.recent("r@conference.example.org", 5))), 1
        )
        yield storage.stop()

    def test_foundWhenOnSysPathAtStartup(self):
        """
        In a fresh process with the fixture on PYTHONPATH (how a third party
        installs a backend), nothing more is needed.
        """
        script = textwrap.dedent(
            """
            from xmuc.backends import IStorageBackendFactory, findBackend
            from xmuc.config import validate
            storage = findBackend(IStorageBackendFactory, "thirdparty").build(
                validate({}))
            print(type(storage).__name__, storage.name)
            """
        )
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [self.fixture, ROOT] + [p for p in [environment.get("PYTHONPATH")] if p]
        )
        process = subprocess.run(
            [sys.executable, "-c", script],
            cwd=self.fixture,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(process.stdout.strip(), "ThirdPartyStorage thirdparty")
