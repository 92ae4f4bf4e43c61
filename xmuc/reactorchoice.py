"""
Choosing the event loop (the Twisted reactor).

The platform default is what L{twisted.internet.default} installs: epoll on
Linux, poll on other POSIX systems, select elsewhere.  An operator may ask
for another one with C{[server] reactor} in tap.conf.  When the one asked
for does not exist or cannot be used here, xmuc warns and falls back to the
platform default, never to the slowest one (select).

A reactor can only be chosen before C{twisted.internet.reactor} is first
imported: whatever imports it first installs the default.  twistd's own
C{-r NAME} option installs its reactor while parsing the command line,
before the xmuc plugin runs; then a different C{[server] reactor} can only
be reported as ignored.  (twistd itself refuses a C{-r} name it cannot
install, with its own message, before any xmuc code runs.)
"""

import sys

from twisted.application import reactors
from twisted.internet import default

#: The module whose reactor the platform default installs
#: (C{twisted.internet.epollreactor} on Linux).
PLATFORM_DEFAULT_MODULE = default.install.__module__

#: Names that mean "the platform default".
DEFAULT_NAMES = ("", "default")


def platformDefaultName():
    """
    @return: the short name of the platform default reactor (C{'epoll'} on
        Linux), or its module name if no short name is known.
    """
    for installer in reactors.getReactorTypes():
        if installer.moduleName == PLATFORM_DEFAULT_MODULE:
            return installer.shortName
    return PLATFORM_DEFAULT_MODULE


def installedReactor():
    """
    @return: the installed reactor, or L{None} when none is installed yet
        (importing C{twisted.internet.reactor} would install the default).
    """
    module = sys.modules.get("twisted.internet.reactor")
    if module is None:
        return None
    return module


def _installerNamed(name):
    for installer in reactors.getReactorTypes():
        if installer.shortName == name:
            return installer
    return None


def reactorModuleName(reactor):
    """
    @return: the module a reactor instance comes from
        (C{twisted.internet.epollreactor}).
    """
    return type(reactor).__module__


def chooseReactor(name, installReactor=reactors.installReactor,
                  installDefault=default.install):
    """
    Install the reactor called C{name}, or the platform default when it is
    empty, unknown or unusable.

    @param name: a Twisted reactor short name (C{'epoll'}, C{'poll'},
        C{'asyncio'}...), or C{''}/C{'default'} for the platform default.
    @param installReactor: installs a reactor by short name, raising
        L{reactors.NoSuchReactor} or any exception on failure (tests
        replace it).
    @param installDefault: installs the platform default (tests replace it).
    @return: a list of warning messages (empty when everything went as
        asked); the caller logs them.
    """
    name = (name or "").strip()
    wanted = "" if name in DEFAULT_NAMES else name
    current = installedReactor()
    if current is not None:
        if not wanted:
            return []
        installer = _installerNamed(wanted)
        if installer is not None and reactorModuleName(current) == installer.moduleName:
            return []
        return [
            "[server] reactor = %s is ignored: the %s reactor is already running "
            "(chosen by twistd -r or by code that imported the reactor first)"
            % (wanted, type(current).__name__)
        ]
    if not wanted:
        installDefault()
        return []
    fallback = platformDefaultName()
    try:
        installReactor(wanted)
    except reactors.NoSuchReactor:
        known = sorted(r.shortName for r in reactors.getReactorTypes())
        problem = "reactor %r does not exist (known: %s)" % (wanted, ", ".join(known))
    except Exception as e:
        problem = "reactor %r cannot be used here (%s: %s)" % (
            wanted,
            type(e).__name__,
            e,
        )
    else:
        return []
    if installedReactor() is None:
        installDefault()
    return ["%s; falling back to the platform default, %s" % (problem, fallback)]


def configuredReactorName(path):
    """
    Read C{[server] reactor} from a tap.conf without validating the rest:
    the reactor must be chosen before the configuration is loaded (loading
    it checks endpoint descriptions, which imports the reactor).

    @param path: the configuration file.
    @return: the raw value, or C{''} when it is absent or the file cannot
        be read (loading the configuration then reports the problem).
    """
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, source=path)
        return parser.get("server", "reactor", fallback="").strip()
    except (OSError, UnicodeDecodeError, configparser.Error):
        return ""
