#!/usr/bin/env python3
"""
Room fan-out over federation against local fan-out, in one interleaved
run: deliveries per second to a room whose occupants sit on 4 other
servers (xmuc instances reached over server-to-server streams) and to the
same room with local occupants, and their ratio.

Five xmuc processes run on this machine, each on its own loopback address
with the standard ports (5222 for clients, 5269 for servers):

 - the hub, C{hub.test} on C{127.0.0.10}, holds both rooms
   (C{rooms.hub.test});
 - four remote servers, C{r1.test} ... C{r4.test} on C{127.0.0.11-14}.

Every server knows the others through C{[s2s] routes}; server streams
use TLS with self-signed certificates and dialback (C{secure_auth =
false}), as a small federation would.  The load generator
(C{bench/load.py}'s lean clients, in this process) logs in:

 - the local room: C{--occupants} clients on the hub;
 - the federated room: the same number spread evenly over the four
   remote servers (they log in on their own servers);
 - in each room one more client on the hub that does the talking, so
   that what is measured is the hub's fan-out (and the remote servers'
   delivery), not the way in.

Then, C{--rounds} times, each room gets one chat phase in turn (the
order alternating between rounds): C{--rate} messages per second for
C{--duration} seconds, a rate above what the hub can fan out so that
deliveries per second are the pipeline's throughput, then time for the
last deliveries.  A phase's deliveries/s is its deliveries over the time
from its first to its last.  The CPU time each server process used in a
phase is read from C{/proc}: the hub's, per delivery, tells what fan-out
over federation costs the room's server itself.  The medians of the
rounds and the federated/local ratio are printed (JSON with C{--json}).

Everything shares the machine: the remote servers take CPU the local room
does not need, which is part of what federation costs here.

Usage::

    .venv/bin/python bench/federation.py
    .venv/bin/python bench/federation.py --occupants 200 --rounds 3 --rate 300 --duration 3
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from twisted.internet import defer, reactor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import load  # noqa: E402  (bench/load.py, next to this file)

from xmuc.ctl import makeCertificate  # noqa: E402

HUB = ("hub.test", "127.0.0.10")
REMOTES = [("r%d.test" % (n,), "127.0.0.%d" % (10 + n,)) for n in range(1, 5)]
MUC_DOMAIN = "rooms.hub.test"
C2S_PORT = 5222
S2S_PORT = 5269
MAX_OCCUPANTS = 2000

_CONFIG = """\
# bench/federation.py: one server of the benchmark federation.
[server]
hosts = {domain}

[c2s]
listen = tcp:{c2s}:interface={address}
require_encryption = false
max_connections_per_ip = 0
max_unauthenticated = 0
read_rate = 0
max_failed_logins_per_ip = 0

[s2s]
listen = tcp:{s2s}:interface={address}
routes = {routes}
tls_certificate = {certificate}
tls_key = {key}
secure_auth = false
dialback_secret = bench-{domain}
idle_timeout = 3600
read_rate = 0

[auth]
backend = insecure
allow_insecure = true

[storage]
backend = memory

[muc]
enabled = {muc}
domain = rooms.{domain}
lock_new_rooms = false
max_occupants = 0
occupant_message_rate = 0
max_rooms_per_account = 0
default_history_length = 0

