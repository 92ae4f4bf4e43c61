"""
What the server and xmucctl write is readable by their user only, whatever
the umask: the SQLite database and the files SQLite keeps beside it (0600),
the directories made for them (0700), the JSON log (0600), and the key
C{xmucctl cert} writes (0600, never written into an existing file others
may read).  Every test runs under C{umask 0}, the most permissive.
"""

import io
import os
import sqlite3
import stat

from twisted.internet import defer
from twisted.trial import unittest

from xmuc import ctl, logsetup
from xmuc.config import loadConfig, validate
from xmuc.storage import sqlite
from xmuc.storage.sqlite import SQLiteStorage


def modeOf(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class PermissiveUmaskMixin:
    def setUp(self):
        previous = os.umask(0)
        self.addCleanup(os.umask, previous)
        self.directory = os.path.abspath(self.mktemp())
        os.makedirs(self.directory)

    def assertMode(self, path, mode):
        self.assertEqual(oct(modeOf(path)), oct(mode), path)


class SQLiteFileModeTests(PermissiveUmaskMixin, unittest.TestCase):
    def config(self, path):
        return validate({"storage": {"backend": "sqlite", "path": path}},
                        os.path.join(self.directory, "tap.conf"))

    @defer.inlineCallbacks
    def writeThrough(self, storage):
        self.addCleanup(storage.stop)
        yield storage.start()
        yield storage.accounts.create("alice@localhost", {"v": 1})

    @defer.inlineCallbacks
    def test_newDatabase(self):
        """
        A new database, its -wal and -shm files are 0600; the directories
        made for it 0700.
        """
        storage = sqlite.fromConfig(self.config("data/deep/xmuc.sqlite"))
        yield self.writeThrough(storage)
        self.assertMode(os.path.join(self.directory, "data"), 0o700)
        self.assertMode(os.path.join(self.directory, "data", "deep"), 0o700)
        for suffix in ("", "-wal", "-shm"):
            self.assertTrue(os.path.exists(storage.path + suffix), suffix)
            self.assertMode(storage.path + suffix, 0o600)

    @defer.inlineCallbacks
    def test_existingDatabaseTightened(self):
        """
        A database made world-readable before (with its -wal and -shm, as
        SQLite makes them with the database file's mode) loses group and
        other permissions at start, the three files alike.
        """
        path = os.path.join(self.directory, "xmuc.sqlite")
        holder = sqlite3.connect(path)
        self.addCleanup(holder.close)
        holder.execute("PRAGMA journal_mode = WAL")
        holder.execute("CREATE TABLE t (x)")
        holder.commit()
        for suffix in ("", "-wal", "-shm"):
            self.assertMode(path + suffix, 0o644)
        storage = sqlite.fromConfig(self.config("xmuc.sqlite"))
        yield self.writeThrough(storage)
        for suffix in ("", "-wal", "-shm"):
            self.assertMode(path + suffix, 0o600)

    @defer.inlineCallbacks
    def test_storageBuiltDirectly(self):
        """
        The backend built without the configuration makes its file 0600
        too.
        """
        storage = SQLiteStorage(os.path.join(self.directory, "direct.sqlite"))
        yield self.writeThrough(storage)
        for suffix in ("", "-wal", "-shm"):
            self.assertMode(storage.path + suffix, 0o600)


class JSONLogFileModeTests(PermissiveUmaskMixin, unittest.TestCase):
    def test_created0600(self):
        """
        The JSON log file is created 0600 and appended to.
        """
        config = validate({"log": {"json_file": "events.json"}},
                          os.path.join(self.directory, "tap.conf"))
        for line in ("one", "two"):
            jsonFile = logsetup.openJSONFile(config)
            jsonFile.write(line + "\n")
            jsonFile.close()
        path = os.path.join(self.directory, "events.json")
        self.assertMode(path, 0o600)
        with open(path) as f:
            self.assertEqual(f.read(), "one\ntwo\n")


class CertificateKeyModeTests(PermissiveUmaskMixin, unittest.TestCase):
    def writeConfig(self):
        path = os.path.join(self.directory, "tap.conf")
        with open(path, "w") as f:
            f.write("[c2s]\ntls_certificate = data/localhost.crt\n"
                    "tls_key = data/localhost.key\n")
        return path

    def cert(self, *extra):
        out, err = io.StringIO(), io.StringIO()
        code = ctl.main(["-c", self.writeConfig(), "cert", "localhost"] + list(extra),
                        stdout=out, stderr=err, stdin=io.StringIO(""))
        self.assertEqual(code, 0, err.getvalue())

    def test_new(self):
        """
        The key is 0600, the certificate 0644, the directory made for them
        0700.
        """
        self.cert()
        self.assertMode(os.path.join(self.directory, "data"), 0o700)
        self.assertMode(os.path.join(self.directory, "data", "localhost.key"), 0o600)
        self.assertMode(os.path.join(self.directory, "data", "localhost.crt"), 0o644)
        loadConfig(self.writeConfig())

    def test_forceNeverWritesIntoReadableFile(self):
        """
        With C{--force} over a world-readable key file, the new key goes to
        a new 0600 file renamed over it: the old file (as anyone who opened
        it sees it) never holds the new key.
        """
        keyPath = os.path.join(self.directory, "data", "localhost.key")
        os.makedirs(os.path.dirname(keyPath))
        with open(keyPath, "w") as f:
            f.write("old key\n")
        os.chmod(keyPath, 0o644)
        reader = open(keyPath)
        self.addCleanup(reader.close)
        self.cert("--force")
        self.assertMode(keyPath, 0o600)
        self.assertEqual(reader.read(), "old key\n")
        with open(keyPath) as f:
            self.assertIn("PRIVATE KEY", f.read())
        self.assertEqual(
            [name for name in os.listdir(os.path.dirname(keyPath)) if name.startswith(".")], []
        )
