"""
A runner for scansion scripts, the integration-test format of Prosody.

A script declares test clients and a list of actions (connect, send a stanza,
expect a stanza, expect silence, disconnect); see
C{/work/shared/seeds/README.md} for the format.  This module has four parts:

 - the parser, L{parseScript}, turning script text into a L{Script};
 - the matcher, L{match}, comparing an expected stanza with a received one
   under scansion's loose/strict rules;
 - the client, L{ScansionClient}, a minimal XMPP client (plain TCP, SASL
   PLAIN, resource bind) that queues what it receives;
 - the runner, L{runScript}, playing a script against a server, and a command
   line front end (C{python -m xmuc.testing.scansion}).
"""

import re
import sys
import textwrap
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as _xmlEscape

from twisted.internet import defer, endpoints, protocol, task
from twisted.python import failure
from twisted.words.protocols.jabber import client as jclient
from twisted.words.protocols.jabber import sasl, sasl_mechanisms, xmlstream
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from xmuc.cli import ArgumentParser, HelpRequested, UsageError
from xmuc.xmpp import ns
from xmuc.xmpp.jid import jidOrNone

#: Namespace of the C{scansion:} directive attributes.  Scripts use the
#: prefix without declaring it; the parser declares it.
SCANSION_NS = "https://matthewwild.co.uk/projects/scansion"

#: Attribute value meaning "present, with any value".
ANY_VALUE = "{scansion:any}"

DEFAULT_TIMEOUT = 5.0
DEFAULT_QUIET_TIME = 0.3
DEFAULT_SEND_PAUSE = 0.05
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_DISCONNECT_TIMEOUT = 2.0

CONNECTS = "connects"
SENDS = "sends"
RECEIVES = "receives"
RECEIVES_NOTHING = "receives-nothing"
DISCONNECTS = "disconnects"


# ---------------------------------------------------------------- the model


class ScriptSyntaxError(Exception):
    """
    A malformed script.

    @ivar filename: the script file name.
    @ivar lineno: the 1-based line of the problem.
    @ivar message: what is wrong.
    """

    def __init__(self, message, filename, lineno):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        Exception.__init__(self, "%s:%s: %s" % (filename, lineno, message))


class ScriptFailure(Exception):
    """
    A script step that did not go as the script says.  The message names the
    file and line of the step and shows expected and received XML.
    """


@dataclass
class ClientSpec:
    """
    A C{[Client]} block.

    @ivar name: the client name used in actions (C{Romeo}).
    @ivar jid: the account JID (bare).
    @ivar password: the password.
    @ivar resource: the resource to request at bind time, or L{None} to let
        the server choose one.
    @ivar lineno: the line of the C{[Client]} header.
    """

    name: str
    jid: str
    password: str
    resource: object = None
    lineno: int = 0


@dataclass
class Action:
    """
    One step of a script.

    @ivar kind: one of L{CONNECTS}, L{SENDS}, L{RECEIVES},
        L{RECEIVES_NOTHING}, L{DISCONNECTS}.
    @ivar client: the client name.
    @ivar xml_text: the stanza text for sends/receives (variables not yet
        substituted), else L{None}.
    @ivar lineno: the line of the action.
    @ivar xml_lineno: the line where C{xml_text} starts.
    """

    kind: str
    client: str
    xml_text: object = None
    lineno: int = 0
    xml_lineno: int = 0


@dataclass
class Script:
    """
    A parsed script.

    @ivar title: the first comment line, without C{#}, or the file name.
    @ivar clients: C{{name: L{ClientSpec}}} in declaration order.
    @ivar actions: the list of L{Action}s.
    @ivar filename: where the script came from (for messages).
    """

    title: str
    clients: dict
    actions: list = field(default_factory=list)
    filename: str = "<script>"


# ---------------------------------------------------------------- parsing

_SEPARATOR = re.compile(r"^-{3,}\s*$")
_CLIENT_HEADER = re.compile(r"^\[Client\]\s+(?P<name>\S.*?)\s*$")
_CLIENT_KEY = re.compile(r"^\s+(?P<key>[A-Za-z_-]+)\s*:\s*(?P<value>.*?)\s*$")
_ACTION = re.compile(
    r"^(?P<name>\S.*?)\s+(?P<verb>connects|disconnects|sends:|receives:)"
    r"(?P<rest>.*)$"
)
_VARIABLE = re.compile(r"\$\{(?P<body>[^}]*)\}")
_VARIABLE_BODY = re.compile(r"^(?P<name>.+?)'s (?P<what>JID|full JID)$")


