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
        from xmuc.server import XmucServer

        try:
            return XmucServer(options["parsed"])
        except ConfigError as e:
            raise SystemExit("xmuc: %s" % (e,))


serviceMaker = XmucServiceMaker()
