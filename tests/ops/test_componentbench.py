"""
C{bench/component.py}: the configurations it runs xmuc under are valid
(a component of Prosody or of an xmuc host, and that host), and its CPU
summary reads right.  The benchmark itself is not run here.
"""

import importlib.util
import os

from twisted.trial import unittest

from xmuc.config import loadConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load():
    spec = importlib.util.spec_from_file_location(
        "bench_component", os.path.join(ROOT, "bench", "component.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


component = _load()


class ConfigurationTests(unittest.TestCase):
    def write(self, sections):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        return component.writeSections(os.path.join(directory, "tap.conf"), sections)

    def test_componentConfiguration(self):
        """
        The component's configuration is a valid component mode one, with
        the bench's MUC settings.
        """
        config = loadConfig(self.write(component.componentSections(5347)))
        self.assertEqual(config.get("component", "connect"), "tcp:host=127.0.0.1:port=5347")
        self.assertEqual(config.get("muc", "domain"), component.MUC_DOMAIN)
        self.assertEqual(config.get("muc", "occupant_message_rate"), 0)
        self.assertFalse(config.get("muc", "lock_new_rooms"))

    def test_xmucHostConfiguration(self):
        """
        The xmuc host accepts the component's domain and runs no MUC.
        """
        server = component.XmucBehindXmuc()
        self.addCleanup(server.stop)
        argv = server.hostCommand()
        config = loadConfig(argv[-1])
        self.assertFalse(config.get("muc", "enabled"))
        self.assertEqual(config.get("components", "secrets"), {component.MUC_DOMAIN: component.SECRET})
        self.assertEqual(config.get("c2s", "listen"), ["tcp:%d:interface=127.0.0.1" % (server.port,)])


class CPUTableTests(unittest.TestCase):
    def test_ratio(self):
        text = component.cpuTable(
            {"a": {"fanout": {"cpu_ms_per_1000_deliveries": 30.0, "host_cpu_s": 2.5, "component_cpu_s": 0.5}},
             "b": {"fanout": {"cpu_ms_per_1000_deliveries": 20.0}}},
            ["fanout", "saturation"])
        self.assertEqual(text.splitlines(), [
            "fanout: server CPU ms per 1000 deliveries: a 30.0, b 20.0 (1.50, lower is better)",
            "fanout: a CPU s: host 2.5, component 0.5",
            "saturation: server CPU ms per 1000 deliveries: a -, b -",
        ])

    def test_arguments(self):
        options = component.parseArguments(["--quick", "--pairs", "xmuc", "--scenarios", "fanout"])
        self.assertEqual((options.pairs, options.scenarios), (["xmuc"], ["fanout"]))
        self.assertRaises(SystemExit, component.parseArguments, ["--pairs", "openfire"])
