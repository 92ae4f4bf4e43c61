"""
Every data form xmuc sends, fetched over a real stream, matches the field
types of its registry (XEP-0045, XEP-0077, XEP-0313, XEP-0060) and is
read by aioxmpp's data-forms code, strict templates included: the room
configuration, the room information in disco#info, room registration, the
voice request a moderator gets, the archive search forms of rooms and
accounts, PEP node configuration, and account registration.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import connectTestClient
from tests.support.formregistry import (
    MAM,
    MUC_REGISTER,
    MUC_REQUEST,
    MUC_ROOMCONFIG,
    MUC_ROOMINFO,
    NS_DATA,
    PUBSUB_NODE_CONFIG,
    REGISTRY,
    formProblems,
    xepRegistry,
)
from tests.support.slixmpp import ACCOUNTS, startClientServer

XEPS = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, os.pardir, "shared", "xeps")
)

ROOM = "forms@conference.localhost"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"


def formsIn(element):
    """
    @return: every C{jabber:x:data} form anywhere below C{element}.
    """
    found = []
    for child in element.elements():
        if child.uri == NS_DATA and child.name == "x":
            found.append(child)
        else:
            found.extend(formsIn(child))
    return found


def isSelfPresence(stanza):
    if stanza.name != "presence":
        return False
    for x in stanza.elements(NS_MUC_USER, "x"):
        return any(status.getAttribute("code") == "110" for status in x.elements(NS_MUC_USER, "status"))
    return False


class RegistryTests(unittest.TestCase):
    def test_registryIsTheXEPs(self):
        """
        The registry the form checks use is the one of the XEP sources
        (C{../shared/xeps}).
        """
        if not os.path.isdir(XEPS):
            reason = "no XEP sources in %s" % (XEPS,)
            if os.environ.get("XMUC_REQUIRE_SEEDS") == "1":
                raise AssertionError(reason + " and XMUC_REQUIRE_SEEDS=1")
            raise unittest.SkipTest(reason)
        self.assertEqual(xepRegistry(XEPS), REGISTRY)


class FormTests(unittest.TestCase):
    timeout = 30

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startClientServer(
            self,
            {
                "c2s": {"allow_registration": "true"},
                "muc": {"allow_unaffiliated_registration": "true"},
            },
        )

    @defer.inlineCallbacks
    def login(self, user):
        client = yield connectTestClient(self, self.running)
        yield client.login(user, ACCOUNTS[user], "forms", tls=True)
        client.send("<presence/>")
        return client

    @defer.inlineCallbacks
    def join(self, client, nick):
        """
        Join (or create) L{ROOM}; return when one's own presence came.
        """
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, NS_MUC))
        while True:
            stanza = yield client.receive()
            if isSelfPresence(stanza):
                return stanza

    @defer.inlineCallbacks
    def createRoom(self, client, fields=""):
        """
        Create L{ROOM} as C{Alice} and submit its configuration (which
        unlocks it) with C{fields} (XML) changed.
        """
        yield self.join(client, "Alice")
        reply = yield client.iq(
            "<iq type='set' id='create' to='%s'><query xmlns='%s#owner'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>%s</value></field>%s</x></query></iq>"
            % (ROOM, NS_MUC, MUC_ROOMCONFIG, fields)
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())

    def assertConforms(self, element, formType):
        """
        C{element} holds exactly one form, of C{formType}, that matches its
        registry and that aioxmpp reads.

        @return: the names of its fields.
        """
        found = formsIn(element)
        self.assertEqual(len(found), 1, element.toXml())
        sentType, problems = formProblems(found[0])
        self.assertEqual(sentType, formType)
        self.assertEqual(problems, [], found[0].toXml())
        return {field.getAttribute("var") for field in found[0].elements(NS_DATA, "field")}

    @defer.inlineCallbacks
    def test_roomConfiguration(self):
        """
        The owner's C{muc#roomconfig} form, of a new room and of a
        configured one.
        """
        alice = yield self.login("alice")
        yield self.join(alice, "Alice")
        reply = yield alice.iq("<iq type='get' id='c1' to='%s'><query xmlns='%s#owner'/></iq>" % (ROOM, NS_MUC))
        self.assertConforms(reply, MUC_ROOMCONFIG)
        yield alice.iq(
            "<iq type='set' id='c2' to='%s'><query xmlns='%s#owner'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>%s</value></field>"
            "<field var='muc#roomconfig_maxusers'><value>30</value></field>"
            "<field var='muc#roomconfig_roomname'><value>Forms</value></field></x></query></iq>"
            % (ROOM, NS_MUC, MUC_ROOMCONFIG)
        )
        reply = yield alice.iq("<iq type='get' id='c3' to='%s'><query xmlns='%s#owner'/></iq>" % (ROOM, NS_MUC))
        self.assertConforms(reply, MUC_ROOMCONFIG)

    @defer.inlineCallbacks
    def test_roomInformation(self):
        """
        The C{muc#roominfo} form of a room's disco#info, with every
        optional field present.
        """
        alice = yield self.login("alice")
        yield self.createRoom(
            alice,
            "<field var='muc#roomconfig_roomdesc'><value>About forms</value></field>"
            "<field var='muc#roomconfig_lang'><value>en</value></field>",
        )
        bob = yield self.login("bob")
        reply = yield bob.iq(
            "<iq type='get' id='i1' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (ROOM,)
        )
        fields = self.assertConforms(reply, MUC_ROOMINFO)
        self.assertIn("muc#roominfo_lang", fields)

    @defer.inlineCallbacks
    def test_roomRegistration(self):
        """
        The C{muc#register} form a user gets to register with a room.
        """
        alice = yield self.login("alice")
        yield self.createRoom(alice)
        bob = yield self.login("bob")
        reply = yield bob.iq("<iq type='get' id='r1' to='%s'><query xmlns='jabber:iq:register'/></iq>" % (ROOM,))
        self.assertConforms(reply, MUC_REGISTER)

    @defer.inlineCallbacks
    def test_voiceRequest(self):
        """
        The C{muc#request} form a moderator gets when a visitor asks for
        voice.
        """
        alice = yield self.login("alice")
        yield self.createRoom(alice, "<field var='muc#roomconfig_moderatedroom'><value>1</value></field>")
        bob = yield self.login("bob")
        presence = yield self.join(bob, "Bob")
        self.assertIn("role='visitor'", presence.toXml())
        bob.send(
            "<message to='%s'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>%s</value></field>"
            "<field var='muc#role' type='list-single'><value>participant</value></field></x></message>"
            % (ROOM, MUC_REQUEST)
        )
        while True:
            stanza = yield alice.receive()
            if stanza.name == "message" and formsIn(stanza):
                break
        self.assertConforms(stanza, MUC_REQUEST)

    @defer.inlineCallbacks
    def test_archiveSearch(self):
        """
        The XEP-0313 search form of a room's archive and of an account's.
        """
        alice = yield self.login("alice")
        yield self.createRoom(alice)
        for to in (ROOM, "alice@localhost"):
            reply = yield alice.iq("<iq type='get' id='m-%s' to='%s'><query xmlns='%s'/></iq>" % (to, to, MAM))
            self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
            self.assertConforms(reply, MAM)

    @defer.inlineCallbacks
    def test_pepNodeConfiguration(self):
        """
        The XEP-0060 node configuration form of a PEP node, and the default
        one.
        """
        alice = yield self.login("alice")
        reply = yield alice.iq(
            "<iq type='set' id='p1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            "<publish node='urn:xmpp:example'><item id='current'><thing xmlns='urn:xmpp:example'/></item>"
            "</publish></pubsub></iq>"
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        for request in ("<configure node='urn:xmpp:example'/>", "<default/>"):
            reply = yield alice.iq(
                "<iq type='get' id='p2'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>%s</pubsub></iq>"
                % (request,)
            )
            self.assertConforms(reply, PUBSUB_NODE_CONFIG)

    @defer.inlineCallbacks
    def test_accountRegistration(self):
        """
        In-band registration (XEP-0077) asks with the standard fields, and
        any data form it adds matches the C{jabber:iq:register} registry.
        """
        client = yield connectTestClient(self, self.running)
        yield client.openStream()
        yield client.startTLS()
        reply = yield client.iq("<iq type='get' id='reg'><query xmlns='jabber:iq:register'/></iq>")
        query = reply.firstChildElement()
        self.assertEqual(
            {child.name for child in query.elements() if child.uri == "jabber:iq:register"} >= {"username", "password"},
            True,
            reply.toXml(),
        )
        for form in formsIn(query):
            self.assertEqual(formProblems(form)[1], [], form.toXml())
