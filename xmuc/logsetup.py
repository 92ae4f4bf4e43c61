"""
Logging settings from tap.conf (C{[log]}), on top of L{twisted.logger}.

xmuc code logs with C{twisted.logger.Logger}; this module decides what is
kept:

  - C{[log] level}: the default level (C{debug}, C{info}, C{warn},
    C{error}, C{critical});
  - C{[log] levels}: per-namespace levels, C{xmuc.c2s=debug,
    twisted=warn}; a namespace covers its children (C{xmuc.c2s} covers
    C{xmuc.c2s.stream});
  - C{[log] json_file}: a file receiving the same events as JSON, one per
    line (L{twisted.logger.jsonFileLogObserver}), for log shippers.

Under twistd, the text output stays twistd's (stdout with C{-n}, else
C{--logfile}, or C{--syslog}); xmuc only puts a level filter in front of
it.  It does so through twistd's C{--logger} option: the plugin sets it to
L{twistdObserver} unless the operator gave their own C{--logger}.

Conventions for xmuc code: stanzas are logged at debug only, and never a
password or SASL payload.
"""

import io
import sys

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    formatEvent,
    globalLogPublisher,
    jsonFileLogObserver,
    textFileLogObserver,
)
from zope.interface import implementer

from xmuc import privatefiles

#: The dotted name twistd's C{--logger} receives.
TWISTD_LOGGER = "xmuc.logsetup.twistdObserver"

# What twistdObserver() builds from: set by prepareTwistdLogging while
# twistd parses its command line (twistd calls the --logger factory with no
# arguments, later).
_pending = {}


def levelNamed(name):
    """
    @param name: a level name as in tap.conf (C{'warn'}, C{'info'}...).
    @return: the L{LogLevel}.
    @raise ValueError: for an unknown name.
    """
    try:
        return LogLevel.levelWithName(name.strip().lower())
    except Exception:
        raise ValueError("unknown log level %r" % (name,))


def buildPredicate(config):
    """
    @param config: an L{xmuc.config.Config}.
    @return: a L{LogLevelFilterPredicate} applying C{[log] level} and
        C{[log] levels}.
    """
    predicate = LogLevelFilterPredicate(
        defaultLogLevel=levelNamed(config.get("log", "level"))
    )
    for namespace, level in (config.get("log", "levels") or {}).items():
        predicate.setLogLevelForNamespace(namespace, levelNamed(level))
    return predicate


def openJSONFile(config):
    """
    Open C{[log] json_file} for appending (relative to the configuration
    file's directory), creating it 0600 whatever the umask: log events
    name users and rooms.

    @return: the open file, or L{None} when none is configured.
    @raise xmuc.config.ConfigError: naming C{[log] json_file} when it
        cannot be opened.
    """
    raw = config.get("log", "json_file")
    if not raw:
        return None
    path = config.resolvePath(raw)
    try:
        return io.open(path, "a", encoding="utf-8", opener=privatefiles.openFile)
    except OSError as e:
        raise config.error(
            "log", "json_file", "cannot open %s for writing (%s)" % (path, e.strerror)
        )


def buildObserver(config, textObserver, jsonFile=None):
    """
    Combine the text output and the optional JSON file behind the level
    filter of C{config}.

    @param textObserver: an L{ILogObserver} for humans (twistd's).
    @param jsonFile: an open text file for JSON events, or L{None}.
    @return: one L{ILogObserver}.
    """
    predicate = buildPredicate(config)
    observers = [FilteringLogObserver(textObserver, [predicate])]
    if jsonFile is not None:
        observers.append(
            FilteringLogObserver(jsonFileLogObserver(jsonFile), [predicate])
        )
    return LogPublisher(*observers)


def prepareTwistdLogging(twistdOptions, config):
    """
    Arrange for twistd's log output to follow C{config}'s C{[log]} section.
    Called by the plugin while twistd parses its command line.

    @param twistdOptions: twistd's own L{ServerOptions} (the parent of the
        plugin's options); its C{logger} key is set to L{TWISTD_LOGGER}
        unless the operator chose a C{--logger}, which is then respected
        (and C{[log]} levels do not apply to it).
    @param config: the L{xmuc.config.Config}.
    @return: whether xmuc's filtering will be used.
    @raise xmuc.config.ConfigError: when C{[log] json_file} cannot be opened.
    """
    jsonFile = openJSONFile(config)
    if twistdOptions.get("logger"):
        if jsonFile is not None:
            jsonFile.close()
        return False
    _pending.clear()
    _pending.update(config=config, twistdOptions=twistdOptions, jsonFile=jsonFile)
    twistdOptions["logger"] = TWISTD_LOGGER
    return True


def _twistdDefaultObserver(twistdOptions):
    """
    The observer twistd would have used without C{--logger}: stdout with
    C{-n}, C{--logfile}, C{--syslog}.  Built by twistd's own logger class so
    that its rules (and log rotation on SIGUSR1) stay as they are.
    """
    try:
        from twisted.scripts.twistd import _SomeApplicationRunner

        appLogger = _SomeApplicationRunner.loggerFactory(twistdOptions)
        return appLogger._getLogObserver()
    except (AttributeError, TypeError, KeyError):
        # A twistd whose internals changed: plain stdout is still right for
        # `twistd -n`.
        return textFileLogObserver(sys.stdout)


def twistdObserver():
    """
    The C{--logger} factory twistd calls when it starts logging.

    @return: an L{ILogObserver}.
    """
    config = _pending.get("config")
    twistdOptions = _pending.get("twistdOptions")
    if config is None:
        return textFileLogObserver(sys.stdout)
    return buildObserver(
        config, _twistdDefaultObserver(twistdOptions), _pending.get("jsonFile")
    )


@implementer(ILogObserver)
class LogCapture:
    """
    Collect the log events published while it is installed; for tests, e.g.
    checking that a password never appears in the logs::

        with LogCapture() as capture:
            ...
        self.assertNotIn(password, capture.text())

    @ivar events: the events received.
    """

    def __init__(self, publisher=globalLogPublisher):
        self.publisher = publisher
        self.events = []

    def __call__(self, event):
        self.events.append(event)

    def __enter__(self):
        self.publisher.addObserver(self)
        return self

    def __exit__(self, *exc):
        self.publisher.removeObserver(self)
        return False

    def messages(self, minimumLevel=LogLevel.debug):
        """
        @return: the formatted text of the events at C{minimumLevel} or
            above (with the text of any failure attached).
        """
        result = []
        for event in self.events:
            level = event.get("log_level", LogLevel.info)
            if level < minimumLevel:
                continue
            text = formatEvent(event)
            failure = event.get("log_failure")
            if failure is not None:
                text += "\n" + failure.getTraceback()
            result.append(text)
        return result

    def text(self, minimumLevel=LogLevel.debug):
        """
        @return: every message as one string, together with the raw values
            of every event key, so that a secret hidden in an unformatted
            field is found too.
        """
        raw = [repr(sorted((k, repr(v)) for k, v in event.items())) for event in self.events]
        return "\n".join(self.messages(minimumLevel) + raw)
