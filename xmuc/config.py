"""
Loading and validating C{tap.conf}.

The file is INI-style (L{configparser}).  Every section and key xmuc knows is
declared once, in L{SCHEMA}; anything else is an error.  Errors are reported
as L{ConfigError}, whose text names the file, the line, the section and the
key, so that the operator can fix it without reading a traceback.

Adding a setting means adding one L{Option} to L{SCHEMA}; README.rst has the
reference of every key and must be updated at the same time.
"""

import configparser
import os
import re

from twisted.internet import endpoints

from xmuc.xmpp.jid import jidOrNone
from xmuc.xmpp.xml import MAX_ELEMENTS


class ConfigError(Exception):
    """
    A problem with the configuration, with where it is.

    @ivar path: the configuration file.
    @ivar line: the line number (1-based) or L{None} when not known.
    @ivar section: the section name or L{None}.
    @ivar key: the key name or L{None}.
    @ivar message: what is wrong.
    """

    def __init__(self, message, path=None, section=None, key=None, line=None):
        self.message = message
        self.path = path
        self.section = section
        self.key = key
        self.line = line
        Exception.__init__(self, str(self))

    def __str__(self):
        where = []
        if self.path:
            where.append(
                "%s:%s" % (self.path, self.line) if self.line else str(self.path)
            )
        if self.section:
            where.append("[%s]" % (self.section,))
        if self.key:
            where.append(self.key)
        prefix = " ".join(where)
        return "%s: %s" % (prefix, self.message) if prefix else self.message


# --- value parsers: each takes the raw string and returns a value or raises
# ValueError with a short explanation.


def parseBool(value):
    lowered = value.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError("expected a boolean (true/false), got %r" % (value,))


def parseInt(minimum=None, maximum=None):
    def parse(value):
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError("expected an integer, got %r" % (value,))
        if minimum is not None and number < minimum:
            raise ValueError("must be at least %d, got %d" % (minimum, number))
        if maximum is not None and number > maximum:
            raise ValueError("must be at most %d, got %d" % (maximum, number))
        return number

    return parse


def parseFloat(minimum=None):
    def parse(value):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("expected a number, got %r" % (value,))
        if minimum is not None and number < minimum:
            raise ValueError("must be at least %s, got %s" % (minimum, number))
        return number

    return parse


def parseString(value):
    return value.strip()


def parseList(value):
    """
    A list separated by commas and/or whitespace.
    """
    return [item for item in value.replace(",", " ").split() if item]


def parseDomain(value):
    domain = value.strip()
    parsed = jidOrNone(domain)
    if parsed is None:
        raise ValueError("not a valid domain name: %r" % (value,))
    if parsed.user or parsed.resource or not parsed.host:
        raise ValueError("not a bare domain name: %r" % (value,))
    return parsed.host


def parseDomains(value):
    domains = [parseDomain(item) for item in parseList(value)]
    if not domains:
        raise ValueError("at least one domain is required")
    return domains


#: An absolute URI: a scheme (RFC 3986 section 3.1), a colon, something.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def parseURIs(value):
    """
    A list of absolute URIs (C{xmpp:admin@example.org},
    C{mailto:abuse@example.org}, C{https://example.org/support}).
    """
    uris = parseList(value)
    for uri in uris:
        if not _URI.match(uri):
            raise ValueError("expected a URI such as mailto:x@example.org, got %r" % (uri,))
    return uris


def parseBareJIDs(value):
    result = []
    for item in parseList(value):
        parsed = jidOrNone(item)
        if parsed is None:
            raise ValueError("not a valid JID: %r" % (item,))
        if parsed.resource:
            raise ValueError("expected a bare JID, got %r" % (item,))
        result.append(parsed.userhost())
    return result


def parseEndpoint(value):
    """
    A server endpoint description (C{tcp:5222:interface=127.0.0.1}).  Only
    the syntax is checked here; the endpoint is built by the service.
    """
    description = value.strip()
    try:
        from twisted.internet import reactor

        endpoints.serverFromString(reactor, description)
    except Exception as e:
        raise ValueError("not a valid endpoint description %r (%s)" % (value, e))
    return description


