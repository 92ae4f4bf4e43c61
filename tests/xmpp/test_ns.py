"""
L{xmuc.xmpp.ns} is the one home of XML namespaces.
"""

import ast
import os
import re

from twisted.trial import unittest

import xmuc
from xmuc.xmpp import ns

#: What an XMPP namespace name looks like.
_NAMESPACE = re.compile(r"^(urn:|jabber:|vcard-temp$|https?://(jabber\.org|etherx\.jabber\.org|www\.w3\.org)/)")


def _namespaceConstants(tree):
    """
    @return: the names of the module-level constants of C{tree} holding a
        namespace name (or a tuple of them).
    """
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        if any(isinstance(v, ast.Constant) and isinstance(v.value, str) and _NAMESPACE.match(v.value)
               for v in values):
            yield from (target.id for target in node.targets if isinstance(target, ast.Name))


class NamespaceTests(unittest.TestCase):
    def test_oneHome(self):
        """
        No module of xmuc but L{xmuc.xmpp.ns} defines a namespace constant.
        """
        root = os.path.dirname(os.path.abspath(xmuc.__file__))
        home = os.path.join(root, "xmpp", "ns.py")
        found = []
        for directory, _, files in os.walk(root):
            for name in files:
                path = os.path.join(directory, name)
                if not name.endswith(".py") or path == home:
                    continue
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), path)
                found.extend("%s: %s" % (os.path.relpath(path, root), constant)
                             for constant in _namespaceConstants(tree))
        self.assertEqual(found, [])

    def test_noDuplicates(self):
        """
        Each namespace has one name in L{xmuc.xmpp.ns}.
        """
        byValue = {}
        for name, value in vars(ns).items():
            if name.isupper():
                byValue.setdefault(value, []).append(name)
        self.assertEqual({value: names for value, names in byValue.items() if len(names) > 1}, {})

    def test_detectsConstants(self):
        """
        The search of L{test_oneHome} finds namespace constants, single or
        in tuples, and nothing else.
        """
        tree = ast.parse(
            "A = 'urn:xmpp:x:0'\nB = ('jabber:iq:x', 'urn:y')\nC = 'http://jabber.org/protocol/z'\n"
            "D = 'text'\nE = 3\ndef f():\n    G = 'urn:local'\n"
        )
        self.assertEqual(list(_namespaceConstants(tree)), ["A", "B", "C"])
