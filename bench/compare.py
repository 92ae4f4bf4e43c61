#!/usr/bin/env python3
"""
Run the same MUC load scenarios against xmuc and Prosody, one after the
other on this machine, and print xmuc/Prosody ratios.

Each scenario gets a fresh server process on a free loopback port:

 - xmuc: C{twistd -n xmuc -c <copy of bench/tap-bench.conf>};
 - Prosody: the private instance configuration of
   C{tests/interop/prosody.py} (open test authentication, no TLS
   requirement, memory storage), with rooms unlocked
   (C{muc_room_locking = false}) and no MUC archive module;

and C{bench/load.py} drives it as a separate process (the load generator
shares the machine: on 2 cores it competes with the server for CPU, for
both servers alike).  Scenarios:

 - C{fanout}: one room, a fixed offered message rate (deliveries/s, latency);
 - C{saturation}: one room, increasing rates until p99 latency reaches
   100 ms or deliveries fall behind (the highest rate that kept up);
 - C{joinstorm}: every client joins one room at once (time until all are
   in, per join);
 - C{memory}: server RSS before/after connecting idle clients and after
   they joined small rooms (per connection, per occupant); also the time
   to log them in, 100 at a time.

Everything is bounded (client counts, durations, a timeout per load run).

Usage::

    python bench/compare.py                 # both servers if Prosody is installed
    python bench/compare.py --xmuc-only
    python bench/compare.py --quick --json results.json
    python bench/compare.py --baseline ../xmuc-old --scenarios fanout
    python bench/compare.py --websocket --scenarios fanout,saturation

With C{--websocket}, both columns are this xmuc: its clients on WebSocket
(RFC 7395, C{load.py --transport websocket}) against the same scenario
with its clients on TCP, interleaved scenario by scenario.

With C{--baseline CHECKOUT}, the second server is xmuc from another
checkout (an earlier commit, e.g. made with C{git worktree add}) instead of
Prosody, run with the same Python and dependencies: a change is measured
against the code it replaces in one interleaved run.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOAD = os.path.join(HERE, "load.py")
BENCH_CONFIG = os.path.join(HERE, "tap-bench.conf")

#: Lua lines for Prosody's MUC component: rooms usable at once, and no
#: archive (xmuc's bench configuration archives nothing either).
PROSODY_MUC_EXTRA = """\
    muc_room_locking = false
    modules_enabled = { }
"""

#: name -> (load.py arguments, full size, quick size)
SCENARIOS = {
    "fanout": lambda q: ["--clients", "100" if q else "200", "--rooms", "1", "--rate", "50",
                         "--duration", "3" if q else "5", "--drain", "10"],
    "saturation": lambda q: ["--clients", "100", "--rooms", "1", "--duration", "2" if q else "3", "--drain", "5",
                             "--rates", "50,100,200,400" if q else "50,100,150,200,250,300,400,600,800,1200,1600,2000,2400,2800,3200,4000"],
    "joinstorm": lambda q: ["--clients", "150" if q else "400", "--rooms", "1", "--join-batch", "0",
                            "--no-chat", "--connect-batch", "100"],
    "memory": lambda q: ["--clients", "300" if q else "1000", "--rooms", "30" if q else "100", "--join-batch", "50",
                         "--no-chat", "--connect-batch", "100", "--settle", "2"],
}


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitListening(port, process, timeout=30.0):
    """
    Wait until something accepts connections on 127.0.0.1:C{port}.

    @raise RuntimeError: when C{process} exits first or time runs out.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited at start (status %s)" % (process.returncode,))
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not listen on %d within %ss" % (port, timeout))


