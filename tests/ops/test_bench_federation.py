"""
C{bench/federation.py} works: five real xmuc processes federate, both
rooms get their occupants and every message reaches every one of them
(no timed assertion: only that it measured).
"""

import json
import os
import sys

from twisted.internet import utils
from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class FederationBenchTests(unittest.TestCase):
    timeout = 180

    def test_measures(self):
        """
        One small round: a report for each room, every delivery made, the
        hub's CPU per delivery and the ratios.
        """
        report = os.path.abspath(self.mktemp())
        d = utils.getProcessOutputAndValue(
            sys.executable,
            [os.path.join(ROOT, "bench", "federation.py"), "--occupants", "8", "--rounds", "1", "--rate", "10",
             "--duration", "1", "--drain", "20", "--settle", "0.2", "--json", report],
            env=dict(os.environ),
            path=ROOT,
        )

        def ran(result):
            out, err, code = result
            self.assertEqual(code, 0, err.decode(errors="replace"))
            self.assertIn(b"federated:", out)
            with open(report) as f:
                results = json.load(f)
            self.assertEqual((results["occupants"], results["remote_domains"]), (8, 4))
            for room in ("local", "federated"):
                [phase] = results[room]["phases"]
                # 10 messages to the 8 occupants and the talker.
                self.assertEqual((phase["deliveries_expected"], phase["deliveries"]), (90, 90))
                self.assertEqual(results[room]["lost"], 0)
                self.assertGreater(results[room]["deliveries_per_s"], 0)
            self.assertIsNotNone(results["federated_over_local"])

        return d.addCallback(ran)
