#!/usr/bin/env python3
"""
What receiving a stanza and delivering it to a local client costs an xmuc
host: the CPU time the host process uses per delivery when an external
component (XEP-0114) sends one message per occupant to clients logged in
to the host, which is what the host does for a room behind a component
link, and most of what a server does for a room on another server (parse
the stanza off a server-to-server or component stream, check it, route
it, deliver it to the client's stream).

The host is C{twistd -n xmuc} with C{bench/tap-bench.conf} (its client
port moved to a free one) and a C{[components]} listener; this process
logs in C{--clients} lean clients (C{bench/load.py}'s) and plays the
component itself over a raw socket, so that the only server process
measured is the receiving one.  Each round sends C{--messages} messages
to every client (as a room's fan-out would: C{type='groupchat'}, from an
occupant JID of the component's domain) and waits until every client got
every one; the host's CPU time (C{/proc}) over the round, per delivery,
is the figure.  The messages look like those of xmuc's MUC (a body, the
occupant id and the room's stanza-id).  Medians over C{--rounds} rounds.

With C{--baseline CHECKOUT}, a second host from another checkout (run
with that directory first on C{sys.path}) gets the same rounds, the two
alternating, and the ratio of the medians is printed.  With C{--profile
FILE}, the host runs under cProfile (C{twistd --profile}) and the stats
are saved to C{FILE} when it stops.

Usage::

    .venv/bin/python bench/receive.py
    .venv/bin/python bench/receive.py --baseline ../xmuc-old --rounds 5
    .venv/bin/python bench/receive.py --profile /tmp/host.prof --rounds 1
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import component  # noqa: E402  (bench/component.py, next to this file)
import load  # noqa: E402  (bench/load.py, next to this file)

compare = component.compare

DOMAIN = "rooms.localhost"
SECRET = "bench-receive-secret"


class Host:
    """
    One xmuc host process with a component listener.
    """

    def __init__(self, name, checkout=None, profile=None):
        self.name = name
        self.checkout = checkout
        self.profile = profile
        self.directory = tempfile.mkdtemp(prefix="bench-receive-")
        self.port = compare.freePort()
        self.componentPort = compare.freePort()
        self.process = None

    def start(self):
        sections = component.benchSections()
        sections["c2s"]["listen"] = "tcp:%d:interface=127.0.0.1" % (self.port,)
        sections["muc"] = {"enabled": "false"}
        sections["components"] = {
            "listen": "tcp:%d:interface=127.0.0.1" % (self.componentPort,),
            "secrets": "%s=%s" % (DOMAIN, SECRET),
        }
        path = component.writeSections(os.path.join(self.directory, "host.conf"), sections)
        command = component.twistdCommand(path)
        if self.profile:
            command[1:1] = ["--profile=%s" % (self.profile,), "--profiler=cprofile", "--savestats"]
        environment = dict(os.environ)
        if self.checkout is not None:
            environment["PYTHONPATH"] = self.checkout
        log = open(os.path.join(self.directory, "host.log"), "wb")
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
                                        env=environment)
        log.close()
        compare.waitListening(self.port, self.process)
        compare.waitListening(self.componentPort, self.process)
        return self

    def cpu(self):
        return component.cpuSeconds(self.process.pid)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Component(protocol.Protocol):
    """
    The component end of a XEP-0114 link, by hand: header, handshake, then
    raw writes.
    """

    def __init__(self):
        self.buffer = b""
        self.ready = defer.Deferred()
        self.done = False

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)
        self.transport.write((
            "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' "
            "to='%s'>" % (DOMAIN,)).encode("utf-8"))

    def dataReceived(self, data):
        if self.done:
            return
        self.buffer += data
        if b"<handshake/>" in self.buffer:
            self.done = True
            self.ready.callback(self)
            return
        found = re.search(rb"""<stream:stream[^>]* id=['"]([^'"]+)['"]""", self.buffer)
        if found is not None and b"<handshake>" not in self.buffer:
            token = hashlib.sha1(found.group(1) + SECRET.encode("utf-8")).hexdigest()
            self.buffer += b"<handshake>"  # sent once
            self.transport.write(("<handshake>%s</handshake>" % (token,)).encode("ascii"))


def options(port, clients):
    return argparse.Namespace(
        host="127.0.0.1", port=port, domain="localhost", sasl="plain", password="pw", clients=clients,
        connect_batch=100, transport="tcp", padding="")


@defer.inlineCallbacks
def runRound(host, stats, clients, link, messages, batch):
    """
    Send C{messages} messages to every client through the component link;
    wait until all arrived.

    @return: Deferred firing with the host's CPU seconds for the round.
    """
    expected = stats.deliveries + messages * len(clients)
    before = host.cpu()
    sequence = 0
    while sequence < messages:
        chunk = []
        for _ in range(min(batch, messages - sequence)):
            sequence += 1
            body = "bench:%d:%d; from the component" % (sequence, time.perf_counter_ns())
            for n, client in enumerate(clients):
                chunk.append(
                    "<message from='room@%s/speaker' to='%s' type='groupchat' id='m%d'><body>%s</body>"
                    "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='c3BlYWtlcg=='/>"
                    "<stanza-id xmlns='urn:xmpp:sid:0' id='%d' by='room@%s'/></message>"
                    % (DOMAIN, client.jid, sequence, body, sequence, DOMAIN))
        link.transport.write("".join(chunk).encode("utf-8"))
        # Let the host read and deliver before the next batch.
        while stats.deliveries < expected - (messages - sequence) * len(clients):
            yield load.pause(0.005)
    deadline = time.monotonic() + 60
    while stats.deliveries < expected and time.monotonic() < deadline:
        yield load.pause(0.01)
    if stats.deliveries < expected:
        raise RuntimeError("%s: %d deliveries missing" % (host.name, expected - stats.deliveries))
    return host.cpu() - before


@defer.inlineCallbacks
def prepare(host, count):
    stats = load.Stats()
    clients, _ = yield load.connectAll(options(host.port, count), stats)
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", host.componentPort, timeout=10)
    link = yield endpoint.connect(protocol.Factory.forProtocol(Component))
    yield link.ready
    return stats, clients, link


@defer.inlineCallbacks
def main(arguments):
    hosts = [Host("xmuc", profile=arguments.profile)]
    if arguments.baseline:
        hosts.append(Host("baseline", checkout=os.path.abspath(arguments.baseline)))
    prepared = {}
    results = {host.name: [] for host in hosts}
    try:
        for host in hosts:
            host.start()
            prepared[host.name] = yield prepare(host, arguments.clients)
        for n in range(arguments.rounds):
            order = hosts if n % 2 == 0 else list(reversed(hosts))
            for host in order:
                stats, clients, link = prepared[host.name]
                seconds = yield runRound(host, stats, clients, link, arguments.messages, arguments.batch)
                perDelivery = seconds * 1e6 / (arguments.messages * len(clients))
                results[host.name].append(perDelivery)
                print("round %d %-8s host CPU %.2f s, %.2f us per delivery" % (n + 1, host.name, seconds, perDelivery))
    finally:
        for host in hosts:
            if host.name in prepared:
                for client in prepared[host.name][1]:
                    client.transport.loseConnection()
                prepared[host.name][2].transport.loseConnection()
            host.stop()
    report = {name: statistics.median(values) for name, values in results.items()}
    print("median host CPU us per delivery: %s" % (
        ", ".join("%s %.2f" % (name, value) for name, value in report.items()),))
    if arguments.baseline:
        print("xmuc/baseline: %.2f" % (report["xmuc"] / report["baseline"],))
    if arguments.json:
        with open(arguments.json, "w") as f:
            json.dump({"rounds": results, "median": report}, f, indent=2)


def run(argv=None):
    parser = argparse.ArgumentParser(description="host CPU per stanza received from a component and delivered")
    parser.add_argument("--clients", type=int, default=100, help="clients logged in to the host")
    parser.add_argument("--messages", type=int, default=200, help="messages to every client per round")
    parser.add_argument("--batch", type=int, default=10, help="messages per write of the component")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="another checkout to measure against, interleaved")
    parser.add_argument("--profile", help="run this tree's host under cProfile, stats saved to this file")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args(argv)
    if not 0 < arguments.clients <= 2000 or not 0 < arguments.messages <= 10000 or not 0 < arguments.rounds <= 20:
        parser.error("--clients at most 2000, --messages at most 10000, --rounds at most 20")
    outcome = []

    def start():
        d = main(arguments)
        d.addErrback(lambda f: (outcome.append(f), print(f.getTraceback(), file=sys.stderr)))
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    return 1 if outcome else 0


if __name__ == "__main__":
    sys.exit(run())
