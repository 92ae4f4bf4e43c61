"""
Fixtures of the MUC tests at the component level: the real router and MUC
service with memory storage (L{xmuc.testing.muc.MUCHarness}), stanza
builders and readers for muc#owner, muc#admin and room registration, and
room stores that fail or hold saves on demand.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.muc.persistence import stateOf
from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.storage.interfaces import StorageUnavailable
from xmuc.storage.memory import MemoryRoomStore, MemoryStorage
from xmuc.xmpp import ns

ROOM = "room@" + DOMAIN

OWNER_SUBMIT = """<iq id='%s' to='%s' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'>
<x xmlns='jabber:x:data' type='submit'>
<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>%s
</x></query></iq>"""


def mucX(stanza):
    for x in stanza.elements(ns.MUC_USER, "x"):
        return x
    return None


def layout(stanza):
    """
    @return: the children of the muc#user x as C{['status:201', 'item', ...]}.
    """
    x = mucX(stanza)
    return [("status:" + c["code"]) if c.name == "status" else c.name for c in x.elements()]


def codes(stanza):
    x = mucX(stanza)
    return [c["code"] for c in x.elements() if c.name == "status"] if x is not None else []


def item(stanza):
    for child in mucX(stanza).elements(ns.MUC_USER, "item"):
        return dict(child.attributes)


def condition(stanza):
    """
    @return: C{(condition, type, code)} of an error stanza.
    """
    assert stanza.getAttribute("type") == "error", stanza.toXml()
    for error in stanza.elements(None, "error"):
        for child in error.elements(ns.XMPP_STANZAS):
            if child.name != "text":
                return child.name, error.getAttribute("type"), error.getAttribute("code")
    raise AssertionError("no condition in " + stanza.toXml())


def configure(client, fields="", room=ROOM, id="config"):
    client.send(OWNER_SUBMIT % (id, room, fields))
    return client.received()


def field(var, *values):
    return "<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % v for v in values))


class MUCTestCase(unittest.TestCase):
    """
    Common setup: Romeo (owner) created C{room}, unlocked.
    """

    muc = None

    def setUp(self):
        self.harness = MUCHarness(muc=self.muc)
        self.romeo = self.harness.client("user@localhost/balcony")
        self.juliet = self.harness.client("user2@localhost/garden")
        self.rosaline = self.harness.client("user3@localhost/street")

    def room(self):
        return self.harness.muc.rooms.get(ROOM)

    def createRoom(self, fields=None):
        self.romeo.join("room", "Romeo")
        if fields is not None:
            configure(self.romeo, fields)


ADMIN_IQ = "<iq id='%s' to='%s' type='%s'><query xmlns='http://jabber.org/protocol/muc#admin'>%s</query></iq>"


def adminSet(client, items, id="a1", room=ROOM):
    """
    Send a muc#admin set with C{items} (XML) and return what came back.
    """
    client.received()
    client.send(ADMIN_IQ % (id, room, "set", items))
    return client.received()


def adminGet(client, items, id="g1", room=ROOM):
    client.received()
    client.send(ADMIN_IQ % (id, room, "get", items))
    return client.received()


def affItem(jid, affiliation, nick=None, reason=None):
    extra = " nick='%s'" % (nick,) if nick else ""
    body = "<reason>%s</reason>" % (reason,) if reason else ""
    return "<item affiliation='%s' jid='%s'%s>%s</item>" % (affiliation, jid, extra, body)


def roleItem(nick, role, reason=None):
    body = "<reason>%s</reason>" % (reason,) if reason else ""
    return "<item nick='%s' role='%s'>%s</item>" % (nick, role, body)


def iqResult(stanzas, id):
    found = [s for s in stanzas if s.name == "iq" and s.getAttribute("id") == id]
    assert len(found) == 1, [s.toXml() for s in stanzas]
    return found[0]


def listed(result):
    return [dict(child.attributes) for child in result.firstChildElement().elements()]


REGISTER_GET = "<iq id='%s' to='%s' type='get'><query xmlns='jabber:iq:register'/></iq>"
REGISTER_SET = "<iq id='%s' to='%s' type='set'><query xmlns='jabber:iq:register'>%s</query></iq>"
FORM = ("<x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE'><value>%s</value></field>%s</x>")


def registrationForm(nick, formType=ns.MUC_REGISTER):
    nickField = "<field var='muc#register_roomnick'><value>%s</value></field>" % (nick,) if nick is not None else ""
    return FORM % (formType, nickField)


def unregister(client, id="u1"):
    client.received()
    client.send(REGISTER_SET % (id, ROOM, "<remove/>"))
    return client.received()


def populateRoom(testCase, storage, muc=None, memberNick=None, config="", benvolio=False):
    """
    The scene the save-failure tests play in: Romeo owns the persistent
    room C{room}; Juliet (no affiliation) and Mercutio are in it.  The
    clients' inboxes are emptied afterwards.

    @param testCase: gets C{storage}, C{harness}, C{romeo}, C{juliet},
        C{mercutio} (C{benvolio}), C{room} and C{clients} (every client).
    @param storage: the (fault-injecting) storage the service runs on.
    @param muc: optional C{[muc]} settings.
    @param memberNick: when given, Mercutio is a member first, with this
        reserved nick (C{""}: no nick), and joins with it.
    @param config: more owner form fields submitted with the persistence.
    @param benvolio: also make Benvolio, a client outside the room.
    """
    testCase.storage = storage
    testCase.harness = MUCHarness(muc=muc, storage=storage)
    testCase.romeo = testCase.harness.client("romeo@localhost/r")
    testCase.juliet = testCase.harness.client("juliet@localhost/j")
    testCase.mercutio = testCase.harness.client("mercutio@localhost/m")
    testCase.clients = (testCase.romeo, testCase.juliet, testCase.mercutio)
    if benvolio:
        testCase.benvolio = testCase.harness.client("benvolio@localhost/b")
        testCase.clients += (testCase.benvolio,)
    testCase.romeo.join("room", "Romeo")
    configure(testCase.romeo, field("muc#roomconfig_persistentroom", "1") + config)
    if memberNick is not None:
        adminSet(testCase.romeo, affItem("mercutio@localhost", "member", **({"nick": memberNick} if memberNick else {})))
    testCase.juliet.join("room", "Juliet")
    testCase.mercutio.join("room", memberNick or "Mercutio")
    testCase.room = testCase.harness.muc.rooms[ROOM]
    for client in testCase.clients:
        client.received()


class FlakyRoomStore(MemoryRoomStore):
    """
    The memory room store, failing to save or delete while C{failing}.

    @ivar attempts: how many saves/deletes were refused.
    """

    failing = False
    attempts = 0

    def save(self, room_jid, state):
        if self.failing:
            self.attempts += 1
            return defer.fail(StorageUnavailable("memory: rooms are down"))
        return MemoryRoomStore.save(self, room_jid, state)

    def delete(self, room_jid):
        if self.failing:
            self.attempts += 1
            return defer.fail(StorageUnavailable("memory: rooms are down"))
        return MemoryRoomStore.delete(self, room_jid)


class FlakyStorage(MemoryStorage):
    def __init__(self):
        MemoryStorage.__init__(self)
        self.rooms = FlakyRoomStore()


class HeldRoomStore(MemoryRoomStore):
    """
    The memory room store whose saves wait, while C{holding}, until the
    test lets each one through (L{release}) or fails it (L{fail}).

    @ivar held: C{[(Deferred, room JID, state)]} of the waiting saves.
    """

    holding = False

    def __init__(self):
        MemoryRoomStore.__init__(self)
        self.held = []

    def save(self, room_jid, state):
        if not self.holding:
            return MemoryRoomStore.save(self, room_jid, state)
        d = defer.Deferred()
        self.held.append((d, room_jid, state))
        return d

    def release(self):
        """
        Store the oldest waiting save, then fire it.
        """
        d, roomJID, state = self.held.pop(0)
        MemoryRoomStore.save(self, roomJID, state).chainDeferred(d)

    def fail(self):
        """
        Fail the oldest waiting save; storage keeps what it had.
        """
        d, _, _ = self.held.pop(0)
        d.errback(StorageUnavailable("memory: rooms are down"))


class HeldStorage(MemoryStorage):
    def __init__(self):
        MemoryStorage.__init__(self)
        self.rooms = HeldRoomStore()


class RoomStateMixin:
    """
    Romeo owns the persistent room; Juliet (no affiliation, participant)
    and Mercutio (member, nick Merc reserved) are in it.
    """

    storageFactory = None

    def setUp(self):
        populateRoom(self, self.storageFactory(), memberNick="Merc",
                     config=field("muc#roomconfig_changesubject", "1"), benvolio=True)

    @defer.inlineCallbacks
    def stored(self):
        return (yield self.storage.rooms.get(ROOM))

    @defer.inlineCallbacks
    def assertStorageMatchesRoom(self):
        self.assertEqual((yield self.stored()), json.loads(json.dumps(stateOf(self.room))))