def parseScript(text, filename="<script>"):
    """
    Parse a scansion script.

    Stanzas are checked for well-formedness here (with placeholder values for
    the variables), so that a broken script fails before any connection is
    made.

    @param text: the script.
    @type text: L{str}
    @param filename: the name used in error messages.
    @return: the parsed script.
    @rtype: L{Script}
    @raise ScriptSyntaxError: the script is malformed.
    """
    lines = text.splitlines()
    title = None
    clients = {}
    index = 0
    current = None

    def fail(message, lineno):
        raise ScriptSyntaxError(message, filename, lineno)

    # The header: title comment and [Client] blocks, up to the dashed line.
    while index < len(lines):
        line = lines[index]
        lineno = index + 1
        index += 1
        stripped = line.strip()
        if _SEPARATOR.match(line):
            break
        if not stripped:
            continue
        if stripped.startswith("#"):
            if title is None and not clients:
                title = stripped.lstrip("#").strip()
            continue
        header = _CLIENT_HEADER.match(line)
        if header:
            name = header.group("name")
            if name in clients:
                fail("client %r declared twice" % (name,), lineno)
            current = clients[name] = ClientSpec(name, None, None, lineno=lineno)
            continue
        keyValue = _CLIENT_KEY.match(line)
        if keyValue and current is not None:
            key, value = keyValue.group("key"), keyValue.group("value")
            if key == "jid":
                parsed = jidOrNone(value)
                if parsed is None:
                    fail("invalid jid %r" % (value,), lineno)
                if not parsed.user:
                    fail("jid %r has no user part" % (value,), lineno)
                current.jid = parsed.userhost()
                if parsed.resource and current.resource is None:
                    current.resource = parsed.resource
            elif key == "password":
                current.password = value
            elif key == "resource":
                current.resource = value
            else:
                fail("unknown client setting %r" % (key,), lineno)
            continue
        fail("unexpected line in the header: %r" % (stripped,), lineno)
    else:
        fail("no '-----' line separating clients from actions", len(lines) or 1)

    for spec in clients.values():
        if spec.jid is None:
            fail("client %r has no jid" % (spec.name,), spec.lineno)
        if spec.password is None:
            spec.password = ""

    script = Script(title or filename, clients, [], filename)
    connected = set()

    while index < len(lines):
        line = lines[index]
        lineno = index + 1
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0].isspace():
            fail("indented line outside of a sends:/receives: block", lineno)
        found = _ACTION.match(line)
        if not found:
            fail("not an action: %r" % (stripped,), lineno)
        name, verb = found.group("name"), found.group("verb")
        rest = found.group("rest").strip()
        if name not in clients:
            fail("unknown client %r" % (name,), lineno)

        if verb in ("connects", "disconnects"):
            if rest:
                fail("unexpected text after %r: %r" % (verb, rest), lineno)
            if verb == "connects":
                if name in connected:
                    fail("%s is already connected" % (name,), lineno)
                connected.add(name)
                script.actions.append(Action(CONNECTS, name, lineno=lineno))
            else:
                if name not in connected:
                    fail("%s is not connected" % (name,), lineno)
                connected.discard(name)
                script.actions.append(Action(DISCONNECTS, name, lineno=lineno))
            continue

        if name not in connected:
            fail("%s is not connected (missing '%s connects')" % (name, name), lineno)
        if verb == "receives:" and rest == "nothing":
            script.actions.append(Action(RECEIVES_NOTHING, name, lineno=lineno))
            continue

        # A stanza: inline after the colon and/or the indented lines below.
        block = []
        xmlLineno = lineno
        if rest:
            if not rest.startswith("<"):
                fail("expected a stanza after %r, got %r" % (verb, rest), lineno)
            block.append(rest)
        else:
            xmlLineno = lineno + 1
        while index < len(lines) and (
            not lines[index].strip() or lines[index][0].isspace()
        ):
            block.append(lines[index])
            index += 1
        xmlText = "\n".join(block).strip("\n")
        if not xmlText.strip():
            fail("%s %s without a stanza" % (name, verb), lineno)
        # Line of the first non-blank line of the block, for XML errors.
        while block and not block[0].strip():
            block.pop(0)
            xmlLineno += 1
        xmlText = "\n".join(block).rstrip()
        kind = SENDS if verb == "sends:" else RECEIVES
        action = Action(kind, name, xmlText, lineno, xmlLineno)
        _checkVariables(action, clients, filename)
        parseStanza(
            substitute(xmlText, _placeholderValue, filename, xmlLineno),
            filename,
            xmlLineno,
        )
        script.actions.append(action)

    return script


def _placeholderValue(name, what):
    """
    The value used for variables when checking a stanza at parse time.
    """
    return "placeholder@localhost/placeholder"


