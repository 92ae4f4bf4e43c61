"""
README.rst promises: the two set-up commands first, and a reference entry
for every configuration key.
"""

import os
import re

from twisted.trial import unittest

from xmuc.config import SCHEMA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme():
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        return f.read()


class ReadmeTests(unittest.TestCase):
    def test_twoCommandsFirst(self):
        """
        The first literal block holds exactly C{make run} and C{make test}.
        """
        text = readme()
        block = text[text.index("::\n") :].split("\n\n")[1]
        commands = [line.split("#")[0].strip() for line in block.splitlines()]
        self.assertEqual(commands, ["make run", "make test"])

    def test_everyKeyDocumented(self):
        """
        Every key of every section has an entry (C{``key`` (default ...)})
        under the heading of its section in the configuration reference.
        """
        text = readme()
        reference = text[text.index("Configuration reference\n") :]
        headings = list(re.finditer(r"^``\[(\w+)\]``: .*\n-+\n", reference, re.M))
        documented = {}
        for number, heading in enumerate(headings):
            end = headings[number + 1].start() if number + 1 < len(headings) else len(reference)
            body = reference[heading.end() : end]
            documented[heading.group(1)] = set(re.findall(r"^``(\w+)``", body, re.M))
        for section, options in SCHEMA.items():
            self.assertIn(section, documented, "no reference heading for [%s]" % section)
            missing = set(options) - documented[section]
            self.assertEqual(missing, set(), "[%s] keys not documented" % section)
