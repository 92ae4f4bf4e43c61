"""
Bad input never takes xmuc down: malformed and hostile input over real
sockets to a real in-process server.

After every batch three things are checked:

 1. the offending stream got the stream error or stanza error RFC 6120
    asks for (never a silent hang: every wait has a timeout);
 2. a well-behaved client, logged in the whole time and joined to a room,
    still gets answers (a ping to the server, a groupchat echo);
 3. nothing was logged as an unhandled error (trial fails a test on logged
    errors; none is flushed here).

Random input is seeded, so every run sends the same bytes.  Malformed
requests to the MUC service are in L{tests.muc.test_malformed_requests}.
"""

import random

from twisted.internet import defer, reactor, task

from tests.support.client import (
    StreamClosed,
    connectTestClient,
    errorCondition,
    errorConditionOfFailure,
)
from tests.support.watchedserver import HEADER, MUC, PING, ROOM, WatchedServerTestCase


class MalformedStreamTests(WatchedServerTestCase):
    """
    Not XML, not well-formed, or restricted XML: a stream error, on streams
    before and after authentication.
    """

    @defer.inlineCallbacks
    def test_garbageBeforeHeader(self):
        """
        Seeded random bytes instead of a header: not-well-formed (or
        unsupported-encoding for bytes that are not UTF-8).
        """
        generator = random.Random(6120)
        for _ in range(3):
            client = yield connectTestClient(self, self.running)
            client.send(bytes(generator.randrange(256) for _ in range(512)))
            try:
                yield self.assertStreamError(
                    client, ("not-well-formed", "unsupported-encoding", "bad-format")
                )
            except StreamClosed:
                # Garbage can make the very first bytes impossible to answer
                # with a stream header; then closing is the answer.
                yield client.waitClosed()
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_garbageBeforeAuth(self):
        client = yield self.connected()
        client.send(b"\x00\xff\xfe<<<>>>")
        yield self.assertStreamError(client, "not-well-formed")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_invalidUTF8AfterAuth(self):
        client = yield self.loggedIn("evil")
        client.send(b"<message to='evil@localhost'><body>\xc3\x28\xff</body></message>")
        yield self.assertStreamError(client, ("not-well-formed", "unsupported-encoding"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_seededGarbageAfterAuth(self):
        generator = random.Random(45)
        client = yield self.loggedIn("evil")
        client.send(b"<message>" + bytes(generator.randrange(256) for _ in range(4096)))
        yield self.assertStreamError(client, ("not-well-formed", "unsupported-encoding"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_undeclaredPrefix(self):
        client = yield self.loggedIn("evil")
        client.send("<message to='evil@localhost'><foo:bar/></message>")
        yield self.assertStreamError(client, ("not-well-formed", "invalid-namespace"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_hugeAttributeValue(self):
        """
        A stanza bigger than max_stanza_size (256 KiB), all in one
        attribute value: policy-violation, before it is buffered whole.
        """
        client = yield self.loggedIn("evil")
        client.send("<message to='evil@localhost' x='" + "a" * 400000 + "'/>")
        yield self.assertStreamError(client, "policy-violation")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_thousandsOfAttributes(self):
        """
        A stanza with 5,000 attributes (within the size limit) is routed
        like any other.
        """
        client = yield self.loggedIn("evil")
        attributes = " ".join("a%d='%d'" % (n, n) for n in range(5000))
        reply = yield self.answered(
            client,
            "<iq type='get' id='many' to='localhost' %s><ping xmlns='%s'/></iq>"
            % (attributes, PING),
            "many",
        )
        self.assertEqual(reply["type"], "result")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_duplicateAttribute(self):
        client = yield self.loggedIn("evil")
        client.send("<message to='a@localhost' to='b@localhost'/>")
        yield self.assertStreamError(client, "not-well-formed")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_deepNesting(self):
        """
        10,000 nested elements in a message to oneself, to a room, and in
        an iq: the server neither crashes serializing it nor hangs.
        """
        deep = "<a xmlns='urn:x'>" * 10000 + "</a>" * 10000
        for to, kind in (
            ("evil@localhost/r", "chat"),
            ("evil@localhost", "chat"),
            (ROOM, "groupchat"),
            ("nobody@localhost", "chat"),
        ):
            client = yield self.loggedIn("evil")
            client.send("<message to='%s' type='%s' id='deep'>%s</message>" % (to, kind, deep))
            try:
                yield self.assertStreamError(client, "policy-violation")
            except StreamClosed:
                self.fail("closed without a stream error")
            yield self.assertHealthy()
        client = yield self.loggedIn("evil")
        client.send("<iq type='get' id='deepiq' to='localhost'>%s</iq>" % (deep,))
        yield self.assertStreamError(client, "policy-violation")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_reasonableNesting(self):
        """
        Nesting well beyond what real stanzas use (50 levels) is still
        routed, to oneself and through a room.
        """
        nested = "<a xmlns='urn:x'>" * 50 + "</a>" * 50
        client = yield self.loggedIn("evil")
        client.send("<message to='%s' type='chat' id='n1'>%s</message>" % (client.jid, nested))
        echo = yield self.until(client, lambda e: e.getAttribute("id") == "n1")
        depth = 0
        element = echo
        while element is not None:
            element = next(element.elements(), None)
            depth += 1
        self.assertEqual(depth, 51)
        self.watcher.send("<message to='%s' type='groupchat' id='n2'><body>deep</body>%s</message>" % (ROOM, nested))
        yield self.until(self.watcher, lambda e: e.getAttribute("id") == "n2")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_restrictedXML(self):
        """
        DTD, entity declarations (billion laughs), processing instructions
        and comments: restricted-xml (RFC 6120 11.1), before and after
        authentication.
        """
        laughs = (
            '<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(
                '<!ENTITY lol%d "%s">' % (n, ("&lol%s;" % (n - 1 if n > 1 else "",)) * 10)
                for n in range(1, 10)
            )
            + "]>"
        )
        for payload in (
            laughs + "<message>&lol9;</message>",
            "<?evil instruction?>",
            "<message><?pi inside?></message>",
            "<!-- comment --><message/>",
        ):
            for authenticated in (False, True):
                if authenticated:
                    client = yield self.loggedIn("evil")
                else:
                    client = yield self.connected()
                client.send(payload)
                yield self.assertStreamError(client, ("restricted-xml", "not-well-formed"))
        client = yield connectTestClient(self, self.running)
        client.send("<?xml version='1.0'?>" + laughs + HEADER[len("<?xml version='1.0'?>"):])
        yield self.assertStreamError(client, ("restricted-xml", "not-well-formed"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_undefinedEntityAndNUL(self):
        for payload in ("<message>&undefined;</message>", "<message><body>&#0;</body></message>"):
            client = yield self.loggedIn("evil")
            client.send(payload)
            yield self.assertStreamError(client, ("restricted-xml", "not-well-formed"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_cdata(self):
        """
        CDATA is plain XML: its text is delivered (escaped).
        """
        client = yield self.loggedIn("evil")
        jid = client.jid
        client.send(
            "<message to='%s' type='chat' id='cd'><body><![CDATA[<b>&amp;</b>]]></body></message>"
            % (jid,)
        )
        echo = yield self.until(client, lambda e: e.getAttribute("id") == "cd")
        self.assertEqual(str(echo.body), "<b>&amp;</b>")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_unknownTopLevel(self):
        for payload, authenticated in (
            ("<foo xmlns='urn:unknown'/>", True),
            ("<message xmlns='urn:wrong'/>", True),
            ("<foo xmlns='urn:unknown'/>", False),
        ):
            if authenticated:
                client = yield self.loggedIn("evil")
            else:
                client = yield self.connected()
            client.send(payload)
            yield self.assertStreamError(
                client, ("unsupported-stanza-type", "not-authorized", "invalid-namespace")
            )
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_disconnectMidStanza(self):
        """
        A client that vanishes halfway through a stanza, before and after
        binding, and in the middle of a room join.
        """
        client = yield self.connected()
        client.send("<iq type='set' id='x'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><reso")
        client.transport.abortConnection()
        yield client.waitClosed()
        client = yield self.loggedIn("evil")
        client.send("<presence to='%s/evil'><x xmlns='%s'/></presence>" % (ROOM, MUC))
        client.send("<message to='%s' type='groupchat'><body>half" % (ROOM,))
        yield task.deferLater(reactor, 0.1, lambda: None)
        client.transport.abortConnection()
        yield client.waitClosed()
        yield self.assertHealthy()


class StanzaAddressingTests(WatchedServerTestCase):
    """
    Stanzas with bad addresses, types and ids: stanza errors.
    """

    @defer.inlineCallbacks
    def test_malformedTo(self):
        client = yield self.loggedIn("evil")
        long = "n" * 1100 + "@" + "d" * 1100 + "/" + "r" * 1100
        for n, to in enumerate(
            (
                "@@@",
                "a@",
                "@localhost",
                "localhost/",
                long,
                "x" * 3100,
                "a\u200b@localhost",
                "a@b\u202e.com",
                "a b@localhost",
                "\ufffd@localhost",
                "room@conference.localhost/" + "r" * 1200,
            )
        ):
            for kind in ("iq", "message"):
                id = "%s%d" % (kind, n)
                if kind == "iq":
                    xml = "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>" % (id, to, PING)
                else:
                    xml = "<message type='chat' id='%s' to='%s'><body>x</body></message>" % (id, to)
                reply = yield self.answered(client, xml, id)
                self.assertEqual(reply["type"], "error", (to, reply.toXml()))
                # a\u200b is nodeprep'd to 'a' (U+200B maps to nothing):
                # a valid address without such an account.
                expected = "service-unavailable" if "\u200b" in to else "jid-malformed"
                self.assertEqual(errorCondition(reply), expected, (to, reply.toXml()))
            client.send("<presence id='p%d' to='%s'/>" % (n, to))
        yield self.assertHealthy()
        reply = yield self.answered(
            client, "<iq type='get' id='after' to='localhost'><ping xmlns='%s'/></iq>" % (PING,), "after"
        )
        self.assertEqual(reply["type"], "result")

    @defer.inlineCallbacks
    def test_emptyAndOddAddresses(self):
        """
        to='' and a resource containing slashes (legal in a resource).
        """
        client = yield self.loggedIn("evil")
        reply = yield self.answered(
            client, "<iq type='get' id='e1' to=''><ping xmlns='%s'/></iq>" % (PING,), "e1"
        )
        self.assertIn(reply["type"], ("result", "error"))
        reply = yield self.answered(
            client, "<iq type='get' id='e2' to='a@b/c/d'><ping xmlns='%s'/></iq>" % (PING,), "e2"
        )
        self.assertEqual(reply["type"], "error")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_forgedFrom(self):
        """
        A C{from} naming someone else, or no JID at all, is replaced by the
        sender's full JID (RFC 6120 section 8.1.2.1): the recipient sees
        who really sent it, and the sender's session goes on.
        """
        client = yield self.loggedIn("evil")
        for sender in ("someone@localhost", "@@@", "", "watcher@localhost/r"):
            client.send(
                "<message from='%s' to='watcher@localhost/r' type='chat'><body>%s</body></message>"
                % (sender, sender)
            )
            message = yield self.until(
                self.watcher, lambda e: e.name == "message" and e.getAttribute("type") == "chat"
            )
            self.assertEqual((message["from"], str(message.body)), ("evil@localhost/r", sender))
        reply = yield self.answered(
            client, "<iq type='get' id='after' to='localhost'><ping xmlns='%s'/></iq>" % (PING,), "after"
        )
        self.assertEqual(reply["type"], "result")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_iqShapes(self):
        """
        iq without id, without type, of unknown type, without payload, with
        two payloads: bad-request (or a stream error for iqs that cannot be
        answered); results and errors to the server or a room are dropped.
        """
        client = yield self.loggedIn("evil")
        for id, xml in (
            ("n1", "<iq type='get' id='n1' to='localhost'/>"),
            ("n2", "<iq type='set' id='n2'/>"),
            ("n3", "<iq type='get' id='n3' to='localhost'><ping xmlns='%s'/><ping xmlns='%s'/></iq>" % (PING, PING)),
            ("n4", "<iq type='bogus' id='n4' to='localhost'><ping xmlns='%s'/></iq>" % (PING,)),
            ("n5", "<iq id='n5' to='localhost'><ping xmlns='%s'/></iq>" % (PING,)),
            ("n6", "<iq type='get' id='n6' to='%s'/>" % (ROOM,)),
            ("n7", "<iq type='get' id='n7' to='%s'><a xmlns='urn:a'/><b xmlns='urn:b'/></iq>" % (ROOM,)),
            ("n8", "<iq type='get' id='n8' to='evil@localhost'/>"),
        ):
            client.send(xml)
            element = yield client.receive()
            if element.name == "error":
                # A stream error is a legal answer to an unanswerable iq.
                self.assertIn(errorCondition(element), ("bad-request", "invalid-xml", "not-well-formed"))
                client = yield self.loggedIn("evil")
                continue
            self.assertEqual(element.getAttribute("id"), id, element.toXml())
            self.assertEqual(element["type"], "error", element.toXml())
            self.assertIn(
                errorCondition(element),
                ("bad-request", "service-unavailable", "feature-not-implemented", "not-acceptable"),
            )
        for to in ("localhost", ROOM, ROOM + "/watcher", "evil@localhost", "nobody@localhost"):
            for kind in ("result", "error"):
                client.send("<iq type='%s' id='stray' to='%s'><foo xmlns='urn:x'/></iq>" % (kind, to))
        reply = yield self.answered(
            client, "<iq type='get' id='after' to='localhost'><ping xmlns='%s'/></iq>" % (PING,), "after"
        )
        self.assertEqual(reply["type"], "result")
        yield self.assertHealthy()
        # The watcher was sent nothing by those.
        self.assertEqual(
            [e.toXml() for e in self.watcher._queue.pending if e.getAttribute("id") == "stray"], []
        )

    @defer.inlineCallbacks
    def test_iqWithoutId(self):
        client = yield self.loggedIn("evil")
        client.send("<iq type='get' to='localhost'><ping xmlns='%s'/></iq>" % (PING,))
        reply = yield client.receive()
        # Either answered (without id) or refused as bad-request/stream error.
        self.assertIn(reply.name, ("iq", "error"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_unknownTypes(self):
        """
        message and presence of unknown types: message type falls back to
        normal (RFC 6121 5.2.2) or is refused; unknown presence types are
        refused with bad-request or ignored, never a crash.
        """
        client = yield self.loggedIn("evil")
        client.send("<message to='evil@localhost/r' type='bogus' id='m1'><body>x</body></message>")
        reply = yield self.until(client, lambda e: e.getAttribute("id") == "m1")
        self.assertIn(reply.getAttribute("type"), ("bogus", "normal", None, "error"))
        for to in ("", " to='%s/evil'" % (ROOM,), " to='watcher@localhost'", " to='%s'" % (ROOM,)):
            client.send("<presence%s type='bogus' id='p1'/>" % (to,))
        client.send("<message to='%s' type='bogus' id='m2'><body>x</body></message>" % (ROOM,))
        reply = yield self.until(client, lambda e: e.getAttribute("id") == "m2")
        self.assertEqual(reply["type"], "error")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_unicodeBodies(self):
        """
        Unicode edge cases in bodies and nicknames are routed untouched.
        """
        client = yield self.loggedIn("evil")
        text = "\U0001F600 \u202e rtl \ufeff bom \u0301 combining \U0010fffd"
        client.send("<message to='%s' type='chat' id='u1'><body>%s</body></message>" % (client.jid, text))
        echo = yield self.until(client, lambda e: e.getAttribute("id") == "u1")
        self.assertEqual(str(echo.body), text)
        # U+FFFF is not an XML character at all.
        client.send("<message to='%s' type='chat' id='u2'><body>\uffff</body></message>" % (client.jid,))
        yield self.assertStreamError(client, "not-well-formed")
        yield self.assertHealthy()


class SessionGarbageTests(WatchedServerTestCase):
    """
    Garbage to an account's own services (PEP, carbons) and Stream
    Management at the wrong times: errors, the server keeps working.
    """

    @defer.inlineCallbacks
    def test_pubsubGarbage(self):
        client = yield self.loggedIn("evil")
        for n, body in enumerate(
            (
                "<publish/>",
                "<publish node=''><item/></publish>",
                "<publish node='urn:x'><item id='1'><a xmlns='urn:a'/><b xmlns='urn:b'/></item></publish>",
                "<publish node='urn:x'><item><payload xmlns='urn:p'/></item><item/></publish>",
                "<retract node='urn:x'><item/></retract>",
                "<items/>",
                "<items node='urn:x' max_items='-1'/>",
                "<subscribe node='urn:x' jid='@@@'/>",
                "<bogus/>",
                "",
            )
        ):
            for kind in ("set", "get"):
                id = "ps%s%d" % (kind, n)
                reply = yield self.answered(
                    client,
                    "<iq type='%s' id='%s' to='evil@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>%s</pubsub></iq>"
                    % (kind, id, body),
                    id,
                )
                self.assertIn(reply["type"], ("error", "result"))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_carbonsAndSMAtWrongTimes(self):
        client = yield self.connected()
        client.send("<enable xmlns='urn:xmpp:sm:3'/>")
        yield self.assertStreamError(client, ("not-authorized", "unsupported-stanza-type"))
        client = yield self.loggedIn("evil")
        for n, body in enumerate(
            (
                "<enable xmlns='urn:xmpp:carbons:2'><nested/></enable>",
                "<disable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:carbons:2'/>",
            )
        ):
            reply = yield self.answered(client, "<iq type='set' id='c%d'>%s</iq>" % (n, body), "c%d" % (n,))
            self.assertIn(reply["type"], ("error", "result"))
        reply = yield self.answered(
            client, "<iq type='get' id='cg'><enable xmlns='urn:xmpp:carbons:2'/></iq>", "cg"
        )
        self.assertEqual(reply["type"], "error")
        client.send("<message to='watcher@localhost' type='chat'><received xmlns='urn:xmpp:carbons:2'>"
                    "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='watcher@localhost' "
                    "to='evil@localhost'><body>forged</body></message></forwarded></received></message>")
        # Stream management elements out of order.
        client.send("<a xmlns='urn:xmpp:sm:3' h='7'/><r xmlns='urn:xmpp:sm:3'/>")
        client.send("<resume xmlns='urn:xmpp:sm:3' previd='x' h='0'/>")
        failed = yield self.until(client, lambda e: e.name == "failed")
        self.assertEqual(failed.uri, "urn:xmpp:sm:3")
        client.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        yield self.until(client, lambda e: e.name == "enabled")
        client.send("<enable xmlns='urn:xmpp:sm:3'/>")
        client.send("<a xmlns='urn:xmpp:sm:3' h='not-a-number'/>")
        client.send("<a xmlns='urn:xmpp:sm:3' h='99999'/>")
        element = yield client.receive()
        while element.name != "error":
            element = yield client.receive()
        self.assertIn(errorCondition(element), ("unsupported-stanza-type", "undefined-condition", "policy-violation", "invalid-xml"))
        yield self.assertHealthy()


class FloodTests(WatchedServerTestCase):
    @defer.inlineCallbacks
    def test_flood(self):
        """
        2,000 small stanzas in one write from one client: the other client
        keeps getting answers, and every iq of the flood is answered.
        """
        client = yield self.loggedIn("evil")
        flood = []
        for n in range(2000):
            if n % 4 == 0:
                flood.append("<iq type='get' id='f%d' to='localhost'><ping xmlns='%s'/></iq>" % (n, PING))
            elif n % 4 == 1:
                flood.append("<message to='nobody@localhost' type='chat'><body>%d</body></message>" % (n,))
            elif n % 4 == 2:
                flood.append("<presence/>")
            else:
                flood.append("<message to='%s' type='chat'><body>%d</body></message>" % (client.jid, n))
        client.send("".join(flood))
        start = reactor.seconds()
        yield self.assertHealthy()
        self.assertLess(reactor.seconds() - start, 5)
        answered = yield self.until(client, lambda e: e.getAttribute("id") == "f1996", timeout=15)
        self.assertEqual(answered["type"], "result")
        yield self.assertHealthy()


class HeaderTests(WatchedServerTestCase):
    """
    Broken stream headers and a second header mid-stream.
    """

    @defer.inlineCallbacks
    def test_badHeaders(self):
        for header, conditions in (
            (HEADER.replace("to='localhost'", "to='@@@'"), ("host-unknown", "improper-addressing")),
            (HEADER.replace("to='localhost'", "to='elsewhere.example'"), ("host-unknown",)),
            (HEADER.replace("jabber:client", "jabber:server"), ("invalid-namespace",)),
            (HEADER.replace("http://etherx.jabber.org/streams", "urn:nope"), ("invalid-namespace",)),
            (HEADER.replace("version='1.0'", "version='x.y'"), ("unsupported-version", "bad-format")),
            ("<?xml version='1.0'?><message xmlns='jabber:client'/>", ("invalid-namespace", "bad-format")),
        ):
            client = yield connectTestClient(self, self.running)
            client.send(header)
            yield self.assertStreamError(client, conditions)
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_secondHeaderAfterBind(self):
        """
        A stream header inside the stream is an element named stream in
        the streams namespace: a stream error, never a crash.
        """
        client = yield self.loggedIn("evil")
        client.send("<stream:stream to='localhost' version='1.0'>")
        client.send("<message to='%s'/>" % (client.jid,))
        client.send("</stream:stream>")
        try:
            element = yield client.receive()
            while element.name != "error":
                element = yield client.receive()
            self.assertIsNotNone(errorCondition(element))
        except StreamClosed:
            pass
        yield client.waitClosed()
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_bigButAllowedStanzaToRoom(self):
        """
        A 200 KB message (under the 256 KiB limit) to the room is fanned
        out; the watcher still answers afterwards.
        """
        client = yield self.loggedIn("evil")
        client.send("<presence to='%s/evil'><x xmlns='%s'/></presence>" % (ROOM, MUC))
        yield self.until(client, lambda e: e.name == "message" and e.subject is not None)
        client.send(
            "<message to='%s' type='groupchat' id='big' pad='%s'><body>%s</body></message>"
            % (ROOM, "p" * 50000, "b" * 150000)
        )
        echo = yield self.until(self.watcher, lambda e: e.getAttribute("id") == "big")
        self.assertEqual(len(str(echo.body)), 150000)
        yield self.assertHealthy()


class SASLGarbageTests(WatchedServerTestCase):
    @defer.inlineCallbacks
    def test_saslGarbage(self):
        """
        Invalid base64, unknown mechanisms, steps out of order: SASL
        failures (RFC 6120 6.5), the stream stays usable or ends with a
        stream error, never silently.
        """
        sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
        client = yield self.connected()
        for xml, conditions in (
            ("<auth xmlns='%s' mechanism='PLAIN'>!!!notbase64</auth>" % (sasl,), ("incorrect-encoding", "malformed-request")),
            ("<auth xmlns='%s' mechanism='NOPE'>AA==</auth>" % (sasl,), ("invalid-mechanism",)),
            ("<auth xmlns='%s'/>" % (sasl,), ("invalid-mechanism",)),
            ("<response xmlns='%s'>AA==</response>" % (sasl,), ("malformed-request", "not-authorized")),
            ("<auth xmlns='%s' mechanism='PLAIN'>AEEAQQBB</auth>" % (sasl,), ("not-authorized", "malformed-request", "invalid-authzid")),
            ("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (sasl, "QUFB" * 5000), ("malformed-request", "not-authorized", "incorrect-encoding")),
        ):
            client.send(xml)
            element = yield client.receive()
            if element.uri == "http://etherx.jabber.org/streams":
                self.assertEqual(element.name, "error")
                yield client.waitClosed()
                client = yield self.connected()
                continue
            self.assertEqual((element.uri, element.name), (sasl, "failure"), element.toXml())
            self.assertIn(errorConditionOfFailure(element), conditions, (xml[:80], element.toXml()))
        yield self.assertHealthy()