def _checkVariables(action, clients, filename):
    """
    Check that every C{${...}} of an action names a known client and a known
    property.

    @raise ScriptSyntaxError: an unknown variable.
    """
    for offset, line in enumerate(action.xml_text.split("\n")):
        for found in _VARIABLE.finditer(line):
            body = _VARIABLE_BODY.match(found.group("body"))
            where = action.xml_lineno + offset
            if not body:
                raise ScriptSyntaxError(
                    "unknown variable %r (use ${Name's JID} or "
                    "${Name's full JID})" % (found.group(0),),
                    filename,
                    where,
                )
            if body.group("name") not in clients:
                raise ScriptSyntaxError(
                    "variable %r names an unknown client" % (found.group(0),),
                    filename,
                    where,
                )


def substitute(xmlText, lookup, filename="<script>", lineno=0):
    """
    Replace C{${Name's JID}} and C{${Name's full JID}} in stanza text.

    @param xmlText: the stanza text.
    @param lookup: C{lookup(name, what)} returning the value, where C{what}
        is C{"JID"} or C{"full JID"}; it may raise L{LookupError} with a
        message when the value is not known yet.
    @param filename: for error messages.
    @param lineno: the line C{xmlText} starts at, for error messages.
    @return: the text with XML-escaped values in place of the variables.
    @raise ScriptSyntaxError: malformed or unknown variable.
    """

    def replace(found):
        body = _VARIABLE_BODY.match(found.group("body"))
        where = lineno + xmlText.count("\n", 0, found.start())
        if not body:
            raise ScriptSyntaxError(
                "unknown variable %r" % (found.group(0),), filename, where
            )
        try:
            value = lookup(body.group("name"), body.group("what"))
        except LookupError as e:
            raise ScriptSyntaxError(
                "cannot expand %r: %s" % (found.group(0), e.args[0] if e.args else e),
                filename,
                where,
            )
        return _xmlEscape(value, {'"': "&quot;", "'": "&apos;"})

    return _VARIABLE.sub(replace, xmlText)


class _StanzaCollector:
    """
    Receives the top-level elements parsed by a L{domish} element stream.
    """

    def __init__(self):
        self.elements = []
        self.root = None

    def documentStart(self, root):
        self.root = root

    def element(self, element):
        self.elements.append(element)

    def documentEnd(self):
        pass


def parseStanza(xmlText, filename="<script>", lineno=1):
    """
    Parse the XML of one stanza of a script.

    The default namespace is C{jabber:client} and the C{scansion:} prefix is
    declared.  Text nodes made only of whitespace (the indentation of the
    script) are dropped.

    @param xmlText: the XML, variables already substituted.
    @param filename: for error messages.
    @param lineno: the file line of the first line of C{xmlText}.
    @return: the element.
    @rtype: L{domish.Element}
    @raise ScriptSyntaxError: not well-formed, or not exactly one element.
    """
    collector = _StanzaCollector()
    stream = domish.ExpatElementStream()
    stream.DocumentStartEvent = collector.documentStart
    stream.ElementEvent = collector.element
    stream.DocumentEndEvent = collector.documentEnd
    strayText = []
    parseText = stream.parser.CharacterDataHandler

    def onText(data):
        # Text outside any stanza is dropped by the element stream; notice it.
        if stream.currElem is None and data.strip():
            strayText.append(data)
        parseText(data)

    stream.parser.CharacterDataHandler = onText
    # The wrapper's start tag is alone on the first line, so that XML line N+1
    # is line N of the stanza text.
    document = "<scansion-wrapper xmlns='%s' xmlns:scansion='%s'>\n%s\n</scansion-wrapper>" % (
        ns.CLIENT,
        SCANSION_NS,
        xmlText,
    )
    try:
        stream.parse(document.encode("utf-8"))
    except domish.ParserError as e:
        line = stream.parser.ErrorLineNumber
        message = re.sub(r":? ?line \d+, column \d+", "", str(e))
        raise ScriptSyntaxError(
            "malformed XML: %s" % (message,), filename, lineno + max(line - 2, 0)
        )
    if strayText:
        raise ScriptSyntaxError("text outside of the stanza", filename, lineno)
    if len(collector.elements) != 1:
        raise ScriptSyntaxError(
            "expected exactly one stanza, found %d" % (len(collector.elements),),
            filename,
            lineno,
        )
    element = collector.elements[0]
    _dropIndentation(element)
    element.parent = None
    return element


def _dropIndentation(element):
    """
    Remove whitespace-only text children, recursively.
    """
    element.children = [
        child
        for child in element.children
        if not (isinstance(child, str) and not child.strip())
    ]
    for child in element.elements():
        _dropIndentation(child)


