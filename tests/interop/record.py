"""
Record what a server answers to a scansion-like script.

The script uses the scansion format (see C{/work/shared/seeds/README.md});
C{connects}, C{sends} and C{disconnects} are played, C{receives} steps are
ignored (they may be left out): after every step the recorder waits a
moment and prints every stanza each client received since the previous
step.  This shows the exact answers of Prosody (C{--target prosody}, a
private instance started for the run) or of xmuc (C{--target xmuc}, an
in-process server with C{tap-scansion.conf}), so both can be compared::

    .venv/bin/python tests/interop/record.py --target prosody probe.scs
    .venv/bin/python tests/interop/record.py --target xmuc probe.scs

Prosody's debug log of the run is kept with C{--keep DIR}.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.dirname(HERE), REPOSITORY]

from twisted.internet import defer, task  # noqa: E402

from xmuc.testing.scansion import (  # noqa: E402
    CONNECTS,
    DISCONNECTS,
    RECEIVES,
    RECEIVES_NOTHING,
    SENDS,
    ScansionClient,
    loadScript,
    parseStanza,
    serialize,
    stanzaToSend,
    substitute,
)


@defer.inlineCallbacks
def record(script, host, port, out, settle=0.4, reactor=None):
    """
    Play C{script} and write what each client receives to C{out}.

    @param script: a parsed L{xmuc.testing.scansion.Script}.
    @param host: server address.
    @param port: c2s port.
    @param out: a text file.
    @param settle: seconds to wait after each step before printing.
    @return: a L{Deferred} firing when done (clients disconnected).
    """
    if reactor is None:
        from twisted.internet import reactor
    clients = {
        name: ScansionClient(spec, reactor) for name, spec in script.clients.items()
    }

    def lookup(name, what):
        client = clients[name]
        if what == "JID":
            return client.spec.jid
        if client.fullJID is None:
            raise LookupError("%s is not connected" % (name,))
        return client.fullJID.full()

    def flush():
        for name, client in clients.items():
            while client.queue:
                out.write("    %s <- %s\n" % (name, serialize(client.queue.pop(0))))

    try:
        for action in script.actions:
            client = clients[action.client]
            if action.kind in (RECEIVES, RECEIVES_NOTHING):
                continue
            if action.kind == CONNECTS:
                jid = yield client.connect(host, port, "localhost")
                out.write("%d: %s connects as %s\n" % (action.lineno, action.client, jid.full()))
            elif action.kind == DISCONNECTS:
                out.write("%d: %s disconnects\n" % (action.lineno, action.client))
                yield client.disconnect()
            elif action.kind == SENDS:
                text = substitute(action.xml_text, lookup, script.filename, action.xml_lineno)
                element = stanzaToSend(parseStanza(text, script.filename, action.xml_lineno))
                out.write("%d: %s -> %s\n" % (action.lineno, action.client, serialize(element)))
                client.send(element)
            yield task.deferLater(reactor, settle, lambda: None)
            flush()
            out.flush()
    finally:
        yield defer.DeferredList(
            [c.disconnect() for c in clients.values()], consumeErrors=True
        )
        flush()


@defer.inlineCallbacks
def recordOn(target, path, out, keep=None, extra=""):
    """
    Start the target server, record C{path} against it, stop the server.

    @param target: C{"prosody"} or C{"xmuc"}.
    @param keep: for Prosody, a directory to keep its config and log in.
    @param extra: Lua lines for Prosody's MUC component.
    """
    script = loadScript(path)
    if target == "prosody":
        from interop.prosody import ProsodyServer

        server = ProsodyServer(keep, extra=extra)
        yield server.start()
        port = server.c2sPort
    else:
        from xmuc.testing.server import startServer

        server = yield startServer(
            os.path.join(REPOSITORY, "tap-scansion.conf"),
            overrides={"c2s": {"listen": "tcp:0:interface=127.0.0.1"}},
        )
        port = server.c2sPort
    try:
        out.write("# %s on %s\n" % (path, target))
        yield record(script, "127.0.0.1", port, out)
    finally:
        yield server.stop()


def main(argv=None):
    """
    Command line: C{record.py [--target prosody|xmuc] [--keep DIR] script...}.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("prosody", "xmuc"), default="prosody")
    parser.add_argument("--keep", help="keep Prosody's files in this directory")
    parser.add_argument("--muc", default="", help="Lua lines for Prosody's MUC component")
    parser.add_argument("scripts", nargs="+")
    options = parser.parse_args(argv)

    from twisted.internet import reactor

    status = []

    @defer.inlineCallbacks
    def run():
        try:
            for path in options.scripts:
                yield recordOn(options.target, path, sys.stdout, options.keep, options.muc)
        except Exception:
            import traceback

            traceback.print_exc()
            status.append(1)
        finally:
            reactor.stop()

    reactor.callWhenRunning(run)
    reactor.run()
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
