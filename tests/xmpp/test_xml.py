"""
No client can write markup into another client's stream through a
namespace name.

Two defences, each pinned down on its own:

 - the stream parser refuses a namespace name holding a quote, C{<}, C{>}
   or C{&} with a C{policy-violation} stream error, whatever path the
   stanza was headed for, and nothing of it is delivered or stored;
 - the serializer escapes namespace names, so an element that reaches the
   server by another way than the parser (built in code, loaded from
   storage) is delivered intact through chat, groupchat, room history,
   presence, carbons, offline storage and both archives: the recipient
   parses exactly one stanza, with the namespace name unchanged.
"""

from twisted.internet import defer
from twisted.trial import unittest
from twisted.words.xish import domish

from tests.support.client import StreamClosed
from tests.support.wire import LoggedInClients
from xmuc.xmpp.xml import EscapingSerializer

ROOM = "den@conference.localhost"
MUC = "http://jabber.org/protocol/muc"
MAM = "urn:xmpp:mam:2"
FORWARD = "urn:xmpp:forward:0"
CARBONS = "urn:xmpp:carbons:2"

#: A namespace name that, written raw between quotes, closes the
#: declaration and the stanza, and slips in a stanza of its own.  (A
#: namespace name cannot hold white space: expat keeps it for itself.)
FORGING_URI = "urn:x'/></message><message><body>forged</body></message><message><x>"

def declared(uri):
    """
    @return: C{uri} as an XML attribute value (the way a client writes it).
    """
    return domish.escapeToXml(uri, 1).replace("'", "&apos;")


class EscapingSerializerTests(unittest.TestCase):
    """
    Every namespace declaration the serializer writes is escaped; the text
    parses back to the same element.
    """

    def reparse(self, text):
        found = []
        stream = domish.elementStream()
        stream.DocumentStartEvent = lambda root: None
        stream.ElementEvent = found.append
        stream.DocumentEndEvent = lambda: None
        stream.parse("<w xmlns='jabber:client'>" + text + "</w>")
        self.assertEqual(len(found), 1, text)
        return found[0]

    def test_defaultNamespace(self):
        """
        A child in a default namespace holding markup is written escaped.
        """
        message = domish.Element(("jabber:client", "message"))
        message.addElement((FORGING_URI, "x"))
        text = message.toXml(defaultUri="jabber:client")
        self.assertNotIn("<body>forged", text)
        (child,) = list(self.reparse(text).elements())
        self.assertEqual(child.uri, FORGING_URI)

    def test_prefixedNamespace(self):
        """
        A prefix declared by the element (C{localPrefixes}) and one made up
        for a qualified attribute are written escaped.
        """
        message = domish.Element(("jabber:client", "message"), localPrefixes={"p": FORGING_URI})
        message[(FORGING_URI + "2", "a")] = "v"
        reparsed = self.reparse(message.toXml(defaultUri="jabber:client"))
        self.assertEqual(reparsed.attributes[(FORGING_URI + "2", "a")], "v")

    def test_installed(self):
        """
        Importing xmuc makes the escaping serializer domish's serializer,
        so C{toXml} anywhere (C{XmlStream.send} included) escapes.
        """
        self.assertIs(domish.SerializerClass, EscapingSerializer)


class ForgeryTestCase(LoggedInClients, unittest.TestCase):
    """
    A server with MUC, and helpers to log in and read stanzas.
    """


    def join(self, client, nick):
        return self.joinRoom(client, ROOM, nick)

    @defer.inlineCallbacks
    def assertNothingForged(self, client):
        """
        Everything C{client} received parsed as the stanzas sent: none is
        the one the namespace name smuggles in.
        """
        yield self.assertServed(client)
        for element in client.received:
            bodies = [str(body) for body in element.elements("jabber:client", "body")]
            self.assertNotIn("forged", bodies, element.toXml())

    def serverSession(self, full):
        """
        @return: the server's session bound to C{full}.
        """
        bare = full.split("/")[0]
        (session,) = [s for s in self.running.server.sm.sessionsOf(bare) if s.jid.full() == full]
        return session


