"""
C{xmucctl}: the administration command line.

    xmucctl [-c tap.conf] adduser alice@localhost
    xmucctl passwd alice@localhost --password s3cret
    xmucctl deluser alice@localhost
    xmucctl users [--host localhost]
    xmucctl rooms
    xmucctl room-info lobby@conference.localhost
    xmucctl destroy-room lobby@conference.localhost
    xmucctl tombstones [--kind room]
    xmucctl lift-tombstone lobby@conference.localhost
    xmucctl check-config
    xmucctl check s2s example.org
    xmucctl cert localhost
    xmucctl cert --import /etc/letsencrypt/live/example.org

The commands work on the storage named in tap.conf, also while the server
runs (SQLite in WAL mode and PostgreSQL both allow a second process).

Three layers, so that each can be tested alone:

  - L{parseArguments} turns the command line into a namespace or raises
    L{UsageError}/L{HelpRequested} (L{xmuc.cli}); it never prints nor
    exits;
  - the commands (L{runStorageCommand}, L{checkConfig}, L{makeCertificate})
    return results or raise L{CommandError} for expected failures;
  - L{main} is the only place that writes errors and decides the exit code:
    0 success, 1 expected failure (one line on stderr), 2 bad arguments
    (usage on stderr).
"""

import argparse
import datetime
import getpass
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from twisted.internet import defer, task

import xmuc
from xmuc import privatefiles
from xmuc.accounts import tombstones
from xmuc.auth.scram import saslprep
from xmuc.backends import (
    IAuthBackendFactory,
    IStorageBackendFactory,
    availableBackends,
    findBackend,
)
from xmuc.c2s.certificates import CertificateError, readCertificatePair
from xmuc.cli import ArgumentParser, HelpRequested, UsageError
from xmuc.config import SCHEMA, ConfigError, collectErrors, findLine, loadConfig, readRaw
from xmuc.muc.deletedaccounts import forgetInStoredRooms
from xmuc.s2s.check import checkS2S, verdictLine
from xmuc.s2s.dialback import STORED_SECRET
from xmuc.storage.interfaces import StorageError
from xmuc.xmpp.jid import jidOrNone

PROGRAM = "xmucctl"


class CommandError(Exception):
    """
    An expected failure (unknown user, bad configuration...): reported as
    one line, exit code 1.
    """


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        argparse.Action.__init__(
            self,
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and exit",
        )

    def __call__(self, parser, namespace, values, option_string=None):
        raise HelpRequested("%s %s\n" % (PROGRAM, xmuc.__version__))