def stanzaToSend(expected):
    """
    A copy of a script stanza without the C{scansion:} directives, ready to
    be sent.

    @param expected: an element from L{parseStanza}.
    @return: a new L{domish.Element}.
    """
    copy = domish.Element((expected.uri, expected.name), expected.defaultUri)
    for key, value in expected.attributes.items():
        if isinstance(key, tuple) and key[0] == SCANSION_NS:
            continue
        copy.attributes[key] = value
    for child in expected.children:
        if isinstance(child, domish.Element):
            copy.addChild(stanzaToSend(child))
        else:
            copy.addContent(child)
    return copy


# ---------------------------------------------------------------- matching


def _isDirective(key):
    return isinstance(key, tuple) and key[0] == SCANSION_NS


def _attributeName(key):
    if isinstance(key, tuple):
        uri, name = key
        if uri == "http://www.w3.org/XML/1998/namespace":
            return "xml:" + name
        return "{%s}%s" % (uri, name)
    return key


def _describe(element, parentUri=ns.CLIENT):
    """
    A short name for an element in mismatch reasons: C{item}, or
    C{x{http://...}} when its namespace differs from its parent's.
    """
    if element.uri and element.uri != parentUri:
        return "%s{%s}" % (element.name, element.uri)
    return element.name


def _text(element):
    return "".join(str(child) for child in element.children if isinstance(child, str))


def match(expected, received):
    """
    Compare a received stanza with the one a script expects.

    Names and namespaces must be equal.  An element is matched I{loosely}
    (expected attributes must be present with equal values; every expected
    child must match a distinct received child, in any order; extra
    attributes and children are fine) unless it is I{strict}: an element
    whose namespace differs from its parent's, and everything below it, is
    strict (exactly the same attributes; the same number of children, in the
    same order).  C{scansion:strict='true'|'false'} on an expected element
    decides for its subtree.  The top-level element's parent namespace is
    C{jabber:client}.  Text is compared, trimmed, where the expected element
    has text.  The attribute value C{{scansion:any}} accepts any value.

    @param expected: the element from the script (see L{parseStanza}).
    @type expected: L{domish.Element}
    @param received: the received element.
    @type received: L{domish.Element}
    @return: L{None} when they match, else a human-readable reason.
    @rtype: L{str} or L{None}
    """
    return _match(expected, received, ns.CLIENT, False, False, "")


def _strictness(expected, parentUri, parentStrict, parentForced):
    """
    Decide whether C{expected} is compared strictly.

    @return: C{(strict, forced)} where C{forced} says an explicit
        C{scansion:strict} decided it (a namespace change below does not
        override an explicit choice).
    """
    directive = expected.attributes.get((SCANSION_NS, "strict"))
    if directive is not None:
        return directive.strip().lower() in ("true", "1", "yes"), True
    if parentForced:
        return parentStrict, True
    if parentStrict or expected.uri != parentUri:
        return True, False
    return False, False


def _match(expected, received, parentUri, parentStrict, parentForced, path):
    path = "%s/%s" % (path, _describe(expected, parentUri))
    if expected.name != received.name or expected.uri != received.uri:
        return "%s: expected element <%s xmlns='%s'>, got <%s xmlns='%s'>" % (
            path,
            expected.name,
            expected.uri,
            received.name,
            received.uri,
        )
    strict, forced = _strictness(expected, parentUri, parentStrict, parentForced)

    expectedAttributes = {
        key: value
        for key, value in expected.attributes.items()
        if not _isDirective(key)
    }
    for key, value in expectedAttributes.items():
        if key not in received.attributes:
            return "%s: attribute %s missing (expected %r)" % (
                path,
                _attributeName(key),
                value,
            )
        if value != ANY_VALUE and received.attributes[key] != value:
            return "%s: attribute %s is %r, expected %r" % (
                path,
                _attributeName(key),
                received.attributes[key],
                value,
            )
    if strict:
        extra = sorted(
            _attributeName(key)
            for key in received.attributes
            if key not in expectedAttributes
        )
        if extra:
            return "%s: unexpected attribute(s) %s (strict match)" % (
                path,
                ", ".join(extra),
            )

    expectedText = _text(expected).strip()
    if expectedText and _text(received).strip() != expectedText:
        return "%s: text is %r, expected %r" % (
            path,
            _text(received).strip(),
            expectedText,
        )

    expectedChildren = list(expected.elements())
    receivedChildren = list(received.elements())
    if strict:
        if len(expectedChildren) != len(receivedChildren):
            return "%s: %d child element(s), expected %d (strict match): got %s" % (
                path,
                len(receivedChildren),
                len(expectedChildren),
                ", ".join("<%s/>" % (_describe(c, expected.uri),) for c in receivedChildren)
                or "none",
            )
        for expectedChild, receivedChild in zip(expectedChildren, receivedChildren):
            reason = _match(
                expectedChild, receivedChild, expected.uri, strict, forced, path
            )
            if reason:
                return reason
        return None
    return _matchUnordered(
        expectedChildren, receivedChildren, expected.uri, strict, forced, path
    )