class ParserRefusesTests(ForgeryTestCase):
    """
    A namespace name holding markup characters is a stream error for its
    sender, on every path, and nothing of the stanza goes anywhere.
    """

    @defer.inlineCallbacks
    def assertRefused(self, client, stanza):
        client.send(stanza)
        while True:
            try:
                element = yield client.receive()
            except StreamClosed:
                self.fail("stream closed without a stream error")
            if element.name == "error" and element.uri == "http://etherx.jabber.org/streams":
                break
        self.assertIsNotNone(element.firstChildElement())
        self.assertEqual(element.firstChildElement().name, "policy-violation")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_chatDefaultNamespace(self):
        """
        A chat message with a child in such a namespace ends the sender's
        stream; the recipient gets nothing and is still served.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.assertRefused(
            alice,
            "<message to='bob@localhost/r' type='chat'><body>hi</body><x xmlns='%s'/></message>"
            % (declared(FORGING_URI),),
        )
        yield self.assertNothingForged(bob)
        self.assertEqual([e for e in bob.received if e.name == "message"], [])

    @defer.inlineCallbacks
    def test_prefixDeclaration(self):
        """
        A prefixed declaration, and one used only by an attribute, are
        refused too.
        """
        for stanza in (
            "<message to='bob@localhost' xmlns:p='%s'><p:x/></message>",
            "<message to='bob@localhost' xmlns:p='%s' p:a='v'/>",
        ):
            alice = yield self.login("alice", available=False)
            yield self.assertRefused(alice, stanza % (declared("a<b"),))

    @defer.inlineCallbacks
    def test_eachCharacter(self):
        """
        Each of the five characters is refused on its own.
        """
        for uri in ("urn:'", 'urn:"', "urn:<", "urn:>", "urn:&"):
            alice = yield self.login("alice", available=False)
            yield self.assertRefused(
                alice, "<message to='bob@localhost'><x xmlns='%s'/></message>" % (declared(uri),)
            )

    @defer.inlineCallbacks
    def test_groupchat(self):
        """
        A groupchat message carrying such a namespace ends the sender's
        stream; the other occupant stays connected, and neither the room's
        history nor its archive holds the message.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(alice, "alice")
        yield self.join(bob, "bob")
        yield self.assertRefused(
            alice,
            "<message to='%s' type='groupchat'><body>x</body><x xmlns='%s'/></message>"
            % (ROOM, declared(FORGING_URI)),
        )
        yield self.assertNothingForged(bob)
        carol = yield self.login("carol")
        yield self.join(carol, "carol")
        self.assertEqual(
            [e for e in carol.received if e.name == "message" and e.body is not None], []
        )

    @defer.inlineCallbacks
    def test_presenceAndOffline(self):
        """
        Directed presence and a message to an offline account carrying such
        a namespace are refused: the offline store stays empty.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.assertRefused(
            alice, "<presence to='bob@localhost/r'><x xmlns='%s'/></presence>" % (declared(FORGING_URI),)
        )
        yield self.assertNothingForged(bob)
        alice = yield self.login("alice")
        yield self.assertRefused(
            alice, "<message to='dave@localhost' type='chat'><body>x</body><x xmlns='%s'/></message>"
            % (declared(FORGING_URI),),
        )
        dave = yield self.login("dave")
        yield self.assertServed(dave)
        self.assertEqual([e for e in dave.received if e.name == "message"], [])


class SerializerEscapesTests(ForgeryTestCase):
    """
    An element holding such a namespace name that reaches the server
    without the parser (given straight to the client session here) is
    delivered intact on every path: the recipient parses one stanza with
    the namespace name unchanged, and nothing forged.
    """

    def forgedChat(self, to, type="chat"):
        message = domish.Element(("jabber:client", "message"))
        message["to"] = to
        message["type"] = type
        message.addElement("body", content="payload")
        message.addElement((FORGING_URI, "x"))
        return message

    def assertIntact(self, message):
        uris = [child.uri for child in message.elements()]
        self.assertIn(FORGING_URI, uris, message.toXml())

    def isPayload(self, element):
        return element.name == "message" and element.body is not None and str(element.body) == "payload"

    @defer.inlineCallbacks
    def test_chatCarbonsAndArchive(self):
        """
        Chat: the recipient, the sender's other resource (carbons) and
        the sender's archive all see the namespace name intact.
        """
        alice = yield self.login("alice", "one")
        phone = yield self.login("alice", "two")
        bob = yield self.login("bob")
        reply = yield phone.iq("<iq type='set' id='c'><enable xmlns='%s'/></iq>" % (CARBONS,))
        self.assertEqual(reply["type"], "result")
        self.serverSession("alice@localhost/one").received(self.forgedChat("bob@localhost/r"))
        message = yield self.until(bob, self.isPayload)
        self.assertIntact(message)
        carbon = yield self.until(phone, lambda e: e.name == "message")
        (sent,) = list(carbon.elements(CARBONS, "sent"))
        (forwarded,) = list(sent.elements(FORWARD, "forwarded"))
        (inner,) = list(forwarded.elements("jabber:client", "message"))
        self.assertIntact(inner)
        reply = yield alice.iq("<iq type='set' id='q'><query xmlns='%s' queryid='x'/></iq>" % (MAM,))
        self.assertEqual(reply["type"], "result")
        results = [e for e in alice.received if e.name == "message" and list(e.elements(MAM, "result"))]
        self.assertEqual(len(results), 1)
        (result,) = list(results[0].elements(MAM, "result"))
        (forwarded,) = list(result.elements(FORWARD, "forwarded"))
        (inner,) = list(forwarded.elements("jabber:client", "message"))
        self.assertIntact(inner)
        for client in (alice, phone, bob):
            yield self.assertNothingForged(client)

    @defer.inlineCallbacks
    def test_offline(self):
        """
        A message stored for an offline account is delivered intact at its
        next login.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        bob.send("<presence type='unavailable'/>")
        yield self.assertServed(bob)
        self.serverSession("alice@localhost/r").received(self.forgedChat("bob@localhost"))
        yield self.assertServed(alice)
        bob.send("<presence/>")
        message = yield self.until(bob, self.isPayload)
        self.assertIntact(message)
        yield self.assertNothingForged(bob)

    @defer.inlineCallbacks
    def test_presence(self):
        """
        A directed presence is delivered intact.
        """
        yield self.login("alice")
        bob = yield self.login("bob")
        presence = domish.Element(("jabber:client", "presence"))
        presence["to"] = "bob@localhost/r"
        presence.addElement((FORGING_URI, "x"))
        self.serverSession("alice@localhost/r").received(presence)
        received = yield self.until(
            bob, lambda e: e.name == "presence" and e.getAttribute("from") == "alice@localhost/r"
        )
        self.assertIntact(received)
        yield self.assertNothingForged(bob)

    @defer.inlineCallbacks
    def test_groupchatHistoryAndArchive(self):
        """
        Groupchat: the occupants, a later joiner's history and the room
        archive all carry the namespace name intact.
        """
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield self.join(alice, "alice")
        yield self.join(bob, "bob")
        self.serverSession("alice@localhost/r").received(self.forgedChat(ROOM, "groupchat"))
        message = yield self.until(bob, self.isPayload)
        self.assertIntact(message)
        carol = yield self.login("carol")
        carol.send("<presence to='%s/carol'><x xmlns='%s'/></presence>" % (ROOM, MUC))
        history = yield self.until(carol, self.isPayload)
        self.assertIntact(history)
        reply = yield carol.iq(
            "<iq type='set' id='q' to='%s'><query xmlns='%s' queryid='x'/></iq>" % (ROOM, MAM)
        )
        self.assertEqual(reply["type"], "result")
        results = [e for e in carol.received if e.name == "message" and list(e.elements(MAM, "result"))]
        self.assertEqual(len(results), 1)
        (result,) = list(results[0].elements(MAM, "result"))
        (forwarded,) = list(result.elements(FORWARD, "forwarded"))
        (inner,) = list(forwarded.elements("jabber:client", "message"))
        self.assertIntact(inner)
        for client in (alice, bob, carol):
            yield self.assertNothingForged(client)


