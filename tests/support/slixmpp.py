"""
Running the slixmpp client scripts of C{tests/clients/} against a real
xmuc server from a trial test.

The server runs in the test's reactor (L{startTestServer}: memory storage,
internal authentication, STARTTLS required with a throwaway certificate)
with the MUC enabled on C{conference.localhost}; each script runs in a
child process with its own asyncio loop and prints C{CHECK <name>} lines
(see C{tests/clients/common.py}).
"""

import os
import sys

from twisted.internet import defer, utils

from tests.support.client import startTestServer

#: The folder of the client scripts.
HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients")

ACCOUNTS = {
    "alice": "rabbit hole",
    "bob": "can we fix it",
    "carol": "sweet caroline",
}

MUC_ON = {"muc": {"enabled": "true", "domain": "conference.localhost"}}


@defer.inlineCallbacks
def startClientServer(testCase, overrides=None):
    """
    Start the server for a client test, with the MUC on and the accounts
    of L{ACCOUNTS} registered.

    @return: Deferred firing with the L{xmuc.testing.server.RunningServer}.
    """
    sections = {section: dict(values) for section, values in MUC_ON.items()}
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    running = yield startTestServer(testCase, sections, tls=True)
    for user, password in ACCOUNTS.items():
        yield running.server.accounts.register(user, "localhost", password)
    return running


def runClientScript(testCase, running, name, *extra, logName=None):
    """
    Run C{tests/clients/<name>.py} against C{running}; its output is
    kept in C{<name>.log} next to the server's configuration.

    @param logName: the log's file name when the arguments would not make
        one (paths, long texts).

    @return: Deferred firing with the names of the checks it printed, in
        order; the test fails (with the script's output) when the script
        does not finish cleanly.
    """
    return runScript(
        testCase,
        running.c2sPort,
        running.server.config.get("c2s", "tls_certificate"),
        os.path.dirname(running.server.config.path),
        name,
        *extra,
        logName=logName,
    )


def runScriptProcess(port, certificate, name, *extra):
    """
    Run C{tests/clients/<name>.py} against the server on C{port} whose
    certificate is the file C{certificate}.

    @return: Deferred firing with C{(stdout, stderr, exit code)}, the
        outputs as bytes.
    """
    return utils.getProcessOutputAndValue(
        sys.executable,
        [os.path.join(HERE, name + ".py"), str(port), certificate] + list(extra),
        env=dict(os.environ),
        path=HERE,
    )


@defer.inlineCallbacks
def runScript(testCase, port, certificate, logDirectory, name, *extra, logName=None):
    """
    Run C{tests/clients/<name>.py} against the server on C{port} whose
    certificate is the file C{certificate}; the output is kept in
    C{logDirectory/<name>.log}.

    @return: like L{runClientScript}.
    """
    out, err, code = yield runScriptProcess(port, certificate, name, *extra)
    output = out.decode("utf-8", "replace")
    # Kept for whoever debugs a run (the test's temporary directory).
    directory = logDirectory
    if logName is None:
        logName = name + "-".join(("",) + extra) + ".log"
    with open(os.path.join(directory, logName), "wb") as f:
        f.write(out + b"\n--- stderr\n" + err)
    lines = output.splitlines()
    if code != 0 or "DONE" not in lines:
        testCase.fail(
            "client script %s failed (exit %s)\n--- stdout\n%s\n--- stderr (tail)\n%s"
            % (name, code, output, err.decode("utf-8", "replace")[-4000:])
        )
    return [line[len("CHECK ") :] for line in lines if line.startswith("CHECK ")]
