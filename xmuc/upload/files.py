"""
The uploaded files on disk, under C{[upload] path}.

Each file is two files named by its slot token: C{<token>.bin} (the bytes
as uploaded) and C{<token>.json} (owner, name, size, type, creation time).
The metadata lives beside the content rather than in the database: the
two are created, expired and deleted together, a backup of the directory
is complete, and the database backends need no new schema.  The user's
file name never reaches the file system.

A body being uploaded goes to C{<token>.part} in the same directory and is
renamed once complete and accepted, so a GET never sees half a file and a
crash leaves only C{.part} files, removed at the next start.  Everything
that may wait on the disk beyond a write of a received chunk (scanning,
renaming, writing metadata, deleting) runs in the reactor's thread pool.
"""

import json
import os
import re

from twisted.internet import defer, threads
from twisted.logger import Logger

from xmuc.privatefiles import makeDirectories, openFile, replaceFile

log = Logger()

#: The file of a stored token; anything else in the directory that looks
#: like ours but is not complete is removed at start.
_STORED = re.compile(r"^([A-Za-z0-9_-]{32})\.(bin|json|part)$")


class StoredFile:
    """
    One uploaded file's metadata.

    @ivar token: its slot token.
    @ivar name: its sanitized file name.
    @ivar size: its length in bytes.
    @ivar contentType: the media type it is served with.
    @ivar owner: the uploader's bare JID.
    @ivar created: unix time of the upload.
    """

    def __init__(self, token, name, size, contentType, owner, created):
        self.token = token
        self.name = name
        self.size = size
        self.contentType = contentType
        self.owner = owner
        self.created = created

    def toJSON(self):
        return json.dumps(dict(name=self.name, size=self.size, type=self.contentType, owner=self.owner,
                               created=self.created), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def fromJSON(cls, token, data):
        value = json.loads(data)
        return cls(token, str(value["name"]), int(value["size"]), str(value["type"]), str(value["owner"]),
                   float(value["created"]))


class IncomingFile:
    """
    Where twisted.web writes the body of a PUT: C{<token>.part}, taking at
    most C{limit} bytes (more sets L{overflow} and is dropped).  It has
    the file methods the HTTP request uses (write, tell, seek, read,
    close).

    @ivar path: the C{.part} file.
    @ivar received: bytes written so far.
    @ivar overflow: whether more than C{limit} bytes came.
    """

    def __init__(self, path, limit):
        self.path = path
        self.limit = limit
        self.received = 0
        self.overflow = False
        self._file = os.fdopen(openFile(path, os.O_RDWR | os.O_TRUNC), "w+b")

    def write(self, data):
        if self.received + len(data) > self.limit:
            self.overflow = True
            return
        self._file.write(data)
        self.received += len(data)

    def tell(self):
        return self._file.tell()

    def seek(self, offset, whence=0):
        return self._file.seek(offset, whence)

    def read(self, size=-1):
        return self._file.read(size)

    def close(self):
        self._file.close()


class DiscardedBody:
    """
    Where the body of a refused PUT goes: nowhere (nothing is written
    for a request already refused); only its length is counted.
    """

    def __init__(self):
        self.received = 0

    def write(self, data):
        self.received += len(data)

    def tell(self):
        return self.received

    def seek(self, offset, whence=0):
        return 0

    def read(self, size=-1):
        return b""

    def close(self):
        pass


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class FileStore:
    """
    The upload directory and the index of its files.

    @ivar directory: the absolute upload directory.
    @ivar files: C{{token: StoredFile}} of the complete files.
    @ivar busy: tokens whose body is being received (a second PUT is a
        conflict).
    """

    def __init__(self, directory, reactor):
        self.directory = os.path.abspath(directory)
        self.reactor = reactor
        self.files = {}
        self.busy = set()

    def _inThread(self, f, *args):
        return threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), f, *args)

    def _path(self, token, suffix):
        return os.path.join(self.directory, token + suffix)

    def contentPath(self, token):
        """
        @return: the path of the content of C{token}.
        """
        return self._path(token, ".bin")

    # -- start ---------------------------------------------------------------

    def start(self, secret=None):
        """
        Create the directory, read the metadata of every file, remove what
        an interrupted upload left, and read (or create) the URL signing
        secret when none is configured.

        @param secret: the configured secret (bytes) or L{None}.
        @return: Deferred firing with the secret (bytes).
        """
        d = self._inThread(self._scan, secret)

        def scanned(result):
            found, secret = result
            self.files.update(found)
            return secret

        return d.addCallback(scanned)

    def _scan(self, secret):
        makeDirectories(self.directory)
        if secret is None:
            secret = self._readSecret()
        names = set(os.listdir(self.directory))
        found = {}
        for name in sorted(names):
            match = _STORED.match(name)
            if match is None:
                continue
            token, kind = match.groups()
            path = os.path.join(self.directory, name)
            if kind == "part" or (kind == "bin" and token + ".json" not in names):
                _unlink(path)
            elif kind == "json":
                if token + ".bin" not in names:
                    _unlink(path)
                    continue
                try:
                    with open(path, "rb") as f:
                        found[token] = StoredFile.fromJSON(token, f.read())
                except (OSError, ValueError, KeyError, TypeError):
                    log.warn("unreadable upload metadata {path}: the file is not served", path=path)
        return found, secret

    def _readSecret(self):
        path = os.path.join(self.directory, "secret")
        try:
            with open(path, "rb") as f:
                secret = f.read().strip()
            if len(secret) >= 32:
                return secret
        except FileNotFoundError:
            pass
        secret = os.urandom(32).hex().encode("ascii")
        replaceFile(path, secret)
        return secret

    # -- uploads -------------------------------------------------------------

    def receive(self, token, limit):
        """
        Start receiving the body of C{token}.

        @return: the L{IncomingFile}.
        @raise OSError: when the file cannot be created.
        """
        self.busy.add(token)
        try:
            return IncomingFile(self._path(token, ".part"), limit)
        except BaseException:
            self.busy.discard(token)
            raise

    def abandon(self, token, incoming):
        """
        Forget a body that will not be stored.

        @return: Deferred firing once its C{.part} file is gone.
        """
        incoming.close()
        d = self._inThread(_unlink, incoming.path)
        d.addBoth(lambda result: (self.busy.discard(token), result)[1])
        return d

    def commit(self, incoming, stored):
        """
        Make a received body the file C{stored} describes: rename the
        C{.part} file, then write the metadata (a file without metadata is
        removed at the next start).

        @return: Deferred firing once the file is served.
        """
        incoming.close()

        def store():
            os.replace(incoming.path, self.contentPath(stored.token))
            replaceFile(self._path(stored.token, ".json"), stored.toJSON())

        def stored_(_):
            self.files[stored.token] = stored

        def finished(result):
            self.busy.discard(stored.token)
            return result

        d = self._inThread(store)
        d.addCallback(stored_)
        return d.addBoth(finished)

    def taken(self, token):
        """
        @return: whether C{token} has a file or a body being received.
        """
        return token in self.files or token in self.busy

    # -- removal -------------------------------------------------------------

    def delete(self, tokens):
        """
        Delete the files of C{tokens}: they are no longer served from now
        on, and gone from the disk once the Deferred fires.

        @return: Deferred firing with the list of L{StoredFile} deleted.
        """
        deleted = [self.files.pop(token) for token in tokens if token in self.files]
        if not deleted:
            return defer.succeed([])

        def remove():
            for stored in deleted:
                _unlink(self._path(stored.token, ".json"))
                _unlink(self.contentPath(stored.token))

        return self._inThread(remove).addCallback(lambda _: deleted)

    def expired(self, before):
        """
        @param before: unix time.
        @return: the tokens of the files uploaded before it.
        """
        return [token for token, stored in self.files.items() if stored.created < before]