def _matchUnordered(expectedChildren, receivedChildren, uri, strict, forced, path):
    """
    Assign every expected child to a distinct matching received child
    (bipartite matching with augmenting paths).

    @return: L{None} on success, else a reason.
    """
    if not expectedChildren:
        return None
    candidates = []
    for expectedChild in expectedChildren:
        fitting = []
        reasons = []
        for index, receivedChild in enumerate(receivedChildren):
            reason = _match(expectedChild, receivedChild, uri, strict, forced, path)
            if reason is None:
                fitting.append(index)
            elif (
                receivedChild.name == expectedChild.name
                and receivedChild.uri == expectedChild.uri
            ):
                reasons.append(reason)
        if not fitting:
            if reasons:
                return "%s: no child matches %s; closest: %s" % (
                    path,
                    _shortXml(expectedChild, uri),
                    "; ".join(reasons),
                )
            return "%s: missing child %s (received children: %s)" % (
                path,
                _shortXml(expectedChild, uri),
                ", ".join(_describe(c, uri) for c in receivedChildren) or "none",
            )
        candidates.append(fitting)

    assignedTo = {}  # received index -> expected index

    def augment(expectedIndex, visited):
        for receivedIndex in candidates[expectedIndex]:
            if receivedIndex in visited:
                continue
            visited.add(receivedIndex)
            holder = assignedTo.get(receivedIndex)
            if holder is None or augment(holder, visited):
                assignedTo[receivedIndex] = expectedIndex
                return True
        return False

    for expectedIndex in range(len(expectedChildren)):
        if not augment(expectedIndex, set()):
            return "%s: not enough distinct children to match %s" % (
                path,
                _shortXml(expectedChildren[expectedIndex], uri),
            )
    return None


def _shortXml(element, defaultUri=ns.CLIENT):
    return stanzaToSend(element).toXml(defaultUri=defaultUri)


def serialize(element):
    """
    Serialize a stanza for reports (C{jabber:client} as default namespace).

    @param element: a L{domish.Element}.
    @rtype: L{str}
    """
    return element.toXml(defaultUri=ns.CLIENT)


# ---------------------------------------------------------------- the client


class StepFailure(Exception):
    """
    A client-level failure (timeout, unexpected stanza, connection problem),
    turned into a L{ScriptFailure} by the runner.

    @ivar received: the stanzas received and discarded while waiting.
    """

    def __init__(self, message, received=()):
        Exception.__init__(self, message)
        self.received = list(received)


class _PlainSASLInitializer(sasl.SASLInitiatingInitializer):
    """
    SASL with PLAIN only: the test server accepts any password, and scansion
    clients authenticate with PLAIN.
    """

    def setMechanism(self):
        mechanisms = sasl.get_mechanisms(self.xmlstream)
        if "PLAIN" not in mechanisms:
            raise sasl.SASLNoAcceptableMechanism()
        authenticator = self.xmlstream.authenticator
        self.mechanism = sasl_mechanisms.Plain(
            None, authenticator.jid.user, authenticator.password
        )


class _ScansionAuthenticator(xmlstream.ConnectAuthenticator):
    """
    Stream initialization of a scansion client: version check, SASL PLAIN,
    resource bind.  No TLS, no session, no initial presence.

    @ivar jid: the JID to authenticate as; replaced by the bound full JID.
    @ivar password: the password.
    """

    namespace = ns.CLIENT

    def __init__(self, jid, password, domain):
        xmlstream.ConnectAuthenticator.__init__(self, domain)
        self.jid = jid
        self.password = password

    def associateWithStream(self, xs):
        xmlstream.ConnectAuthenticator.associateWithStream(self, xs)
        xs.initializers = [
            jclient.CheckVersionInitializer(xs),
            _PlainSASLInitializer(xs, required=True),
            jclient.BindInitializer(xs, required=True),
        ]


class _ScansionXmlStream(xmlstream.XmlStream):
    """
    An XML stream whose header carries C{xml:lang='en'} like scansion's, and
    which fires L{closed} when the connection goes away.
    """

    def __init__(self, authenticator):
        xmlstream.XmlStream.__init__(self, authenticator)
        self.closed = defer.Deferred()

    def sendHeader(self):
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='%s'"
            " xmlns:stream='%s' to='%s' version='1.0' xml:lang='en'>"
            % (
                ns.CLIENT,
                xmlstream.NS_STREAMS,
                _xmlEscape(self.otherEntity.host, {"'": "&apos;"}),
            )
        )
        self._headerSent = True

    def connectionLost(self, reason):
        xmlstream.XmlStream.connectionLost(self, reason)
        if not self.closed.called:
            self.closed.callback(None)


