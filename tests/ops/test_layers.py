"""
The layers of xmuc, written as the import-linter contract of setup.cfg,
hold: a module imports only from the layers below its own, and the client
streams, the session manager and the MUC do not import each other.
"""

import os
import shutil
import subprocess
import sys

from twisted.trial import unittest

import xmuc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(xmuc.__file__)))
CONFIG = os.path.join(ROOT, "setup.cfg")


def lintImports(cwd, config):
    """
    Run import-linter in a fresh process, so that it reads the package
    found from C{cwd} (not the one this process imported).

    @return: C{(exit code, output)}.
    """
    command = [os.path.join(os.path.dirname(sys.executable), "lint-imports"), "--no-cache", "--no-logo", config]
    environment = dict(os.environ, PYTHONPATH=cwd)
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


class LayersTests(unittest.TestCase):
    def test_contractKept(self):
        """
        The code keeps the layers contract.
        """
        code, output = lintImports(ROOT, CONFIG)
        self.assertEqual(code, 0, output)
        self.assertIn("xmuc layers KEPT", output)

    def test_forbiddenImportCaught(self):
        """
        The contract catches a forbidden import: a copy of xmuc where the
        client streams import the MUC breaks it, naming the
        import.
        """
        copy = self.mktemp()
        shutil.copytree(os.path.join(ROOT, "xmuc"), os.path.join(copy, "xmuc"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.cache"))
        sasl = os.path.join(copy, "xmuc", "c2s", "sasl.py")
        with open(sasl, "a", encoding="utf-8") as f:
            f.write("\nimport xmuc.muc.room  # noqa\n")
        code, output = lintImports(os.path.abspath(copy), CONFIG)
        self.assertNotEqual(code, 0, output)
        self.assertIn("xmuc layers BROKEN", output)
        self.assertIn("xmuc.c2s.sasl -> xmuc.muc.room", output)
