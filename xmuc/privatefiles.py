"""
Files and directories only the server's user may read: the database, its
journal, the JSON log, private keys, and the C{data/} directory holding
them.

Modes are set explicitly rather than left to the umask: a service started
with a permissive umask (0 under some init systems and containers) would
otherwise create them readable by every local user.  This module imports
nothing else from xmuc.
"""

import os
import stat
import tempfile

#: The mode of the files made here.
PRIVATE_FILE = 0o600

#: The mode of the directories made here.
PRIVATE_DIRECTORY = 0o700


def makeDirectories(path):
    """
    Create C{path} and its missing parents, each L{PRIVATE_DIRECTORY};
    directories that exist are left as they are.

    @raise OSError: when one cannot be created.
    """
    missing = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIRECTORY)
        except FileExistsError:
            # Made meanwhile by someone else, or a file: os.open below or
            # the caller reports the latter.
            continue
        os.chmod(directory, PRIVATE_DIRECTORY)


def openFile(path, flags):
    """
    Open C{path} with C{flags} (C{os.O_*}), creating it L{PRIVATE_FILE}
    when missing.

    @return: the file descriptor.
    @raise OSError: when it cannot be opened.
    """
    try:
        return os.open(path, flags & ~os.O_CREAT)
    except FileNotFoundError:
        pass
    try:
        descriptor = os.open(path, flags | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        # Created between the two calls.
        return os.open(path, flags & ~os.O_CREAT)
    os.fchmod(descriptor, PRIVATE_FILE)
    return descriptor


def createFile(path):
    """
    Create C{path}, empty and L{PRIVATE_FILE}, when it does not exist.

    @raise OSError: when it cannot be created.
    """
    os.close(openFile(path, os.O_RDONLY))


def tighten(path):
    """
    Take group and other permissions away from C{path} if it exists and
    has any.

    @raise OSError: when it exists but its mode cannot be changed.
    """
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & ~0o077)


def replaceFile(path, data, mode=PRIVATE_FILE):
    """
    Write C{data} to a new file of mode C{mode} beside C{path}, then rename
    it over C{path}: the data is never in a file with another mode, even
    when C{path} exists with a looser one, and C{path} is never half
    written.

    @param data: L{bytes}.
    @raise OSError: when it cannot be written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    # mkstemp creates the file 0600 whatever the umask.
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".xmuc-")
    try:
        with os.fdopen(descriptor, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