def parseClientEndpoint(value):
    """
    A client endpoint description (C{tcp:host=127.0.0.1:port=5347}).  Only
    the syntax is checked here; the endpoint is built by the service.
    """
    description = value.strip()
    try:
        from twisted.internet import reactor

        endpoints.clientFromString(reactor, description)
    except Exception as e:
        raise ValueError("not a valid client endpoint description %r (%s)" % (value, e))
    return description


def parseEndpoints(value):
    """
    A list of endpoint descriptions, each checked by L{parseEndpoint}.
    """
    return [parseEndpoint(item) for item in parseList(value)]


def parseRoutes(value):
    """
    Static server-to-server routes: C{domain=host:port} items, separated
    by commas or whitespace.

    @return: C{{domain: (host, port)}}.
    """
    routes = {}
    for item in parseList(value):
        domain, equals, target = item.partition("=")
        host, colon, port = target.rpartition(":")
        if not equals or not colon or not host:
            raise ValueError("expected domain=host:port, got %r" % (item,))
        try:
            number = int(port)
        except ValueError:
            number = 0
        if not 0 < number < 65536:
            raise ValueError("not a port number in %r" % (item,))
        routes[parseDomain(domain)] = (host.strip("[]"), number)
    return routes


def parseChoice(*choices):
    def parse(value):
        stripped = value.strip()
        if stripped not in choices:
            raise ValueError(
                "expected one of %s, got %r" % (", ".join(choices), value)
            )
        return stripped

    return parse


def parseLogLevel(value):
    return parseChoice("debug", "info", "warn", "error", "critical")(value.lower())


def parseLogLevels(value):
    """
    C{namespace=level} pairs, separated by commas or whitespace.
    """
    result = {}
    for item in parseList(value):
        if "=" not in item:
            raise ValueError("expected namespace=level, got %r" % (item,))
        namespace, level = item.split("=", 1)
        result[namespace.strip()] = parseLogLevel(level)
    return result


def parseSecrets(value):
    """
    C{domain=secret} pairs, separated by commas or whitespace (a secret
    holds neither, nor C{=}).
    """
    result = {}
    for item in parseList(value):
        domain, sep, secret = item.partition("=")
        if not sep or not secret:
            raise ValueError("expected domain=secret, got %r" % (item.split("=", 1)[0] + "=...",))
        domain = parseDomain(domain)
        if domain in result:
            raise ValueError("%s appears twice" % (domain,))
        result[domain] = secret
    return result


def parseBaseURL(value):
    """
    An absolute C{http://} or C{https://} URL without query or fragment
    (C{https://chat.example.org/}); empty for none.  Returned without its
    trailing slash.
    """
    url = value.strip()
    if not url:
        return ""
    if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", url):
        raise ValueError("expected an http:// or https:// URL, got %r" % (value,))
    return url.rstrip("/")