def buildParser():
    """
    @return: the L{argparse.ArgumentParser} of C{xmucctl}, which raises
        L{UsageError} or L{HelpRequested} instead of exiting.
    """
    parser = ArgumentParser(
        prog=PROGRAM,
        description="Administration of an xmuc server.",
    )
    parser.add_argument(
        "-c",
        "--config",
        default="tap.conf",
        help="configuration file (default: tap.conf)",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )

    def command(name, helpText):
        return commands.add_parser(name, help=helpText, description=helpText)

    def passwordOption(sub):
        sub.add_argument(
            "--password",
            help="the password (visible in the process list: prefer the prompt, "
            "or a line on standard input)",
        )

    sub = command("adduser", "create an account")
    sub.add_argument("jid", help="user@host, or user for the first host")
    passwordOption(sub)
    sub.add_argument(
        "--reuse",
        action="store_true",
        help="create it even though an account of that name was deleted",
    )

    sub = command("passwd", "change the password of an account")
    sub.add_argument("jid", help="user@host, or user for the first host")
    passwordOption(sub)

    sub = command("deluser", "delete an account (its name is remembered)")
    sub.add_argument("jid", help="user@host, or user for the first host")

    sub = command("users", "list the accounts")
    sub.add_argument("--host", help="only the accounts of this host")

    sub = command("rooms", "list the persistent rooms")
    sub.add_argument("--service", help="MUC domain (default: [muc] domain)")

    sub = command("room-info", "show a persistent room's stored state")
    sub.add_argument("room", help="room@service, or room for [muc] domain")

    sub = command(
        "destroy-room", "delete a persistent room (its name stays reserved)"
    )
    sub.add_argument("room", help="room@service, or room for [muc] domain")

    sub = command(
        "tombstones",
        "list the names kept by deleted accounts and destroyed rooms",
    )
    sub.add_argument(
        "--kind", choices=(tombstones.ACCOUNT, tombstones.ROOM), help="only this kind"
    )

    sub = command(
        "lift-tombstone",
        "free the name of a deleted account or destroyed room (also on a running server)",
    )
    sub.add_argument("jid", help="the bare JID of the account or room")

    command("check-config", "validate the configuration, reporting every problem")

    sub = command(
        "check",
        "check federation with a domain: DNS, connection, TLS, its certificate, "
        "authentication (one line per step)",
    )
    sub.add_argument("what", choices=("s2s",), help="what to check")
    sub.add_argument("domain", help="the remote domain")
    sub.add_argument("--from", dest="local", metavar="DOMAIN", help="our domain (default: the first host)")

    sub = command(
        "cert",
        "make a self-signed TLS certificate for a host, or install one you have "
        "(--import)",
    )
    sub.add_argument("host", nargs="?", help="the domain of a self-signed certificate")
    sub.add_argument(
        "--import",
        dest="importFrom",
        metavar="PATH",
        help="install this certificate instead of making one: a certbot live "
        "directory (fullchain.pem, privkey.pem) or a PEM certificate file "
        "(with --key); it replaces the files in place",
    )
    sub.add_argument(
        "--key", metavar="FILE", help="with --import FILE: the private key's PEM file"
    )
    sub.add_argument(
        "--out",
        metavar="PREFIX",
        help="write PREFIX.crt and PREFIX.key instead of the files named by "
        "[c2s] tls_certificate and tls_key",
    )
    sub.add_argument(
        "--days", type=int, default=365, help="validity in days (default: 365)"
    )
    sub.add_argument(
        "--alt",
        action="append",
        default=[],
        metavar="NAME",
        help="another DNS name the certificate is valid for (repeatable)",
    )
    sub.add_argument(
        "--force", action="store_true", help="overwrite existing files"
    )
    return parser


def parseArguments(argv):
    """
    Parse the command line.  Never prints, never exits.

    @param argv: the arguments, without the program name.
    @return: an L{argparse.Namespace} with C{command} and the command's
        options.
    @raise UsageError: when the arguments are wrong.
    @raise HelpRequested: for C{--help} and C{--version}.
    """
    parser = buildParser()
    args = parser.parse_args(list(argv))
    if args.command == "cert":
        if args.days < 1:
            raise UsageError("--days must be at least 1", parser.format_usage())
        if (args.host is None) == (args.importFrom is None):
            raise UsageError(
                "give either a HOST (self-signed) or --import PATH", parser.format_usage()
            )
        if args.key is not None and args.importFrom is None:
            raise UsageError("--key goes with --import", parser.format_usage())
    return args


# --- names


def accountJID(text, config):
    """
    @param text: C{user@host}, or C{user} meaning the first C{[server]
        hosts}.
    @return: the normalised bare JID string.
    @raise CommandError: when it is not a bare JID of a served host.
    """
    hosts = config.get("server", "hosts")
    if "@" not in text:
        text = "%s@%s" % (text, hosts[0])
    parsed = jidOrNone(text)
    if parsed is None:
        raise CommandError("not a valid JID: %r" % (text,))
    if not parsed.user or parsed.resource:
        raise CommandError("not a bare user JID: %r" % (text,))
    if parsed.host not in hosts:
        raise CommandError(
            "%s is not served here ([server] hosts = %s)"
            % (parsed.host, ", ".join(hosts))
        )
    return parsed.userhost()


