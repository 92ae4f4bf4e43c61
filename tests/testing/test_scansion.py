"""
Tests for the scansion script parser, matcher and command line parsing
(L{xmuc.testing.scansion}).  The client and runner are exercised against the
real server by tests/testing/test_scripts.py.
"""

import io
import os
import sys
import textwrap

from twisted.trial import unittest
from twisted.words.xish import domish

from xmuc.testing import scansion
from xmuc.testing.scansion import (
    CONNECTS,
    DISCONNECTS,
    RECEIVES,
    RECEIVES_NOTHING,
    SCANSION_NS,
    SENDS,
    ScriptSyntaxError,
    match,
    parseScript,
    parseStanza,
    stanzaToSend,
    substitute,
)

SEEDS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, os.pardir, "shared", "seeds"
)
MUC_USER = "http://jabber.org/protocol/muc#user"


def received(xml):
    """
    Parse C{xml} as a server would send it inside a C{jabber:client} stream,
    the way the client's L{domish} stream parser builds received stanzas.
    """
    elements = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = elements.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(
        b"<stream:stream xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams'>"
    )
    stream.parse(xml.encode("utf-8"))
    assert len(elements) == 1, elements
    return elements[0]


def expected(xml):
    return parseStanza(textwrap.dedent(xml).strip())


def check(expectedXml, receivedXml):
    return match(expected(expectedXml), received(receivedXml))


class MatchBasicsTests(unittest.TestCase):
    def test_identical(self):
        self.assertIsNone(check("<iq type='result' id='a'/>", "<iq type='result' id='a'/>"))

    def test_nameMismatch(self):
        reason = check("<iq/>", "<message/>")
        self.assertIn("expected element <iq", reason)

    def test_namespaceMismatch(self):
        reason = check(
            "<iq><query xmlns='jabber:iq:register'/></iq>",
            "<iq><query xmlns='jabber:iq:roster'/></iq>",
        )
        self.assertIsNotNone(reason)
        self.assertIn("jabber:iq:roster", reason)

    def test_topLevelDefaultNamespace(self):
        """
        A top-level element without xmlns is jabber:client, so it does not
        match the same name in another namespace.
        """
        self.assertEqual(expected("<presence/>").uri, "jabber:client")
        self.assertIsNotNone(
            check("<presence/>", "<presence xmlns='jabber:component:accept'/>")
        )

    def test_xmlnsIsNotAnAttribute(self):
        self.assertIsNone(
            check(
                "<iq><query xmlns='jabber:iq:version'/></iq>",
                "<iq><query xmlns='jabber:iq:version'/></iq>",
            )
        )
        self.assertNotIn("xmlns", expected("<iq><query xmlns='a:b'/></iq>").query.attributes)


