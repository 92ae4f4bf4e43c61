#!/usr/bin/env python3
"""
What running xmuc's MUC as an external component (XEP-0114) costs, in one
interleaved run of C{bench/load.py} scenarios (see C{bench/compare.py}):

 - C{xmuc-behind-prosody} against C{prosody}: the same clients log in to
   Prosody; the MUC is xmuc connected to Prosody's component port
   (C{twistd -n xmuc} with C{[component] connect}), or Prosody's own MUC;
 - C{xmuc-behind-xmuc} against C{xmuc}: the same clients log in to xmuc;
   the MUC is xmuc connected to the host's C{[components] listen}, or the
   host's in-process MUC (the cost of the link: every stanza crosses one
   more process and one more socket).

Each target gets fresh processes on free loopback ports; the targets run
one after the other for each scenario, so that the machine's state drifts
alike for all.  Besides C{bench/compare.py}'s table, each pair gets the
CPU time its serving processes (the server; or the host and the
component) used per thousand deliveries: on a shared machine latencies
follow the load of the neighbours, the work done much less.  The configuration is C{bench/tap-bench.conf}'s (memory
storage, unlocked rooms, no rate limits) for every xmuc process.

Usage::

    python bench/component.py                # fanout and saturation, both pairs
    python bench/component.py --quick --scenarios fanout
    python bench/component.py --pairs prosody --json results.json
"""

import argparse
import configparser
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECRET = "bench-component-secret"
MUC_DOMAIN = "conference.localhost"