def roomJID(text, config):
    """
    @param text: C{room@service}, or C{room} meaning C{[muc] domain}.
    @return: the normalised bare room JID string.
    @raise CommandError: when it is not a room of the MUC service.
    """
    service = config.get("muc", "domain")
    if "@" not in text:
        text = "%s@%s" % (text, service)
    parsed = jidOrNone(text)
    if parsed is None:
        raise CommandError("not a valid room JID: %r" % (text,))
    if not parsed.user or parsed.resource:
        raise CommandError("not a bare room JID: %r" % (text,))
    if parsed.host != service:
        raise CommandError(
            "%s is not the MUC service ([muc] domain = %s)" % (parsed.host, service)
        )
    return parsed.userhost()


# --- passwords


def readPassword(args, stdin=None, prompt=getpass.getpass):
    """
    The password for adduser/passwd: C{--password}, else asked twice on a
    terminal (not echoed), else one line read from standard input.

    @raise CommandError: when empty or the two entries differ.
    """
    stdin = sys.stdin if stdin is None else stdin
    if args.password is not None:
        password = args.password
    elif stdin.isatty():
        password = prompt("Password for %s: " % (args.jid,))
        if prompt("Again: ") != password:
            raise CommandError("the passwords differ")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("the password may not be empty")
    try:
        saslprep(password)
    except UnicodeError:
        # The same rule as in-band registration: SASL could never match it.
        raise CommandError("the password contains characters not allowed (SASLprep)")
    return password


# --- commands working on the storage


class StorageContext:
    """
    What a storage command works with.

    @ivar config: the L{xmuc.config.Config}.
    @ivar storage: a started L{xmuc.storage.interfaces.IStorage}.
    @ivar auth: the L{xmuc.auth.interfaces.IAuthBackend}.
    @ivar out: where results are written (a text stream).
    """

    def __init__(self, config, storage, auth, out):
        self.config = config
        self.storage = storage
        self.auth = auth
        self.out = out

    def write(self, line):
        self.out.write(line + "\n")


def _formatTime(when):
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


@defer.inlineCallbacks
def adduser(context, args, password):
    bare = accountJID(args.jid, context.config)
    tombstone = yield context.storage.tombstones.get(bare)
    expiry = context.config.get("storage", "tombstone_expiry")
    if tombstones.accountInForce(tombstone, expiry):
        if not args.reuse:
            raise CommandError(
                "%s was deleted on %s; its name stays taken so that nobody inherits "
                "what was granted to it (give --reuse to create it anyway)"
                % (bare, _formatTime(tombstone["when"]))
            )
    created = yield context.auth.createAccount(bare, password)
    if not created:
        raise CommandError("%s already exists" % (bare,))
    if tombstone is not None:
        yield context.storage.tombstones.remove(bare)
    context.write("created %s" % (bare,))


@defer.inlineCallbacks
def passwd(context, args, password):
    bare = accountJID(args.jid, context.config)
    changed = yield context.auth.setPassword(bare, password)
    if not changed:
        raise CommandError("no account %s" % (bare,))
    context.write("password of %s changed" % (bare,))


@defer.inlineCallbacks
def deluser(context, args):
    """
    Delete an account the way in-band deletion does, on the stored data:
    a tombstone keeps the name, the credentials, roster and account
    documents (blocklist, vCard...) go, local
    contacts lose their subscriptions to it, and the persistent rooms of
    C{[muc] domain} forget its affiliations and reserved nicknames.
    """
    bare = accountJID(args.jid, context.config)
    exists = yield context.auth.userExists(bare)
    if not exists:
        raise CommandError("no account %s" % (bare,))
    roster = yield context.storage.rosters.get(bare)
    yield tombstones.buryAccount(context.storage, context.auth, bare)
    yield context.storage.rosters.delete(bare)
    # Its blocklist, vCard, private XML and last activity: a server that is
    # not running would never hear of the deletion.
    yield context.storage.accountData.deleteAll(bare)
    contacts = yield _unsubscribeContacts(context, bare, roster)
    rooms = yield forgetInStoredRooms(
        context.storage, context.config.get("muc", "domain"), bare
    )
    context.write(
        "deleted %s (its name is kept as a tombstone; removed from %d contact "
        "roster%s and %d room%s)"
        % (bare, contacts, "" if contacts == 1 else "s", rooms, "" if rooms == 1 else "s")
    )


