"""
Running Converse.js in a real headless Chromium against a real xmuc server
from a trial test.

Converse.js and C{playwright-core} come from the npm registry at the
versions pinned by C{tests/clients/browser/package-lock.json}: C{npm ci}
installs them into C{tests/clients/browser/node_modules} the first time
(C{.ci/run} does it before the suite).  Chromium is Debian's
(C{/usr/bin/chromium}); playwright never downloads a browser of its own.
Without node, npm, the registry or Chromium the tests are skipped with the
reason, unless C{XMUC_REQUIRE_BROWSER=1} (set by C{.ci/run}), which makes
that a failure.

The page (C{tests/clients/browser/page.html}) is served by L{servePage}
from its own small C{twisted.web} server on 127.0.0.1, so it is of another
origin than xmuc's HTTP listener (the browser's CORS and WebSocket
C{Origin} rules apply as on a community's web site), with Converse.js's
C{dist/} files from C{node_modules} beside it: nothing is loaded from the
internet.

A script runs as C{node <name>.mjs SETTINGS} (a JSON object, see
L{runBrowserScript}) and prints C{CHECK <name>} lines and C{DONE} like the
slixmpp scripts (C{tests/clients/common.py}).
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import zlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from twisted.internet import defer, endpoints, reactor, utils
from twisted.trial import unittest
from twisted.web import resource, server, static

#: The folder of the browser scripts, the page and package.json / lock file.
HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients", "browser")

#: The checkout, where the screenshots are kept (L{ARTIFACTS}).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Where the tests leave what a person looks at after a run (git-ignored).
ARTIFACTS = os.path.join(ROOT, "_artifacts")

#: Node's minimum version for playwright-core.
NODE_MAJOR = 20

#: Debian's Chromium (the C{chromium} package).
CHROMIUM = "/usr/bin/chromium"


def unavailable(reason):
    """
    Skip the test for a missing browser set-up, or fail it when
    C{XMUC_REQUIRE_BROWSER=1}.

    @param reason: what is missing.
    @raise unittest.SkipTest: normally.
    @raise AssertionError: under C{XMUC_REQUIRE_BROWSER=1}.
    """
    if os.environ.get("XMUC_REQUIRE_BROWSER") == "1":
        raise AssertionError(reason + " and XMUC_REQUIRE_BROWSER=1")
    raise unittest.SkipTest(reason + " (set XMUC_REQUIRE_BROWSER=1 to make this a failure)")


def modulesInstalled():
    """
    @return: whether C{npm ci} has installed Converse.js and playwright-core.
    """
    return all(
        os.path.exists(os.path.join(HERE, "node_modules", name, "package.json"))
        for name in ("converse.js", "playwright-core")
    )


def converseVersion():
    """
    @return: the installed Converse.js version (C{'14.0.0'}).
    """
    with open(os.path.join(HERE, "node_modules", "converse.js", "package.json")) as f:
        return json.load(f)["version"]


@defer.inlineCallbacks
def ensureBrowser():
    """
    Find Chromium and node (of a version playwright-core runs on), and
    install the locked modules when missing.

    @return: Deferred firing with the path of C{node}, or failing with
        L{unavailable}'s exception naming what is missing.
    """
    if not os.access(CHROMIUM, os.X_OK):
        unavailable("Chromium is not installed (%s, Debian's chromium package)" % (CHROMIUM,))
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    out, err, code = yield utils.getProcessOutputAndValue(node, ["--version"], env=dict(os.environ))
    version = out.decode("ascii", "replace").strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < NODE_MAJOR:
        unavailable("node %s is older than %d, which playwright-core needs" % (version, NODE_MAJOR))
    if not modulesInstalled():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed and tests/clients/browser/node_modules is missing")
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        out, err, code = yield utils.getProcessOutputAndValue(
            npm, ["ci", "--no-audit", "--no-fund"], env=env, path=HERE
        )
        if code != 0 or not modulesInstalled():
            unavailable(
                "npm ci in tests/clients/browser failed (exit %s): %s"
                % (code, err.decode("utf-8", "replace").strip()[-2000:])
            )
    return node


def freePort():
    """
    A TCP port on 127.0.0.1 that was free a moment ago, for a listener
    whose public URL must be written in the configuration before it starts.

    @return: the port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def makePNG(width, height, seed):
    """
    A small true-colour PNG image whose pixels depend on C{seed}, so two
    runs never share a file by chance.

    @param seed: any bytes.
    @return: the PNG file (L{bytes}).
    """

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    noise = hashlib.sha256(seed).digest()
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # no filter
        for x in range(width):
            row += bytes(((x * 255) // width, (y * 255) // height, noise[(x * y) % len(noise)]))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


def certificatePin(certificatePath):
    """
    The value Chromium's C{--ignore-certificate-errors-spki-list} takes for
    a certificate: the base64 SHA-256 of its public key (SubjectPublicKeyInfo).
    Chromium then accepts that one self-signed certificate, and only it.

    @param certificatePath: a PEM certificate file.
    @return: the pin (L{str}).
    """
    with open(certificatePath, "rb") as f:
        certificate = x509.load_pem_x509_certificate(f.read())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def contentSecurityPolicy(servers):
    """
    The page's Content-Security-Policy: its own files, and connections
    (HTTPS and WebSocket), images and media of the XMPP server only.  The
    browser refuses anything else before any request is made (the
    sponsors' logos Converse.js shows under its login form, for one), which
    is what a closed network needs and what a careful site does anyway.

    @param servers: source expressions of the XMPP server's HTTPS origins
        (C{'https://localhost:*'}); the same with C{wss://} are allowed
        for connections.
    @return: the header value (L{bytes}).
    """
    web = " ".join(servers)
    sockets = " ".join("wss://" + server[len("https://") :] for server in servers if server.startswith("https://"))
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self' %(web)s %(sockets)s; img-src 'self' data: blob: %(web)s; "
        "media-src 'self' blob: %(web)s; frame-src 'none'; object-src 'none'; base-uri 'none'"
        % {"web": web, "sockets": sockets}
    ).encode("ascii")


class _PageSite(server.Site):
    """
    A site that sends the page's Content-Security-Policy with everything
    and remembers its open connections, so the test can close what the
    browser left open.
    """

    def __init__(self, root, policy):
        server.Site.__init__(self, root)
        self.policy = policy
        self.connections = set()

    def getResourceFor(self, request):
        request.setHeader(b"content-security-policy", self.policy)
        return server.Site.getResourceFor(self, request)

    def buildProtocol(self, addr):
        protocol = server.Site.buildProtocol(self, addr)
        site = self
        connectionLost = protocol.connectionLost

        def lost(reason):
            site.connections.discard(protocol)
            return connectionLost(reason)

        protocol.connectionLost = lost
        self.connections.add(protocol)
        return protocol


@defer.inlineCallbacks
def servePage(testCase, settings, servers=("https://localhost:*",)):
    """
    Serve the Converse.js page on 127.0.0.1 (an ephemeral port) until the
    end of the test: C{/} the page, C{/settings.json} the settings it gives
    to C{converse.initialize}, C{/dist/} Converse.js's files.

    @param settings: Converse.js's settings (a JSON-able L{dict});
        C{assets_path} is set here to the served C{dist/}.
    @param servers: the HTTPS origins the page may connect to and show
        images from (L{contentSecurityPolicy}).
    @return: Deferred firing with the page's URL (C{http://127.0.0.1:PORT/}).
    """
    settings = dict(settings, assets_path="/dist/")
    root = resource.Resource()
    root.putChild(b"", static.File(os.path.join(HERE, "page.html"), defaultType="text/html"))
    root.putChild(b"page.js", static.File(os.path.join(HERE, "page.js"), defaultType="text/javascript"))
    root.putChild(b"settings.json", static.Data(json.dumps(settings).encode("utf-8"), "application/json"))
    root.putChild(b"dist", static.File(os.path.join(HERE, "node_modules", "converse.js", "dist")))
    site = _PageSite(root, contentSecurityPolicy(servers))
    site.displayTracebacks = False
    endpoint = endpoints.serverFromString(reactor, "tcp:0:interface=127.0.0.1")
    port = yield endpoint.listen(site)

    def stop():
        for protocol in list(site.connections):
            protocol.transport.abortConnection()
        return port.stopListening()

    testCase.addCleanup(stop)
    return "http://127.0.0.1:%d/" % (port.getHost().port,)


@defer.inlineCallbacks
def runBrowserScript(testCase, name, settings, logDirectory):
    """
    Run C{tests/clients/browser/<name>.mjs} with C{settings}; its output
    is kept in C{logDirectory/<name>.log}.

    @param settings: what the script needs (a JSON-able L{dict}); C{chromium}
        (the executable) is added here.
    @return: Deferred firing with the names of the checks it printed, in
        order; the test fails (with the script's output) when the script
        does not finish cleanly.
    """
    node = yield ensureBrowser()
    settings = dict(settings, chromium=CHROMIUM)
    out, err, code = yield utils.getProcessOutputAndValue(
        node, [os.path.join(HERE, name + ".mjs"), json.dumps(settings)], env=dict(os.environ), path=HERE
    )
    with open(os.path.join(logDirectory, name + ".log"), "wb") as f:
        f.write(out + b"\n--- stderr\n" + err)
    output = out.decode("utf-8", "replace")
    lines = output.splitlines()
    if code != 0 or "DONE" not in lines:
        testCase.fail(
            "browser script %s failed (exit %s)\n--- stdout\n%s\n--- stderr (tail)\n%s"
            % (name, code, output[-8000:], err.decode("utf-8", "replace")[-4000:])
        )
    return [line[len("CHECK ") :] for line in lines if line.startswith("CHECK ")]