class LooseMatchTests(unittest.TestCase):
    def test_extraAttributes(self):
        self.assertIsNone(
            check("<presence from='a@b/c'/>", "<presence from='a@b/c' to='d@e/f' id='x'/>")
        )

    def test_missingAttribute(self):
        reason = check("<presence type='unavailable'/>", "<presence/>")
        self.assertIn("attribute type missing", reason)

    def test_differentAttributeValue(self):
        reason = check("<presence from='a@b/c'/>", "<presence from='a@b/d'/>")
        self.assertIn("'a@b/d'", reason)
        self.assertIn("'a@b/c'", reason)

    def test_anyValue(self):
        self.assertIsNone(check("<iq id='{scansion:any}'/>", "<iq id='x1'/>"))
        self.assertIn("missing", check("<iq id='{scansion:any}'/>", "<iq/>"))

    def test_extraChildren(self):
        self.assertIsNone(
            check(
                "<message><body>hi</body></message>",
                "<message><thread>t</thread><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
            )
        )

    def test_childrenInAnyOrder(self):
        self.assertIsNone(
            check(
                "<message><body>hi</body><subject>s</subject></message>",
                "<message><subject>s</subject><body>hi</body></message>",
            )
        )

    def test_missingChild(self):
        reason = check("<message><subject/></message>", "<message><body>x</body></message>")
        self.assertIn("missing child", reason)
        self.assertIn("subject", reason)

    def test_distinctChildren(self):
        """
        Two expected children cannot both be matched by one received child.
        """
        reason = check(
            "<message><body/><body/></message>", "<message><body>x</body></message>"
        )
        self.assertIsNotNone(reason)
        self.assertIsNone(
            check(
                "<message><body/><body/></message>",
                "<message><body>x</body><body>y</body></message>",
            )
        )

    def test_assignmentBacktracks(self):
        """
        A greedy assignment would give the first (any) expected child the
        only received child that fits the second one; the matcher finds the
        assignment that works.
        """
        self.assertIsNone(
            check(
                "<message><thread/><thread parent='p'/></message>",
                "<message><thread parent='p'/><thread/></message>",
            )
        )
        self.assertIsNone(
            check(
                "<message><a/><a x='1'/><a y='2'/></message>",
                "<message><a x='1' y='2'/><a y='2'/><a x='1'/></message>",
            )
        )
        self.assertIsNotNone(
            check(
                "<message><a x='1'/><a x='1'/></message>",
                "<message><a x='1' y='2'/><a y='2'/></message>",
            )
        )

    def test_textComparedTrimmed(self):
        self.assertIsNone(
            check("<message><body>Finished!</body></message>", "<message><body>  Finished!\n</body></message>")
        )
        reason = check("<message><body>Finished!</body></message>", "<message><body>Started</body></message>")
        self.assertIn("'Started'", reason)

    def test_textIgnoredWhenExpectedHasNone(self):
        self.assertIsNone(
            check("<message><subject/></message>", "<message><subject>Topic</subject></message>")
        )

    def test_indentationIsNotText(self):
        """
        The script's indentation inside an element is not expected text.
        """
        self.assertIsNone(
            check(
                """
                <iq id="config1" type="result">
                </iq>
                """,
                "<iq id='config1' type='result'><query xmlns='q'/></iq>",
            )
        )

    def test_redundantNamespaceStaysLoose(self):
        """
        An element written with xmlns equal to its parent's namespace does
        not start a strict region.
        """
        self.assertIsNone(
            check(
                "<message><thread xmlns='jabber:client'/></message>",
                "<message><thread parent='p'>t</thread></message>",
            )
        )

    def test_receivedLangOnStanzaIsFine(self):
        self.assertIsNone(
            check("<message type='groupchat'/>", "<message type='groupchat' xml:lang='en'/>")
        )


