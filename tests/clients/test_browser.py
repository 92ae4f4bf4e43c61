"""
Converse.js (npm C{converse.js}, the web client communities embed in their
sites) in Debian's headless Chromium, driven by playwright-core, against
xmuc.

The page is served from its own origin (another port of 127.0.0.1, as a
community's site would be), under a Content-Security-Policy that lets it
talk to the XMPP server only.  Converse.js is given nothing but a JID and a
password: it finds the WebSocket through XEP-0156 host-meta at
C{https://localhost/} (Chromium maps C{localhost:443} to xmuc's HTTPS
listener, as a reverse proxy would, and trusts the test certificate by its
key), logs in over TLS, joins the room, talks with a slixmpp client there
and shares a picture through HTTP File Upload.

The screenshots are kept in C{_artifacts/} at the top of the checkout
(git-ignored): C{converse-login.png} (the offline page) and
C{converse.png} (the room at the end of the session).
"""

import os

from twisted.internet import defer, endpoints
from twisted.trial import unittest

from tests.support.browser import (
    ARTIFACTS,
    certificatePin,
    ensureBrowser,
    freePort,
    makePNG,
    runBrowserScript,
    servePage,
)
from tests.support.client import makeSelfSignedCertificate
from tests.support.slixmpp import ACCOUNTS, runClientScript, startClientServer

ROOM = "webchat@conference.localhost"


def artifact(name):
    """
    @return: the path of C{_artifacts/<name>} (the directory is created).
    """
    os.makedirs(ARTIFACTS, exist_ok=True)
    return os.path.join(ARTIFACTS, name)


class ConverseOfflineTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_rendersOffline(self):
        """
        The page and all Converse.js loads come from the page's own server:
        the login form shows and no request leaves the machine.
        """
        yield ensureBrowser()
        url = yield servePage(self, {"view_mode": "fullscreen", "auto_login": False})
        logs = os.path.abspath(self.mktemp())
        os.makedirs(logs)
        screenshot = artifact("converse-login.png")
        checks = yield runBrowserScript(self, "login_form", {"page": url, "screenshot": screenshot}, logs)
        self.assertEqual(checks, ["login-form", "converse-loaded", "screenshot", "nothing-from-outside"])
        with open(screenshot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


class ConverseRoomTests(unittest.TestCase):
    timeout = 240

    @defer.inlineCallbacks
    def test_roomSession(self):
        """
        Converse.js discovers the WebSocket, logs in, joins the room and
        says something the slixmpp occupant receives; it shows what the
        slixmpp occupant answers; the picture it uploads is shown in the
        room and downloaded by the slixmpp occupant byte for byte.
        """
        yield ensureBrowser()
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        certificate, key = makeSelfSignedCertificate(directory)
        picture = os.path.join(directory, "picture.png")
        with open(picture, "wb") as f:
            f.write(makePNG(48, 32, os.urandom(16)))

        page = yield servePage(
            self,
            {
                "view_mode": "fullscreen",
                "auto_login": True,
                "jid": "alice@localhost",
                "password": ACCOUNTS["alice"],
                "discover_connection_methods": True,
                "auto_join_rooms": [ROOM],
                "nickname": "Alice",
                "persistent_store": "sessionStorage",
                "play_sounds": False,
                "show_desktop_notifications": False,
                "loglevel": "info",
            },
        )
        port = freePort()
        base = "https://localhost:%d" % (port,)
        running = yield startClientServer(
            self,
            {
                "c2s": {"tls_certificate": certificate, "tls_key": key},
                "muc": {"lock_new_rooms": "false"},
                "http": {
                    "listen": "ssl:%d:interface=127.0.0.1:privateKey=%s:certKey=%s"
                    % (port, endpoints.quoteStringArgument(key), endpoints.quoteStringArgument(certificate)),
                    "external_url": base,
                    # The page's origin, without its trailing slash.
                    "allowed_origins": page.rstrip("/"),
                },
                "upload": {"enabled": "true", "path": os.path.join(directory, "upload")},
            },
        )

        # Fresh texts each run, so nothing from another run can pass for them.
        said = "Hello from Converse.js %s" % (os.urandom(4).hex(),)
        answer = "Hello from slixmpp %s" % (os.urandom(4).hex(),)
        screenshot = artifact("converse.png")
        browser = runBrowserScript(
            self,
            "room",
            {
                "page": page,
                # XEP-0156 discovery looks at https://<domain>/ (port 443).
                "hostRules": "MAP localhost:443 127.0.0.1:%d" % (port,),
                "hostMeta": "https://localhost/.well-known/host-meta",
                "certificatePin": certificatePin(certificate),
                "room": ROOM,
                "websocket": "wss://localhost:%d/xmpp-websocket" % (port,),
                "send": said,
                "expect": answer,
                "image": picture,
                "uploadBase": base + "/upload/",
                "screenshot": screenshot,
                "timeout": 90000,
            },
            directory,
        )
        peer = runClientScript(self, running, "browser_peer", ROOM, said, answer, picture, logName="browser_peer.log")
        # Both run to their end (each bounds its own waits), so that no
        # process outlives the test when one side fails; the browser's
        # failure, the cause of the other's, is reported first.
        results = yield defer.DeferredList([browser, peer], consumeErrors=True)
        for ok, result in results:
            if not ok:
                result.raiseException()
        (_, browserChecks), (_, peerChecks) = results
        self.assertEqual(
            browserChecks,
            [
                "host-meta",
                "websocket-discovered",
                "logged-in",
                "joined",
                "sent-shown",
                "peer-message-shown",
                "image-shown",
                "screenshot",
                "nothing-from-outside",
            ],
        )
        self.assertEqual(
            peerChecks,
            ["login", "joined", "browser-message", "answered", "upload-url-oob", "downloaded", "same-bytes", "content-type"],
        )
