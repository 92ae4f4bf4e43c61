"""
Command lines that never exit the process by themselves: parsing raises,
and the program's C{main} alone writes errors and decides the exit code
(testable without catching C{SystemExit}).  Used by C{xmucctl}
(L{xmuc.ctl}) and the scansion runner (L{xmuc.testing.scansion}).

argparse is subclassed rather than Twisted's C{usage.Options}, whose
C{--help} and C{--version} call C{sys.exit}.
"""

import argparse


class UsageError(Exception):
    """
    The command line is wrong.

    @ivar message: what is wrong.
    @ivar usage: the usage text of the (sub)command concerned.
    """

    def __init__(self, message, usage=""):
        Exception.__init__(self, message)
        self.message = message
        self.usage = usage


class HelpRequested(Exception):
    """
    C{--help}, C{--version} or the like: not an error; C{text} is for
    standard output.
    """

    def __init__(self, text):
        Exception.__init__(self, text)
        self.text = text


class ArgumentParser(argparse.ArgumentParser):
    """
    An argparse parser that raises L{UsageError} or L{HelpRequested}
    instead of printing and exiting.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("exit_on_error", False)
        argparse.ArgumentParser.__init__(self, *args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        try:
            return argparse.ArgumentParser.parse_args(self, args, namespace)
        except argparse.ArgumentError as e:
            raise UsageError(str(e), self.format_usage())

    def error(self, message):
        raise UsageError(message, self.format_usage())

    def exit(self, status=0, message=None):
        if status:
            raise UsageError((message or "").strip(), self.format_usage())
        raise HelpRequested(message or "")

    def print_help(self, file=None):
        raise HelpRequested(self.format_help())

    def print_usage(self, file=None):
        raise HelpRequested(self.format_usage())