@defer.inlineCallbacks
def _unsubscribeContacts(context, bare, roster):
    """
    What C{unsubscribed} and C{unsubscribe} from the deleted account would
    do to the rosters of its local contacts: no subscription either way,
    nothing pending (the item itself stays, as with a live server).

    @return: Deferred firing with the number of rosters changed.
    """
    hosts = context.config.get("server", "hosts")
    changed = 0
    for contact in sorted(roster):
        if contact == bare or contact.rpartition("@")[2] not in hosts:
            continue
        theirs = yield context.storage.rosters.get(contact)
        item = theirs.get(bare)
        if item is None:
            continue
        if item["subscription"] == "none" and not item["ask"] and not item["pending_in"]:
            continue
        item.update(subscription="none", ask=None, pending_in=False)
        yield context.storage.rosters.set(contact, bare, item)
        changed += 1
    return changed


@defer.inlineCallbacks
def users(context, args):
    host = args.host
    if host is not None and host not in context.config.get("server", "hosts"):
        raise CommandError("%s is not served here ([server] hosts)" % (host,))
    names = yield context.storage.accounts.list(host)
    for bare in names:
        context.write(bare)


@defer.inlineCallbacks
def rooms(context, args):
    service = args.service or context.config.get("muc", "domain")
    found = yield context.storage.rooms.list(service)
    for room, state in found:
        context.write(room)


@defer.inlineCallbacks
def roomInfo(context, args):
    room = roomJID(args.room, context.config)
    state = yield context.storage.rooms.get(room)
    if state is None:
        raise CommandError("no persistent room %s" % (room,))
    context.write(room)
    context.write(json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False))


@defer.inlineCallbacks
def destroyRoom(context, args):
    room = roomJID(args.room, context.config)
    deleted = yield context.storage.rooms.delete(room)
    if not deleted:
        raise CommandError("no persistent room %s" % (room,))
    yield context.storage.tombstones.add(room, tombstones.ROOM)
    yield context.storage.archive.purge(room)
    context.write("destroyed %s (its name stays reserved)" % (room,))


def tombstoneExpiry(config, kind):
    """
    @param kind: L{tombstones.ACCOUNT} or L{tombstones.ROOM}.
    @return: the lifetime in seconds of a tombstone of that kind (0:
        forever): C{[storage] tombstone_expiry} or C{room_tombstone_expiry}.
    """
    key = "room_tombstone_expiry" if kind == tombstones.ROOM else "tombstone_expiry"
    return config.get("storage", key)


def describeTombstone(tombstone, expiry, now=None):
    """
    @param tombstone: a stored tombstone (C{{'jid', 'kind', 'when'}}).
    @param expiry: its lifetime (L{tombstoneExpiry}).
    @return: one line: JID, kind, when it was written, and until when it
        keeps the name, separated by tabs.
    """
    when = tombstone["when"]
    if not tombstones.inForce(when, expiry, now):
        status = "expired"
    elif not expiry:
        status = "kept forever"
    else:
        status = "kept until %s" % (_formatTime(when + expiry),)
    return "\t".join((tombstone["jid"], tombstone["kind"], _formatTime(when), status))


@defer.inlineCallbacks
def listTombstones(context, args):
    found = yield context.storage.tombstones.list(args.kind)
    for tombstone in sorted(found, key=lambda t: (t["kind"], t["jid"])):
        expiry = tombstoneExpiry(context.config, tombstone["kind"])
        context.write(describeTombstone(tombstone, expiry))


@defer.inlineCallbacks
def liftTombstone(context, args):
    """
    Remove a tombstone.  A running server reads the tombstones every
    L{xmuc.accounts.watch.POLL_INTERVAL} seconds and forgets those that
    are gone, so the name is free there too shortly after.
    """
    parsed = jidOrNone(args.jid)
    if parsed is None or not parsed.user or parsed.resource:
        raise CommandError("not a bare JID: %r" % (args.jid,))
    bare = parsed.userhost()
    removed = yield context.storage.tombstones.remove(bare)
    if not removed:
        raise CommandError("no tombstone for %s (xmucctl tombstones lists them)" % (bare,))
    context.write("the name %s is free again" % (bare,))