class Server:
    """
    A server process under test, in its own temporary directory.

    @ivar name: C{'xmuc'} or C{'prosody'}.
    @ivar port: its client port.
    @ivar process: the L{subprocess.Popen}.
    """

    def __init__(self, name):
        self.name = name
        self.directory = tempfile.mkdtemp(prefix="bench-%s-" % (name,))
        self.port = freePort()
        self.process = None

    def command(self):
        raise NotImplementedError

    def loadArguments(self):
        """
        @return: what C{load.py} needs beyond C{--port} to reach it.
        """
        return []

    def start(self):
        log = open(os.path.join(self.directory, "server.log"), "wb")
        self.process = subprocess.Popen(self.command(), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            waitListening(self.port, self.process)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s: %s\n%s" % (self.name, e, self.log()))
        return self

    def log(self):
        path = os.path.join(self.directory, "server.log")
        try:
            with open(path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class XmucServer(Server):
    #: the checkout to run xmuc from (its directory first on C{sys.path}),
    #: or L{None} for the one this Python has installed.
    checkout = None

    def __init__(self, name="xmuc"):
        Server.__init__(self, name)

    def start(self):
        if self.checkout is not None:
            os.environ["PYTHONPATH"] = self.checkout
        try:
            return Server.start(self)
        finally:
            os.environ.pop("PYTHONPATH", None)

    def command(self):
        # Each checkout with its own benchmark configuration: keys come and
        # go between versions.
        config = BENCH_CONFIG if self.checkout is None else os.path.join(self.checkout, "bench", "tap-bench.conf")
        with open(config) as f:
            text = f.read()
        text = text.replace("tcp:5222:", "tcp:%d:" % (self.port,))
        path = os.path.join(self.directory, "tap.conf")
        with open(path, "w") as f:
            f.write(text)
        twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
        if not os.path.exists(twistd):
            twistd = shutil.which("twistd") or "twistd"
        return [twistd, "-n", "--pidfile=", "xmuc", "-c", path]


class WebSocketXmucServer(XmucServer):
    """
    This xmuc with an HTTP listener, its clients on WebSocket.

    @ivar httpPort: the HTTP port (C{/xmpp-websocket}).
    """

    def __init__(self):
        XmucServer.__init__(self, "websocket")
        self.httpPort = freePort()

    def command(self):
        command = XmucServer.command(self)
        with open(command[-1], "a") as f:
            f.write("\n[http]\nlisten = tcp:%d:interface=127.0.0.1\n" % (self.httpPort,))
        return command

    def start(self):
        XmucServer.start(self)
        try:
            waitListening(self.httpPort, self.process)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s: %s\n%s" % (self.name, e, self.log()))
        return self

    def loadArguments(self):
        return ["--transport", "websocket", "--port", str(self.httpPort)]


class TCPXmucServer(XmucServer):
    """
    This xmuc, its clients on TCP (the reference of C{--websocket}).
    """

    def __init__(self):
        XmucServer.__init__(self, "tcp")


def baselineServer(checkout):
    """
    @return: a server class running xmuc from C{checkout} as C{baseline}.
    """

    class BaselineServer(XmucServer):
        def __init__(self):
            XmucServer.__init__(self, "baseline")

    BaselineServer.checkout = os.path.abspath(checkout)
    return BaselineServer


class ProsodyServer(Server):
    def __init__(self):
        Server.__init__(self, "prosody")

    def command(self):
        prosody = _prosodyModule()
        config = prosody.writeConfig(self.directory, self.port, level="warn", extra=PROSODY_MUC_EXTRA)
        return [prosody.findProsody(), "--config", config, "-F"]


def _prosodyModule():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from tests.interop import prosody

    return prosody


def prosodyAvailable():
    """
    @return: whether Prosody and the interop harness are there.
    """
    try:
        return _prosodyModule().findProsody() is not None
    except ImportError:
        return False


def runLoad(server, arguments, timeout=900):
    """
    Run C{bench/load.py} against C{server}.

    @return: its JSON report (dict), or C{{"error": ...}}.
    """
    command = ([sys.executable, LOAD, "--port", str(server.port), "--pid", str(server.process.pid)]
               + arguments + server.loadArguments())
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "load.py timed out"}
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-500:]}
    return json.loads(done.stdout)


def runScenario(serverClass, name, quick):
    server = serverClass().start()
    try:
        report = runLoad(server, SCENARIOS[name](quick))
    finally:
        server.stop()
    return report


