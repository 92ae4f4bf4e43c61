"""
Real clients against the server as it is deployed: C{twistd -n xmuc -c
tap.conf} in its own process, SQLite storage, in-band registration on,
MUC on; slixmpp registers, chats in a persistent room, and finds it all
again after the process was restarted.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.slixmpp import runScript
from tests.support.client import makeSelfSignedCertificate
from tests.support.twistd import startTwistd, stopCleanly, tapConfig


class SlixmppTwistdTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_registerChatRestart(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        config = tapConfig(
            c2s={
                "require_encryption": "true",
                "tls_certificate": certificate,
                "tls_key": key,
                "allow_registration": "true",
            },
            auth={"backend": "internal", "allow_insecure": None},
            storage={"backend": "sqlite", "path": os.path.join(directory, "xmuc.sqlite")},
            muc={"enabled": "true", "lock_new_rooms": None},
        )
        server = yield startTwistd(self, config)
        checks = yield runScript(self, server.port, certificate, directory, "deployment", "first")
        self.assertEqual(checks, ["registered-and-logged-in", "created", "chat"])
        yield stopCleanly(self, server)

        server = yield startTwistd(self, config)
        checks = yield runScript(self, server.port, certificate, directory, "deployment", "second")
        self.assertEqual(checks, ["accounts-survive", "room-listed", "room-persistent", "owner-survives"])
        yield stopCleanly(self, server)
        self.assertNotIn("Traceback", server.text())