#: command name -> (function, whether it needs a password)
STORAGE_COMMANDS = {
    "adduser": (adduser, True),
    "passwd": (passwd, True),
    "deluser": (deluser, False),
    "users": (users, False),
    "rooms": (rooms, False),
    "room-info": (roomInfo, False),
    "destroy-room": (destroyRoom, False),
    "tombstones": (listTombstones, False),
    "lift-tombstone": (liftTombstone, False),
}


def runStorageCommand(context, args, password=None):
    """
    Run one of L{STORAGE_COMMANDS} on a started storage.

    @param context: a L{StorageContext}.
    @param args: the namespace from L{parseArguments}.
    @param password: for adduser/passwd, the password (L{readPassword}).
    @return: Deferred firing with L{None}, or failing with L{CommandError}
        (or L{xmuc.storage.interfaces.StorageError}).
    """
    function, needsPassword = STORAGE_COMMANDS[args.command]
    if needsPassword:
        return defer.maybeDeferred(function, context, args, password)
    return defer.maybeDeferred(function, context, args)


def buildBackends(config):
    """
    Build (not start) the storage and authentication backends of C{config}.

    @return: C{(storage, auth)}.
    @raise ConfigError: for unknown or unusable backends.
    @raise CommandError: for the memory backend, whose data lives in the
        server process and cannot be reached from here.
    """
    name = config.get("storage", "backend")
    if name == "memory":
        raise CommandError(
            "[storage] backend = memory keeps its data inside the server process; "
            "xmucctl cannot reach it"
        )

    def build(interface, section, *extra):
        try:
            plugin = findBackend(interface, config.get(section, "backend"))
        except KeyError as e:
            raise config.error(section, "backend", e.args[0])
        return plugin.build(config, *extra)

    storage = build(IStorageBackendFactory, "storage")
    auth = build(IAuthBackendFactory, "auth", storage)
    return storage, auth


@defer.inlineCallbacks
def withStorage(config, storage, auth, action):
    """
    Start C{storage}, run C{action}, stop the storage whatever happened.

    @param action: a callable taking C{(storage, auth)} and returning a
        Deferred.
    @return: Deferred firing with C{action}'s result.
    """
    yield storage.start()
    try:
        result = yield action(storage, auth)
    finally:
        yield storage.stop()
    return result


# --- check-config


def _readRaw(path):
    """
    @return: C{{section: {key: value}}} as written in C{path}, or L{None} when
        the file cannot be read or parsed (L{loadConfig} says why).
    """
    try:
        return readRaw(path)
    except ConfigError:
        return None


def _backendProblems(raw, path):
    """
    The backend names of C{raw} that no plugin provides.
    """
    problems = []
    for section, interface in (
        ("storage", IStorageBackendFactory),
        ("auth", IAuthBackendFactory),
    ):
        name = raw.get(section, {}).get("backend", SCHEMA[section]["backend"].default)
        name = name.strip()
        known = availableBackends(interface)
        if name not in known:
            problems.append(
                ConfigError(
                    "unknown backend %r (known: %s)"
                    % (name, ", ".join(sorted(known)) or "none"),
                    path,
                    section,
                    "backend",
                    findLine(path, section, "backend"),
                )
            )
    return problems