class StrictMatchTests(unittest.TestCase):
    JOIN = """
        <presence from='room@conference.localhost/Romeo'>
            <x xmlns='http://jabber.org/protocol/muc#user'>
                <status code='201'/>
                <item jid="romeo@localhost/r" affiliation='owner' role='moderator'/>
                <status code='110'/>
            </x>
        </presence>
    """

    def test_seedJoinExact(self):
        self.assertIsNone(
            check(
                self.JOIN,
                "<presence from='room@conference.localhost/Romeo' to='romeo@localhost/r'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>"
                "<item jid='romeo@localhost/r' affiliation='owner' role='moderator'/>"
                "<status code='110'/></x></presence>",
            )
        )

    def test_seedJoinOrder(self):
        """
        Inside the muc#user x, the children's order is compared.
        """
        reason = check(
            self.JOIN,
            "<presence from='room@conference.localhost/Romeo'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'>"
            "<item jid='romeo@localhost/r' affiliation='owner' role='moderator'/>"
            "<status code='201'/><status code='110'/></x></presence>",
        )
        self.assertIsNotNone(reason)
        self.assertIn("/presence/x{%s}/status" % (MUC_USER,), reason)

    def test_seedJoinExtraAttribute(self):
        reason = check(
            self.JOIN,
            "<presence from='room@conference.localhost/Romeo'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>"
            "<item jid='romeo@localhost/r' affiliation='owner' role='moderator' nick='R'/>"
            "<status code='110'/></x></presence>",
        )
        self.assertIn("unexpected attribute(s) nick", reason)

    def test_seedJoinExtraChild(self):
        reason = check(
            self.JOIN,
            "<presence from='room@conference.localhost/Romeo'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>"
            "<item jid='romeo@localhost/r' affiliation='owner' role='moderator'/>"
            "<status code='110'/><status code='100'/></x></presence>",
        )
        self.assertIn("4 child element(s), expected 3", reason)

    def test_seedJoinMissingChild(self):
        reason = check(
            self.JOIN,
            "<presence from='room@conference.localhost/Romeo'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'>"
            "<item jid='romeo@localhost/r' affiliation='owner' role='moderator'/>"
            "<status code='110'/></x></presence>",
        )
        self.assertIsNotNone(reason)

    def test_strictStillIgnoresOuterExtras(self):
        """
        The stanza itself stays loose: extra attributes and children next
        to the strict x are fine.
        """
        self.assertIsNone(
            check(
                self.JOIN,
                "<presence from='room@conference.localhost/Romeo' id='p1'>"
                "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>"
                "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>"
                "<item jid='romeo@localhost/r' affiliation='owner' role='moderator'/>"
                "<status code='110'/></x></presence>",
            )
        )

    def test_redundantNamespaceInsideStrict(self):
        """
        muc_affiliation_notify.scs writes the item with its (inherited)
        namespace; it is matched as part of the strict x.
        """
        script = """
            <message from='room@conference.localhost'>
                <x xmlns='http://jabber.org/protocol/muc#user'>
                    <item jid="juliet@localhost" affiliation='member' xmlns='http://jabber.org/protocol/muc#user'/>
                </x>
            </message>
        """
        self.assertIsNone(
            check(
                script,
                "<message from='room@conference.localhost' to='romeo@localhost/r'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'>"
                "<item jid='juliet@localhost' affiliation='member'/></x></message>",
            )
        )
        self.assertIn(
            "unexpected attribute(s) role",
            check(
                script,
                "<message from='room@conference.localhost'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'>"
                "<item jid='juliet@localhost' affiliation='member' role='none'/></x></message>",
            ),
        )

    def test_strictText(self):
        script = """
            <presence type='unavailable'>
                <x xmlns='http://jabber.org/protocol/muc#user'>
                    <status code='307'/>
                    <item affiliation='none' role='none'>
                        <reason>This nickname is reserved</reason>
                    </item>
                </x>
            </presence>
        """
        template = (
            "<presence type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>"
            "<status code='307'/><item affiliation='none' role='none'>"
            "<reason>%s</reason></item></x></presence>"
        )
        self.assertIsNone(check(script, template % ("This nickname is reserved",)))
        self.assertIn("text is", check(script, template % ("Kicked",)))

    def test_strictAttributeLang(self):
        """
        Inside a strict region even xml:lang counts as an extra attribute.
        """
        reason = check(
            "<message><x xmlns='urn:x'><y/></x></message>",
            "<message><x xmlns='urn:x'><y xml:lang='en'/></x></message>",
        )
        self.assertIn("xml:lang", reason)

    def test_errorPresenceFromSeed(self):
        """
        muc_show_offline.scs: the error element (jabber:client) is loose so
        the legacy code attribute is allowed; the condition element and the
        echoed muc x are strict.
        """
        script = """
            <presence type='error' from='room@conference.localhost/Juliet'>
                <error type='cancel' by='room@conference.localhost'>
                    <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
                </error>
                <x xmlns='http://jabber.org/protocol/muc'/>
            </presence>
        """
        self.assertIsNone(
            check(
                script,
                "<presence type='error' from='room@conference.localhost/Juliet'>"
                "<x xmlns='http://jabber.org/protocol/muc'/>"
                "<error type='cancel' code='409' by='room@conference.localhost'>"
                "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>taken</text></error>"
                "</presence>",
            )
        )
        self.assertIsNotNone(
            check(
                script,
                "<presence type='error' from='room@conference.localhost/Juliet'>"
                "<x xmlns='http://jabber.org/protocol/muc'><password>p</password></x>"
                "<error type='cancel' by='room@conference.localhost'>"
                "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                "</presence>",
            )
        )

    def test_registrationFormStrict(self):
        """
        The register form of muc_show_offline.scs: query and the data form
        inside are compared exactly, including the field's attributes.
        """
        script = """
            <iq type='result' id='r'>
                <query xmlns='jabber:iq:register'>
                    <x type='form' xmlns='jabber:x:data'>
                        <field type='hidden' var='FORM_TYPE'>
                            <value>http://jabber.org/protocol/muc#register</value>
                        </field>
                        <field type='text-single' label='Nickname' var='muc#register_roomnick'>
                            <required/>
                        </field>
                    </x>
                </query>
            </iq>
        """
        good = (
            "<iq type='result' id='r'><query xmlns='jabber:iq:register'>"
            "<x xmlns='jabber:x:data' type='form'>"
            "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#register</value></field>"
            "<field var='muc#register_roomnick' type='text-single' label='Nickname'><required/></field>"
            "%s</x></query></iq>"
        )
        self.assertIsNone(check(script, good % ("",)))
        self.assertIsNotNone(check(script, good % ("<instructions>x</instructions>",)))


