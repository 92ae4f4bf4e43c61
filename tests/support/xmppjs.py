"""
Running the xmpp.js (C{@xmpp/client}) scripts of C{tests/clients/js/}
against a real xmuc server from a trial test.

The library comes from the npm registry at the versions pinned by
C{tests/clients/js/package-lock.json}: C{npm ci} installs it into
C{tests/clients/js/node_modules} the first time (C{.ci/run} does it before
the suite).  Without node, npm or the registry the tests are skipped with
the reason, unless C{XMUC_REQUIRE_CLIENTS=1} (set by C{.ci/run}), which
makes that a failure.

A script runs as C{node <name>.js PORT} with C{NODE_EXTRA_CA_CERTS}
naming the server's test certificate, so Node's TLS trusts it (and still
checks the host name); it prints C{CHECK <name>} lines and C{DONE} like
the slixmpp scripts (C{tests/clients/common.py}).
"""

import os
import shutil

from twisted.internet import defer, utils
from twisted.trial import unittest

#: The folder of the xmpp.js scripts and their package.json / lock file.
HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients", "js")

#: Node's minimum version for @xmpp/client 0.14 (its "engines").
NODE_MAJOR = 20


def unavailable(reason):
    """
    Skip the test for a missing xmpp.js set-up, or fail it when
    C{XMUC_REQUIRE_CLIENTS=1}.

    @param reason: what is missing.
    @raise unittest.SkipTest: normally.
    @raise AssertionError: under C{XMUC_REQUIRE_CLIENTS=1}.
    """
    if os.environ.get("XMUC_REQUIRE_CLIENTS") == "1":
        raise AssertionError(reason + " and XMUC_REQUIRE_CLIENTS=1")
    raise unittest.SkipTest(reason + " (set XMUC_REQUIRE_CLIENTS=1 to make this a failure)")


def modulesInstalled():
    """
    @return: whether C{npm ci} has installed C{@xmpp/client}.
    """
    return os.path.exists(os.path.join(HERE, "node_modules", "@xmpp", "client", "package.json"))


@defer.inlineCallbacks
def ensureXmppJS():
    """
    Find node (of a version xmpp.js runs on) and install the locked
    modules when missing.

    @return: Deferred firing with the path of C{node}, or failing with
        L{unavailable}'s exception naming what is missing.
    """
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
        unavailable("node %s is older than %d, which @xmpp/client needs" % (version, NODE_MAJOR))
    if not modulesInstalled():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed and tests/clients/js/node_modules is missing")
        out, err, code = yield utils.getProcessOutputAndValue(
            npm, ["ci", "--no-audit", "--no-fund"], env=dict(os.environ), path=HERE
        )
        if code != 0 or not modulesInstalled():
            unavailable(
                "npm ci in tests/clients/js failed (exit %s): %s"
                % (code, err.decode("utf-8", "replace").strip()[-2000:])
            )
    return node


@defer.inlineCallbacks
def runXmppJSScript(testCase, running, name, *extra, **kwargs):
    """
    Run C{tests/clients/js/<name>.js} against C{running} (a
    L{tests.support.slixmpp.startClientServer} server); its output is kept
    in C{<name>.log} next to the server's configuration.

    @param extra: more arguments of the script, after the c2s port.
    @param kwargs: C{nodeArguments}, a list of node options (before the
        script).

    @return: Deferred firing with the names of the checks it printed, in
        order; the test fails (with the script's output) when the script
        does not finish cleanly.
    """
    node = yield ensureXmppJS()
    env = dict(os.environ)
    env["NODE_EXTRA_CA_CERTS"] = running.server.config.get("c2s", "tls_certificate")
    out, err, code = yield utils.getProcessOutputAndValue(
        node,
        list(kwargs.get("nodeArguments", ()))
        + [os.path.join(HERE, name + ".js"), str(running.c2sPort)]
        + [str(argument) for argument in extra],
        env=env,
        path=HERE,
    )
    with open(os.path.join(os.path.dirname(running.server.config.path), name + ".log"), "wb") as f:
        f.write(out + b"\n--- stderr\n" + err)
    output = out.decode("utf-8", "replace")
    lines = output.splitlines()
    if code != 0 or "DONE" not in lines:
        testCase.fail(
            "xmpp.js script %s failed (exit %s)\n--- stdout\n%s\n--- stderr (tail)\n%s"
            % (name, code, output, err.decode("utf-8", "replace")[-4000:])
        )
    return [line[len("CHECK ") :] for line in lines if line.startswith("CHECK ")]