class _StreamFactory(protocol.ClientFactory):
    def __init__(self, authenticator):
        self.authenticator = authenticator

    def buildProtocol(self, addr):
        xs = _ScansionXmlStream(self.authenticator)
        xs.factory = self
        return xs


class ScansionClient:
    """
    One test client: connects, sends and queues what it receives.

    @ivar spec: the L{ClientSpec}.
    @ivar fullJID: the bound JID (a L{JID}) once connected.
    @ivar xmlstream: the stream once connected.
    @ivar queue: received stanzas not yet consumed.
    """

    def __init__(self, spec, reactor=None):
        """
        @param spec: the L{ClientSpec} of this client.
        @param reactor: the reactor (default: the global one).
        """
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.spec = spec
        self.fullJID = None
        self.xmlstream = None
        self.queue = []
        self._waiter = None
        self._closedReason = None

    @property
    def connected(self):
        return self.xmlstream is not None and self._closedReason is None

    def connect(self, host, port, domain, timeout=DEFAULT_CONNECT_TIMEOUT):
        """
        Connect, authenticate and bind a resource.

        @param host: the server address.
        @param port: the c2s port.
        @param domain: the stream's C{to}.
        @param timeout: seconds for the whole login.
        @return: a L{Deferred} firing with the bound L{JID}.
        """
        jid = JID(self.spec.jid)
        if self.spec.resource:
            jid = JID(tuple=(jid.user, jid.host, self.spec.resource))
        authenticator = _ScansionAuthenticator(jid, self.spec.password, domain)
        factory = _StreamFactory(authenticator)
        endpoint = endpoints.TCP4ClientEndpoint(
            self.reactor, host, port, timeout=timeout
        )
        ready = defer.Deferred()

        def onConnected(xs):
            self.xmlstream = xs
            xs.addOnetimeObserver(xmlstream.STREAM_AUTHD_EVENT, onAuthenticated)
            xs.addOnetimeObserver(xmlstream.INIT_FAILED_EVENT, onInitFailed)
            xs.addObserver(xmlstream.STREAM_ERROR_EVENT, onStreamError)
            xs.closed.addCallback(onClosed)

        def onAuthenticated(xs):
            self.fullJID = authenticator.jid
            xs.addObserver("/*", self._received)
            if not ready.called:
                ready.callback(self.fullJID)

        def onInitFailed(reason):
            if not ready.called:
                ready.errback(
                    StepFailure("login failed: %s" % (reason.getErrorMessage(),))
                )
            self.xmlstream.transport.loseConnection()

        def onStreamError(reason):
            self._closedReason = "stream error: %s" % (reason.getErrorMessage(),)

        def onClosed(_):
            if self._closedReason is None:
                self._closedReason = "connection closed"
            if not ready.called:
                ready.errback(StepFailure("login failed: %s" % (self._closedReason,)))
            self._wakeWaiter()

        def onTimeout():
            if not ready.called:
                ready.errback(StepFailure("login timed out after %ss" % (timeout,)))
                if self.xmlstream is not None:
                    self.xmlstream.transport.abortConnection()

        timer = self.reactor.callLater(timeout, onTimeout)

        def cancelTimer(result):
            if timer.active():
                timer.cancel()
            return result

        ready.addBoth(cancelTimer)
        connecting = endpoint.connect(factory)
        connecting.addCallback(onConnected)

        def connectFailed(reason):
            if not ready.called:
                ready.errback(
                    StepFailure(
                        "cannot connect to %s:%s: %s"
                        % (host, port, reason.getErrorMessage())
                    )
                )

        connecting.addErrback(connectFailed)
        return ready

    def send(self, element):
        """
        Send a stanza.

        @param element: a L{domish.Element} in C{jabber:client}.
        @raise StepFailure: not connected.
        """
        if not self.connected:
            raise StepFailure(
                "%s cannot send: %s" % (self.spec.name, self._closedReason or "not connected")
            )
        self.xmlstream.send(element.toXml(defaultUri=ns.CLIENT))

    def _received(self, element):
        if element.uri != ns.CLIENT:
            # Stream-level elements (stream errors, features) are not stanzas
            # of the script; a stream error also ends the connection.
            return
        self.queue.append(element)
        self._wakeWaiter()

    def _wakeWaiter(self):
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter()

    def receive(self, expected, timeout=DEFAULT_TIMEOUT):
        """
        Take stanzas from the queue until one matches C{expected}.

        @param expected: the expected element (see L{parseStanza}).
        @param timeout: seconds to wait for a match.
        @return: a L{Deferred} firing with the matching stanza, or failing
            with L{StepFailure} listing the discarded stanzas.
        """
        result = defer.Deferred()
        discarded = []

        def check():
            while self.queue:
                stanza = self.queue.pop(0)
                if match(expected, stanza) is None:
                    finish(stanza)
                    return
                discarded.append(stanza)
            if self._closedReason is not None:
                finish(
                    failure.Failure(
                        StepFailure(
                            "no matching stanza before the connection ended (%s)"
                            % (self._closedReason,),
                            discarded,
                        )
                    )
                )
                return
            self._waiter = check

        def onTimeout():
            self._waiter = None
            finish(
                failure.Failure(
                    StepFailure("no matching stanza within %ss" % (timeout,), discarded)
                )
            )

        timer = self.reactor.callLater(timeout, onTimeout)

        def finish(outcome):
            if timer.active():
                timer.cancel()
            if isinstance(outcome, failure.Failure):
                result.errback(outcome)
            else:
                result.callback(outcome)

        check()
        return result

    def receiveNothing(self, quietTime=DEFAULT_QUIET_TIME):
        """
        Check that no stanza is waiting and none arrives within C{quietTime}.

        @return: a L{Deferred} firing with L{None} or failing with
            L{StepFailure} holding what arrived.
        """
        result = defer.Deferred()

        def check():
            if self.queue:
                stanzas, self.queue[:] = list(self.queue), []
                if timer.active():
                    timer.cancel()
                result.errback(
                    StepFailure("received a stanza, expected nothing", stanzas)
                )
            elif self._closedReason is None:
                self._waiter = check

        def onQuiet():
            self._waiter = None
            result.callback(None)

        timer = self.reactor.callLater(quietTime, onQuiet)
        check()
        return result

    def disconnect(self, timeout=DEFAULT_DISCONNECT_TIMEOUT):
        """
        Close the stream and wait for the connection to close.

        @param timeout: seconds to wait for the server to close before the
            connection is dropped.
        @return: a L{Deferred} firing when the connection is closed.
        """
        xs = self.xmlstream
        if xs is None or xs.closed.called:
            return defer.succeed(None)
        xs.sendFooter()
        timer = self.reactor.callLater(timeout, xs.transport.loseConnection)

        def closed(result):
            if timer.active():
                timer.cancel()
            return result

        done = defer.Deferred()
        xs.closed.addCallback(lambda _: done.callback(None))
        done.addCallback(closed)
        return done


