"""
Converse.js (npm C{converse.js}, the web client communities embed in their
sites) in Debian's headless Chromium, driven by playwright-core, against
xmuc.

The screenshots are kept in C{_artifacts/} at the top of the checkout
(git-ignored): C{converse-login.png} (the offline page) and
C{converse.png} (the room, at the end of the whole session).
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.browser import ARTIFACTS, ensureBrowser, runBrowserScript, servePage


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
        os.makedirs(ARTIFACTS, exist_ok=True)
        logs = os.path.abspath(self.mktemp())
        os.makedirs(logs)
        screenshot = os.path.join(ARTIFACTS, "converse-login.png")
        checks = yield runBrowserScript(self, "login_form", {"page": url, "screenshot": screenshot}, logs)
        self.assertEqual(checks, ["login-form", "converse-loaded", "screenshot", "nothing-from-outside"])
        with open(screenshot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
