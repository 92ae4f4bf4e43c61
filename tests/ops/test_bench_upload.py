"""
C{bench/upload.py} works: against a real xmuc process it gets slots over
XMPP, PUTs and GETs the file (checking the bytes) and reports rates (no
timed assertion: only that it measured).
"""

import json
import os
import sys

from twisted.internet import utils
from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UploadBenchTests(unittest.TestCase):
    timeout = 120

    def test_measures(self):
        """
        One round on xmuc alone: a report with PUT and GET rates, one per
        round, and the table printed.
        """
        report = os.path.abspath(self.mktemp())
        d = utils.getProcessOutputAndValue(
            sys.executable, [os.path.join(ROOT, "bench", "upload.py"), "--xmuc-only", "--rounds", "1",
                             "--json", report], env=dict(os.environ), path=ROOT)

        def ran(result):
            out, err, code = result
            self.assertEqual(code, 0, err.decode(errors="replace"))
            self.assertIn(b"median MB/s", out)
            with open(report) as f:
                results = json.load(f)
            self.assertEqual(set(results), {"xmuc", "rounds"})
            for direction in ("put", "get"):
                self.assertEqual(len(results["rounds"]["xmuc"][direction]), 1)
                self.assertGreater(results["xmuc"][direction], 0)

        return d.addCallback(ran)
