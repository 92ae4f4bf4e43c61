"""
The MUC's event names: every name a module of L{xmuc.muc} registers a
handler for or fires is a constant of the catalogue L{xmuc.muc.hooks},
never a string literal, and every catalogued event is fired somewhere.
"""

import ast
import pathlib

from twisted.trial import unittest

import xmuc.muc
from xmuc.hooks import UncataloguedEvent
from xmuc.muc import hooks
from xmuc.testing.muc import MUCHarness

PACKAGE = pathlib.Path(xmuc.muc.__file__).parent


def hookCalls():
    """
    @return: C{[(file name, line, method, first argument node)]} of every
        C{<something>.hooks.add/fire/has/remove(...)} call in the package
        (but those on the server's registry, C{server.hooks}, whose
        catalogue is L{xmuc.hooks.SERVER_EVENTS}).
    """
    calls = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("add", "fire", "has", "remove")
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "hooks"
                    and not (isinstance(node.func.value.value, ast.Attribute) and node.func.value.value.attr == "server")
                    and node.args):
                calls.append((path.name, node.lineno, node.func.attr, node.args[0]))
    return calls


def catalogueNames(node):
    """
    @return: the catalogue constants an event-name expression is built
        from (C{hooks.NAME}, C{hooks.FAMILY + suffix}, or a conditional
        between such), or L{None} when it is built otherwise.
    """
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "hooks":
        return [node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        names = catalogueNames(node.left)
        if names and all(getattr(hooks, name, "").endswith(":") for name in names):
            return names
        return None
    if isinstance(node, ast.IfExp):
        body, orelse = catalogueNames(node.body), catalogueNames(node.orelse)
        if body and orelse:
            return body + orelse
    return None


class CatalogueTests(unittest.TestCase):
    def test_namesAreCatalogueConstants(self):
        """
        Every event name given to the hooks is built from constants of the
        catalogue, and each constant is in L{hooks.MUC_EVENTS}.
        """
        calls = hookCalls()
        self.assertGreater(len(calls), 100)
        for fileName, line, method, node in calls:
            names = catalogueNames(node)
            self.assertIsNotNone(names, "%s:%d: %s() with %s" % (fileName, line, method, ast.unparse(node)))
            for name in names:
                self.assertIn(getattr(hooks, name, None), hooks.MUC_EVENTS, "%s:%d: hooks.%s" % (fileName, line, name))

    def test_everyEventFired(self):
        """
        Every catalogued event is fired by some module of the package: the
        catalogue lists no event that cannot happen.
        """
        fired = set()
        for _, _, method, node in hookCalls():
            if method == "fire":
                fired.update(getattr(hooks, name) for name in catalogueNames(node) or ())
        self.assertEqual(hooks.MUC_EVENTS - fired, set())

    def test_serviceRefusesUncatalogued(self):
        """
        The service's registry is bound to the catalogue: a misspelt event
        name fails at once instead of never firing.
        """
        service = MUCHarness().muc
        self.assertIs(service.hooks.catalogue, hooks.MUC_EVENTS)
        self.assertRaises(UncataloguedEvent, service.hooks.add, "pre-join", lambda **kw: None)
        self.assertRaises(UncataloguedEvent, service.hooks.fire, "occupant-joind")