# ---------------------------------------------------------------- the runner


def _formatFailure(script, action, message, expectedXml=None, received=(), expected=None):
    lines = [
        "%s:%d: %s %s failed: %s"
        % (
            script.filename,
            action.lineno,
            action.client,
            {
                CONNECTS: "connects",
                SENDS: "sends",
                RECEIVES: "receives",
                RECEIVES_NOTHING: "receives nothing",
                DISCONNECTS: "disconnects",
            }[action.kind],
            message,
        )
    ]
    if expectedXml is not None:
        lines.append("expected:")
        lines.extend("    " + line for line in textwrap.dedent(expectedXml).splitlines())
    if received:
        if action.kind == RECEIVES:
            lines.append("received and discarded (%d, none matched):" % (len(received),))
        else:
            lines.append("received:")
        for stanza in received:
            lines.append("    " + serialize(stanza))
            if expected is not None:
                lines.append("      mismatch: %s" % (match(expected, stanza),))
    elif action.kind == RECEIVES:
        lines.append("received: nothing")
    return "\n".join(lines)


@defer.inlineCallbacks
def runScript(
    script,
    host,
    port,
    domain="localhost",
    timeout=DEFAULT_TIMEOUT,
    quietTime=DEFAULT_QUIET_TIME,
    sendPause=DEFAULT_SEND_PAUSE,
    reactor=None,
):
    """
    Play a script against a running server.

    @param script: a L{Script}.
    @param host: the server address.
    @param port: the c2s port.
    @param domain: the stream's C{to} (the server's domain).
    @param timeout: seconds a C{receives} waits for its stanza.
    @param quietTime: seconds a C{receives: nothing} listens.
    @param sendPause: seconds to pause after each C{sends}.
    @param reactor: the reactor (default: the global one).
    @return: a L{Deferred} firing with L{None} when every step passed, or
        failing with L{ScriptFailure} describing the first failed step.
        Every client is disconnected at the end either way.
    """
    if reactor is None:
        from twisted.internet import reactor
    clients = {
        name: ScansionClient(spec, reactor) for name, spec in script.clients.items()
    }

    def lookup(name, what):
        client = clients[name]
        if what == "JID":
            if client.fullJID is not None:
                return client.fullJID.userhost()
            return JID(client.spec.jid).userhost()
        if client.fullJID is None:
            raise LookupError("%s is not connected" % (name,))
        return client.fullJID.full()

    try:
        for action in script.actions:
            client = clients[action.client]
            expectedXml = element = None
            try:
                if action.kind == CONNECTS:
                    yield client.connect(host, port, domain)
                elif action.kind == DISCONNECTS:
                    yield client.disconnect()
                elif action.kind == RECEIVES_NOTHING:
                    yield client.receiveNothing(quietTime)
                else:
                    xmlText = substitute(
                        action.xml_text, lookup, script.filename, action.xml_lineno
                    )
                    element = parseStanza(xmlText, script.filename, action.xml_lineno)
                    expectedXml = xmlText
                    if action.kind == SENDS:
                        client.send(stanzaToSend(element))
                        yield task.deferLater(reactor, sendPause, lambda: None)
                    else:
                        yield client.receive(element, timeout)
            except StepFailure as e:
                raise ScriptFailure(
                    _formatFailure(
                        script,
                        action,
                        str(e),
                        expectedXml,
                        e.received,
                        element if action.kind == RECEIVES else None,
                    )
                )
            except ScriptSyntaxError as e:
                raise ScriptFailure(str(e))
    finally:
        yield defer.DeferredList(
            [client.disconnect() for client in clients.values()],
            consumeErrors=True,
        )