def parseNetworks(value):
    """
    IP addresses and networks (C{127.0.0.1 10.0.0.0/8 ::1}).

    @return: a list of L{ipaddress.IPv4Network} / L{ipaddress.IPv6Network}.
    """
    import ipaddress

    networks = []
    for item in parseList(value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError("not an IP address or network: %r" % (item,))
    return networks


def parseOrigins(value):
    """
    Web origins (RFC 6454: C{https://example.org}, C{http://localhost:8080}).

    @return: the list, lowercased, without trailing slashes.
    """
    origins = []
    for item in parseList(value):
        origin = item.rstrip("/").lower()
        if not re.match(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$", origin):
            raise ValueError("expected an origin such as https://example.org, got %r" % (item,))
        origins.append(origin)
    return origins


def parseOptionalDomain(value):
    """
    A bare domain name, or empty for the default.
    """
    return parseDomain(value) if value.strip() else ""


class Option:
    """
    One key of one section.

    @ivar parse: callable turning the raw string into a value, raising
        L{ValueError} with an explanation.
    @ivar default: the raw default string, or L{None} for "no value".
    """

    def __init__(self, parse, default=None):
        self.parse = parse
        self.default = default


#: Every section and key, each with its parser and its default.  Each key
#: is documented in the configuration reference of README.rst, which
#: tests/test_readme.py keeps complete.
SCHEMA = {
    "server": {
        # Virtual hosts served.
        "hosts": Option(parseDomains, "localhost"),
        # Server administrators (bare JIDs).
        "admins": Option(parseBareJIDs, ""),
        # Largest stanza accepted, in bytes.
        "max_stanza_size": Option(parseInt(1024), "262144"),
        # Most elements in one stanza from a client.
        "max_stanza_elements": Option(parseInt(10), str(MAX_ELEMENTS)),
        # Largest page of an archive query (XEP-0313 with RSM max).
        "max_archive_page": Option(parseInt(1), "50"),
        # Seconds to wait for sessions to close on stop.
        "shutdown_timeout": Option(parseFloat(0), "5"),
        # Event loop wanted (epoll, poll, select...); empty: default.
        "reactor": Option(parseString, ""),
        # Largest vCard (XEP-0054) an account may store, in bytes.
        "vcard_max_size": Option(parseInt(1024), "131072"),
        # Contact addresses (XEP-0157): URIs (xmpp:, mailto:, https:...).
        "contact_abuse": Option(parseURIs, ""),
        "contact_admin": Option(parseURIs, ""),
        "contact_feedback": Option(parseURIs, ""),
        "contact_sales": Option(parseURIs, ""),
        "contact_security": Option(parseURIs, ""),
        "contact_status": Option(parseURIs, ""),
        "contact_support": Option(parseURIs, ""),
    },
    "c2s": {
        # Client listening endpoints.
        "listen": Option(parseEndpoints, "tcp:5222:interface=127.0.0.1"),
        # Refuse authentication before STARTTLS.
        "require_encryption": Option(parseBool, "true"),
        # PEM certificate file.
        "tls_certificate": Option(parseString, ""),
        # PEM private key file.
        "tls_key": Option(parseString, ""),
        # In-band account registration (XEP-0077).
        "allow_registration": Option(parseBool, "false"),
        # Failed SASL attempts before the stream is closed.
        "max_auth_failures": Option(parseInt(1), "3"),
        # Seconds after login a session may change its password without the old one.
        "password_change_window": Option(parseFloat(0), "300"),
        # Seconds a dropped XEP-0198 session waits to be resumed (0: no resumption).
        "resumption_timeout": Option(parseFloat(0), "600"),
        # Stanzas a session may leave unacknowledged (XEP-0198).
        "max_unacked": Option(parseInt(1), "500"),
        # Characters of XML a session may leave unacknowledged (XEP-0198).
        "max_unacked_bytes": Option(parseInt(1024), "1048576"),
        # Seconds a client has, from connecting, to authenticate and bind.
        "negotiation_timeout": Option(parseFloat(1), "30"),
        # Connections from one IPv4 address or IPv6 /64 (0: no limit).
        "max_connections_per_ip": Option(parseInt(0), "20"),
        # Connections not authenticated yet, in total; the oldest is closed
        # beyond it (0: no limit).
        "max_unauthenticated": Option(parseInt(0), "500"),
        # Bytes per second read from one connection (0: no limit).
        "read_rate": Option(parseInt(0), "10240"),
        # Bytes one connection may send at once before read_rate applies.
        "read_burst": Option(parseInt(1024), "524288"),
        # Unsent bytes a connection may hold beyond its socket buffers
        # before it is closed (0: no limit).
        "max_send_backlog": Option(parseInt(0), "2097152"),
        # Unsent bytes beyond the socket buffers of all connections together
        # before the server stops reading until half is sent (0: no limit).
        "max_total_backlog": Option(parseInt(0), "67108864"),
        # Seconds a connection may take none of what is written to it
        # before it is closed (0: no limit).
        "send_timeout": Option(parseFloat(0), "60"),
        # Seconds failed logins are counted over.
        "failed_login_window": Option(parseFloat(1), "600"),
        # Seconds each failed login's answer is delayed, per failure so far.
        "failed_login_delay": Option(parseFloat(0), "1"),
        # Failed logins from one address before its logins are refused
        # (0: no limit).
        "max_failed_logins_per_ip": Option(parseInt(0), "10"),
        # Failed logins to one account before its logins are refused
        # (0: no limit).
        "max_failed_logins_per_account": Option(parseInt(0), "30"),
    },
    "auth": {
        # Authentication backend.
        "backend": Option(parseString, "internal"),
        # Must be true for the 'insecure' test backend.
        "allow_insecure": Option(parseBool, "false"),
        # PBKDF2 iterations of new SCRAM credentials (RFC 5802: at least 4096).
        "scram_iterations": Option(parseInt(4096), "10000"),
    },
    "storage": {
        # Storage backend.
        "backend": Option(parseString, "sqlite"),
        # SQLite database file.
        "path": Option(parseString, "data/xmuc.sqlite"),
        # PostgreSQL connection string.
        "dsn": Option(parseString, ""),
        # Seconds to wait for a PostgreSQL connection (libpq's minimum is 2).
        "connect_timeout": Option(parseInt(2), "5"),
        # Seconds PostgreSQL lets one statement run, lock waits included.
        "statement_timeout": Option(parseFloat(0.001), "10"),
        # PostgreSQL connections, one per storage area.
        "connections": Option(parseInt(1, 3), "3"),
        # Seconds a deleted account's name stays taken (0: forever).
        "tombstone_expiry": Option(parseInt(0), "0"),
        # Seconds a destroyed room's name stays reserved (0: forever).
        "room_tombstone_expiry": Option(parseInt(0), "2592000"),
    },
    "muc": {
        # Run the MUC service.
        "enabled": Option(parseBool, "true"),
        # MUC service domain.
        "domain": Option(parseDomain, "conference.localhost"),
        # Service name in disco.
        "name": Option(parseString, "Chatrooms"),
        # New rooms stay locked until configured.
        "lock_new_rooms": Option(parseBool, "true"),
        # Seconds after which a new room its owner did not configure is
        # unlocked with the default configuration (0: never).
        "lock_timeout": Option(parseInt(0), "300"),
        # Service-wide occupant limit per room (0: none).
        "max_occupants": Option(parseInt(0), "0"),
        # Messages of history kept per room by default.
        "default_history_length": Option(parseInt(0), "20"),
        # Largest history length an owner may choose.
        "max_history_length": Option(parseInt(0), "100"),
        # Let unaffiliated users register nicks.
        "allow_unaffiliated_registration": Option(parseBool, "false"),
        # Only server admins may create rooms.
        "restrict_room_creation": Option(parseBool, "false"),
        # Rooms one account may create per room_creation_period (0: no limit).
        "max_rooms_per_account": Option(parseInt(0), "10"),
        # Seconds max_rooms_per_account counts over.
        "room_creation_period": Option(parseFloat(1), "3600"),
        # Messages per minute one occupant may send in a room (0: no limit).
        "occupant_message_rate": Option(parseInt(0), "120"),
        # Messages one occupant may send at once before the rate applies.
        "occupant_message_burst": Option(parseInt(1), "10"),
    },
    "s2s": {
        # Server-to-server listening endpoints (empty: no federation).
        "listen": Option(parseEndpoints, ""),
        # Endpoints where servers connect with TLS at once (XEP-0368).
        "direct_tls_listen": Option(parseEndpoints, ""),
        # Static routes domain=host:port, used instead of DNS.
        "routes": Option(parseRoutes, ""),
        # Refuse server streams without TLS, in both directions.
        "require_encryption": Option(parseBool, "true"),
        # PEM certificate and key for server streams (empty: [c2s]'s).
        "tls_certificate": Option(parseString, ""),
        "tls_key": Option(parseString, ""),
        # PEM file of trusted CA certificates (empty: the system's).
        "ca_certificates": Option(parseString, ""),
        # Only peers with a valid certificate are authenticated.
        "secure_auth": Option(parseBool, "true"),
        # Secret of the dialback keys (empty: a random one per start).
        "dialback_secret": Option(parseString, ""),
        # Seconds a server stream may stay unused before it is closed.
        "idle_timeout": Option(parseFloat(1), "300"),
        # Seconds to set up an outgoing stream, or for a peer to speak.
        "connect_timeout": Option(parseFloat(1), "30"),
        # Largest stanza accepted from a server, in bytes.
        "max_stanza_size": Option(parseInt(1024), "262144"),
        # Incoming server connections from one IPv4 address or IPv6 /64
        # (0: no limit).
        "max_connections_per_ip": Option(parseInt(0), "100"),
        # Incoming server connections not authenticated yet, in total; the
        # oldest is closed beyond it (0: no limit).
        "max_unauthenticated": Option(parseInt(0), "200"),
        # Bytes per second read from one server connection (0: no limit).
        "read_rate": Option(parseInt(0), "1048576"),
        # Bytes one server connection may send at once before read_rate applies.
        "read_burst": Option(parseInt(1024), "4194304"),
        # Unsent bytes a server connection may hold beyond its socket
        # buffers before it is closed (0: no limit).
        "max_send_backlog": Option(parseInt(0), "16777216"),
        # Seconds a server connection may take none of what is written to
        # it before it is closed (0: no limit).
        "send_timeout": Option(parseFloat(0), "120"),
    },
    "components": {
        # Endpoints external components (XEP-0114) connect to (empty: none).
        "listen": Option(parseEndpoints, ""),
        # domain=secret of each external component domain.
        "secrets": Option(parseSecrets, ""),
        # A second connection for a connected domain: kick_new refuses it,
        # kick_old replaces the first.
        "conflict": Option(parseChoice("kick_new", "kick_old"), "kick_new"),
        # Seconds a component link that enabled XEP-0198 waits to be
        # resumed after a cut (0: no resumption).
        "resumption_timeout": Option(parseFloat(0), "300"),
        # Unsent bytes a component stream may hold beyond its socket
        # buffers before it is aborted (0: no limit).
        "max_send_backlog": Option(parseInt(0), "33554432"),
        # Component connections from one IPv4 address or IPv6 /64 (0: no limit).
        "max_connections_per_ip": Option(parseInt(0), "20"),
        # Component connections without a handshake yet, in total; the
        # oldest is closed beyond it (0: no limit).
        "max_unauthenticated": Option(parseInt(0), "20"),
        # Bytes per second read from one component connection (0: no limit).
        "read_rate": Option(parseInt(0), "0"),
        # Bytes one component connection may send at once before read_rate applies.
        "read_burst": Option(parseInt(1024), "4194304"),
    },
    "component": {
        # The host server's component port (client endpoint description);
        # when set, xmuc runs only its MUC, as an external component (XEP-0114).
        "connect": Option(parseClientEndpoint, None),
        # The secret shared with the host for the component's domain.
        "secret": Option(parseString, ""),
        # Seconds before the first reconnection attempt; doubled per failure.
        "reconnect_delay": Option(parseFloat(0.01), "1"),
        # The longest wait between two reconnection attempts, in seconds.
        "max_reconnect_delay": Option(parseFloat(0.01), "60"),
        # Seconds an occupant's client has to answer the ping sent when
        # the link comes back before it is removed from its rooms.
        "ping_timeout": Option(parseFloat(0.01), "30"),
    },
    "http": {
        # HTTP listening endpoints (WebSocket, discovery); empty: no HTTP.
        # tap.conf sets tcp:5280:interface=127.0.0.1; absent here, so that a
        # configuration without [http] (tests, older files) binds nothing more.
        "listen": Option(parseEndpoints, ""),
        # Public base URL of the HTTP service (behind a reverse proxy);
        # empty: the URL each request was made to.
        "external_url": Option(parseBaseURL, ""),
        # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.
        "trusted_proxies": Option(parseNetworks, ""),
        # Origins web pages may open WebSocket streams from (empty: any).
        "allowed_origins": Option(parseOrigins, ""),
    },
    "upload": {
        # Run the HTTP File Upload service (XEP-0363); needs the HTTP listener.
        "enabled": Option(parseBool, "false"),
        # Upload service domain (empty: upload.<first host>).
        "domain": Option(parseOptionalDomain, ""),
        # Public URL of the upload root (empty: [http] external_url/upload).
        "url": Option(parseBaseURL, ""),
        # Directory of the uploaded files.
        "path": Option(parseString, "data/upload"),
        # Largest file, in bytes.
        "max_size": Option(parseInt(1), "10485760"),
        # Media types accepted (type/subtype or type/*; empty: any).
        "allowed_types": Option(parseList, ""),
        # Bytes one user may upload per day (0: no limit).
        "quota": Option(parseInt(0), "104857600"),
        # Seconds a PUT URL stays valid.
        "slot_lifetime": Option(parseInt(1), "300"),
        # Seconds files are kept (0: forever).
        "expire_after": Option(parseInt(0), "604800"),
        # Key signing PUT URLs (empty: a random one kept in the upload directory).
        "secret": Option(parseString, ""),
        # Let users of other servers upload.
        "allow_remote": Option(parseBool, "false"),
    },
    "log": {
        # Default log level.
        "level": Option(parseLogLevel, "info"),
        # per-namespace levels: ns=level,...
        "levels": Option(parseLogLevels, ""),
        # Also write JSON log events here.
        "json_file": Option(parseString, ""),
    },
}


class Config:
    """
    A validated configuration.

    Values are read with C{config.get(section, key)} or
    C{config[section][key]}.

    @ivar path: the file it was read from (or L{None}).
    @ivar directory: the directory relative paths are resolved against.
    """

    def __init__(self, values, path=None):
        self._values = values
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()

    def __getitem__(self, section):
        return self._values[section]

    def get(self, section, key):
        return self._values[section][key]

    def set(self, section, key, value):
        """
        Override one value (tests and command line options).
        """
        self._values[section][key] = value

    def resolvePath(self, path):
        """
        Resolve C{path} relative to the directory of the configuration file.
        """
        if not path or os.path.isabs(path):
            return path
        return os.path.join(self.directory, path)

    def error(self, section, key, message):
        """
        Build a L{ConfigError} for a value that is syntactically fine but
        unusable (unknown backend, missing file...).
        """
        return ConfigError(
            message,
            self.path,
            section,
            key,
            findLine(self.path, section, key) if self.path else None,
        )


def findLine(path, section, key):
    """
    Find the line on which C{key} of C{section} is set, or the section header
    when C{key} is L{None}.  configparser does not keep line numbers.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        return None
    current = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
            if key is None and current == section:
                return number
            continue
        if current == section and key is not None:
            name = stripped.split("=", 1)[0].split(":", 1)[0].strip().lower()
            if name == key:
                return number
    return None


def loadConfig(path, overrides=None):
    """
    Read and validate a configuration file.

    @param path: the file to read.
    @param overrides: optional C{{section: {key: raw string}}} applied on top
        of the file (tests use it to pick ports and paths).
    @return: a L{Config}.
    @raise ConfigError: on any problem, naming file, line, section and key.
    """
    raw = readRaw(path)
    for section, keys in (overrides or {}).items():
        raw.setdefault(section, {}).update(keys)
    return validate(raw, path)


def readRaw(path):
    """
    Read a configuration file without validating its values.

    @return: C{{section: {key: raw string}}} as written in C{path}.
    @raise ConfigError: when the file cannot be read or parsed.
    """
    parser = configparser.ConfigParser(
        interpolation=None, empty_lines_in_values=False, strict=True
    )
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, source=path)
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path)
    except OSError as e:
        raise ConfigError("cannot read configuration file (%s)" % (e.strerror,), path)
    except UnicodeDecodeError:
        raise ConfigError("configuration file is not UTF-8", path)
    except configparser.DuplicateSectionError as e:
        raise ConfigError(
            "section appears twice", path, e.section, line=e.lineno
        )
    except configparser.DuplicateOptionError as e:
        raise ConfigError(
            "key appears twice in the section", path, e.section, e.option, e.lineno
        )
    except configparser.MissingSectionHeaderError as e:
        raise ConfigError("text before the first [section] header", path, line=e.lineno)
    except configparser.ParsingError as e:
        line = e.errors[0][0] if e.errors else None
        raise ConfigError("cannot parse this line", path, line=line)
    except configparser.Error as e:
        raise ConfigError(str(e), path)

    return {section: dict(parser.items(section)) for section in parser.sections()}


def validate(raw, path=None):
    """
    Validate raw strings against L{SCHEMA}.

    @param raw: C{{section: {key: string}}}.
    @return: a L{Config}.
    @raise ConfigError: on the first problem found.
    """
    errors = collectErrors(raw, path)
    if errors:
        raise errors[0]
    values = {}
    for section, options in SCHEMA.items():
        given = raw.get(section, {})
        values[section] = {}
        for key, option in options.items():
            text = given.get(key, option.default)
            values[section][key] = option.parse(text) if text is not None else None
    return Config(values, path)


#: What xmuc does not do when it runs only its MUC as an external
#: component ([component] connect): no client listener, no accounts, no
#: virtual hosts of its own.  C{{section: keys}}, L{None} for the whole
#: section.
NOT_IN_COMPONENT_MODE = {
    "c2s": None,
    "auth": None,
    "server": (
        "hosts", "max_stanza_size",
        "contact_abuse", "contact_admin", "contact_feedback", "contact_sales",
        "contact_security", "contact_status", "contact_support",
    ),
    "storage": ("tombstone_expiry",),
    "muc": ("enabled",),
    # Components attach to the host, not to its component.
    "components": None,
    # Federation, HTTP and file upload are the host's.
    "s2s": None,
    "http": None,
    "upload": None,
}


def componentModeErrors(raw, path=None):
    """
    With C{[component] connect}, the keys of L{NOT_IN_COMPONENT_MODE} are
    errors (they would silently do nothing), and C{[component] secret} is
    required.

    @return: a list of L{ConfigError}.
    """
    component = raw.get("component", {})
    if not component.get("connect", "").strip():
        return []
    errors = []

    def where(section, key):
        return dict(
            path=path, section=section, key=key, line=findLine(path, section, key) if path else None
        )

    for section, keys in NOT_IN_COMPONENT_MODE.items():
        for key in raw.get(section, {}):
            if keys is None or key in keys:
                errors.append(ConfigError(
                    "not used when xmuc runs as a component of another server "
                    "([component] connect): remove it",
                    **where(section, key)))
    if not component.get("secret", "").strip():
        # Where it is empty, or else the section that lacks it.
        line = findLine(path, "component", "secret") or findLine(path, "component", None) if path else None
        errors.append(ConfigError(
            "required with [component] connect: the secret shared with the host",
            path=path, section="component", key="secret", line=line))
    return errors


def collectErrors(raw, path=None):
    """
    Every problem in C{raw}, not only the first (C{xmucctl check-config}).

    @return: a list of L{ConfigError}.
    """
    errors = []
    for section, keys in raw.items():
        if section not in SCHEMA:
            errors.append(
                ConfigError(
                    "unknown section (known: %s)" % (", ".join(SCHEMA),),
                    path,
                    section,
                    line=findLine(path, section, None) if path else None,
                )
            )
            continue
        for key, text in keys.items():
            where = dict(
                path=path,
                section=section,
                key=key,
                line=findLine(path, section, key) if path else None,
            )
            option = SCHEMA[section].get(key)
            if option is None:
                errors.append(ConfigError("unknown key", **where))
                continue
            try:
                option.parse(text)
            except ValueError as e:
                errors.append(ConfigError("bad value: %s" % (e,), **where))
    if not errors:
        errors.extend(componentModeErrors(raw, path))
    return errors
