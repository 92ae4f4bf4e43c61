"""
Where the scansion scripts are, and the configuration the in-project
harness plays them under: the shipped C{tap-scansion.conf}, with only the
c2s port changed.
"""

import os

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPOSITORY, "tests", "scripts")
SEEDS = os.path.normpath(os.path.join(REPOSITORY, os.pardir, "shared", "seeds"))
CONFIG = os.path.join(REPOSITORY, "tap-scansion.conf")
C2S_OVERRIDES = {"c2s": {"listen": "tcp:0:interface=127.0.0.1"}}