def _usabilityProblems(config):
    """
    Problems of a configuration whose values are all valid: an auth backend
    refusing this configuration, TLS files missing.
    """
    problems = []
    try:
        findBackend(IAuthBackendFactory, config.get("auth", "backend")).build(config, None)
    except ConfigError as e:
        problems.append(e)
    except Exception:
        # A backend that needs a real storage to be built: the server will
        # tell at start; nothing more can be checked from here.
        pass
    for key in ("tls_certificate", "tls_key"):
        raw = config.get("c2s", key)
        if raw and not os.path.exists(config.resolvePath(raw)):
            problems.append(
                config.error(
                    "c2s",
                    key,
                    "file %s not found (xmucctl cert --import PATH installs a certificate you "
                    "have, xmucctl cert HOST makes a self-signed one)"
                    % (config.resolvePath(raw),),
                )
            )
    jsonFile = config.get("log", "json_file")
    if jsonFile:
        directory = os.path.dirname(config.resolvePath(jsonFile))
        if not os.path.isdir(directory):
            problems.append(
                config.error("log", "json_file", "directory %s not found" % (directory,))
            )
    if config.get("c2s", "require_encryption") and not (
        config.get("c2s", "tls_certificate") and config.get("c2s", "tls_key")
    ):
        problems.append(
            config.error(
                "c2s",
                "require_encryption",
                "encryption is required but tls_certificate or tls_key is empty",
            )
        )
    return problems


def checkConfig(path):
    """
    Validate a configuration file and find every problem, not only the
    first: syntax, unknown sections and keys, bad values, unknown backend
    names, a refusing auth backend, missing TLS files.

    @param path: the configuration file.
    @return: a list of L{ConfigError} (empty when all is well).
    """
    try:
        config = loadConfig(path)
    except ConfigError as first:
        raw = _readRaw(path)
        if raw is None:
            return [first]
        problems = (collectErrors(raw, path) or [first]) + _backendProblems(raw, path)
        return sorted(problems, key=lambda problem: problem.line or 0)
    raw = _readRaw(path) or {}
    problems = _backendProblems(raw, path)
    if not problems:
        problems = _usabilityProblems(config)
    return problems


# --- cert