def _loadCompare():
    spec = importlib.util.spec_from_file_location("bench_compare", os.path.join(HERE, "compare.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = _loadCompare()


def twistdCommand(path):
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    if not os.path.exists(twistd):
        twistd = shutil.which("twistd") or "twistd"
    return [twistd, "-n", "--pidfile=", "xmuc", "-c", path]


def benchSections():
    """
    @return: C{bench/tap-bench.conf} as C{{section: {key: value}}}.
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(compare.BENCH_CONFIG)
    return {section: dict(parser.items(section)) for section in parser.sections()}


def writeSections(path, sections):
    with open(path, "w") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % (section,))
            for key, value in values.items():
                f.write("%s = %s\n" % (key, value))
            f.write("\n")
    return path


def componentSections(componentPort):
    """
    @return: the configuration of xmuc's MUC alone, as a component of the
        host whose component port is C{componentPort}: the bench's [muc]
        settings, [component] connect.
    """
    bench = benchSections()
    return {
        "storage": {"backend": "memory"},
        "muc": {key: value for key, value in bench["muc"].items() if key != "enabled"},
        "component": {
            "connect": "tcp:host=127.0.0.1:port=%d" % (componentPort,),
            "secret": SECRET,
        },
        "log": {"level": "info"},
    }


class HostedMUC(compare.Server):
    """
    A host server for the clients (C{self.port}) and xmuc's MUC connected
    to it as a component.  C{self.process} is the component (its RSS is
    the MUC's).
    """

    def __init__(self, name):
        compare.Server.__init__(self, name)
        self.componentPort = compare.freePort()
        self.host = None

    def hostCommand(self):
        raise NotImplementedError()

    def start(self):
        hostLog = open(os.path.join(self.directory, "host.log"), "wb")
        self.host = subprocess.Popen(self.hostCommand(), cwd=self.directory, stdout=hostLog,
                                     stderr=subprocess.STDOUT)
        hostLog.close()
        try:
            compare.waitListening(self.port, self.host)
            compare.waitListening(self.componentPort, self.host)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s host: %s\n%s" % (self.name, e, self.log("host.log")))
        path = writeSections(os.path.join(self.directory, "component.conf"),
                             componentSections(self.componentPort))
        log = open(os.path.join(self.directory, "server.log"), "wb")
        self.process = subprocess.Popen(twistdCommand(path), cwd=self.directory, stdout=log,
                                        stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while "component link up" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s: the component did not connect\n%s" % (self.name, self.log()))
            time.sleep(0.1)
        return self

    def log(self, name="server.log"):
        path = os.path.join(self.directory, name)
        try:
            with open(path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        for process in (self.process, self.host):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class XmucBehindProsody(HostedMUC):
    def __init__(self):
        HostedMUC.__init__(self, "xmuc-behind-prosody")

    def hostCommand(self):
        prosody = compare._prosodyModule()
        config = prosody.writeConfig(self.directory, self.port, level="warn",
                                     component=(MUC_DOMAIN, self.componentPort, SECRET))
        return [prosody.findProsody(), "--config", config, "-F"]


class XmucBehindXmuc(HostedMUC):
    def __init__(self):
        HostedMUC.__init__(self, "xmuc-behind-xmuc")

    def hostCommand(self):
        sections = benchSections()
        sections["c2s"]["listen"] = "tcp:%d:interface=127.0.0.1" % (self.port,)
        sections["muc"] = {"enabled": "false"}
        sections["components"] = {
            "listen": "tcp:%d:interface=127.0.0.1" % (self.componentPort,),
            "secrets": "%s=%s" % (MUC_DOMAIN, SECRET),
        }
        path = writeSections(os.path.join(self.directory, "host.conf"), sections)
        return twistdCommand(path)


def cpuSeconds(pid):
    """
    @return: the CPU time (user + system, seconds) process C{pid} used so
        far, from C{/proc/<pid>/stat}.
    """
    with open("/proc/%d/stat" % (pid,)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serverProcesses(server):
    """
    @return: the pids of the processes serving the clients: the server,
        or the host and the component.
    """
    pids = [server.process.pid]
    if getattr(server, "host", None) is not None:
        pids.append(server.host.pid)
    return pids


def runScenario(serverClass, name, quick):
    """
    L{compare.runScenario}, plus the CPU time the serving processes used
    during the load (C{server_cpu_s}) and per thousand deliveries
    (C{cpu_ms_per_1000_deliveries}): what the link costs in work, which a
    busy machine changes less than it changes latencies.
    """
    server = serverClass().start()
    try:
        pids = serverProcesses(server)
        before = [cpuSeconds(pid) for pid in pids]
        report = compare.runLoad(server, compare.SCENARIOS[name](quick))
        each = [cpuSeconds(pid) - start for pid, start in zip(pids, before)]
        used = sum(each)
    finally:
        server.stop()
    if "error" not in report:
        report["server_cpu_s"] = round(used, 2)
        if len(each) == 2:
            report["component_cpu_s"], report["host_cpu_s"] = round(each[0], 2), round(each[1], 2)
        deliveries = report.get("deliveries") or sum(s.get("deliveries", 0) for s in report.get("steps", ()))
        if deliveries:
            report["cpu_ms_per_1000_deliveries"] = round(used * 1e6 / deliveries, 1)
    return report


def cpuTable(results, scenarios):
    """
    @param results: C{{server name: {scenario: report}}} of one pair.
    @return: the CPU rows of the pair, as text.
    """
    servers = list(results)
    lines = []
    for scenario in scenarios:
        values = [results[s].get(scenario, {}).get("cpu_ms_per_1000_deliveries") for s in servers]
        ratio = compare.ratio(*values) if len(values) == 2 else None
        lines.append("%s: server CPU ms per 1000 deliveries: %s%s" % (
            scenario,
            ", ".join("%s %s" % (s, "-" if v is None else v) for s, v in zip(servers, values)),
            "" if ratio is None else " (%.2f, lower is better)" % (ratio,)))
        for server in servers:
            report = results[server].get(scenario, {})
            if "host_cpu_s" in report:
                lines.append("%s: %s CPU s: host %s, component %s" % (
                    scenario, server, report["host_cpu_s"], report["component_cpu_s"]))
    return "\n".join(lines)


#: pair name -> ((name, server class) measured, (name, server class) reference)
PAIRS = {
    "prosody": (("xmuc-behind-prosody", XmucBehindProsody), ("prosody", compare.ProsodyServer)),
    "xmuc": (("xmuc-behind-xmuc", XmucBehindXmuc), ("xmuc", compare.XmucServer)),
}

SCENARIOS = ("fanout", "saturation")


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="xmuc's MUC as a component: fan-out against in-process MUCs")
    parser.add_argument("--quick", action="store_true", help="smaller and shorter runs")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma separated, among: %s" % (", ".join(SCENARIOS),))
    parser.add_argument("--pairs", default=",".join(PAIRS),
                        help="comma separated, among: %s" % (", ".join(PAIRS),))
    parser.add_argument("--json", help="also write every report to this file")
    options = parser.parse_args(argv)
    options.scenarios = [s for s in options.scenarios.split(",") if s]
    options.pairs = [p for p in options.pairs.split(",") if p]
    if set(options.scenarios) - set(SCENARIOS) or set(options.pairs) - set(PAIRS):
        parser.error("unknown scenario or pair")
    return options


def run(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    pairs = list(options.pairs)
    if "prosody" in pairs and not compare.prosodyAvailable():
        print("Prosody is not installed: xmuc pair only", file=sys.stderr)
        pairs.remove("prosody")
    results = {pair: {} for pair in pairs}
    for scenario in options.scenarios:
        for pair in pairs:
            for name, serverClass in PAIRS[pair]:
                print("running %s against %s..." % (scenario, name), file=sys.stderr, flush=True)
                try:
                    report = runScenario(serverClass, scenario, options.quick)
                except RuntimeError as e:
                    report = {"error": str(e)}
                results[pair].setdefault(name, {})[scenario] = report
    if options.json:
        with open(options.json, "w") as f:
            json.dump(results, f, indent=2)
    for pair in pairs:
        print(compare.formatTable(results[pair], options.scenarios))
        print(cpuTable(results[pair], options.scenarios))
        print()
    failed = any("error" in report for reports in results.values()
                 for scenarios in reports.values() for report in scenarios.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
