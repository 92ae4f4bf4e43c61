"""
C{bench/receive.py} runs end to end: a host process, clients logged in to
it, a component sending them messages; every message reaches every
client (or the run fails) and the report has a figure per round.  No
timed assertion: only that the numbers exist.
"""

import json
import os
import sys

from twisted.internet import defer, utils
from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECEIVE = os.path.join(ROOT, "bench", "receive.py")


class ReceiveBenchTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_run(self):
        """
        Three clients, five messages each per round, two rounds: the run
        succeeds (it waits for every delivery) and reports each round.
        """
        report = os.path.abspath(self.mktemp())
        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            [RECEIVE, "--clients", "3", "--messages", "5", "--rounds", "2", "--json", report],
            env=dict(os.environ),
        )
        self.assertEqual(code, 0, err.decode("utf-8", "replace"))
        with open(report) as f:
            result = json.load(f)
        self.assertEqual(len(result["rounds"]["xmuc"]), 2)
        self.assertIn("xmuc", result["median"])
        self.assertIn(b"median host CPU us per delivery", out)

    @defer.inlineCallbacks
    def test_bounded(self):
        """
        Unbounded runs are refused.
        """
        for argv in (["--clients", "100000"], ["--messages", "0"], ["--rounds", "1000"]):
            out, err, code = yield utils.getProcessOutputAndValue(sys.executable, [RECEIVE] + argv, env=dict(os.environ))
            self.assertEqual(code, 2, argv)