def makeCertificate(host, days=365, altNames=()):
    """
    Make a self-signed certificate.

    @param host: the domain, as common name and first DNS name.
    @param days: validity.
    @param altNames: other DNS names it is valid for.
    @return: C{(certificatePEM, keyPEM)} as bytes.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [host] + [n for n in altNames if n != host]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )


def certificatePaths(args, config):
    """
    @return: C{(certificatePath, keyPath)}: C{--out PREFIX}, else C{[c2s]
        tls_certificate} and C{tls_key} resolved against the configuration
        file's directory.
    @raise CommandError: when neither gives a path.
    """
    if args.out:
        return args.out + ".crt", args.out + ".key"
    certificate = config.get("c2s", "tls_certificate")
    key = config.get("c2s", "tls_key")
    if not certificate or not key:
        raise CommandError(
            "[c2s] tls_certificate and tls_key are not both set: give --out PREFIX"
        )
    return config.resolvePath(certificate), config.resolvePath(key)


def writeCertificate(args, config):
    """
    The C{cert} command: make and write the files.

    @return: the paths written.
    @raise CommandError: when a file exists (without C{--force}) or cannot
        be written.
    """
    certificatePath, keyPath = certificatePaths(args, config)
    if not args.force:
        for path in (certificatePath, keyPath):
            if os.path.exists(path):
                raise CommandError("%s exists (give --force to replace it)" % (path,))
    altNames = list(args.alt)
    service = config.get("muc", "domain")
    if service.endswith("." + args.host):
        altNames.append(service)
    certificatePEM, keyPEM = makeCertificate(args.host, args.days, altNames)
    writeKeyAndCertificate(keyPath, keyPEM, certificatePath, certificatePEM)
    return certificatePath, keyPath


def _giveToDirectoryOwner(path):
    """
    When run as root (a certbot deploy hook), give C{path} the owner and
    group of its directory, so that the server's user can read the key.
    """
    if os.geteuid() == 0:
        owner = os.stat(os.path.dirname(os.path.abspath(path)))
        os.chown(path, owner.st_uid, owner.st_gid)


def writeKeyAndCertificate(keyPath, keyPEM, certificatePath, certificatePEM):
    """
    Write a key (readable by its owner only) and its certificate, the key
    first, each to a new file beside it renamed over it: a server reading
    them (on SIGHUP) sees whole files, and a new key never lands in an
    existing file that others could read.

    @raise CommandError: when a file cannot be written.
    """
    path = keyPath
    try:
        for path, data, mode in (
            (keyPath, keyPEM, privatefiles.PRIVATE_FILE),
            (certificatePath, certificatePEM, 0o644),
        ):
            directory = os.path.dirname(path)
            if directory:
                privatefiles.makeDirectories(directory)
            privatefiles.replaceFile(path, data, mode)
            _giveToDirectoryOwner(path)
    except OSError as e:
        raise CommandError("cannot write %s: %s" % (e.filename or path, e.strerror))


#: The files of a certbot C{live/DOMAIN} directory xmuc needs.
CERTBOT_CERTIFICATE = "fullchain.pem"
CERTBOT_KEY = "privkey.pem"


def importPaths(args):
    """
    @return: C{(certificatePath, keyPath)} to import: those of a certbot
        live directory, or C{--import FILE} and C{--key} (or the same file
        when it holds the key too).
    """
    source = args.importFrom
    if os.path.isdir(source):
        if args.key is not None:
            raise CommandError("--key goes with --import FILE, not a directory")
        return os.path.join(source, CERTBOT_CERTIFICATE), os.path.join(source, CERTBOT_KEY)
    return source, args.key or source


def importCertificate(args, config, now=None):
    """
    The C{cert --import} command: check a certificate an operator has (its
    key matches, it is valid now, it covers every C{[server] hosts}) and
    copy it with its key where tap.conf says (or C{--out}), replacing the
    files in place.  A running server uses it after SIGHUP.

    @param now: the current time (aware), for tests.
    @return: C{(pair, certificatePath, keyPath)}: the
        L{xmuc.c2s.certificates.CertificatePair} and the paths written.
    @raise CommandError: when it cannot be used or written.
    """
    sourceCertificate, sourceKey = importPaths(args)
    try:
        pair = readCertificatePair(sourceCertificate, sourceKey)
    except CertificateError as e:
        raise CommandError(e.message)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if pair.notAfter() <= now:
        raise CommandError(
            "the certificate in %s expired on %s"
            % (sourceCertificate, pair.notAfter().strftime("%Y-%m-%d %H:%M UTC"))
        )
    if pair.certificate.not_valid_before_utc > now:
        raise CommandError(
            "the certificate in %s is not valid before %s"
            % (sourceCertificate, pair.certificate.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC"))
        )
    uncovered = [host for host in config.get("server", "hosts") if not pair.covers(host)]
    if uncovered:
        raise CommandError(
            "the certificate in %s is for %s: it does not cover %s ([server] hosts)"
            % (sourceCertificate, ", ".join(pair.names()) or "no name", ", ".join(uncovered))
        )
    certificatePath, keyPath = certificatePaths(args, config)
    # Written anew rather than copied: a source file holding the key too
    # must not put the key in the world-readable certificate file.
    certificatePEM = b"".join(
        certificate.public_bytes(serialization.Encoding.PEM) for certificate in pair.chain
    )
    keyPEM = pair.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    writeKeyAndCertificate(keyPath, keyPEM, certificatePath, certificatePEM)
    return pair, certificatePath, keyPath


# --- the entry point


def _load(path):
    try:
        return loadConfig(path)
    except ConfigError as e:
        raise CommandError(str(e))


def _react(work):
    """
    Run C{work} in a reactor of its own (L{task.react}).

    @param work: a callable taking the reactor and returning a Deferred.
    @return: C{{"result": ...}} or C{{"failure": Failure}}.
    """
    outcome = {}

    def run(reactor):
        d = defer.maybeDeferred(work, reactor)
        d.addCallbacks(
            lambda result: outcome.__setitem__("result", result),
            lambda failure: outcome.__setitem__("failure", failure),
        )
        return d

    try:
        task.react(run)
    except SystemExit:
        pass
    return outcome


def _runStorage(args, config, password, stdout):
    """
    Run a storage command in a reactor of its own.

    @return: the exit code.
    """
    storage, auth = buildBackends(config)

    def action(storage, auth):
        return runStorageCommand(StorageContext(config, storage, auth, stdout), args, password)

    failure = _react(lambda reactor: withStorage(config, storage, auth, action)).get("failure")
    if failure is None:
        return 0
    if failure.check(CommandError, ConfigError, StorageError):
        raise CommandError(str(failure.value))
    # A bug, not a user error: the traceback is what helps.
    failure.printTraceback(sys.stderr)
    return 1


def storedDialbackSecret(config):
    """
    @return: Deferred firing with the dialback secret the server keeps in
        its storage, or L{None} (a secret in the configuration, a memory
        storage, none stored yet, or a storage that cannot be read: the
        check then says dialback was not tried).
    """
    if config.get("s2s", "dialback_secret") or config.get("storage", "backend") == "memory":
        return defer.succeed(None)
    try:
        storage, auth = buildBackends(config)
    except Exception:
        return defer.succeed(None)
    d = withStorage(config, storage, auth, lambda storage, auth: storage.accountData.get(*STORED_SECRET))
    d.addErrback(lambda failure: None)
    return d


def _checkS2S(args, config, stdout):
    """
    Run C{check s2s} in a reactor of its own.

    @return: the exit code: 0 when every step passed, else 1.
    """
    domain = jidOrNone(args.domain)
    if domain is None or domain.user or domain.resource:
        raise CommandError("not a domain: %r" % (args.domain,))

    def work(reactor):
        def report(verdict, step, text):
            stdout.write(verdictLine(verdict, step, text) + "\n")
            stdout.flush()

        d = storedDialbackSecret(config)
        d.addCallback(
            lambda secret: checkS2S(config, domain.host, report, reactor, local=args.local, storedSecret=secret)
        )
        return d

    outcome = _react(work)
    if "failure" in outcome:
        outcome["failure"].printTraceback(sys.stderr)
        return 1
    return 0 if outcome["result"] else 1


def main(argv=None, stdout=None, stderr=None, stdin=None):
    """
    The C{xmucctl} entry point: the only place deciding the exit code.

    @param argv: arguments without the program name (default: C{sys.argv}).
    @return: 0 on success, 1 on an expected failure, 2 on bad arguments.
    """
    argv = sys.argv[1:] if argv is None else argv
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        args = parseArguments(argv)
    except HelpRequested as h:
        stdout.write(h.text)
        return 0
    except UsageError as e:
        stderr.write(e.usage)
        stderr.write("%s: error: %s\n" % (PROGRAM, e.message))
        return 2
    try:
        if args.command == "check-config":
            problems = checkConfig(args.config)
            for problem in problems:
                stderr.write("%s: %s\n" % (PROGRAM, problem))
            if problems:
                stderr.write(
                    "%s: %d problem%s found\n"
                    % (PROGRAM, len(problems), "" if len(problems) == 1 else "s")
                )
                return 1
            stdout.write("%s: configuration OK\n" % (args.config,))
            return 0
        config = _load(args.config)
        if args.command == "check":
            return _checkS2S(args, config, stdout)
        if args.command == "cert" and args.importFrom is not None:
            pair, certificatePath, keyPath = importCertificate(args, config)
            stdout.write(
                "installed the certificate %s in %s and %s; a running server uses it "
                "after SIGHUP (systemctl reload xmuc)\n"
                % (pair.describe(), certificatePath, keyPath)
            )
            return 0
        if args.command == "cert":
            written = writeCertificate(args, config)
            stdout.write("wrote %s and %s\n" % written)
            return 0
        password = None
        if STORAGE_COMMANDS[args.command][1]:
            password = readPassword(args, stdin)
        return _runStorage(args, config, password, stdout)
    except (CommandError, ConfigError) as e:
        stderr.write("%s: %s\n" % (PROGRAM, e))
        return 1
    except KeyboardInterrupt:
        stderr.write("\n%s: interrupted\n" % (PROGRAM,))
        return 1


def run():
    """
    For C{python -m xmuc.ctl}.
    """
    sys.exit(main())


if __name__ == "__main__":
    run()
