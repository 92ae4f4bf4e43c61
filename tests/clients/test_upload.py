"""
HTTP File Upload (XEP-0363) with a real client library: slixmpp's
xep_0363 (discovery, size limit, slot, PUT over aiohttp), a download by
another occupant, and the file gone once the message is moderated
(xep_0425).
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runClientScript, startClientServer

UPLOAD_ON = {
    "http": {"listen": "tcp:0:interface=127.0.0.1"},
    "upload": {"enabled": "true", "path": "upload", "max_size": "1000000"},
    "muc": {"lock_new_rooms": "false"},
}


class SlixmppUploadTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_shareInRoom(self):
        """
        slixmpp finds the service and its limit, uploads, refuses a file
        over the limit itself; Bob gets the out-of-band URL and downloads
        the same bytes with the stored type; after Alice's moderation the
        URL answers 404.
        """
        running = yield startClientServer(self, UPLOAD_ON)
        checks = yield runClientScript(self, running, "upload")
        for expected in ("joined", "service-found", "max-file-size", "uploaded", "too-big-refused",
                         "oob-received", "downloaded", "type", "moderated", "gone", "no-stream-errors"):
            self.assertIn(expected, checks)