class StrictDirectiveTests(unittest.TestCase):
    def test_strictTrueOnEmptyQuery(self):
        """
        muc_show_offline.scs: an x-roomuser-item query without identity.
        """
        script = (
            "<iq type='result' id='getnick1'>"
            "<query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item' scansion:strict='true' />"
            "</iq>"
        )
        self.assertIsNone(
            check(
                script,
                "<iq type='result' id='getnick1'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>",
            )
        )
        self.assertIsNotNone(
            check(
                script,
                "<iq type='result' id='getnick1'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'>"
                "<identity category='conference' name='Romeo' type='text'/></query></iq>",
            )
        )

    def test_strictTrueOnStanza(self):
        self.assertIn(
            "unexpected attribute(s) id",
            check("<presence scansion:strict='true'/>", "<presence id='x'/>"),
        )
        self.assertIsNone(check("<presence scansion:strict='true'/>", "<presence/>"))

    def test_strictFalseOverridesNamespaceChange(self):
        script = (
            "<presence><x xmlns='http://jabber.org/protocol/muc#user' scansion:strict='false'>"
            "<status code='110'/></x></presence>"
        )
        self.assertIsNone(
            check(
                script,
                "<presence><x xmlns='http://jabber.org/protocol/muc#user'>"
                "<item affiliation='none' role='participant'/><status code='110'/></x></presence>",
            )
        )

    def test_strictFalseAppliesToSubtree(self):
        """
        Below an explicit strict='false', a namespace change does not make
        the element strict again.
        """
        script = (
            "<iq><query xmlns='urn:a' scansion:strict='false'>"
            "<item xmlns='urn:b'/></query></iq>"
        )
        self.assertIsNone(
            check(script, "<iq><query xmlns='urn:a' n='1'><item xmlns='urn:b' m='2'><z/></item></query></iq>")
        )

    def test_strictTrueOnLooseChild(self):
        self.assertIsNotNone(
            check(
                "<message><body scansion:strict='true'/></message>",
                "<message><body xml:lang='en'>x</body></message>",
            )
        )

    def test_directiveNotCompared(self):
        """
        scansion:* attributes are not expected on the received element.
        """
        self.assertIsNone(
            check(
                "<message><x xmlns='urn:x' scansion:strict='true' a='1'/></message>",
                "<message><x xmlns='urn:x' a='1'/></message>",
            )
        )

    def test_anyValueInStrict(self):
        self.assertIsNone(
            check(
                "<message><x xmlns='urn:x'><y id='{scansion:any}'/></x></message>",
                "<message><x xmlns='urn:x'><y id='123'/></x></message>",
            )
        )


class ParseStanzaTests(unittest.TestCase):
    def test_scansionPrefixDeclared(self):
        element = parseStanza("<iq><query xmlns='urn:q' scansion:strict='true'/></iq>")
        self.assertEqual(element.query.attributes, {(SCANSION_NS, "strict"): "true"})

    def test_sendCopyWithoutDirectives(self):
        element = parseStanza(
            "<iq type='get' to='localhost'>\n\t<ping xmlns='urn:xmpp:ping' scansion:strict='true'/>\n</iq>"
        )
        copy = stanzaToSend(element)
        xml = copy.toXml(defaultUri="jabber:client")
        self.assertNotIn("scansion", xml)
        self.assertEqual(
            xml, "<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
        )

    def test_textKept(self):
        element = parseStanza("<message>\n  <body>Finished!</body>\n</message>")
        self.assertEqual(str(element.body), "Finished!")
        self.assertEqual(len(element.children), 1)

    def test_malformedLine(self):
        error = self.assertRaises(
            ScriptSyntaxError,
            parseStanza,
            "<iq>\n  <query>\n  </iq>",
            "x.scs",
            10,
        )
        self.assertEqual(error.filename, "x.scs")
        self.assertEqual(error.lineno, 12)
        self.assertIn("malformed XML", str(error))

    def test_twoStanzas(self):
        error = self.assertRaises(ScriptSyntaxError, parseStanza, "<a/>\n<b/>", "x.scs", 3)
        self.assertIn("exactly one stanza, found 2", str(error))

    def test_textOutside(self):
        self.assertRaises(ScriptSyntaxError, parseStanza, "hello <a/>", "x.scs", 3)