def metrics(name, report):
    """
    The numbers of one scenario worth comparing.

    @return: a list of C{(label, value, higherIsBetter)}.
    """
    if "error" in report:
        return []
    if name == "fanout":
        return [
            ("fan-out deliveries/s at %d occupants, %s msg/s" % (report["occupants_per_room"], report["send_rate_per_s"]),
             report["deliveries_per_s"], True),
            ("fan-out p50 latency ms", report["latency_ms"]["p50"], False),
            ("fan-out p99 latency ms", report["latency_ms"]["p99"], False),
            ("fan-out lost deliveries", report["deliveries_expected"] - report["deliveries"], False),
        ]
    if name == "saturation":
        saturation = report["saturation"]
        return [
            ("saturation: max msg/s with p99 < %g ms (%d occupants)" % (saturation["p99_limit_ms"], report["occupants_per_room"]),
             saturation["max_rate"], True),
            ("saturation: deliveries/s at that rate", saturation["deliveries_per_s"], True),
        ]
    if name == "joinstorm":
        return [
            ("join storm: %d clients into one room, s until all in" % (report["clients"],), report["join_s"], False),
            ("join storm: ms per join", report["join_ms_per_client"], False),
        ]
    if name == "memory":
        memory = report.get("memory", {})
        return [
            ("connect: s to log in %d clients, 100 at a time" % (report["clients"],), report["connect_s"], False),
            ("memory: idle server RSS MB", round((memory.get("rss_kb_start") or 0) / 1024, 1), False),
            ("memory: KB per connection (%d clients)" % (report["clients"],), memory.get("per_connection_kb"), False),
            ("memory: KB per occupant (%d rooms)" % (report["rooms"],), memory.get("per_occupant_kb"), False),
        ]
    return []


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def formatTable(results, names):
    """
    @param results: C{{server name: {scenario: report}}}.
    @return: the comparison table as text.
    """
    rows = []
    servers = list(results)
    for name in names:
        columns = {server: metrics(name, results[server].get(name, {})) for server in servers}
        reference = next((columns[s] for s in servers if columns[s]), [])
        labels = [m[0] for m in reference]
        for index, label in enumerate(labels):
            values = [columns[s][index][1] if len(columns[s]) > index else None for s in servers]
            higher = reference[index][2]
            row = [label] + ["-" if v is None else ("%g" % v) for v in values]
            if len(servers) == 2:
                r = ratio(values[0], values[1])
                row.append("-" if r is None else "%.2f" % r)
                row.append("higher" if higher else "lower")
            rows.append(row)
        for server in servers:
            report = results[server].get(name, {})
            if "error" in report:
                rows.append(["%s: %s failed: %s" % (name, server, report["error"].splitlines()[-1] if report["error"] else "")]
                            + [""] * (len(servers) + (2 if len(servers) == 2 else 0)))
    header = ["metric"] + servers + (["%s/%s" % tuple(servers), "better"] if len(servers) == 2 else [])
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="xmuc vs Prosody MUC benchmarks")
    parser.add_argument("--xmuc-only", action="store_true")
    parser.add_argument("--prosody-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smaller and shorter runs")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma separated, among: %s" % (", ".join(SCENARIOS),))
    parser.add_argument("--json", help="also write every report to this file")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="compare with xmuc from this checkout instead of Prosody")
    parser.add_argument("--websocket", action="store_true",
                        help="compare this xmuc's clients on WebSocket with the same on TCP")
    options = parser.parse_args(argv)
    options.scenarios = [s for s in options.scenarios.split(",") if s]
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error("unknown scenarios: %s" % (", ".join(sorted(unknown)),))
    return options


def run(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    targets = []
    if options.websocket:
        targets = [("websocket", WebSocketXmucServer), ("tcp", TCPXmucServer)]
    else:
        if not options.prosody_only:
            targets.append(("xmuc", XmucServer))
        if options.baseline:
            if not os.path.isdir(os.path.join(options.baseline, "xmuc")):
                print("no xmuc checkout at %s" % (options.baseline,), file=sys.stderr)
                return 2
            targets.append(("baseline", baselineServer(options.baseline)))
        elif not options.xmuc_only:
            if prosodyAvailable():
                targets.append(("prosody", ProsodyServer))
            else:
                print("Prosody is not installed: xmuc only", file=sys.stderr)
    results = {}
    for scenario in options.scenarios:
        for name, serverClass in targets:
            print("running %s against %s..." % (scenario, name), file=sys.stderr, flush=True)
            try:
                report = runScenario(serverClass, scenario, options.quick)
            except RuntimeError as e:
                report = {"error": str(e)}
            results.setdefault(name, {})[scenario] = report
    if options.json:
        with open(options.json, "w") as f:
            json.dump(results, f, indent=2)
    print(formatTable(results, options.scenarios))
    failed = any("error" in report for reports in results.values() for report in reports.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
