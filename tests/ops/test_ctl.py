"""
Tests for C{xmucctl} (L{xmuc.ctl}): argument parsing that never exits, exit
codes decided by C{main} only, the commands on a real storage (in process
and as a separate process next to a running one, on SQLite and on
PostgreSQL: its changes are what the server uses), check-config and cert.
"""

import datetime
import io
import os
import stat
import subprocess
import sys
import textwrap
import time

from cryptography import x509
from twisted.internet import defer, ssl, utils
from twisted.trial import unittest

from xmuc import ctl
from xmuc.c2s.stream import loadCertificate
from xmuc.config import loadConfig
from tests.support.postgres import PostgresSchema, findPostgres
from tests.support.client import connectTestClient, startServerWith

PYTHON = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CONFIG = """\
[server]
hosts = localhost, example.org

[c2s]
listen = tcp:0:interface=127.0.0.1
require_encryption = false
tls_certificate = certs/server.crt
tls_key = certs/server.key

[auth]
backend = internal

[storage]
backend = sqlite
path = data/xmuc.sqlite

[muc]
domain = conference.localhost
"""


def writeConfig(testCase, text=CONFIG):
    """
    @return: the absolute path of a tap.conf holding C{text} in a new
        directory.
    """
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text))
    return path


def runMain(argv, stdin=""):
    """
    Run L{ctl.main} in process (only for commands that need no reactor).

    @return: C{(exit code, stdout, stderr)}.
    """
    out, err = io.StringIO(), io.StringIO()
    code = ctl.main(argv, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


class ParseArgumentsTests(unittest.TestCase):
    """
    L{ctl.parseArguments} returns or raises; it never prints nor exits.
    """

    def test_adduser(self):
        args = ctl.parseArguments(["-c", "x.conf", "adduser", "alice", "--password", "pw"])
        self.assertEqual(
            (args.config, args.command, args.jid, args.password, args.reuse),
            ("x.conf", "adduser", "alice", "pw", False),
        )

    def test_defaultConfig(self):
        self.assertEqual(ctl.parseArguments(["users"]).config, "tap.conf")

    def test_cert(self):
        args = ctl.parseArguments(["cert", "localhost", "--alt", "a.localhost", "--days", "3"])
        self.assertEqual((args.host, args.alt, args.days), ("localhost", ["a.localhost"], 3))

    def assertUsageError(self, argv, messagePart, usagePart):
        error = self.assertRaises(ctl.UsageError, ctl.parseArguments, argv)
        self.assertIn(messagePart, error.message)
        self.assertIn(usagePart, error.usage)
        return error

    def test_noCommand(self):
        self.assertUsageError([], "required", "usage: xmucctl")

    def test_unknownCommand(self):
        self.assertUsageError(["frobnicate"], "invalid choice", "usage: xmucctl")

    def test_missingArgument(self):
        """
        The usage shown is the subcommand's.
        """
        self.assertUsageError(["adduser"], "jid", "usage: xmucctl adduser")

    def test_unknownOption(self):
        self.assertUsageError(["users", "--colour"], "--colour", "usage: xmucctl")

    def test_badType(self):
        self.assertUsageError(["cert", "localhost", "--days", "ten"], "ten", "usage:")

    def test_badDays(self):
        self.assertUsageError(["cert", "localhost", "--days", "0"], "--days", "usage:")

    def test_help(self):
        error = self.assertRaises(ctl.HelpRequested, ctl.parseArguments, ["--help"])
        self.assertIn("check-config", error.text)

    def test_subcommandHelp(self):
        error = self.assertRaises(
            ctl.HelpRequested, ctl.parseArguments, ["destroy-room", "-h"]
        )
        self.assertIn("usage: xmucctl destroy-room", error.text)

    def test_version(self):
        error = self.assertRaises(ctl.HelpRequested, ctl.parseArguments, ["--version"])
        self.assertIn("xmucctl", error.text)


class MainExitCodeTests(unittest.TestCase):
    """
    L{ctl.main} decides the exit code and what is written where.
    """

    def test_usage(self):
        code, out, err = runMain(["adduser"])
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: xmucctl adduser", err)
        self.assertIn("xmucctl: error:", err)

    def test_help(self):
        code, out, err = runMain(["--help"])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("usage: xmucctl", out)

    def test_missingConfig(self):
        path = os.path.join(os.path.abspath(self.mktemp()), "absent.conf")
        code, out, err = runMain(["-c", path, "users"])
        self.assertEqual(code, 1)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn(path, err)
        self.assertIn("not found", err)

    def test_memoryBackend(self):
        """
        The memory backend lives inside the server: xmucctl says so.
        """
        path = writeConfig(self, CONFIG.replace("backend = sqlite", "backend = memory"))
        code, out, err = runMain(["-c", path, "users"])
        self.assertEqual(code, 1)
        self.assertIn("memory", err)
        self.assertEqual(err.count("\n"), 1, err)

    def test_badPassword(self):
        """
        A password SASLprep refuses could never be used to log in.
        """
        path = writeConfig(self)
        code, out, err = runMain(["-c", path, "adduser", "alice"], stdin="bad\u0007pw\n")
        self.assertEqual(code, 1)
        self.assertIn("SASLprep", err)

    def test_emptyPassword(self):
        path = writeConfig(self)
        code, out, err = runMain(["-c", path, "adduser", "alice"], stdin="\n")
        self.assertEqual(code, 1)
        self.assertIn("empty", err)


class CheckConfigTests(unittest.TestCase):
    """
    C{xmucctl check-config} reports every problem with its place.
    """

    def test_ok(self):
        path = writeConfig(self, CONFIG.replace("tls_", "#tls_"))
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("OK", out)

    def test_everyProblem(self):
        path = writeConfig(
            self,
            CONFIG.replace("require_encryption = false", "require_encryption = maybe")
            .replace("backend = sqlite", "backend = mongo")
            .replace("[muc]", "[muc]\ncolour = blue")
            + "\n[extras]\nx = 1\n",
        )
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("%s:6 [c2s] require_encryption" % (path,), err)
        self.assertIn("%s:14 [storage] backend: unknown backend 'mongo'" % (path,), err)
        self.assertIn("%s:18 [muc] colour: unknown key" % (path,), err)
        self.assertIn("%s:21 [extras]" % (path,), err)
        self.assertIn("4 problems found", err)
        # In the order of the file.
        self.assertLess(err.index("[storage] backend"), err.index("[muc] colour"))
        self.assertNotIn("Traceback", err)

    def test_unknownAuthBackend(self):
        path = writeConfig(self, CONFIG.replace("backend = internal", "backend = ldap"))
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("[auth] backend: unknown backend 'ldap'", err)

    def test_missingTLSFiles(self):
        """
        Files named in the configuration must exist.
        """
        path = writeConfig(self)
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("[c2s] tls_certificate", err)
        self.assertIn("[c2s] tls_key", err)
        self.assertIn("xmucctl cert", err)

    def test_jsonLogDirectory(self):
        path = writeConfig(
            self, CONFIG.replace("tls_", "#tls_") + "\n[log]\njson_file = nowhere/x.json\n"
        )
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("[log] json_file: directory", err)

    def test_insecureAuthRefused(self):
        path = writeConfig(
            self, CONFIG.replace("tls_", "#tls_").replace("= internal", "= insecure")
        )
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("allow_insecure", err)

    def test_syntaxError(self):
        path = writeConfig(self, "no section here\n" + CONFIG)
        code, out, err = runMain(["-c", path, "check-config"])
        self.assertEqual(code, 1)
        self.assertIn("%s:1" % (path,), err)

    def test_shippedConfigurations(self):
        """
        The configurations in the repository are valid (tap.conf's TLS
        files are made by C{make run}, so only values are checked).
        """
        for name in ("tap.conf", "tap-scansion.conf"):
            path = os.path.join(ROOT, name)
            problems = [
                p for p in ctl.checkConfig(path) if p.key not in ("tls_certificate", "tls_key")
            ]
            self.assertEqual(problems, [], name)


class CertTests(unittest.TestCase):
    """
    C{xmucctl cert} writes a self-signed certificate where tap.conf says,
    relative to the configuration file (the Makefile's C{data/localhost.crt}
    target relies on it).
    """

    def loadCertificate(self, path):
        with open(path, "rb") as f:
            return x509.load_pem_x509_certificate(f.read())

    def test_configPaths(self):
        path = writeConfig(self)
        directory = os.path.dirname(path)
        code, out, err = runMain(["-c", path, "cert", "localhost"])
        self.assertEqual((code, err), (0, ""))
        certificatePath = os.path.join(directory, "certs", "server.crt")
        keyPath = os.path.join(directory, "certs", "server.key")
        certificate = self.loadCertificate(certificatePath)
        self.assertEqual(stat.S_IMODE(os.stat(keyPath).st_mode), 0o600)

        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.DNSName)
        # The MUC service is a subdomain of the host: included.
        self.assertEqual(names, ["localhost", "conference.localhost"])

        # The pair is usable by Twisted's TLS.

        with open(certificatePath) as c, open(keyPath) as k:
            ssl.PrivateCertificate.loadPEM(c.read() + k.read())

    def test_makefileCommand(self):
        """
        The Makefile runs C{python -m xmuc.ctl -c tap.conf cert localhost};
        from another directory, the files land next to the configuration.
        """
        path = writeConfig(self, CONFIG.replace("certs/server", "data/localhost"))
        elsewhere = os.path.abspath(self.mktemp())
        os.makedirs(elsewhere)
        result = subprocess.run(
            [PYTHON, "-m", "xmuc.ctl", "-c", path, "cert", "localhost"],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        directory = os.path.dirname(path)
        self.assertTrue(os.path.exists(os.path.join(directory, "data", "localhost.crt")))
        self.assertTrue(os.path.exists(os.path.join(directory, "data", "localhost.key")))
        self.assertEqual(os.listdir(elsewhere), [])

    def test_noOverwrite(self):
        path = writeConfig(self)
        self.assertEqual(runMain(["-c", path, "cert", "localhost"])[0], 0)
        code, out, err = runMain(["-c", path, "cert", "localhost"])
        self.assertEqual(code, 1)
        self.assertIn("--force", err)
        self.assertEqual(runMain(["-c", path, "cert", "localhost", "--force"])[0], 0)

    def test_out(self):
        path = writeConfig(self, CONFIG.replace("tls_", "#tls_"))
        prefix = os.path.join(os.path.abspath(self.mktemp()), "x")
        code, out, err = runMain(["-c", path, "cert", "example.org", "--out", prefix, "--days", "2"])
        self.assertEqual((code, err), (0, ""))
        certificate = self.loadCertificate(prefix + ".crt")
        lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        self.assertTrue(2 * 86400 <= lifetime.total_seconds() <= 2 * 86400 + 600)

    def test_noPaths(self):
        path = writeConfig(self, CONFIG.replace("tls_", "#tls_"))
        code, out, err = runMain(["-c", path, "cert", "localhost"])
        self.assertEqual(code, 1)
        self.assertIn("--out", err)


def certbotDirectory(testCase, host="localhost", altNames=("example.org",)):
    """
    A directory laid out as certbot's C{live/DOMAIN}: C{fullchain.pem} and
    C{privkey.pem} (readable by root only).

    @return: its path.
    """
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    certificatePEM, keyPEM = ctl.makeCertificate(host, 90, list(altNames))
    for name, data, mode in (("fullchain.pem", certificatePEM, 0o644), ("privkey.pem", keyPEM, 0o600)):
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    return directory


class CertImportTests(unittest.TestCase):
    """
    C{xmucctl cert --import} installs a certificate the operator has (a
    certbot live directory, or PEM files) where tap.conf says, after
    checking it.
    """

    def setUp(self):
        self.config = writeConfig(self)
        directory = os.path.dirname(self.config)
        self.certificate = os.path.join(directory, "certs", "server.crt")
        self.key = os.path.join(directory, "certs", "server.key")

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_certbotDirectory(self):
        source = certbotDirectory(self)
        # An older certificate is there already: replaced in place.
        self.assertEqual(runMain(["-c", self.config, "cert", "localhost"])[0], 0)
        code, out, err = runMain(["-c", self.config, "cert", "--import", source])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("installed the certificate for localhost, example.org, valid until ", out)
        self.assertIn("SIGHUP", out)
        self.assertEqual(
            x509.load_pem_x509_certificate(self.read(self.certificate)),
            x509.load_pem_x509_certificate(self.read(os.path.join(source, "fullchain.pem"))),
        )
        self.assertEqual(stat.S_IMODE(os.stat(self.key).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.certificate).st_mode), 0o644)
        # What the server reads at start and on SIGHUP.
        pair = loadCertificate(loadConfig(self.config))
        self.assertEqual(pair.names(), ["localhost", "example.org"])
        self.assertEqual(sorted(os.listdir(os.path.dirname(self.key))), ["server.crt", "server.key"])

    def test_explicitFiles(self):
        source = certbotDirectory(self)
        code, out, err = runMain(
            [
                "-c", self.config, "cert",
                "--import", os.path.join(source, "fullchain.pem"),
                "--key", os.path.join(source, "privkey.pem"),
            ]
        )
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(os.path.exists(self.key))

    def test_combinedFile(self):
        """
        A single PEM file holding certificate and key: the key does not end
        up in the certificate file, which everyone may read.
        """
        source = certbotDirectory(self)
        combined = os.path.join(source, "combined.pem")
        with open(combined, "wb") as f:
            f.write(self.read(os.path.join(source, "fullchain.pem")))
            f.write(self.read(os.path.join(source, "privkey.pem")))
        code, out, err = runMain(["-c", self.config, "cert", "--import", combined])
        self.assertEqual((code, err), (0, ""))
        self.assertNotIn(b"PRIVATE KEY", self.read(self.certificate))
        self.assertIn(b"PRIVATE KEY", self.read(self.key))

    def test_keyMismatch(self):
        source = certbotDirectory(self)
        other = certbotDirectory(self)
        code, out, err = runMain(
            [
                "-c", self.config, "cert",
                "--import", os.path.join(source, "fullchain.pem"),
                "--key", os.path.join(other, "privkey.pem"),
            ]
        )
        self.assertEqual(code, 1)
        self.assertIn("does not match the certificate", err)
        self.assertFalse(os.path.exists(self.key))

    def test_hostNotCovered(self):
        source = certbotDirectory(self, altNames=())
        code, out, err = runMain(["-c", self.config, "cert", "--import", source])
        self.assertEqual(code, 1)
        self.assertIn("is for localhost: it does not cover example.org ([server] hosts)", err)
        self.assertFalse(os.path.exists(self.certificate))

    def test_missingFiles(self):
        code, out, err = runMain(["-c", self.config, "cert", "--import", self.mktemp()])
        self.assertEqual(code, 1)
        self.assertIn("cannot read", err)

    def test_expired(self):
        source = certbotDirectory(self)
        args = ctl.parseArguments(["cert", "--import", source])
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=91)
        error = self.assertRaises(
            ctl.CommandError, ctl.importCertificate, args, loadConfig(self.config), later
        )
        self.assertIn("expired on", str(error))
        self.assertFalse(os.path.exists(self.certificate))

    def test_usage(self):
        for argv in (["cert"], ["cert", "localhost", "--import", "x"], ["cert", "localhost", "--key", "k"]):
            code, out, err = runMain(argv)
            self.assertEqual(code, 2, argv)


