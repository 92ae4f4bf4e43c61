"""
Audit gaps of issue 3 closed at the component level: status 210 when the
service changes a joiner's nick (point 2), and the benchmark configuration
(point 6: C{bench/tap-bench.conf} keys and what they mean for rooms).
"""

import configparser
import os

from twisted.trial import unittest

from tests.test_muc_core import ROOM, MUCTestCase, codes, condition
from xmuc.config import loadConfig
from xmuc.muc import hooks, maxusers
from xmuc.testing.muc import MUCHarness

BENCH_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "tap-bench.conf")


class ServiceChangedNickTests(MUCTestCase):
    """
    A C{pre-join} hook returning a str renames the joiner (hooks.py): the
    joiner's self-presence comes from the new nick with status 210.
    """

    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom("")
        self.harness.muc.hooks.add(hooks.OCCUPANT_PRE_JOIN, self.rename)

    def rename(self, room, occupant, stanza, **kw):
        if occupant.nick == "juliet":
            return "Juliet"
        return None

    def test_status210(self):
        self.romeo.received()
        received = self.juliet.join("room", "juliet")
        selfPresence = [s for s in received if s.name == "presence" and s["from"] == ROOM + "/Juliet"][-1]
        self.assertIn("210", codes(selfPresence))
        self.assertIn("110", codes(selfPresence))
        self.assertEqual(sorted(self.room().occupants), ["Juliet", "Romeo"])
        [toRomeo] = self.romeo.received()
        self.assertEqual(toRomeo["from"], ROOM + "/Juliet")
        self.assertNotIn("210", codes(toRomeo))

    def test_noRenameNo210(self):
        received = self.rosaline.join("room", "Rosaline")
        self.assertNotIn("210", codes(received[-2]))

    def test_renamedOntoTakenNickConflicts(self):
        self.rosaline.join("room", "Juliet")
        [error] = self.juliet.join("room", "juliet")
        self.assertEqual(condition(error)[0], "conflict")


class BenchConfigurationTests(unittest.TestCase):
    """
    Issue 3 point 6: what C{bench/tap-bench.conf} must configure.
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
    Issue 3 point 6: README.rst records the load generator's numbers and
    the configuration they were measured under.
    """

    def setUp(self):
        with open(os.path.join(os.path.dirname(BENCH_CONFIG), "..", "README.rst"), encoding="utf-8") as f:
            self.text = f.read()
        self.bench = self.text[self.text.index("\nBenchmarks\n"):]

    def test_numbersRecorded(self):
        import re
        for metric in ("deliveries/s", "p50 latency ms", "p99 latency ms"):
            measured = [l for l in self.bench.splitlines() if metric in l and re.search(r"\d+\.\d+\s", l)]
            self.assertTrue(measured, metric)
        self.assertIn("bench/tap-bench.conf", self.bench)
        self.assertIn("bench/load.py", self.bench)
