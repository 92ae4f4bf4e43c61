#!/usr/bin/env python3
"""
MUC load generator: many XMPP clients on loopback join one or many rooms
and chat; it reports fan-out deliveries per second and delivery latency
percentiles.

Runnable against any XMPP server that lets clients in without TLS (xmuc
with C{bench/tap-bench.conf}, or Prosody with C{c2s_require_encryption =
false} and plain or anonymous authentication).  Everything is bounded:
clients, rooms, duration, message rate.

The clients are deliberately lean (no XML parsing after login: incoming
data is scanned for the markers of bench messages) so that one process
can drive hundreds of occupants and the server stays the bottleneck.

Example::

    twistd -n xmuc -c bench/tap-bench.conf &
    python bench/load.py --clients 200 --rooms 1 --rate 50 --duration 20
"""

import argparse
import base64
import json
import re
import sys
import time
import uuid

from twisted.internet import defer, protocol, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

MAX_CLIENTS = 5000
MAX_DURATION = 600
MARKER = re.compile(rb"bench:(\d+):(\d+);")
SELF_PRESENCE = re.compile(rb"""code=["']110["']""")
TAIL = 256


def xmlEscape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


class Stats:
    """
    What every client records.
    """

    def __init__(self):
        self.latencies = []
        self.deliveries = 0
        self.sent = 0
        self.firstDelivery = None
        self.lastDelivery = None
        self.errors = 0

    def delivered(self, sentAt, now):
        self.deliveries += 1
        if len(self.latencies) < 5000000:
            self.latencies.append(now - sentAt)
        if self.firstDelivery is None:
            self.firstDelivery = now
        self.lastDelivery = now


class BenchClient(protocol.Protocol):
    """
    One XMPP client: stream, SASL (PLAIN or ANONYMOUS), bind, then raw
    scanning of what arrives.
    """

    def __init__(self, options, username, stats):
        self.options = options
        self.username = username
        self.stats = stats
        self.buffer = b""
        self.state = "features"
        self.loggedIn = defer.Deferred()
        self.joined = None
        self.jid = None

    def connectionMade(self):
        self.header()

    def header(self):
        self.transport.write((
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0' xml:lang='en'>"
            % (self.options.domain,)).encode("utf-8"))

    def send(self, text):
        self.transport.write(text.encode("utf-8"))

    def dataReceived(self, data):
        if self.state == "ready":
            return self.scan(data)
        self.buffer += data
        if self.state == "features" and b"</stream:features>" in self.buffer:
            self.buffer = b""
            if self.options.sasl == "anonymous":
                self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
            else:
                token = base64.b64encode(("\0%s\0%s" % (self.username, self.options.password)).encode("utf-8"))
                self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>"
                          % (token.decode("ascii"),))
            self.state = "auth"
        elif self.state == "auth":
            if b"<success" in self.buffer:
                self.buffer = b""
                self.state = "features2"
                self.header()
            elif b"<failure" in self.buffer:
                self.fail("authentication failed")
        elif self.state == "features2" and b"</stream:features>" in self.buffer:
            self.buffer = b""
            self.state = "bind"
            self.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      "<resource>bench</resource></bind></iq>")
        elif self.state == "bind" and b"</jid>" in self.buffer:
            found = re.search(rb"<jid>([^<]+)</jid>", self.buffer)
            self.jid = found.group(1).decode("utf-8")
            self.buffer = b""
            self.state = "ready"
            self.loggedIn.callback(self)

    def fail(self, why):
        self.state = "failed"
        if not self.loggedIn.called:
            self.loggedIn.errback(RuntimeError("%s: %s" % (self.username, why)))
        self.transport.loseConnection()

    def scan(self, data):
        buffer = self.buffer + data
        now = time.perf_counter_ns()
        end = 0
        for found in MARKER.finditer(buffer):
            self.stats.delivered(int(found.group(2)), now)
            end = found.end()
        if self.joined is not None and not self.joined.called and SELF_PRESENCE.search(buffer):
            self.joined.callback(self)
        if b"type='error'" in buffer or b'type="error"' in buffer:
            self.stats.errors += 1
        self.buffer = buffer[end:][-TAIL:]

    def join(self, room, nick):
        self.room = room
        self.joined = defer.Deferred()
        self.send("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'>"
                  "<history maxstanzas='0'/></x></presence>" % (room, xmlEscape(nick)))
        return self.joined

    def say(self, index, sequence):
        self.send("<message type='groupchat' to='%s'><body>bench:%d:%d; from %d</body></message>"
                  % (self.room, sequence, time.perf_counter_ns(), index))
        self.stats.sent += 1

    def connectionLost(self, reason):
        if self.state != "ready" and not self.loggedIn.called:
            self.loggedIn.errback(RuntimeError("%s: connection lost" % (self.username,)))


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