class StorageCommandTests(unittest.TestCase):
    """
    The storage commands, in process, on a real SQLite storage with the
    internal authentication backend.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.config = loadConfig(writeConfig(self))
        self.storage, self.auth = ctl.buildBackends(self.config)
        yield self.storage.start()
        self.addCleanup(self.storage.stop)

    def run(self, *argv):
        """
        @return: Deferred firing with the output, or failing with
            L{ctl.CommandError}.
        """
        args = ctl.parseArguments(list(argv))
        out = io.StringIO()
        context = ctl.StorageContext(self.config, self.storage, self.auth, out)
        d = ctl.runStorageCommand(context, args, getattr(args, "password", None))
        return d.addCallback(lambda _: out.getvalue())

    # run() above shadows TestCase.run: keep trial's.
    command = run
    run = unittest.TestCase.run

    @defer.inlineCallbacks
    def test_adduser(self):
        out = yield self.command("adduser", "alice", "--password", "pw1")
        self.assertEqual(out, "created alice@localhost\n")
        ok = yield self.auth.checkPassword("alice", "localhost", "pw1")
        self.assertTrue(ok)
        stored = yield self.storage.accounts.get("alice@localhost")
        self.assertNotIn("pw1", repr(stored))

    @defer.inlineCallbacks
    def test_adduserOtherHost(self):
        yield self.command("adduser", "Bob@Example.org", "--password", "x")
        names = yield self.storage.accounts.list()
        self.assertEqual(names, ["bob@example.org"])

    @defer.inlineCallbacks
    def test_adduserExists(self):
        yield self.command("adduser", "alice", "--password", "pw1")
        error = yield self.assertFailure(
            self.command("adduser", "alice@localhost", "--password", "pw2"),
            ctl.CommandError,
        )
        self.assertIn("already exists", str(error))
        ok = yield self.auth.checkPassword("alice", "localhost", "pw1")
        self.assertTrue(ok)

    @defer.inlineCallbacks
    def test_badJIDs(self):
        for jid, part in [
            ("alice@nowhere.example", "not served"),
            ("alice@localhost/phone", "bare"),
            ("@localhost", "JID"),
        ]:
            error = yield self.assertFailure(
                self.command("adduser", jid, "--password", "x"), ctl.CommandError
            )
            self.assertIn(part, str(error))

    @defer.inlineCallbacks
    def test_passwd(self):
        yield self.command("adduser", "alice", "--password", "old")
        out = yield self.command("passwd", "alice", "--password", "new")
        self.assertIn("changed", out)
        new = yield self.auth.checkPassword("alice", "localhost", "new")
        old = yield self.auth.checkPassword("alice", "localhost", "old")
        self.assertEqual((new, old), (True, False))

    @defer.inlineCallbacks
    def test_passwdUnknown(self):
        error = yield self.assertFailure(
            self.command("passwd", "ghost", "--password", "x"), ctl.CommandError
        )
        self.assertIn("no account ghost@localhost", str(error))
        names = yield self.storage.accounts.list()
        self.assertEqual(names, [])

    @defer.inlineCallbacks
    def test_deluserLeavesTombstone(self):
        yield self.command("adduser", "alice", "--password", "pw")
        yield self.storage.rosters.set("alice@localhost", "bob@localhost", {"subscription": "both"})
        yield self.storage.accountData.set("alice@localhost", "vcard", "<vCard xmlns='vcard-temp'/>")
        out = yield self.command("deluser", "alice")
        self.assertIn("deleted alice@localhost", out)
        vcard = yield self.storage.accountData.get("alice@localhost", "vcard")
        self.assertIsNone(vcard)
        exists = yield self.auth.userExists("alice@localhost")
        self.assertFalse(exists)
        tombstone = yield self.storage.tombstones.get("alice@localhost")
        self.assertEqual(tombstone["kind"], "account")
        roster = yield self.storage.rosters.get("alice@localhost")
        self.assertEqual(roster, {})

    @defer.inlineCallbacks
    def test_deluserContacts(self):
        """
        Local contacts lose their subscriptions to the deleted account (as
        C{unsubscribed} + C{unsubscribe} would do); remote ones are not ours.
        """
        yield self.command("adduser", "alice", "--password", "pw")
        rosters = self.storage.rosters
        yield rosters.set("alice@localhost", "bob@localhost", {"subscription": "both"})
        yield rosters.set("alice@localhost", "carol@example.org", {"subscription": "from"})
        yield rosters.set("alice@localhost", "dave@remote.example", {"subscription": "to"})
        yield rosters.set(
            "bob@localhost", "alice@localhost",
            {"subscription": "both", "name": "Alice", "groups": ["Friends"]},
        )
        yield rosters.set(
            "carol@example.org", "alice@localhost",
            {"subscription": "none", "ask": "subscribe", "pending_in": True},
        )
        out = yield self.command("deluser", "alice")
        self.assertIn("removed from 2 contact rosters", out)
        bob = yield rosters.get("bob@localhost")
        self.assertEqual(
            bob["alice@localhost"],
            {"name": "Alice", "groups": ["Friends"], "subscription": "none",
             "ask": None, "pending_in": False},
        )
        carol = yield rosters.get("carol@example.org")
        self.assertEqual(
            (carol["alice@localhost"]["ask"], carol["alice@localhost"]["pending_in"]),
            (None, False),
        )

    @defer.inlineCallbacks
    def test_deluserRooms(self):
        """
        Persistent rooms forget the deleted account's affiliation and
        reserved nickname; other rooms are left alone.
        """
        yield self.command("adduser", "alice", "--password", "pw")
        yield self.storage.rooms.save(
            "lobby@conference.localhost",
            {"affiliations": {"alice@localhost": "owner", "bob@localhost": "member"},
             "reservedNicks": {"alice@localhost": "Al"}},
        )
        yield self.storage.rooms.save(
            "attic@conference.localhost", {"affiliations": {"bob@localhost": "owner"}}
        )
        out = yield self.command("deluser", "alice")
        self.assertIn("and 1 room)", out)
        lobby = yield self.storage.rooms.get("lobby@conference.localhost")
        self.assertEqual(lobby["affiliations"], {"bob@localhost": "member"})
        self.assertEqual(lobby["reservedNicks"], {})
        attic = yield self.storage.rooms.get("attic@conference.localhost")
        self.assertEqual(attic["affiliations"], {"bob@localhost": "owner"})

    @defer.inlineCallbacks
    def test_adduserAfterDelete(self):
        """
        A deleted name is not handed out again unless asked explicitly.
        """
        yield self.command("adduser", "alice", "--password", "pw")
        yield self.command("deluser", "alice")
        error = yield self.assertFailure(
            self.command("adduser", "alice", "--password", "pw2"), ctl.CommandError
        )
        self.assertIn("--reuse", str(error))
        yield self.command("adduser", "alice", "--password", "pw2", "--reuse")
        tombstone = yield self.storage.tombstones.get("alice@localhost")
        self.assertIsNone(tombstone)

    @defer.inlineCallbacks
    def test_deluserUnknown(self):
        error = yield self.assertFailure(self.command("deluser", "ghost"), ctl.CommandError)
        self.assertIn("no account", str(error))
        tombstone = yield self.storage.tombstones.get("ghost@localhost")
        self.assertIsNone(tombstone)

    @defer.inlineCallbacks
    def test_users(self):
        for name in ("zoe", "alice", "bob@example.org"):
            yield self.command("adduser", name, "--password", "x")
        out = yield self.command("users")
        self.assertEqual(out, "alice@localhost\nbob@example.org\nzoe@localhost\n")
        out = yield self.command("users", "--host", "example.org")
        self.assertEqual(out, "bob@example.org\n")

    @defer.inlineCallbacks
    def test_rooms(self):
        yield self.storage.rooms.save("lobby@conference.localhost", {"config": {"name": "Lobby"}})
        yield self.storage.rooms.save("attic@conference.localhost", {})
        yield self.storage.rooms.save("other@muc.example.org", {})
        out = yield self.command("rooms")
        self.assertEqual(out, "attic@conference.localhost\nlobby@conference.localhost\n")
        out = yield self.command("rooms", "--service", "muc.example.org")
        self.assertEqual(out, "other@muc.example.org\n")

    @defer.inlineCallbacks
    def test_roomInfo(self):
        yield self.storage.rooms.save("lobby@conference.localhost", {"config": {"name": "Lobby"}})
        out = yield self.command("room-info", "lobby")
        self.assertIn("lobby@conference.localhost", out)
        self.assertIn('"name": "Lobby"', out)
        error = yield self.assertFailure(self.command("room-info", "nope"), ctl.CommandError)
        self.assertIn("no persistent room nope@conference.localhost", str(error))

    @defer.inlineCallbacks
    def test_roomOtherService(self):
        error = yield self.assertFailure(
            self.command("room-info", "lobby@elsewhere.example"), ctl.CommandError
        )
        self.assertIn("[muc] domain", str(error))

    @defer.inlineCallbacks
    def test_destroyRoom(self):
        room = "lobby@conference.localhost"
        yield self.storage.rooms.save(room, {"config": {}})
        yield self.storage.archive.append(room, "id1", 1.0, "nick", "<message/>")
        out = yield self.command("destroy-room", room)
        self.assertIn("destroyed", out)
        state = yield self.storage.rooms.get(room)
        self.assertIsNone(state)
        tombstone = yield self.storage.tombstones.get(room)
        self.assertEqual(tombstone["kind"], "room")
        history = yield self.storage.archive.recent(room, 10)
        self.assertEqual(history, [])
        yield self.assertFailure(self.command("destroy-room", room), ctl.CommandError)

    @defer.inlineCallbacks
    def test_tombstones(self):
        """
        C{tombstones} lists every tombstone with its kind, when it was
        written and how long it keeps the name: rooms by C{[storage]
        room_tombstone_expiry} (30 days by default), accounts by
        C{tombstone_expiry} (forever by default).
        """
        day = 86400.0
        now = time.time()
        yield self.storage.tombstones.add("lobby@conference.localhost", "room", now - day)
        yield self.storage.tombstones.add("old@conference.localhost", "room", now - 31 * day)
        yield self.storage.tombstones.add("bob@localhost", "account", now - 400 * day)
        out = yield self.command("tombstones")
        lines = [line.split("\t") for line in out.splitlines()]
        self.assertEqual(
            [(jid, kind, status.split(" 20")[0]) for jid, kind, written, status in lines],
            [
                ("bob@localhost", "account", "kept forever"),
                ("lobby@conference.localhost", "room", "kept until"),
                ("old@conference.localhost", "room", "expired"),
            ],
        )
        self.assertEqual(lines[1][3], "kept until " + ctl._formatTime(now + 29 * day))
        out = yield self.command("tombstones", "--kind", "account")
        self.assertEqual([line.split("\t")[0] for line in out.splitlines()], ["bob@localhost"])

    @defer.inlineCallbacks
    def test_liftTombstone(self):
        room = "lobby@conference.localhost"
        yield self.storage.rooms.save(room, {"config": {}})
        yield self.command("destroy-room", room)
        out = yield self.command("lift-tombstone", "Lobby@Conference.localhost")
        self.assertEqual(out, "the name %s is free again\n" % (room,))
        self.assertIsNone((yield self.storage.tombstones.get(room)))
        error = yield self.assertFailure(self.command("lift-tombstone", room), ctl.CommandError)
        self.assertIn("no tombstone for %s" % (room,), str(error))
        error = yield self.assertFailure(self.command("lift-tombstone", "a@b/c"), ctl.CommandError)
        self.assertIn("not a bare JID", str(error))

    @defer.inlineCallbacks
    def test_liftAccountTombstone(self):
        """
        Once lifted, the name of a deleted account can be taken without
        C{--reuse}.
        """
        yield self.command("adduser", "bob", "--password", "pw1")
        yield self.command("deluser", "bob")
        yield self.assertFailure(self.command("adduser", "bob", "--password", "pw2"), ctl.CommandError)
        yield self.command("lift-tombstone", "bob@localhost")
        out = yield self.command("adduser", "bob", "--password", "pw2")
        self.assertEqual(out, "created bob@localhost\n")


class ProcessTests(unittest.TestCase):
    """
    xmucctl as a separate process, on the SQLite file of a storage that is
    open in this process (as when the server runs).
    """

    def xmucctl(self, *argv, stdin=None):
        """
        @return: Deferred firing with C{(stdout, stderr, exit code)}.
        """
        if stdin is None:
            return utils.getProcessOutputAndValue(
                PYTHON, ["-m", "xmuc.ctl", "-c", self.path] + list(argv), env=os.environ
            )
        # Feeding standard input needs a process protocol; this one is short.
        result = subprocess.run(
            [PYTHON, "-m", "xmuc.ctl", "-c", self.path] + list(argv),
            input=stdin.decode(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return defer.succeed(
            (result.stdout.encode(), result.stderr.encode(), result.returncode)
        )

    @defer.inlineCallbacks
    def setUp(self):
        self.path = writeConfig(self)
        self.config = loadConfig(self.path)
        self.storage, self.auth = ctl.buildBackends(self.config)
        yield self.storage.start()
        self.addCleanup(self.storage.stop)

    @defer.inlineCallbacks
    def test_whileOpen(self):
        out, err, code = yield self.xmucctl("adduser", "alice", "--password", "pw")
        self.assertEqual((code, err), (0, b""))
        self.assertEqual(out, b"created alice@localhost\n")
        # Seen by the storage that was open all along.
        ok = yield self.auth.checkPassword("alice", "localhost", "pw")
        self.assertTrue(ok)
        out, err, code = yield self.xmucctl("users")
        self.assertEqual(out, b"alice@localhost\n")

    @defer.inlineCallbacks
    def test_expectedFailure(self):
        """
        One line on stderr, exit code 1, no traceback.
        """
        yield self.auth.createAccount("alice@localhost", "pw")
        out, err, code = yield self.xmucctl("adduser", "alice", "--password", "pw")
        self.assertEqual(code, 1)
        self.assertEqual(err, b"xmucctl: alice@localhost already exists\n")
        out, err, code = yield self.xmucctl("deluser", "ghost")
        self.assertEqual((code, err), (1, b"xmucctl: no account ghost@localhost\n"))

    @defer.inlineCallbacks
    def test_badArguments(self):
        out, err, code = yield self.xmucctl("passwd")
        self.assertEqual(code, 2)
        self.assertIn(b"usage: xmucctl passwd", err)
        self.assertNotIn(b"Traceback", err)

    @defer.inlineCallbacks
    def test_passwordFromStandardInput(self):
        """
        Without a terminal, the password is a line of standard input; it is
        never echoed.
        """
        out, err, code = yield self.xmucctl("adduser", "carol", stdin=b"from-stdin\n")
        self.assertEqual((code, err), (0, b""))
        self.assertNotIn(b"from-stdin", out)
        ok = yield self.auth.checkPassword("carol", "localhost", "from-stdin")
        self.assertTrue(ok)


class XmucctlOnPostgreSQLTests(unittest.TestCase):
    """
    xmucctl as a separate process on the PostgreSQL database of a server
    running in this process.
    """

    timeout = 90

    @defer.inlineCallbacks
    def setUp(self):
        self.schema = PostgresSchema(findPostgres())
        self.addCleanup(self.schema.drop)
        self.running = yield startServerWith(
            self,
            {
                "server": {"hosts": "localhost"},
                "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"},
                "auth": {"backend": "internal"},
                "storage": {"backend": "postgresql", "dsn": self.schema.dsn},
                "muc": {"enabled": "false"},
                "log": {"level": "warn"},
            },
        )
        self.path = self.running.server.config.path

    def xmucctl(self, *argv):
        """
        @return: Deferred firing with C{(stdout, stderr, exit code)}.
        """
        return utils.getProcessOutputAndValue(
            PYTHON, ["-m", "xmuc.ctl", "-c", self.path] + list(argv), env=os.environ
        )

    @defer.inlineCallbacks
    def login(self, password, resource):
        client = yield connectTestClient(self, self.running)
        jid = yield client.login("dora", password, resource, mechanism="SCRAM-SHA-256")
        return client, jid

    @defer.inlineCallbacks
    def test_whileRunning(self):
        out, err, code = yield self.xmucctl("adduser", "dora", "--password", "first")
        self.assertEqual((code, err), (0, b""), out)
        _, jid = yield self.login("first", "a")
        self.assertEqual(jid, "dora@localhost/a")

        out, err, code = yield self.xmucctl("users")
        self.assertEqual((code, out), (0, b"dora@localhost\n"), err)

        out, err, code = yield self.xmucctl("passwd", "dora", "--password", "second")
        self.assertEqual((code, err), (0, b""), out)
        yield self.login("second", "b")
        ok = yield self.running.server.auth.checkPassword("dora", "localhost", "first")
        self.assertFalse(ok)

        out, err, code = yield self.xmucctl("deluser", "dora")
        self.assertEqual((code, err), (0, b""), out)
        exists = yield self.running.server.auth.userExists("dora@localhost")
        self.assertFalse(exists)
        tombstone = yield self.running.server.storage.tombstones.get("dora@localhost")
        self.assertEqual(tombstone["kind"], "account")

        out, err, code = yield self.xmucctl("deluser", "dora")
        self.assertEqual((code, err), (1, b"xmucctl: no account dora@localhost\n"))