def loadScript(path):
    """
    Read and parse a script file.

    @param path: the file path.
    @return: a L{Script}.
    @raise ScriptSyntaxError: malformed script.
    @raise OSError: unreadable file.
    """
    with open(path, encoding="utf-8") as f:
        return parseScript(f.read(), str(path))


# ---------------------------------------------------------------- command line


def makeArgumentParser():
    parser = ArgumentParser(
        prog="python -m xmuc.testing.scansion",
        description="Run scansion scripts against a running XMPP server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="server address")
    parser.add_argument("--port", type=int, default=5222, help="c2s port")
    parser.add_argument(
        "--domain", default="localhost", help="the server's domain (stream 'to')"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for each expected stanza",
    )
    parser.add_argument("scripts", nargs="+", metavar="script.scs")
    return parser


def parseArguments(argv):
    """
    Parse command line arguments.

    @param argv: the arguments, without the program name.
    @return: an L{argparse.Namespace}.
    @raise UsageError: bad arguments.
    @raise HelpRequested: C{--help} was given.
    """
    options = makeArgumentParser().parse_args(argv)
    if not 0 < options.port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    if options.timeout <= 0:
        raise UsageError("--timeout must be positive")
    return options


@defer.inlineCallbacks
def _runAll(options, out):
    """
    Run every script of C{options}, printing a line per script.

    @return: a L{Deferred} firing with the number of failed scripts.
    """
    failed = 0
    for path in options.scripts:
        try:
            script = loadScript(path)
            yield runScript(
                script, options.host, options.port, options.domain, options.timeout
            )
        except (ScriptSyntaxError, ScriptFailure, OSError) as e:
            failed += 1
            out.write("FAIL %s\n%s\n" % (path, e))
        except Exception as e:
            failed += 1
            out.write("FAIL %s\n%s: %s\n" % (path, e.__class__.__name__, e))
        else:
            out.write("PASS %s\n" % (path,))
        out.flush()
    return failed


def main(argv=None, out=None):
    """
    The command line: run scripts, print PASS/FAIL per script.

    @param argv: arguments without the program name (default: C{sys.argv}).
    @param out: where to print (default: C{sys.stdout}).
    @return: the exit code: 0 all passed, 1 some failed, 2 bad arguments.
    """
    if argv is None:
        argv = sys.argv[1:]
    if out is None:
        out = sys.stdout
    try:
        options = parseArguments(argv)
    except HelpRequested as h:
        sys.stdout.write(h.text)
        return 0
    except UsageError as e:
        sys.stderr.write(makeArgumentParser().format_usage())
        sys.stderr.write("error: %s\n" % (e,))
        return 2

    from twisted.internet import reactor

    outcome = []

    def run():
        d = _runAll(options, out)

        def done(result):
            outcome.append(result)
            reactor.stop()

        d.addBoth(done)

    reactor.callWhenRunning(run)
    reactor.run()
    result = outcome[0] if outcome else None
    if isinstance(result, failure.Failure):
        sys.stderr.write(result.getTraceback())
        return 1
    return 1 if result else 0


if __name__ == "__main__":
    sys.exit(main())