@defer.inlineCallbacks
def connectAll(options, stats):
    clients = []
    endpoint = TCP4ClientEndpoint(reactor, options.host, options.port, timeout=10)
    run = uuid.uuid4().hex[:6]
    batch = []
    for n in range(options.clients):
        client = BenchClient(options, "bench%s-%d" % (run, n), stats)
        batch.append(endpoint.connect(protocol.Factory.forProtocol(lambda c=client: c)).addCallback(
            lambda p: p.loggedIn))
        clients.append(client)
        if len(batch) >= options.connect_batch:
            yield defer.gatherResults(batch, consumeErrors=True)
            batch = []
    yield defer.gatherResults(batch, consumeErrors=True)
    return clients, run


@defer.inlineCallbacks
def main(options):
    stats = Stats()
    started = time.perf_counter()
    clients, run = yield connectAll(options, stats)
    connected = time.perf_counter()
    rooms = ["bench%s-%d@%s" % (run, r, options.muc) for r in range(options.rooms)]
    joins = []
    for n, client in enumerate(clients):
        joins.append(client.join(rooms[n % len(rooms)], "user%d" % (n,)))
        if len(joins) % options.connect_batch == 0:
            yield defer.gatherResults(joins[-options.connect_batch:], consumeErrors=True)
    yield defer.gatherResults(joins, consumeErrors=True)
    joined = time.perf_counter()
    # Let the join presence storm settle before measuring messages.
    yield task.deferLater(reactor, 1.0, lambda: None)

    senders = clients[: options.senders or len(clients)]
    interval = 1.0 / options.rate
    total = int(options.rate * options.duration)
    stats.deliveries = 0
    stats.latencies = []
    stats.firstDelivery = None
    sendStart = time.perf_counter()
    for sequence in range(total):
        senders[sequence % len(senders)].say(sequence % len(senders), sequence)
        target = sendStart + (sequence + 1) * interval
        delay = target - time.perf_counter()
        if delay > 0:
            yield task.deferLater(reactor, delay, lambda: None)
    sendEnd = time.perf_counter()
    perRoom = [0] * len(rooms)
    for n in range(len(clients)):
        perRoom[n % len(rooms)] += 1
    expected = sum(perRoom[(s % len(senders)) % len(rooms)] for s in range(total))
    deadline = time.perf_counter() + options.drain
    while stats.deliveries < expected and time.perf_counter() < deadline:
        yield task.deferLater(reactor, 0.05, lambda: None)
    latencies = sorted(stats.latencies)
    window = ((stats.lastDelivery or 0) - (stats.firstDelivery or 0)) / 1e9
    report = {
        "server": "%s:%d" % (options.host, options.port),
        "clients": len(clients),
        "rooms": len(rooms),
        "occupants_per_room": max(perRoom),
        "messages_sent": stats.sent,
        "send_rate_per_s": round(stats.sent / max(sendEnd - sendStart, 1e-9), 1),
        "deliveries_expected": expected,
        "deliveries": stats.deliveries,
        "deliveries_per_s": round(stats.deliveries / window, 1) if window > 0 else 0,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) / 1e6, 2),
            "p90": round(percentile(latencies, 0.90) / 1e6, 2),
            "p99": round(percentile(latencies, 0.99) / 1e6, 2),
            "max": round((latencies[-1] if latencies else 0) / 1e6, 2),
        },
        "connect_s": round(connected - started, 2),
        "join_s": round(joined - connected, 2),
        "errors": stats.errors,
    }
    for client in clients:
        client.send("</stream:stream>")
        client.transport.loseConnection()
    return report


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="MUC fan-out load generator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5222)
    parser.add_argument("--domain", default="localhost", help="the users' domain")
    parser.add_argument("--muc", default="conference.localhost", help="the MUC service domain")
    parser.add_argument("--sasl", choices=("plain", "anonymous"), default="plain")
    parser.add_argument("--password", default="password")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--senders", type=int, default=0, help="clients that talk (0: all)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second, all senders together")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for the last deliveries")
    parser.add_argument("--connect-batch", type=int, default=50)
    options = parser.parse_args(argv)
    if not 1 <= options.clients <= MAX_CLIENTS:
        parser.error("--clients must be between 1 and %d" % (MAX_CLIENTS,))
    if not 1 <= options.rooms <= options.clients:
        parser.error("--rooms must be between 1 and --clients")
    if not 0 < options.duration <= MAX_DURATION or not 0 <= options.drain <= MAX_DURATION:
        parser.error("--duration and --drain are bounded by %d seconds" % (MAX_DURATION,))
    if not 0 < options.rate <= 100000:
        parser.error("--rate must be positive (at most 100000)")
    return options


def run(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    outcome = {}

    def done(report):
        outcome["report"] = report

    def failed(failure):
        outcome["error"] = failure.getErrorMessage()

    def start():
        d = main(options)
        d.addCallbacks(done, failed)
        d.addBoth(lambda _: reactor.stop())

    # A hard bound on the whole run, whatever happens.
    reactor.callLater(options.duration + options.drain + 120, reactor.stop)
    reactor.callWhenRunning(start)
    reactor.run()
    if "report" not in outcome:
        print("bench failed: %s" % (outcome.get("error", "timed out"),), file=sys.stderr)
        return 1
    print(json.dumps(outcome["report"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run())
