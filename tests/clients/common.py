"""
Shared plumbing for the slixmpp client scripts run by tests/clients/test_*.py.

Each script is run as a child process (slixmpp needs its own asyncio loop)
with the arguments C{port certificate}; it prints one C{CHECK <name>} line
per verified expectation and exits non-zero (with a traceback) on the first
failed one, so the test sees both what passed and why something failed.
"""

import asyncio
import ssl
import sys

import slixmpp

DOMAIN = "localhost"
MUC = "conference.localhost"
PLUGINS = ("xep_0030", "xep_0045", "xep_0199", "xep_0004")


def arguments():
    """
    @return: C{(port, certificatePath)} from the command line.
    """
    return int(sys.argv[1]), sys.argv[2]


def check(name, condition, detail=""):
    """
    Record a verified expectation, or fail the script.

    @param name: a short stable name the test looks for.
    @param condition: what must be true.
    @param detail: shown when it is not.
    """
    if not condition:
        raise AssertionError("%s: %s" % (name, detail))
    print("CHECK", name, flush=True)


class Bot(slixmpp.ClientXMPP):
    """
    A slixmpp client logging in with SCRAM-SHA-256 over STARTTLS, trusting
    only the test certificate (host name checked), that queues what it
    receives so scripts can await it.

    @ivar events: C{{event name: asyncio.Queue}} for the events subscribed
        with L{watch}.
    """

    def __init__(self, jid, password, plugins=PLUGINS, mechanism="SCRAM-SHA-256"):
        """
        @param mechanism: the SASL mechanism to insist on, or L{None} to
            let slixmpp pick the best offered one as it does by default.
        """
        slixmpp.ClientXMPP.__init__(self, jid, password, sasl_mech=mechanism)
        for plugin in plugins:
            self.register_plugin(plugin)
        self.events = {}
        self.started = None
        self.streamErrors = []
        self.add_event_handler("stream_error", self.streamErrors.append)

    def watch(self, *names):
        """
        Queue every occurrence of each named event from now on.
        """
        for name in names:
            if name not in self.events:
                queue = self.events[name] = asyncio.Queue()
                self.add_event_handler(name, queue.put_nowait)

    def watchAllMessages(self):
        """
        Queue every message stanza (also those without a body, which
        slixmpp's C{message} event skips) as the event C{any_message}.
        """
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        queue = self.events["any_message"] = asyncio.Queue()
        self.register_handler(Callback("any message", MatchXPath("{%s}message" % (self.default_ns,)), queue.put_nowait))

    async def next(self, name, timeout=10, predicate=None):
        """
        @return: the next occurrence of a watched event (matching
            C{predicate} when given; others are dropped).
        """
        queue = self.events[name]
        while True:
            item = await asyncio.wait_for(queue.get(), timeout)
            if predicate is None or predicate(item):
                return item

    def drain(self, name):
        """
        Forget what was queued for an event.
        """
        queue = self.events[name]
        while not queue.empty():
            queue.get_nowait()

    async def login(self, port, certificate, timeout=30, presence=True):
        """
        Connect and wait for C{session_start}; then send initial presence
        as real clients do (messages to the bare JID, such as mediated
        invitations, need an available resource) unless C{presence} is
        false.
        """
        self.ssl_context = ssl.create_default_context(cafile=certificate)
        self.started = asyncio.get_running_loop().create_future()
        self.add_event_handler(
            "session_start",
            lambda event: self.started.done() or self.started.set_result(True),
        )
        self.add_event_handler(
            "failed_auth",
            lambda event: self.started.done()
            or self.started.set_exception(RuntimeError("authentication failed")),
        )
        self.connect("127.0.0.1", port)
        await asyncio.wait_for(self.started, timeout)
        if presence:
            self.send_presence()

    async def logout(self):
        """
        Close the stream and wait for the disconnection.
        """
        await self.disconnect(wait=2.0)


def run(main):
    """
    Run the script's C{main(port, certificate)} coroutine.
    """
    port, certificate = arguments()
    asyncio.run(main(port, certificate))
    print("DONE", flush=True)
