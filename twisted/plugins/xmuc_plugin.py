"""
The C{xmuc} twistd plugin: C{twistd -n xmuc -c tap.conf}.
"""

from zope.interface import implementer

from twisted.application.service import IServiceMaker
from twisted.logger import Logger
from twisted.plugin import IPlugin
from twisted.python import usage

log = Logger(namespace="xmuc.startup")


class Options(usage.Options):
    optParameters = [
        ["config", "c", "tap.conf", "Configuration file (INI, see README.rst)."],
    ]

    def postOptions(self):
        # The event loop first: loading the configuration imports the
        # reactor, which would install the default one.
        from xmuc.reactorchoice import chooseReactor, configuredReactorName

        reactorWarnings = chooseReactor(configuredReactorName(self["config"]))

        from xmuc.config import ConfigError, loadConfig
        from xmuc.logsetup import prepareTwistdLogging

        try:
            self["parsed"] = loadConfig(self["config"])
            if self.parent is not None:
                # Only under twistd: level filters and the JSON file go in
                # front of twistd's own log output.
                prepareTwistdLogging(self.parent, self["parsed"])
        except ConfigError as e:
            # One line naming file, line, section and key; no usage text and
            # no traceback: the command line itself was fine.
            raise SystemExit("xmuc: %s" % (e,))
        # Logged events are kept until twistd starts logging, then written.
        for warning in reactorWarnings:
            log.warn("{warning}", warning=warning)


def exitCleanlyOnSignals(reactor):
    """
    Make SIGTERM and SIGINT stop the reactor the normal way (the graceful
    shutdown of the service tree runs), after which twistd exits with status
    0.  Twisted's own handlers do the same but then make twistd kill itself
    with the signal again, so that a stop asked for by the operator or
    systemd would look like a crash to anything checking the exit status.

    Called once the reactor runs (it installs its own handlers at start).
    A second signal while stopping is ignored: the shutdown is bounded by
    C{[server] shutdown_timeout}.

    @param reactor: the running reactor.
    """
    import signal

    from twisted.internet.error import ReactorNotRunning

    stopping = []

    def stop():
        try:
            reactor.stop()
        except ReactorNotRunning:
            pass

    def handler(number, frame):
        name = signal.Signals(number).name
        if stopping:
            log.info("{signal} received while stopping: still stopping", signal=name)
            return
        stopping.append(number)
        log.info("{signal} received: shutting down", signal=name)
        reactor.callFromThread(stop)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, handler)


@implementer(IServiceMaker, IPlugin)
class XmucServiceMaker:
    tapname = "xmuc"
    description = "xmuc: an XMPP server built around Multi-User Chat."
    options = Options

    def makeService(self, options):
        """
        Build the service tree.  Configuration problems found while building
        (an unknown backend, an unreachable database) end the process with
        one clear line instead of a traceback.
        """
        from xmuc.config import ConfigError
        from xmuc.server import XmucServer, reloadOnHangup

        config = options["parsed"]
        try:
            if config.get("component", "connect") is not None:
                # Only the MUC, as an external component of another server.
                from xmuc.componentserver import ComponentServer

                server = ComponentServer(config)
            else:
                server = XmucServer(config)
        except ConfigError as e:
            raise SystemExit("xmuc: %s" % (e,))
        if options.parent is not None:
            # Under twistd only (tests building the service keep their own
            # signal handling).
            from twisted.internet import reactor

            reactor.callWhenRunning(exitCleanlyOnSignals, reactor)
            reactor.callWhenRunning(reloadOnHangup, reactor, server)
        return server


serviceMaker = XmucServiceMaker()