SAMPLE = """\
# Sample: two clients

[Client] Romeo
\tjid: romeo@localhost
\tpassword: password

[Client] Juliet
    jid: juliet@localhost
    password: pw
    resource: balcony

-----

# Comments between actions are skipped.
Romeo connects

Juliet connects

Romeo sends:
\t<message to="${Juliet's full JID}" type='chat'>
\t\t<body>Hi ${Juliet's JID}</body>
\t</message>

Juliet receives:
    <message from="${Romeo's full JID}" type='chat'>
        <body>Hi juliet@localhost</body>
    </message>
Romeo receives: nothing
Romeo sends: <presence/>

Romeo disconnects
"""


class ParseScriptTests(unittest.TestCase):
    def test_sample(self):
        script = parseScript(SAMPLE, "sample.scs")
        self.assertEqual(script.title, "Sample: two clients")
        self.assertEqual(script.filename, "sample.scs")
        self.assertEqual(list(script.clients), ["Romeo", "Juliet"])
        self.assertEqual(script.clients["Romeo"].jid, "romeo@localhost")
        self.assertEqual(script.clients["Romeo"].password, "password")
        self.assertIsNone(script.clients["Romeo"].resource)
        self.assertEqual(script.clients["Juliet"].resource, "balcony")
        self.assertEqual(
            [(a.kind, a.client, a.lineno) for a in script.actions],
            [
                (CONNECTS, "Romeo", 15),
                (CONNECTS, "Juliet", 17),
                (SENDS, "Romeo", 19),
                (RECEIVES, "Juliet", 24),
                (RECEIVES_NOTHING, "Romeo", 28),
                (SENDS, "Romeo", 29),
                (DISCONNECTS, "Romeo", 31),
            ],
        )
        sends = script.actions[2]
        self.assertEqual(sends.xml_lineno, 20)
        self.assertTrue(sends.xml_text.startswith('\t<message to="${Juliet\'s full JID}"'))
        self.assertEqual(script.actions[5].xml_text, "<presence/>")

    def test_seeds(self):
        """
        Every seed script parses.
        """
        if not os.path.isdir(SEEDS):
            raise unittest.SkipTest("no seeds folder at %s" % (SEEDS,))
        names = sorted(n for n in os.listdir(SEEDS) if n.endswith(".scs"))
        self.assertTrue(names)
        for name in names:
            script = scansion.loadScript(os.path.join(SEEDS, name))
            self.assertTrue(script.title.startswith("MUC:"), script.title)
            self.assertEqual(script.actions[0].kind, CONNECTS)

    def test_seedPasswordDetails(self):
        path = os.path.join(SEEDS, "muc_password.scs")
        if not os.path.exists(path):
            raise unittest.SkipTest("no seed muc_password.scs")
        script = scansion.loadScript(path)
        self.assertEqual(script.clients["Juliet"].jid, "user2@localhost")
        kinds = [a.kind for a in script.actions]
        self.assertEqual(kinds.count(CONNECTS), 2)
        first = script.actions[1]
        self.assertEqual((first.kind, first.client, first.lineno), (SENDS, "Romeo", 15))
        stanza = parseStanza(first.xml_text)
        self.assertEqual(stanza["to"], "room@conference.localhost/Romeo")
        self.assertEqual(stanza.x.uri, "http://jabber.org/protocol/muc")

    def assertSyntaxError(self, text, lineno, fragment):
        error = self.assertRaises(ScriptSyntaxError, parseScript, text, "bad.scs")
        self.assertEqual(error.lineno, lineno, str(error))
        self.assertIn(fragment, str(error))
        self.assertTrue(str(error).startswith("bad.scs:%d: " % (lineno,)))
        return error

    HEADER = "[Client] A\n\tjid: a@localhost\n\tpassword: p\n-----\n"

    def test_missingSeparator(self):
        self.assertSyntaxError("[Client] A\n\tjid: a@localhost\n", 2, "'-----'")

    def test_clientWithoutJID(self):
        self.assertSyntaxError("[Client] A\n\tpassword: p\n-----\n", 1, "no jid")

    def test_unknownClientSetting(self):
        self.assertSyntaxError("[Client] A\n\tcolour: red\n-----\n", 2, "colour")

    def test_unknownClient(self):
        self.assertSyntaxError(self.HEADER + "A connects\nB connects\n", 6, "unknown client 'B'")

    def test_notAnAction(self):
        self.assertSyntaxError(self.HEADER + "A connects\nA dances\n", 6, "not an action")

    def test_sendBeforeConnect(self):
        self.assertSyntaxError(self.HEADER + "A sends:\n\t<presence/>\n", 5, "not connected")

    def test_doubleConnect(self):
        self.assertSyntaxError(self.HEADER + "A connects\nA connects\n", 6, "already connected")

    def test_missingStanza(self):
        self.assertSyntaxError(self.HEADER + "A connects\nA sends:\n\nA disconnects\n", 6, "without a stanza")

    def test_malformedStanzaLine(self):
        self.assertSyntaxError(
            self.HEADER + "A connects\nA sends:\n\t<message>\n\t\t<body>x</bdy>\n\t</message>\n",
            8,
            "malformed XML",
        )

    def test_unknownVariable(self):
        self.assertSyntaxError(
            self.HEADER + "A connects\nA sends:\n\t<message>\n\t\t<body>${A's password}</body>\n\t</message>\n",
            8,
            "unknown variable",
        )

    def test_variableUnknownClient(self):
        self.assertSyntaxError(
            self.HEADER + "A connects\nA sends:\n\t<message to=\"${Z's JID}\"/>\n",
            7,
            "unknown client",
        )

    def test_strayIndentedLine(self):
        self.assertSyntaxError(self.HEADER + "A connects\n\t<presence/>\n", 6, "indented line")

    def test_commentEndsBlock(self):
        script = parseScript(
            self.HEADER + "A connects\nA sends:\n\t<presence/>\n# comment\nA disconnects\n"
        )
        self.assertEqual([a.kind for a in script.actions], [CONNECTS, SENDS, DISCONNECTS])

    def test_titleDefaultsToFileName(self):
        self.assertEqual(parseScript(self.HEADER, "t.scs").title, "t.scs")


