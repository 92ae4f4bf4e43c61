"""
The upload directory (L{xmuc.upload.files}): files with their metadata
survive a restart, what an interrupted upload left is removed at start,
the signing secret is kept, deletions and expiry.
"""

import os
import stat

from twisted.internet import defer, reactor
from twisted.trial import unittest

from xmuc.upload import slots
from xmuc.upload.files import FileStore, StoredFile


class FileStoreTests(unittest.TestCase):
    def setUp(self):
        self.directory = os.path.abspath(self.mktemp())

    @defer.inlineCallbacks
    def started(self, secret=None):
        store = FileStore(self.directory, reactor)
        store.secret = yield store.start(secret)
        return store

    @defer.inlineCallbacks
    def put(self, store, data, owner="alice@localhost", created=1000.0, name="a.png"):
        """
        Receive C{data} as a complete upload.

        @return: Deferred firing with the L{StoredFile}.
        """
        token = slots.newToken()
        incoming = store.receive(token, len(data))
        self.assertTrue(store.taken(token))
        incoming.write(data)
        stored = StoredFile(token, name, len(data), "image/png", owner, created)
        yield store.commit(incoming, stored)
        return stored

    def listing(self):
        return sorted(os.listdir(self.directory))

    @defer.inlineCallbacks
    def test_restartKeepsFiles(self):
        """
        A file and its metadata are found again by a new store on the same
        directory.
        """
        store = yield self.started()
        stored = yield self.put(store, b"abc", name="très.png")
        again = yield self.started()
        found = again.files[stored.token]
        self.assertEqual((found.name, found.size, found.contentType, found.owner, found.created),
                         ("très.png", 3, "image/png", "alice@localhost", 1000.0))
        with open(again.contentPath(stored.token), "rb") as f:
            self.assertEqual(f.read(), b"abc")
        self.assertEqual(again.secret, store.secret)

    @defer.inlineCallbacks
    def test_private(self):
        """
        The directory, the files and the secret are the server user's only.
        """
        store = yield self.started()
        stored = yield self.put(store, b"abc")
        self.assertEqual(stat.S_IMODE(os.stat(self.directory).st_mode), 0o700)
        for name in ("secret", stored.token + ".bin", stored.token + ".json"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.directory, name)).st_mode) & 0o077, 0, name)

    @defer.inlineCallbacks
    def test_configuredSecret(self):
        """
        A configured secret is used as is, and nothing is written for it.
        """
        store = yield self.started(b"configured")
        self.assertEqual(store.secret, b"configured")
        self.assertNotIn("secret", self.listing())

    @defer.inlineCallbacks
    def test_interruptedRemoved(self):
        """
        At start, a C{.part} file, content without metadata and metadata
        without content are removed; complete files and unrelated files
        stay.
        """
        store = yield self.started()
        kept = yield self.put(store, b"abc")
        store.receive(slots.newToken(), 10).write(b"half")
        orphans = [slots.newToken() for _ in range(2)]
        with open(os.path.join(self.directory, orphans[0] + ".bin"), "wb") as f:
            f.write(b"no metadata")
        with open(os.path.join(self.directory, orphans[1] + ".json"), "wb") as f:
            f.write(b"{}")
        with open(os.path.join(self.directory, "README"), "wb") as f:
            f.write(b"mine")
        again = yield self.started()
        self.assertEqual(list(again.files), [kept.token])
        self.assertEqual(self.listing(), sorted(["README", "secret", kept.token + ".bin", kept.token + ".json"]))

    @defer.inlineCallbacks
    def test_unreadableMetadata(self):
        """
        A file whose metadata cannot be read is not served (and the start
        goes on).
        """
        store = yield self.started()
        stored = yield self.put(store, b"abc")
        with open(os.path.join(self.directory, stored.token + ".json"), "wb") as f:
            f.write(b"{not json")
        again = yield self.started()
        self.assertEqual(again.files, {})

    @defer.inlineCallbacks
    def test_overflow(self):
        """
        Bytes beyond the limit are not written.
        """
        store = yield self.started()
        incoming = store.receive(slots.newToken(), 4)
        incoming.write(b"abc")
        incoming.write(b"de")
        self.assertTrue(incoming.overflow)
        self.assertEqual(incoming.received, 3)
        yield store.abandon("x", incoming)
        self.assertEqual(self.listing(), ["secret"])

    @defer.inlineCallbacks
    def test_abandon(self):
        """
        An abandoned body leaves nothing, and its slot is free again.
        """
        store = yield self.started()
        token = slots.newToken()
        incoming = store.receive(token, 10)
        incoming.write(b"abc")
        yield store.abandon(token, incoming)
        self.assertFalse(store.taken(token))
        self.assertEqual(self.listing(), ["secret"])

    @defer.inlineCallbacks
    def test_delete(self):
        """
        Deleting removes content and metadata, only of the tokens given;
        unknown tokens are ignored.
        """
        store = yield self.started()
        one = yield self.put(store, b"one")
        two = yield self.put(store, b"two")
        deleted = yield store.delete([one.token, "unknown"])
        self.assertEqual([d.token for d in deleted], [one.token])
        self.assertEqual(list(store.files), [two.token])
        self.assertEqual(self.listing(), sorted(["secret", two.token + ".bin", two.token + ".json"]))

    @defer.inlineCallbacks
    def test_expired(self):
        store = yield self.started()
        old = yield self.put(store, b"old", created=100.0)
        yield self.put(store, b"new", created=200.0)
        self.assertEqual(store.expired(150.0), [old.token])
