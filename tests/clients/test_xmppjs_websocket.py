"""
xmpp.js (C{@xmpp/client}) in its web client set-up: XMPP over WebSocket
(C{@xmpp/websocket} on the standard WebSocket API, C{wss} with the test
certificate checked) against xmuc's HTTP listener, in a room with a TCP
client.
"""

import os

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.support.client import makeSelfSignedCertificate
from tests.support.slixmpp import startClientServer
from tests.support.xmppjs import ensureXmppJS, runXmppJSScript


@defer.inlineCallbacks
def webSocketFlags():
    """
    @return: the node options that give it the standard C{WebSocket}
        (Node 20 has it behind a flag, later versions by default).
    """
    node = yield ensureXmppJS()
    _, _, code = yield utils.getProcessOutputAndValue(
        node, ["-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], env=dict(os.environ)
    )
    return [] if code == 0 else ["--experimental-websocket"]


class XmppJSWebSocketTests(unittest.TestCase):
    timeout = 180

    @defer.inlineCallbacks
    def test_roomOverWebSocket(self):
        """
        Every step passes as xmpp.js sees it: logged in over C{wss} with
        the C{xmpp} subprotocol, in a room with a TCP client, groupchat
        both ways, and leaving with C{<close/>}.
        """
        flags = yield webSocketFlags()
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        running = yield startClientServer(
            self,
            {
                "c2s": {"tls_certificate": certificate, "tls_key": key},
                "http": {"listen": "ssl:0:interface=127.0.0.1:privateKey=%s:certKey=%s" % (key, certificate)},
                "muc": {"lock_new_rooms": "false"},
            },
        )
        port = yield running.server.http.listeners[0].listening
        checks = yield runXmppJSScript(
            self, running, "websocket_room", port.getHost().port, nodeArguments=flags
        )
        self.assertEqual(
            checks,
            [
                "websocket-transport",
                "websocket-protocol",
                "bound",
                "joined",
                "sees-tcp-occupant",
                "tcp-got-groupchat",
                "websocket-got-groupchat",
                "websocket-closed-left",
            ],
        )