[log]
level = warn
"""


def waitListening(address, port, process, timeout=30.0):
    """
    Wait until something accepts connections on C{address}:C{port}.

    @raise RuntimeError: when C{process} exits first or time runs out.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited at start (status %s)" % (process.returncode,))
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((address, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not listen on %s:%d within %ss" % (address, port, timeout))


class FederatedServer:
    """
    One xmuc process of the benchmark federation.

    @ivar domain: the client domain it serves.
    @ivar address: its loopback address.
    @ivar hasMUC: whether it holds the rooms.
    """

    def __init__(self, domain, address, hasMUC, peers):
        """
        @param peers: C{[(domain, address)]} of every other server (the
            hub's MUC domain is routed to the hub).
        """
        self.domain = domain
        self.address = address
        self.hasMUC = hasMUC
        self.peers = peers
        self.directory = tempfile.mkdtemp(prefix="bench-s2s-%s-" % (domain,))
        self.process = None

    def configure(self):
        names = [self.domain] + (["rooms." + self.domain] if self.hasMUC else [])
        certificate, key = makeCertificate(names[0], days=2, altNames=names[1:])
        paths = {}
        for name, data in (("cert.pem", certificate), ("key.pem", key)):
            paths[name] = os.path.join(self.directory, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        routes = []
        for domain, address in self.peers:
            routes.append("%s=%s:%d" % (domain, address, S2S_PORT))
            if domain == HUB[0]:
                routes.append("%s=%s:%d" % (MUC_DOMAIN, address, S2S_PORT))
        path = os.path.join(self.directory, "tap.conf")
        with open(path, "w") as f:
            f.write(_CONFIG.format(
                domain=self.domain, address=self.address, c2s=C2S_PORT, s2s=S2S_PORT,
                routes=", ".join(routes), certificate=paths["cert.pem"], key=paths["key.pem"],
                muc="true" if self.hasMUC else "false",
            ))
        return path

    def start(self):
        twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
        if not os.path.exists(twistd):
            twistd = shutil.which("twistd") or "twistd"
        command = [twistd, "-n", "--pidfile=", "xmuc", "-c", self.configure()]
        log = open(os.path.join(self.directory, "server.log"), "wb")
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            waitListening(self.address, C2S_PORT, self.process)
            waitListening(self.address, S2S_PORT, self.process)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s: %s\n%s" % (self.domain, e, self.log()))
        return self

    def log(self):
        try:
            with open(os.path.join(self.directory, "server.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def cpuSeconds(pid):
    """
    The CPU time process C{pid} has used (user and system), from
    C{/proc/<pid>/stat}.

    @return: seconds (float), or L{None} when unavailable (not Linux, gone).
    """
    try:
        with open("/proc/%d/stat" % (pid,)) as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clientOptions(options, domain, address, count):
    """
    @return: C{bench/load.py} options for C{count} clients of the server
        C{domain} at C{address}.
    """
    return load.parseArguments([
        "--host", address, "--port", str(C2S_PORT), "--domain", domain, "--muc", MUC_DOMAIN,
        "--clients", str(count), "--senders", "1", "--rate", str(options.rate),
        "--duration", str(options.duration), "--drain", str(options.drain), "--connect-batch", "50",
    ])


class Room:
    """
    One room of the benchmark and its clients: the talker (on the hub)
    first, then the occupants.
    """

    def __init__(self, name, talker, occupants, stats):
        self.name = name
        self.jid = "%s@%s" % (name, MUC_DOMAIN)
        self.clients = [talker] + occupants
        self.stats = stats


@defer.inlineCallbacks
def connect(options, domain, address, count, stats):
    clients, _ = yield load.connectAll(clientOptions(options, domain, address, count), stats)
    return clients


@defer.inlineCallbacks
def prepareRoom(options, name, spread):
    """
    Log in the talker and C{spread}'s occupants, and have them join.

    @param spread: C{[(domain, address, count)]} of the occupants.
    @return: a Deferred firing with the L{Room}.
    """
    stats = load.Stats()
    [talker] = yield connect(options, HUB[0], HUB[1], 1, stats)
    occupants = []
    for domain, address, count in spread:
        occupants += yield connect(options, domain, address, count, stats)
    room = Room(name, talker, occupants, stats)
    yield talker.join(room.jid, "talker")
    joins = [client.join(room.jid, "o%d" % (n,)) for n, client in enumerate(occupants)]
    for start in range(0, len(joins), 50):
        yield defer.gatherResults(joins[start:start + 50], consumeErrors=True)
    return room


@defer.inlineCallbacks
def phase(options, room, servers):
    """
    One chat phase in C{room}.

    @param servers: the L{FederatedServer}s, the hub first: the CPU time
        each used during the phase is reported.
    @return: a Deferred firing with C{bench/load.py}'s phase report, plus
        C{cpu_s} (the hub's and the remote servers' CPU seconds) and
        C{hub_cpu_us_per_delivery}.
    """
    chatOptions = argparse.Namespace(senders=1, drain=options.drain)
    before = [cpuSeconds(server.process.pid) for server in servers]
    report = yield load.chat(chatOptions, room.clients, [room.jid], room.stats, options.rate, options.duration)
    after = [cpuSeconds(server.process.pid) for server in servers]
    report["errors"] = room.stats.errors
    if None not in before + after:
        used = [b - a for a, b in zip(before, after)]
        report["cpu_s"] = {"hub": round(used[0], 2), "remotes": round(sum(used[1:]), 2)}
        report["hub_cpu_us_per_delivery"] = round(used[0] * 1e6 / max(report["deliveries"], 1), 2)
    return report


def summary(reports):
    """
    @return: the medians of a room's phases.
    """
    hub = [r["hub_cpu_us_per_delivery"] for r in reports if "hub_cpu_us_per_delivery" in r]
    return {
        "deliveries_per_s": statistics.median(r["deliveries_per_s"] for r in reports),
        "hub_cpu_us_per_delivery": statistics.median(hub) if hub else None,
        "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in reports),
        "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in reports),
        "lost": sum(r["deliveries_expected"] - r["deliveries"] for r in reports),
        "phases": reports,
    }


@defer.inlineCallbacks
def measure(options, servers):
    perRemote = options.occupants // len(REMOTES)
    local = yield prepareRoom(options, "local", [(HUB[0], HUB[1], perRemote * len(REMOTES))])
    federated = yield prepareRoom(options, "federated", [(d, a, perRemote) for d, a in REMOTES])
    yield load.pause(options.settle)
    results = {"local": [], "federated": []}
    for number in range(options.rounds):
        order = [("local", local), ("federated", federated)]
        if number % 2:
            order.reverse()
        for name, room in order:
            report = yield phase(options, room, servers)
            results[name].append(report)
            print("round %d %s: %s deliveries/s, p99 %s ms, %d/%d delivered, CPU s %s" % (
                number + 1, name, report["deliveries_per_s"], report["latency_ms"]["p99"],
                report["deliveries"], report["deliveries_expected"], report.get("cpu_s")),
                file=sys.stderr, flush=True)
            yield load.pause(options.settle)
    for room in (local, federated):
        for client in room.clients:
            client.send("</stream:stream>")
            client.transport.loseConnection()
    outcome = {
        "occupants": perRemote * len(REMOTES),
        "remote_domains": len(REMOTES),
        "rate": options.rate,
        "duration_s": options.duration,
        "rounds": options.rounds,
        "local": summary(results["local"]),
        "federated": summary(results["federated"]),
    }
    localRate = outcome["local"]["deliveries_per_s"]
    outcome["federated_over_local"] = (
        round(outcome["federated"]["deliveries_per_s"] / localRate, 2) if localRate else None
    )
    localCPU, federatedCPU = outcome["local"]["hub_cpu_us_per_delivery"], outcome["federated"]["hub_cpu_us_per_delivery"]
    outcome["hub_cpu_federated_over_local"] = round(federatedCPU / localCPU, 2) if localCPU and federatedCPU else None
    return outcome


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="room fan-out over federation against local fan-out")
    parser.add_argument("--occupants", type=int, default=200,
                        help="occupants of each room (spread evenly over the 4 remote servers)")
    parser.add_argument("--rounds", type=int, default=3, help="phases per room, interleaved")
    parser.add_argument("--rate", type=float, default=300.0, help="messages per second offered in a phase")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of sending per phase")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds left for the last deliveries")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of quiet between phases")
    parser.add_argument("--json", help="also write the report to this file")
    options = parser.parse_args(argv)
    if not len(REMOTES) <= options.occupants <= MAX_OCCUPANTS:
        parser.error("--occupants between %d and %d" % (len(REMOTES), MAX_OCCUPANTS))
    if not 1 <= options.rounds <= 20 or not 0 < options.duration <= 60 or not 0 <= options.drain <= 300:
        parser.error("--rounds 1-20, --duration up to 60 s, --drain up to 300 s")
    if not 0 < options.rate <= 100000 or not 0 <= options.settle <= 60:
        parser.error("--rate must be positive (at most 100000), --settle up to 60 s")
    return options


def run(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    servers = []
    everyone = [HUB] + REMOTES
    try:
        for domain, address in everyone:
            peers = [peer for peer in everyone if peer[0] != domain]
            servers.append(FederatedServer(domain, address, domain == HUB[0], peers).start())
    except RuntimeError as e:
        for server in servers:
            server.stop()
        print("bench failed: %s" % (e,), file=sys.stderr)
        return 1
    outcome = {}

    def start():
        d = measure(options, servers)
        d.addCallbacks(lambda report: outcome.update(report=report),
                       lambda failure: outcome.update(error=failure.getErrorMessage()))
        d.addBoth(lambda _: reactor.stop())

    # A hard bound on the whole run, whatever happens.
    bound = 2 * options.rounds * (options.duration + options.drain + options.settle) + 300
    reactor.callLater(bound, reactor.stop)
    reactor.callWhenRunning(start)
    try:
        reactor.run()
    finally:
        logs = {server.domain: server.log() for server in servers if "report" not in outcome}
        for server in servers:
            server.stop()
    if "report" not in outcome:
        print("bench failed: %s" % (outcome.get("error", "timed out"),), file=sys.stderr)
        for domain, text in logs.items():
            if text.strip():
                print("--- %s\n%s" % (domain, text), file=sys.stderr)
        return 1
    report = outcome["report"]
    if options.json:
        with open(options.json, "w") as f:
            json.dump(report, f, indent=2)
    print(json.dumps({k: v for k, v in report.items() if k not in ("local", "federated")}, indent=2))
    for name in ("local", "federated"):
        print("%s: %s deliveries/s (median), p50 %s ms, p99 %s ms, %d lost, hub CPU %s us per delivery" % (
            name, report[name]["deliveries_per_s"], report[name]["p50_ms"], report[name]["p99_ms"],
            report[name]["lost"], report[name]["hub_cpu_us_per_delivery"]))
    return 0


if __name__ == "__main__":
    sys.exit(run())