#: Stanzas as peers write them, for the lean serialization path.
CORPUS = [
    "<message from='a@localhost/r' to='b@localhost/s' type='chat' id='1'><body>x &amp; y &lt;z&gt; 'q' \"d\"</body></message>",
    "<message to='room@conference.localhost' type='groupchat'><body>hi</body><x xmlns='urn:x'><y a='&apos;&quot;&amp;'/></x></message>",
    "<presence from='a@localhost/r'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/></presence>",
    "<iq type='set' id='x'><query xmlns='jabber:iq:roster'><item jid='c@d'><group>G</group></item></query></iq>",
    "<message><x xmlns=''><y/></x><body xmlns='jabber:client'>same</body></message>",
    "<message xml:lang='en'><body xml:lang='de'>lang: a prefixed attribute</body></message>",
    "<message><p:x xmlns:p='urn:p'><p:y/></p:x></message>",
    "<message><x xmlns='urn:a' xmlns:q='urn:q' q:a='v'/></message>",
    "<message><stream:x xmlns:stream='http://etherx.jabber.org/streams'/></message>",
    "<message><x xmlns='http://etherx.jabber.org/streams'/></message>",
]


class LeanSerializationTests(unittest.TestCase):
    """
    Elements that use no prefix are written by a lean path, to the same
    text as domish's algorithm; the others by the algorithm.
    """

    def parsed(self, text):
        found = []
        stream = domish.elementStream()
        stream.DocumentStartEvent = lambda root: None
        stream.ElementEvent = found.append
        stream.DocumentEndEvent = lambda: None
        stream.parse("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        stream.parse(text)
        return found[0]

    def both(self, element, **kw):
        lean = element.toXml(**kw)
        self.patch(EscapingSerializer, "lean", False)
        general = element.toXml(**kw)
        self.patch(EscapingSerializer, "lean", True)
        return lean, general

    def test_sameText(self):
        """
        Each stanza of the corpus, as the client stream writes it (the
        stream's prefixes) and as fan-out serializes it, gives the same
        text on both paths.
        """
        stream = {"http://etherx.jabber.org/streams": "stream"}
        for text in CORPUS:
            element = self.parsed(text)
            for kw in ({"defaultUri": "jabber:client"},
                       {"defaultUri": "jabber:client", "prefixes": stream, "prefixesInScope": ["stream"]},
                       {"defaultUri": "jabber:server"}, {}):
                lean, general = self.both(element, **kw)
                self.assertEqual(lean, general, (text, kw))

    def test_built(self):
        """
        Elements built in code (no C{defaultUri}, children in other
        namespaces, escaped namespace names) give the same text too.
        """
        message = domish.Element((None, "message"))
        message["to"] = "a@b"
        message[("http://www.w3.org/XML/1998/namespace", "lang")] = "en'"
        message.addElement("body", content="<&>")
        message.addElement(("urn:x", "x")).addElement("y")
        message.addElement((FORGING_URI, "z"))
        message.addRawXml("<raw/>")
        for element in (message, domish.Element(("jabber:client", "presence")), domish.Element(("urn:y", "q"))):
            lean, general = self.both(element, defaultUri="jabber:client")
            self.assertEqual(lean, general)

    def test_whichPath(self):
        """
        Plain stanzas (C{xml:lang} included) take the lean path; prefixes,
        other prefixed attributes and namespaces the serializer binds to a
        prefix take the general one.
        """
        from xmuc.xmpp.xml import _writePlain

        prefixes = {"http://www.w3.org/XML/1998/namespace": "xml", "http://etherx.jabber.org/streams": "stream"}
        plain = [_writePlain(self.parsed(text), "jabber:client", prefixes, lambda part: None) for text in CORPUS]
        self.assertEqual(plain, [True] * 6 + [False] * 4)


def _shape(element):
    """
    @return: everything domish keeps of an element tree, as plain data.
    """
    if not isinstance(element, domish.Element):
        return element
    return (element.uri, element.name, element.defaultUri, sorted(element.attributes.items(), key=repr),
            dict(element.localPrefixes), [_shape(child) for child in element.children])


class HardenedParserBuildsTests(unittest.TestCase):
    """
    The hardened parser builds elements itself (domish's work inlined
    with the limits): the same trees as domish's own parser.
    """

    def parse(self, text, harden):
        from xmuc.xmpp.xml import hardenParser

        found = []
        stream = domish.elementStream()
        stream.DocumentStartEvent = found.append
        stream.ElementEvent = found.append
        stream.DocumentEndEvent = lambda: None
        if harden:
            hardenParser(stream.parser)
        stream.parse("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                     "xmlns:db='jabber:server:dialback' to='x'>")
        stream.parse(text)
        return found

    def test_sameTrees(self):
        """
        The stream root and every stanza of the corpus (prefixes, prefixed
        attributes, C{xmlns=''}, text) come out the same.
        """
        corpus = "".join(CORPUS) + "<db:result from='a' to='b'>key</db:result><x xmlns=''/><message xmlns=''><b/></message>"
        plain = self.parse(corpus, harden=False)
        hardened = self.parse(corpus, harden=True)
        self.assertEqual(len(plain), len(CORPUS) + 4)
        self.assertEqual([_shape(e) for e in hardened], [_shape(e) for e in plain])
        self.assertTrue(all(child.parent is e for e in hardened[1:] for child in e.elements()))

    def test_elementCount(self):
        """
        domish's own element cap still applies to the elements built here.
        """
        stream = domish.elementStream()
        stream.DocumentStartEvent = lambda root: None
        stream.ElementEvent = lambda e: None
        stream.maxElementCount = 3
        from xmuc.xmpp.xml import hardenParser

        hardenParser(stream.parser)
        stream.parse("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        stream.parse("<message><a/><b/></message>")
        self.assertRaises(domish.ParserError, stream.parse, "<message><a/><b/><c/></message>")


def _renamedDeep(element, old, new):
    """
    The reference: every element of the tree in C{old} (as namespace or
    default namespace) moved to C{new}.
    """
    if element.uri == old:
        element.uri = new
    if element.defaultUri == old:
        element.defaultUri = new
    for child in element.elements():
        _renamedDeep(child, old, new)
    return element


class RenamingParserTests(unittest.TestCase):
    """
    A server or component stream's parser builds the payloads of stanzas
    in C{jabber:client}; with L{stanzaToClient} on the stanza, the tree
    is the one renaming every element would give.
    """

    SERVER_STREAM = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                     "xmlns:db='jabber:server:dialback'>")
    STANZAS = [
        "<message from='a@b/c' to='d@e'><body>x</body><x xmlns='urn:x'><y/><body xmlns='jabber:server'/></x>"
        "<thread>t</thread></message>",
        "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' ver='v'/></presence>",
        "<iq type='get' id='1'><query xmlns='jabber:iq:version'/></iq>",
        "<message xmlns='jabber:client'><body>explicit</body><s:x xmlns:s='jabber:server'/></message>",
    ]
    OTHERS = "<db:result from='a' to='b'>key</db:result><other><child/></other>"

    def parse(self, text, rename):
        from xmuc.xmpp.xml import hardenParser

        found = []
        stream = domish.elementStream()
        stream.DocumentStartEvent = lambda root: None
        stream.ElementEvent = found.append
        stream.DocumentEndEvent = lambda: None
        hardenParser(stream.parser, rename=rename)
        stream.parse(self.SERVER_STREAM + text)
        return found

    def test_sameAsDeepRenaming(self):
        """
        Stanzas come out as the deep renaming of what the plain parser
        builds; other top-level elements exactly as the plain parser
        builds them.
        """
        from xmuc.xmpp.xml import stanzaToClient

        text = "".join(self.STANZAS) + self.OTHERS
        plain = self.parse(text, rename=None)
        renamed = self.parse(text, rename="jabber:server")
        n = len(self.STANZAS)
        self.assertEqual(
            [_shape(stanzaToClient(e, "jabber:server")) for e in renamed[:n]],
            [_shape(_renamedDeep(e, "jabber:server", "jabber:client")) for e in plain[:n]],
        )
        self.assertEqual([_shape(e) for e in renamed[n:]], [_shape(e) for e in plain[n:]])

    def test_stanzaKeepsStreamNamespace(self):
        """
        The stanza itself keeps the stream's namespace until
        L{stanzaToClient}: the stream still sees where it came from.
        """
        (message,) = self.parse(self.STANZAS[0], rename="jabber:server")
        self.assertEqual((message.uri, message.defaultUri), ("jabber:server", "jabber:server"))
        self.assertEqual(message.body.uri, "jabber:client")

    def test_onlyDomishStreams(self):
        """
        Renaming needs the parser handlers of domish's stream: any other
        parser is refused, not silently left unrenamed.
        """
        import pyexpat

        from xmuc.xmpp.xml import hardenParser

        parser = pyexpat.ParserCreate("UTF-8", " ")
        parser.StartElementHandler = lambda name, attributes: None
        parser.EndElementHandler = lambda name: None
        self.assertRaises(ValueError, hardenParser, parser, rename="jabber:server")
