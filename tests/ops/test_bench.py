"""
The benchmark tools work and measure what they claim (no timed
assertions): C{bench/load.py}'s report, its saturation search, and the
fan-out costs it is meant to show (one serialization per stanza variant,
whatever the number of occupants); the configuration it runs the server
under (C{bench/tap-bench.conf}) and the numbers README.rst records.
"""

import configparser
import importlib.util
import json
import os
import re
import socket
import sys

from twisted.internet import defer, reactor, task, utils
from twisted.trial import unittest

from tests.support.muc import ROOM, codes
from tests.support.twistd import startTwistd
from xmuc.config import loadConfig
from xmuc.muc import maxusers
from xmuc.xmpp.serialized import Serialized
from xmuc.testing.muc import MUCHarness
from xmuc.server import withBacklog
from xmuc.testing.server import startServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOAD = os.path.join(ROOT, "bench", "load.py")
BENCH_CONFIG = os.path.join(ROOT, "bench", "tap-bench.conf")


def loadModule(name, path):
    """
    Import a script of C{bench/} (not a package) as a module.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load = loadModule("bench_load", LOAD)
compare = loadModule("bench_compare", os.path.join(ROOT, "bench", "compare.py"))


def benchConfig(listen):
    """
    @return: C{bench/tap-bench.conf} listening on C{listen} instead.
    """
    with open(BENCH_CONFIG) as f:
        text = f.read()
    assert "tcp:5222:interface=127.0.0.1" in text
    return text.replace("tcp:5222:interface=127.0.0.1", listen)


def waitFor(condition, timeout=10.0):
    """
    @return: a Deferred firing once C{condition()} is true (failing after
        C{timeout} seconds).
    """

    @defer.inlineCallbacks
    def poll():
        deadline = reactor.seconds() + timeout
        while not condition():
            if reactor.seconds() > deadline:
                raise AssertionError("condition not met within %ss" % (timeout,))
            yield task.deferLater(reactor, 0.02, lambda: None)

    return poll()


class LoadScriptTests(unittest.TestCase):
    """
    C{bench/load.py} as run by hand: a process against a C{twistd} process.
    """

    timeout = 90

    @defer.inlineCallbacks
    def test_reportNoLoss(self):
        """
        Ten clients in one room, 20 messages a second for a second: the
        JSON report has every field, every message reached every occupant
        (itself included), and the server's memory was sampled.
        """
        server = yield startTwistd(self, benchConfig("tcp:{port}:interface=127.0.0.1"))
        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            [LOAD, "--port", str(server.port), "--clients", "10", "--rate", "20", "--duration", "1",
             "--drain", "10", "--settle", "0.2", "--pid", str(server.transport.pid)],
            env=dict(os.environ),
        )
        self.assertEqual(code, 0, err.decode("utf-8", "replace"))
        report = json.loads(out)
        for key in ("server", "clients", "rooms", "occupants_per_room", "connect_s", "join_s",
                    "join_ms_per_client", "messages_sent", "send_rate_per_s", "deliveries_expected",
                    "deliveries", "deliveries_per_s", "latency_ms", "errors", "memory"):
            self.assertIn(key, report)
        self.assertEqual(sorted(report["latency_ms"]), ["max", "p50", "p90", "p99"])
        self.assertEqual((report["clients"], report["rooms"], report["occupants_per_room"]), (10, 1, 10))
        self.assertEqual(report["messages_sent"], 20)
        self.assertEqual(report["deliveries_expected"], 20 * 10)
        self.assertEqual(report["deliveries"], 20 * 10)
        self.assertEqual(report["errors"], 0)
        memory = report["memory"]
        for key in ("rss_kb_start", "rss_kb_connected", "rss_kb_joined"):
            self.assertIsInstance(memory[key], int)
            self.assertGreater(memory[key], 1000)
        self.assertIn("per_connection_kb", memory)
        self.assertIn("per_occupant_kb", memory)

    def test_boundedArguments(self):
        """
        The load generator refuses unbounded runs.
        """
        for argv in (["--clients", "100000"], ["--duration", "100000"], ["--rate", "0"],
                     ["--rates", ",".join(["10"] * 30)], ["--rooms", "20", "--clients", "10"]):
            with self.assertRaises(SystemExit):
                load.parseArguments(argv)


class InProcessTests(unittest.TestCase):
    """
    The load generator and a real server in this process, over loopback.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startServer(BENCH_CONFIG, {"c2s": {"listen": "tcp:0:interface=127.0.0.1"}})
        self.addCleanup(self.running.stop)

    def options(self, *argv):
        return load.parseArguments(["--port", str(self.running.c2sPort), "--settle", "0.1"] + list(argv))

    @defer.inlineCallbacks
    def test_saturationSteps(self):
        """
        C{--rates}: one chat phase per rate on the same occupants, each
        with its own counts; the saturation summary names the last rate
        that kept up.
        """
        report = yield load.main(self.options("--clients", "6", "--rates", "10,20", "--duration", "0.5",
                                              "--drain", "10", "--p99-limit", "5000"))
        steps = report["steps"]
        self.assertEqual([step["rate"] for step in steps], [10.0, 20.0])
        for step in steps:
            self.assertEqual(step["deliveries"], step["messages_sent"] * 6)
            self.assertTrue(step["kept_up"])
        self.assertEqual(report["saturation"]["max_rate"], 20.0)
        self.assertEqual(report["saturation"]["deliveries_per_s"], steps[-1]["deliveries_per_s"])

    @defer.inlineCallbacks
    def test_joinStorm(self):
        """
        C{--join-batch 0 --no-chat}: everyone joins at once and the report
        has no chat part.
        """
        report = yield load.main(self.options("--clients", "12", "--join-batch", "0", "--no-chat"))
        self.assertEqual(report["occupants_per_room"], 12)
        self.assertGreater(report["join_s"], 0)
        self.assertNotIn("deliveries", report)
        self.assertEqual(report["errors"], 0)

    @defer.inlineCallbacks
    def room(self, size, stats):
        """
        C{size} bench clients in a new room.

        @return: the clients.
        """
        options = self.options("--clients", str(size), "--connect-batch", str(size))
        clients, run = yield load.connectAll(options, stats)
        yield defer.gatherResults([c.join("r%s@conference.localhost" % (run,), "n%d" % (n,))
                                   for n, c in enumerate(clients)])
        return clients

    @defer.inlineCallbacks
    def test_fanoutOneSerializationPerVariant(self):
        """
        Over the wire: a groupchat message costs one serialization in a
        room of 3 and of 12 (the broadcast; its history entry reuses the
        text), and no occupant gets an element built for it; a join into a
        room of N costs a constant number too.
        """
        costs = {}
        for size in (3, 12):
            stats = load.Stats()
            clients = yield self.room(size, stats)
            made, built = Serialized.made, Serialized.built
            for sequence in range(5):
                clients[sequence % size].say(0, sequence)
            yield waitFor(lambda: stats.deliveries >= 5 * size)
            messageCost = (Serialized.made - made, Serialized.built - built)

            late = (yield self.room(1, stats))[0]
            made, built = Serialized.made, Serialized.built
            late.joined = None
            yield late.join(clients[0].room, "late")
            joinCost = (Serialized.made - made, Serialized.built - built)
            costs[size] = (messageCost, joinCost)
            for client in clients + [late]:
                client.transport.loseConnection()
        self.assertEqual(costs[3], costs[12])
        (messages, messageBuilds), (joins, joinBuilds) = costs[12]
        self.assertEqual(messages, 5 * 1)
        self.assertEqual(messageBuilds, 0)
        self.assertLessEqual(joins, 4)
        self.assertEqual(joinBuilds, 0)


    @defer.inlineCallbacks
    def test_noDelay(self):
        """
        Client sockets have Nagle off: a stanza is not held back until the
        client acknowledges the previous one (up to 40 ms of delayed ACK).
        """
        options = self.options("--clients", "1")
        clients, run = yield load.connectAll(options, load.Stats())
        [stream] = list(self.running.server.c2sFactory.streams)
        handle = stream.transport.getHandle()
        self.assertTrue(handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        clients[0].transport.loseConnection()


class BacklogTests(unittest.TestCase):
    def test_withBacklog(self):
        """
        Client listeners get a large backlog unless they set one (Twisted's
        50 drops SYNs when many clients connect at once).
        """
        self.assertEqual(withBacklog("tcp:5222:interface=127.0.0.1"), "tcp:5222:interface=127.0.0.1:backlog=1024")
        self.assertEqual(withBacklog("tcp:5222:backlog=7"), "tcp:5222:backlog=7")
        self.assertEqual(withBacklog("systemd:domain=INET:index=0"), "systemd:domain=INET:index=0")


class CompareTableTests(unittest.TestCase):
    def test_table(self):
        """
        The comparison table has one row per metric with the ratio
        xmuc/Prosody, and names a failed run.
        """
        fanout = {"occupants_per_room": 10, "send_rate_per_s": 20.0, "deliveries_per_s": 200.0,
                  "deliveries": 400, "deliveries_expected": 400,
                  "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 4.0, "max": 5.0}}
        slower = dict(fanout, deliveries_per_s=100.0, latency_ms={"p50": 2.0, "p90": 2.0, "p99": 8.0, "max": 9.0})
        table = compare.formatTable(
            {"xmuc": {"fanout": fanout, "joinstorm": {"error": "boom"}},
             "prosody": {"fanout": slower, "joinstorm": {"error": "bang"}}},
            ["fanout", "joinstorm"])
        lines = table.splitlines()
        self.assertIn("xmuc/prosody", lines[0])
        row = [line for line in lines if line.startswith("fan-out deliveries/s")][0]
        self.assertEqual(row.split()[-2:], ["2.00", "higher"])
        row = [line for line in lines if line.startswith("fan-out p99")][0]
        self.assertEqual(row.split()[-2:], ["0.50", "lower"])
        self.assertIn("joinstorm: xmuc failed: boom", table)

    def test_baselineTable(self):
        """
        Against a baseline checkout the ratio is xmuc/baseline, and a
        first failed run does not hide the other server's rows.
        """
        fanout = {"occupants_per_room": 10, "send_rate_per_s": 20.0, "deliveries_per_s": 200.0,
                  "deliveries": 400, "deliveries_expected": 400,
                  "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 4.0, "max": 5.0}}
        table = compare.formatTable(
            {"xmuc": {"fanout": {"error": "boom"}}, "baseline": {"fanout": dict(fanout, deliveries_per_s=250.0)}},
            ["fanout"])
        lines = table.splitlines()
        self.assertIn("xmuc/baseline", lines[0])
        row = [line for line in lines if line.startswith("fan-out deliveries/s")][0]
        self.assertEqual(row.split()[-4:], ["-", "250", "-", "higher"])

    def test_baselineArguments(self):
        """
        C{--baseline} names a checkout; one without an C{xmuc} package is
        refused with exit code 2 before anything runs.
        """
        self.assertEqual(compare.parseArguments(["--baseline", "/x"]).baseline, "/x")
        self.assertEqual(compare.run(["--baseline", self.mktemp(), "--scenarios", "fanout"]), 2)

    def test_baselineRunsThatCheckout(self):
        """
        The baseline server runs with the checkout first on C{sys.path},
        the current one without.
        """
        server = compare.baselineServer("/some/checkout")()
        self.addCleanup(server.stop)
        self.assertEqual(server.name, "baseline")
        self.assertEqual(server.checkout, "/some/checkout")
        current = compare.XmucServer()
        self.addCleanup(current.stop)
        self.assertIsNone(current.checkout)


class BenchConfigurationTests(unittest.TestCase):
    """
    What C{bench/tap-bench.conf} must configure: the insecure test
    backend, no TLS, memory storage, rooms usable at once and no occupant
    limit that a benchmark would hit.
    """

    def setUp(self):
        self.config = loadConfig(BENCH_CONFIG)

    def test_keys(self):
        get = self.config.get
        self.assertEqual(get("auth", "backend"), "insecure")
        self.assertTrue(get("auth", "allow_insecure"))
        self.assertFalse(get("c2s", "require_encryption"))
        self.assertEqual(get("storage", "backend"), "memory")
        self.assertEqual(get("c2s", "listen"), ["tcp:5222:interface=127.0.0.1"])
        self.assertEqual(get("muc", "domain"), "conference.localhost")
        self.assertFalse(get("muc", "lock_new_rooms"))
        limit = get("muc", "max_occupants")
        self.assertTrue(limit == 0 or limit >= 1000, limit)

    def test_roomsUnderIt(self):
        """
        A room created under the bench's [muc] section is usable at once
        (no configuration step) and has no occupant limit below 1,000.
        """
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(BENCH_CONFIG)
        harness = MUCHarness(muc=dict(parser["muc"]))
        harness.client("a@localhost/r").join("room", "a")
        received = harness.client("b@localhost/r").join("room", "b")
        self.assertEqual(codes(received[-2]), ["110"])
        limit = maxusers.roomLimit(harness.muc.rooms[ROOM])
        self.assertTrue(limit == 0 or limit >= 1000, limit)


class ReadmeBenchmarkTests(unittest.TestCase):
    """
    README.rst records the load generator's numbers and the configuration
    they were measured under.
    """

    def setUp(self):
        with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
            self.text = f.read()
        self.bench = self.text[self.text.index("\nBenchmarks\n"):]

    def test_numbersRecorded(self):
        for metric in ("deliveries/s", "p50 latency ms", "p99 latency ms"):
            measured = [l for l in self.bench.splitlines() if metric in l and re.search(r"\d+\.\d+\s", l)]
            self.assertTrue(measured, metric)
        self.assertIn("bench/tap-bench.conf", self.bench)
        self.assertIn("bench/load.py", self.bench)
