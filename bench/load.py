#!/usr/bin/env python3
"""
MUC load generator: many XMPP clients on loopback join one or many rooms
and chat; it reports fan-out deliveries per second and delivery latency
percentiles.

Runnable against any XMPP server that lets clients in without TLS (xmuc
with C{bench/tap-bench.conf}, or Prosody with C{c2s_require_encryption =
false} and plain or anonymous authentication).  Everything is bounded:
clients, rooms, duration, message rate.

With C{--transport websocket} the clients speak XMPP over WebSocket
(RFC 7395) to C{ws://HOST:PORT/xmpp-websocket} (C{--port} is then the
HTTP port): the same scenario, each stanza one WebSocket message.

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
        self.lost = False

    def connectionMade(self):
        # Nagle would make a sender's next message wait for the server's
        # (delayed) ACK: latency of the client, not of the server.
        self.transport.setTcpNoDelay(True)
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
        self.send("<message type='groupchat' to='%s'><body>bench:%d:%d; from %d%s</body></message>"
                  % (self.room, sequence, time.perf_counter_ns(), index, self.options.padding))
        self.stats.sent += 1

    def end(self):
        self.send("</stream:stream>")
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.lost = True
        if self.state != "ready" and not self.loggedIn.called:
            self.loggedIn.errback(RuntimeError("%s: connection lost" % (self.username,)))


#: The framing namespace of XMPP over WebSocket (RFC 7395).
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
STANZA_START = re.compile(r"^<(message|presence|iq)([ />])")


class WebSocketBenchClient(BenchClient):
    """
    A L{BenchClient} over WebSocket: C{<open/>} for the stream header,
    each stanza one message with its namespace declared, C{<close/>} at the
    end.  What arrives is scanned message by message as TCP data is.
    """

    def header(self):
        self.transport.write(("<open xmlns='%s' to='%s' version='1.0'/>"
                              % (FRAMING, self.options.domain)).encode("utf-8"))

    def send(self, text):
        self.transport.write(STANZA_START.sub(r"<\1 xmlns='jabber:client'\2", text, count=1).encode("utf-8"))

    def end(self):
        self.transport.write(("<close xmlns='%s'/>" % (FRAMING,)).encode("ascii"))
        self.transport.loseConnection()


class _MessageTransport:
    """
    What a L{WebSocketBenchClient} writes to: one message per write; the
    rest is the TCP connection's.
    """

    def __init__(self, carrier):
        self.carrier = carrier

    def write(self, data):
        if self.carrier.state == self.carrier.STATE_OPEN:
            self.carrier.sendMessage(data)

    def loseConnection(self):
        if self.carrier.state == self.carrier.STATE_OPEN:
            self.carrier.sendClose(1000)

    def setTcpNoDelay(self, enabled):
        self.carrier.transport.setTcpNoDelay(enabled)

    def pauseProducing(self):
        self.carrier.transport.pauseProducing()

    def resumeProducing(self):
        self.carrier.transport.resumeProducing()


def webSocketFactory(options, client):
    """
    @return: an autobahn client factory whose one connection carries
        C{client}.
    """
    from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol

    class Carrier(WebSocketClientProtocol):
        def onOpen(self):
            client.makeConnection(_MessageTransport(self))

        def onMessage(self, payload, isBinary):
            client.dataReceived(payload)

        def onClose(self, wasClean, code, reason):
            client.connectionLost(None)

    factory = WebSocketClientFactory("ws://%s:%d%s" % (options.host, options.port, options.ws_path),
                                     protocols=["xmpp"])
    factory.protocol = Carrier
    factory.setProtocolOptions(autoFragmentSize=0, openHandshakeTimeout=10)
    return factory


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
        if options.transport == "websocket":
            client = WebSocketBenchClient(options, "bench%s-%d" % (run, n), stats)
            factory = webSocketFactory(options, client)
        else:
            client = BenchClient(options, "bench%s-%d" % (run, n), stats)
            factory = protocol.Factory.forProtocol(lambda c=client: c)
        batch.append(endpoint.connect(factory).addCallback(lambda p, c=client: c.loggedIn))
        clients.append(client)
        if len(batch) >= options.connect_batch:
            yield defer.gatherResults(batch, consumeErrors=True)
            batch = []
    yield defer.gatherResults(batch, consumeErrors=True)
    return clients, run


def vmRSS(pid, field="VmRSS"):
    """
    The resident set size of process C{pid}, from C{/proc/<pid>/status}.

    @param field: C{VmRSS} (now) or C{VmHWM} (the peak so far).
    @return: kilobytes (int), or L{None} when unavailable (not Linux, gone).
    """
    try:
        with open("/proc/%d/status" % (pid,)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def joinAll(options, clients, rooms):
    """
    Make every client join its room (round robin), C{--join-batch} at a
    time (0: all at once, a join storm).

    @return: a Deferred firing when every client saw its own presence.
    """
    batch = options.join_batch or len(clients)
    joins = []
    for n, client in enumerate(clients):
        joins.append(client.join(rooms[n % len(rooms)], "user%d" % (n,)))
        if len(joins) % batch == 0:
            yield defer.gatherResults(joins[-batch:], consumeErrors=True)
    yield defer.gatherResults(joins, consumeErrors=True)


@defer.inlineCallbacks
def chat(options, clients, rooms, stats, rate, duration):
    """
    One fixed-rate chat phase: the senders talk round robin at C{rate}
    messages per second for C{duration} seconds, then up to C{--drain}
    seconds are left for the last deliveries.

    @return: a Deferred firing with the phase's report (dict).
    """
    senders = clients[: options.senders or len(clients)]
    interval = 1.0 / rate
    total = max(1, int(rate * duration))
    stats.deliveries = 0
    stats.sent = 0
    stats.latencies = []
    stats.firstDelivery = None
    stats.lastDelivery = None
    sendStart = time.perf_counter()
    for sequence in range(total):
        senders[sequence % len(senders)].say(sequence % len(senders), sequence)
        target = sendStart + (sequence + 1) * interval
        delay = target - time.perf_counter()
        if delay > 0:
            yield pause(delay)
    sendEnd = time.perf_counter()
    perRoom = [0] * len(rooms)
    for n in range(len(clients)):
        perRoom[n % len(rooms)] += 1
    expected = sum(perRoom[(s % len(senders)) % len(rooms)] for s in range(total))
    deadline = time.perf_counter() + options.drain
    while stats.deliveries < expected and time.perf_counter() < deadline:
        yield pause(0.05)
    latencies = sorted(stats.latencies)
    window = ((stats.lastDelivery or 0) - (stats.firstDelivery or 0)) / 1e9
    return {
        "rate": rate,
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
    }


def keptUp(step, limit):
    """
    @return: whether a chat phase delivered everything with a p99 latency
        under C{limit} milliseconds.
    """
    return step["deliveries"] >= step["deliveries_expected"] and step["latency_ms"]["p99"] < limit


@defer.inlineCallbacks
def main(options):
    stats = Stats()
    memory = {}
    if options.pid:
        memory["rss_kb_start"] = vmRSS(options.pid)
    started = time.perf_counter()
    clients, run = yield connectAll(options, stats)
    connected = time.perf_counter()
    if options.pid:
        yield pause(options.settle)
        memory["rss_kb_connected"] = vmRSS(options.pid)
    rooms = ["bench%s-%d@%s" % (run, r, options.muc) for r in range(options.rooms)]
    joinStart = time.perf_counter()
    yield joinAll(options, clients, rooms)
    joined = time.perf_counter()
    # Let the join presence storm settle before measuring messages.
    yield pause(options.settle)
    if options.pid:
        memory["rss_kb_joined"] = vmRSS(options.pid)
    slow = []
    if options.slow_readers:
        # Occupants of the first room that stop reading once joined.
        slowStats = Stats()
        slowOptions = argparse.Namespace(**vars(options))
        slowOptions.clients = options.slow_readers
        slow, _ = yield connectAll(slowOptions, slowStats)
        yield defer.gatherResults(
            [client.join(rooms[0], "slow%d" % (n,)) for n, client in enumerate(slow)], consumeErrors=True)
        for client in slow:
            client.transport.pauseProducing()
    report = {
        "server": "%s:%d" % (options.host, options.port),
        "transport": options.transport,
        "clients": len(clients),
        "rooms": len(rooms),
        "occupants_per_room": -(-len(clients) // len(rooms)),
        "connect_s": round(connected - started, 2),
        "join_s": round(joined - joinStart, 3),
        "join_ms_per_client": round((joined - joinStart) * 1000 / len(clients), 3),
    }
    if options.pid:
        memory["per_connection_kb"] = _perUnit(memory["rss_kb_start"], memory["rss_kb_connected"], len(clients))
        memory["per_occupant_kb"] = _perUnit(memory["rss_kb_connected"], memory["rss_kb_joined"], len(clients))
        report["memory"] = memory
    if options.rates:
        steps = []
        for rate in options.rates:
            step = yield chat(options, clients, rooms, stats, rate, options.duration)
            step["kept_up"] = keptUp(step, options.p99_limit)
            steps.append(step)
            if not step["kept_up"]:
                break
        report["steps"] = steps
        good = [step for step in steps if step["kept_up"]]
        report["saturation"] = {
            "p99_limit_ms": options.p99_limit,
            "max_rate": good[-1]["rate"] if good else 0,
            "deliveries_per_s": good[-1]["deliveries_per_s"] if good else 0,
        }
    elif options.rate:
        step = yield chat(options, clients, rooms, stats, options.rate, options.duration)
        del step["rate"]
        report.update(step)
    report["errors"] = stats.errors
    if slow:
        # Read again: a slow reader the server gave up on finds its
        # connection gone.
        for client in slow:
            client.transport.resumeProducing()
        yield pause(1.0)
        report["slow_readers"] = len(slow)
        report["slow_readers_closed"] = sum(1 for client in slow if client.lost)
    if options.pid:
        memory["rss_kb_peak"] = vmRSS(options.pid, "VmHWM")
        report["memory"] = memory
    for client in clients + slow:
        client.end()
    return report


def _perUnit(before, after, count):
    if before is None or after is None or not count:
        return None
    return round((after - before) / count, 2)


def _rates(text):
    return [float(part) for part in text.split(",") if part.strip()]


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="MUC fan-out load generator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5222, help="the c2s port (the HTTP port over WebSocket)")
    parser.add_argument("--transport", choices=("tcp", "websocket"), default="tcp",
                        help="XMPP over TCP, or over WebSocket (RFC 7395)")
    parser.add_argument("--ws-path", default="/xmpp-websocket", help="the WebSocket path")
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
    parser.add_argument("--join-batch", type=int, default=50,
                        help="clients joining at a time (0: all at once, a join storm)")
    parser.add_argument("--rates", type=_rates, default=None,
                        help="comma separated rates: chat at each in turn on the same occupants and stop at the "
                             "first one that does not keep up (saturation search)")
    parser.add_argument("--p99-limit", type=float, default=100.0,
                        help="milliseconds: a rate keeps up when everything is delivered with p99 below this")
    parser.add_argument("--no-chat", action="store_true", help="connect and join only (join storm, memory)")
    parser.add_argument("--slow-readers", type=int, default=0,
                        help="extra occupants of the first room that stop reading once joined")
    parser.add_argument("--body-size", type=int, default=0, help="pad message bodies to about this many bytes")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of quiet after connecting and joining")
    parser.add_argument("--pid", type=int, default=0,
                        help="the server process (same machine): report its VmRSS before/after connecting/joining")
    options = parser.parse_args(argv)
    if not 1 <= options.clients <= MAX_CLIENTS:
        parser.error("--clients must be between 1 and %d" % (MAX_CLIENTS,))
    if not 1 <= options.rooms <= options.clients:
        parser.error("--rooms must be between 1 and --clients")
    if not 0 < options.duration <= MAX_DURATION or not 0 <= options.drain <= MAX_DURATION:
        parser.error("--duration and --drain are bounded by %d seconds" % (MAX_DURATION,))
    if not 0 < options.rate <= 100000 or any(not 0 < r <= 100000 for r in options.rates or ()):
        parser.error("--rate must be positive (at most 100000)")
    if options.rates and len(options.rates) > 20:
        parser.error("at most 20 --rates")
    if options.join_batch < 0 or not 0 <= options.settle <= 60:
        parser.error("--join-batch must be >= 0, --settle between 0 and 60")
    if not 0 <= options.slow_readers <= MAX_CLIENTS or not 0 <= options.body_size <= 100000:
        parser.error("--slow-readers between 0 and %d, --body-size between 0 and 100000" % (MAX_CLIENTS,))
    options.padding = " " + "x" * max(0, options.body_size - 60) if options.body_size else ""
    if options.no_chat:
        options.rate = None
        options.rates = None
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
    phases = len(options.rates) if options.rates else 1
    reactor.callLater((options.duration + options.drain) * phases + 2 * options.settle + 120, reactor.stop)
    reactor.callWhenRunning(start)
    reactor.run()
    if "report" not in outcome:
        print("bench failed: %s" % (outcome.get("error", "timed out"),), file=sys.stderr)
        return 1
    print(json.dumps(outcome["report"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run())
