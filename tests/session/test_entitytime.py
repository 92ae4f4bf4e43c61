"""
Entity time (XEP-0202) of the server, over real sockets.
"""

import time

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.xmpp import ns
from xmuc.xmpp.datetime import parseStamp

from tests.support.account import child, signIn, startAccountServer


class EntityTimeTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_serverTime(self):
        running = yield startAccountServer(self)
        client = yield signIn(self, running, "romeo", "garden", available=False)
        before = int(time.time())
        answer = yield client.iq("<iq type='get' id='t' to='localhost'><time xmlns='urn:xmpp:time'/></iq>")
        after = time.time()
        self.assertEqual(answer["type"], "result")
        element = child(answer, ns.TIME, "time")
        self.assertEqual(str(child(element, ns.TIME, "tzo")), "+00:00")
        utc = str(child(element, ns.TIME, "utc"))
        self.assertTrue(utc.endswith("Z"), utc)
        self.assertTrue(before <= parseStamp(utc) <= after, (before, utc, after))
        info = yield client.iq(
            "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)
        )
        self.assertIn(ns.TIME, [f["var"] for f in info.query.elements() if f.name == "feature"])
