"""
Hats (XEP-0317, L{xmuc.muc.hats}) and the room's ad-hoc commands
(XEP-0050, L{xmuc.muc.commands}): owners define hats and put them on
users; the hats are shown in those users' occupant presence (in the
XEP's namespace and Prosody 0.12's), stored with the room; clients cannot
claim hats.  Over real sockets, on an SQLite file for the restart.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import NS_CLIENT, errorCondition, firstChild
from tests.support.database import NS_DISCO_INFO, ROOM, SERVICE, ServerOnDatabase, assertResult, field, formFields, statusCodes

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DATA = "jabber:x:data"
NS_HATS = "urn:xmpp:hats:0"
NS_HATS_LEGACY = "xmpp:prosody.im/protocol/hats:1"
NODE = "urn:xmpp:hats:commands:"
HOST = "http://schemas.example.com/hats#host"
SCRIBE = "http://schemas.example.com/hats#scribe"


def command(client, node, fields=None, action="execute"):
    """
    Run command C{node} of the balcony, with a submitted form of C{fields}
    (C{{var: value}}) or none.

    @return: Deferred firing with the reply iq.
    """
    form = ""
    if fields is not None:
        form = "<x xmlns='%s' type='submit'>%s%s</x>" % (
            NS_DATA, field("FORM_TYPE", "urn:xmpp:hats:commands"), "".join(field(var, value) for var, value in fields.items()))
    return client.iq(ROOM, "set", "<command xmlns='%s' node='%s%s' action='%s'>%s</command>" % (NS_COMMANDS, NODE, node, action, form))


def completed(reply):
    """
    @return: the C{<command/>} of a reply that completed the command.
    """
    assertResult(reply)
    element = firstChild(reply, NS_COMMANDS, "command")
    if element.getAttribute("status") != "completed":
        raise AssertionError(reply.toXml())
    return element


def rows(element):
    """
    @return: the C{<item/>}s of the result form of C{element} as dicts.
    """
    x = firstChild(element, NS_DATA, "x")
    return [{f.getAttribute("var"): str(firstChild(f, NS_DATA, "value")) for f in item.elements(NS_DATA, "field")}
            for item in x.elements(NS_DATA, "item")]


def hatsIn(presence, namespace=NS_HATS):
    """
    @return: C{[(uri, title, hue)]} of the hats in C{presence}.
    """
    hats = firstChild(presence, namespace, "hats")
    if hats is None:
        return []
    return [(h.getAttribute("uri"), h.getAttribute("title"), h.getAttribute("hue")) for h in hats.elements(namespace, "hat")]


def presenceOf(nick):
    return lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/" + nick


class HatTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        storage = {"backend": "sqlite", "path": os.path.abspath(self.mktemp()) + ".sqlite"}
        self.server = ServerOnDatabase(self, storage, {"muc": {"lock_new_rooms": "false"}})
        yield self.server.start()
        yield self.server.register("romeo", "juliet", "nurse")
        self.romeo = yield self.server.login("romeo")
        self.juliet = yield self.server.login("juliet")
        yield self.romeo.join(ROOM, "Romeo")
        assertResult((yield self.romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        yield self.juliet.join(ROOM, "Juliet")
        yield self.romeo.waitFor(presenceOf("Juliet"))

    @defer.inlineCallbacks
    def test_commandsDiscovered(self):
        """
        The room advertises hats and ad-hoc commands; an owner finds the six
        hat commands, someone else only the list; a command's node is
        described; the first stage of a command returns its form.
        """
        reply = yield self.juliet.iq(ROOM, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        features = [f.getAttribute("var") for f in firstChild(reply, NS_DISCO_INFO, "query").elements(NS_DISCO_INFO, "feature")]
        self.assertIn(NS_HATS, features)
        self.assertIn(NS_COMMANDS, features)

        def nodes(reply):
            return [i.getAttribute("node") for i in firstChild(reply, NS_DISCO_ITEMS, "query").elements(NS_DISCO_ITEMS, "item")]

        query = "<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, NS_COMMANDS)
        self.assertEqual(nodes((yield self.romeo.iq(ROOM, "get", query))),
                         [NODE + n for n in ("create", "destroy", "list", "assign", "unassign", "list-assigned")])
        self.assertEqual(nodes((yield self.juliet.iq(ROOM, "get", query))), [NODE + "list"])

        reply = yield self.romeo.iq(ROOM, "get", "<query xmlns='%s' node='%sassign'/>" % (NS_DISCO_INFO, NODE))
        identity = firstChild(firstChild(reply, NS_DISCO_INFO, "query"), NS_DISCO_INFO, "identity")
        self.assertEqual((identity["category"], identity["type"]), ("automation", "command-node"))

        reply = yield command(self.romeo, "create")
        assertResult(reply)
        element = firstChild(reply, NS_COMMANDS, "command")
        self.assertEqual(element["status"], "executing")
        self.assertEqual(sorted(formFields(element)), ["FORM_TYPE", "hats#hue", "hats#title", "hats#uri"])

    @defer.inlineCallbacks
    def test_assignShownAndStored(self):
        """
        An owner creates two hats and puts them on Juliet: everyone gets
        her presence with the hats (in both namespaces), the lists show
        them, and after a restart a joining Juliet still wears them.
        """
        completed((yield command(self.romeo, "create", {"hats#title": "Host", "hats#uri": HOST, "hats#hue": "327.25"})))
        notice = yield self.juliet.waitFor(lambda s: s.name == "message" and s.getAttribute("from") == ROOM)
        self.assertEqual(statusCodes(notice), ["104"])
        completed((yield command(self.romeo, "create", {"hats#title": "Scribe", "hats#uri": SCRIBE})))
        completed((yield command(self.romeo, "assign", {"hats#jid": "juliet@localhost", "hats#uri": HOST})))
        seen = yield self.romeo.waitFor(presenceOf("Juliet"))
        self.assertEqual(hatsIn(seen), [(HOST, "Host", "327.25")])
        completed((yield command(self.romeo, "assign", {"hats#jid": "juliet@localhost/balcony", "hats#uri": SCRIBE})))
        own = yield self.juliet.waitFor(presenceOf("Juliet"))
        while len(hatsIn(own)) < 2:
            own = yield self.juliet.waitFor(presenceOf("Juliet"))
        self.assertEqual(hatsIn(own), [(HOST, "Host", "327.25"), (SCRIBE, "Scribe", None)])
        self.assertEqual(hatsIn(own, NS_HATS_LEGACY), [(HOST, "Host", None), (SCRIBE, "Scribe", None)])

        listed = completed((yield command(self.juliet, "list")))
        self.assertEqual(rows(listed), [{"hats#title": "Host", "hats#uri": HOST, "hats#hue": "327.25"},
                                        {"hats#title": "Scribe", "hats#uri": SCRIBE}])
        assigned = completed((yield command(self.romeo, "list-assigned")))
        self.assertEqual([(r["hats#jid"], r["hats#uri"]) for r in rows(assigned)],
                         [("juliet@localhost", HOST), ("juliet@localhost", SCRIBE)])
        reply = yield self.juliet.iq(ROOM, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertEqual(len(formFields(firstChild(reply, NS_DISCO_INFO, "query"))["hats#hash"][0]), 40)

        yield self.server.stop()
        yield self.server.start()
        romeo = yield self.server.login("romeo")
        juliet = yield self.server.login("juliet")
        yield romeo.join(ROOM, "Romeo")
        received = yield juliet.join(ROOM, "Juliet")
        own = [s for s in received if presenceOf("Juliet")(s)]
        self.assertEqual(hatsIn(own[0]), [(HOST, "Host", "327.25"), (SCRIBE, "Scribe", None)])
        self.assertEqual(hatsIn((yield romeo.waitFor(presenceOf("Juliet")))), [(HOST, "Host", "327.25"), (SCRIBE, "Scribe", None)])

    @defer.inlineCallbacks
    def test_unassignAndDestroy(self):
        """
        Taking a hat off, or destroying it, gives the wearer's presence
        without it; what is not there is C{item-not-found}.
        """
        completed((yield command(self.romeo, "create", {"hats#title": "Host", "hats#uri": HOST})))
        completed((yield command(self.romeo, "create", {"hats#title": "Scribe", "hats#uri": SCRIBE})))
        for uri in (HOST, SCRIBE):
            completed((yield command(self.romeo, "assign", {"hats#jid": "juliet@localhost", "hats#uri": uri})))
        completed((yield command(self.romeo, "unassign", {"hats#jid": "juliet@localhost", "hats#uri": HOST})))
        seen = yield self.romeo.waitFor(lambda s: presenceOf("Juliet")(s) and hatsIn(s) == [(SCRIBE, "Scribe", None)])
        reply = yield command(self.romeo, "unassign", {"hats#jid": "juliet@localhost", "hats#uri": HOST})
        self.assertEqual(errorCondition(reply), "item-not-found")
        completed((yield command(self.romeo, "destroy", {"hats#uri": SCRIBE})))
        seen = yield self.romeo.waitFor(lambda s: presenceOf("Juliet")(s) and not hatsIn(s))
        self.assertIsNone(firstChild(seen, NS_HATS_LEGACY, "hats"))
        reply = yield command(self.romeo, "assign", {"hats#jid": "juliet@localhost", "hats#uri": SCRIBE})
        self.assertEqual(errorCondition(reply), "item-not-found")
        self.assertEqual(rows(completed((yield command(self.romeo, "list-assigned")))), [])

    @defer.inlineCallbacks
    def test_refused(self):
        """
        Someone neither owner nor admin may not change hats (C{forbidden});
        missing fields are C{bad-request}, a bad hue C{not-acceptable}, an
        unknown node C{item-not-found}, an unknown action C{bad-request}
        with C{malformed-action}; a cancel ends the command.
        """
        reply = yield command(self.juliet, "create", {"hats#title": "Queen", "hats#uri": HOST})
        self.assertEqual(errorCondition(reply), "forbidden")
        reply = yield command(self.juliet, "list-assigned")
        self.assertEqual(errorCondition(reply), "forbidden")
        reply = yield command(self.romeo, "create", {"hats#title": "Host"})
        self.assertEqual(errorCondition(reply), "bad-request")
        reply = yield command(self.romeo, "create", {"hats#title": "Host", "hats#uri": HOST, "hats#hue": "400"})
        self.assertEqual(errorCondition(reply), "not-acceptable")
        reply = yield command(self.romeo, "nonsense")
        self.assertEqual(errorCondition(reply), "item-not-found")
        reply = yield command(self.romeo, "list", action="dance")
        self.assertEqual(errorCondition(reply), "bad-request")
        error = firstChild(reply, NS_CLIENT, "error")
        self.assertIsNotNone(firstChild(error, NS_COMMANDS, "malformed-action"))
        reply = yield command(self.romeo, "create", action="cancel")
        self.assertEqual(firstChild(reply, NS_COMMANDS, "command")["status"], "canceled")
        self.assertEqual(rows(completed((yield command(self.romeo, "list")))), [])

    @defer.inlineCallbacks
    def test_clientCannotClaimHats(self):
        """
        Hats a client writes in its own presence are not relayed.
        """
        self.juliet.send("<presence xmlns='%s' to='%s/Juliet'><hats xmlns='%s'><hat uri='%s' title='Queen'/></hats>"
                         "<hats xmlns='%s'><hat uri='%s' title='Queen'/></hats></presence>"
                         % (NS_CLIENT, ROOM, NS_HATS, HOST, NS_HATS_LEGACY, HOST))
        seen = yield self.romeo.waitFor(presenceOf("Juliet"))
        self.assertEqual((hatsIn(seen), hatsIn(seen, NS_HATS_LEGACY)), ([], []))


def serviceCommand(client, node, fields=None):
    """
    Run Prosody's hat command C{node} (C{add}, C{remove}, C{list}) on the
    service, with a submitted form of C{fields} or none.

    @return: Deferred firing with the reply iq.
    """
    form = ""
    if fields is not None:
        form = "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, "".join(field(var, value) for var, value in fields.items()))
    return client.iq(SERVICE, "set", "<command xmlns='%s' node='http://prosody.im/protocol/hats#%s' action='execute'>%s</command>"
                     % (NS_COMMANDS, node, form))


class ProsodyHatCommandTests(unittest.TestCase):
    """
    Prosody's commands (mod_muc_hats_adhoc) on the service: server
    administrators add, remove and list a user's hats in a room.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.server = ServerOnDatabase(self, {"backend": "memory"},
                                       {"muc": {"lock_new_rooms": "false"}, "server": {"admins": "nurse@localhost"}})
        yield self.server.start()
        yield self.server.register("romeo", "juliet", "nurse")
        self.romeo = yield self.server.login("romeo")
        self.juliet = yield self.server.login("juliet")
        self.nurse = yield self.server.login("nurse")
        yield self.romeo.join(ROOM, "Romeo")
        yield self.juliet.join(ROOM, "Juliet")
        yield self.romeo.waitFor(presenceOf("Juliet"))

    @defer.inlineCallbacks
    def test_addListRemove(self):
        """
        The administrator finds the three commands on the service, gets a
        form, adds a hat (shown in the wearer's presence), lists it,
        removes it.
        """
        reply = yield self.nurse.iq(SERVICE, "get", "<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, NS_COMMANDS))
        nodes = [i.getAttribute("node") for i in firstChild(reply, NS_DISCO_ITEMS, "query").elements(NS_DISCO_ITEMS, "item")]
        self.assertEqual(nodes, ["http://prosody.im/protocol/hats#" + n for n in ("add", "remove", "list")])
        reply = yield serviceCommand(self.nurse, "add")
        assertResult(reply)
        self.assertEqual(sorted(formFields(firstChild(reply, NS_COMMANDS, "command"))), ["room", "title", "uri", "user"])

        completed((yield serviceCommand(self.nurse, "add", {"user": "juliet@localhost", "room": ROOM, "title": "Host", "uri": HOST})))
        seen = yield self.romeo.waitFor(presenceOf("Juliet"))
        self.assertEqual(hatsIn(seen), [(HOST, "Host", None)])
        listed = completed((yield serviceCommand(self.nurse, "list", {"user": "juliet@localhost", "room": ROOM})))
        self.assertEqual(rows(listed), [{"uri": HOST, "title": "Host"}])

        completed((yield serviceCommand(self.nurse, "remove", {"user": "juliet@localhost", "room": ROOM, "uri": HOST})))
        seen = yield self.romeo.waitFor(presenceOf("Juliet"))
        self.assertEqual(hatsIn(seen), [])

    @defer.inlineCallbacks
    def test_refused(self):
        """
        Others than server administrators get C{forbidden} (and no command
        listed); a room that does not exist is C{item-not-found}.
        """
        reply = yield serviceCommand(self.romeo, "add", {"user": "juliet@localhost", "room": ROOM, "uri": HOST})
        self.assertEqual(errorCondition(reply), "forbidden")
        reply = yield self.romeo.iq(SERVICE, "get", "<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, NS_COMMANDS))
        self.assertEqual(list(firstChild(reply, NS_DISCO_ITEMS, "query").elements()), [])
        reply = yield serviceCommand(self.nurse, "add", {"user": "juliet@localhost", "room": "nowhere@" + SERVICE, "uri": HOST})
        self.assertEqual(errorCondition(reply), "item-not-found")