class SubstituteTests(unittest.TestCase):
    def test_values(self):
        values = {("Romeo", "JID"): "r@localhost", ("Romeo", "full JID"): "r@localhost/x"}
        text = substitute(
            "<a b=\"${Romeo's JID}\" c=\"${Romeo's full JID}\"/>",
            lambda name, what: values[(name, what)],
        )
        self.assertEqual(text, '<a b="r@localhost" c="r@localhost/x"/>')

    def test_escaped(self):
        """
        Values are XML-escaped, whatever the attribute quotes.
        """
        text = substitute("<a b='${R's full JID}'/>", lambda name, what: "r@l/a'b<&\"")
        self.assertEqual(text, "<a b='r@l/a&apos;b&lt;&amp;&quot;'/>")
        self.assertEqual(parseStanza(text)["b"], "r@l/a'b<&\"")

    def test_lookupError(self):
        def lookup(name, what):
            raise LookupError("Romeo is not connected")

        error = self.assertRaises(
            ScriptSyntaxError, substitute, "<a/>\n<b c=\"${Romeo's full JID}\"/>", lookup, "f.scs", 7
        )
        self.assertEqual(error.lineno, 8)
        self.assertIn("Romeo is not connected", str(error))


class CommandLineTests(unittest.TestCase):
    def test_parse(self):
        options = scansion.parseArguments(["--port", "5223", "--timeout", "2", "a.scs", "b.scs"])
        self.assertEqual(options.port, 5223)
        self.assertEqual(options.host, "127.0.0.1")
        self.assertEqual(options.domain, "localhost")
        self.assertEqual(options.timeout, 2.0)
        self.assertEqual(options.scripts, ["a.scs", "b.scs"])

    def test_noScripts(self):
        self.assertRaises(scansion.UsageError, scansion.parseArguments, [])

    def test_badPort(self):
        self.assertRaises(scansion.UsageError, scansion.parseArguments, ["--port", "x", "a.scs"])
        self.assertRaises(scansion.UsageError, scansion.parseArguments, ["--port", "0", "a.scs"])

    def test_mainBadArguments(self):
        """
        main() reports bad arguments on stderr with exit code 2, without
        exiting the process itself.
        """
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertEqual(scansion.main(["--bogus", "a.scs"], out=io.StringIO()), 2)
        self.assertIn("error:", stderr.getvalue())
        self.assertIn("--bogus", stderr.getvalue())

    def test_mainHelp(self):
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        self.assertEqual(scansion.main(["--help"], out=stdout), 0)
        self.assertIn("--port", stdout.getvalue())
