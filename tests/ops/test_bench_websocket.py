"""
The WebSocket half of the benchmarks: C{bench/load.py --transport
websocket} drives a real server's C{/xmpp-websocket} with nothing lost,
and C{bench/compare.py --websocket} runs the same scenario with the
clients on WebSocket and on TCP.
"""

import configparser
import importlib.util
import os

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.testing.server import startServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_CONFIG = os.path.join(ROOT, "bench", "tap-bench.conf")


def loadModule(name, path):
    """
    Import a script of C{bench/} (not a package) as a module.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load = loadModule("bench_load_ws", os.path.join(ROOT, "bench", "load.py"))
compare = loadModule("bench_compare_ws", os.path.join(ROOT, "bench", "compare.py"))


class WebSocketLoadTests(unittest.TestCase):
    """
    The load generator's WebSocket clients against a server in this
    process.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startServer(
            BENCH_CONFIG,
            {"c2s": {"listen": "tcp:0:interface=127.0.0.1"}, "http": {"listen": "tcp:0:interface=127.0.0.1"}},
        )
        self.addCleanup(self.running.stop)
        port = yield self.running.server.http.listeners[0].listening
        self.httpPort = port.getHost().port

    @defer.inlineCallbacks
    def test_fanout(self):
        """
        Six WebSocket clients in one room: every message reaches every
        occupant, no error, and the report says the transport.
        """
        options = load.parseArguments(
            ["--transport", "websocket", "--port", str(self.httpPort), "--clients", "6",
             "--rate", "10", "--duration", "0.5", "--drain", "10", "--settle", "0.1"]
        )
        report = yield load.main(options)
        self.assertEqual(report["transport"], "websocket")
        self.assertGreater(report["messages_sent"], 0)
        self.assertEqual(report["deliveries"], report["messages_sent"] * 6)
        self.assertEqual(report["errors"], 0)

    def test_frame(self):
        """
        A client frame is final, masked (with the zero key) and sized in
        the shortest form.
        """
        self.assertEqual(load.clientFrame(b"ab"), b"\x81\x82\0\0\0\0ab")
        self.assertEqual(load.clientFrame(b"x" * 200)[:4], b"\x81\xfe\x00\xc8")
        self.assertEqual(load.clientFrame(b"x" * 70000)[:10], b"\x81\xff" + (70000).to_bytes(8, "big"))


class CompareWebSocketTests(unittest.TestCase):
    def test_servers(self):
        """
        C{--websocket}: this xmuc twice, with an HTTP listener and the load
        generator on WebSocket, then as it is with the generator on TCP.
        """
        self.assertTrue(compare.parseArguments(["--websocket"]).websocket)
        server = compare.WebSocketXmucServer()
        self.addCleanup(server.stop)
        command = server.command()
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(command[-1])
        self.assertEqual(parser["http"]["listen"], "tcp:%d:interface=127.0.0.1" % (server.httpPort,))
        self.assertEqual(server.loadArguments(), ["--transport", "websocket", "--port", str(server.httpPort)])
        tcp = compare.TCPXmucServer()
        self.addCleanup(tcp.stop)
        self.assertEqual((tcp.name, tcp.loadArguments()), ("tcp", []))
