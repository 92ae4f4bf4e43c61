"""
A small XMPP client for tests, on Twisted and domish, speaking over a real
TCP connection.

Typical use, inside a trial test (with C{@defer.inlineCallbacks})::

    client = yield connectClient(port)
    jid = yield client.login("alice", "secret")       # stream, SASL, bind
    client.send("<message to='bob@localhost'><body>hi</body></message>")
    stanza = yield client.receive()                   # next top-level element
    yield client.close()

Lower-level steps for tests about negotiation itself::

    features = yield client.openStream()              # header + features
    features = yield client.startTLS()                # STARTTLS + restart
    features = yield client.authenticate("alice", "secret", "SCRAM-SHA-256")
    jid = yield client.bind("phone")
    condition = yield client.streamError()            # expect a stream error

For a real server in a trial test (memory storage, internal
authentication, TLS with a throwaway certificate, MUC off, all stopped and
closed when the test ends)::

    running = yield startTestServer(self, {"c2s": {"allow_registration": "true"}})
    yield running.server.accounts.register("alice", "localhost", "secret")
    client = yield connectTestClient(self, running)
    yield client.login("alice", "secret", "phone")    # STARTTLS as required

Everything the server sends is queued; L{XMPPTestClient.receive} takes the
next top-level element and fails with L{StreamClosed} when the stream or
connection ended instead.  L{XMPPTestClient.closed} fires when the TCP
connection is gone.  Every wait has a timeout (default
L{DEFAULT_TIMEOUT}), so a test never hangs.
"""

import base64
import os

from twisted.internet import defer, endpoints, protocol, reactor, ssl, task
from twisted.words.xish import domish

from xmuc.auth import scram
from xmuc.ctl import makeCertificate
from xmuc.testing.server import startServer

DEFAULT_TIMEOUT = 5.0

NS_CLIENT = "jabber:client"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_XMPP_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"


class StreamClosed(Exception):
    """
    The server closed the stream (C{</stream:stream>}) or the connection
    while an element was expected.
    """


class AuthenticationFailed(Exception):
    """
    SASL failed.

    @ivar condition: the condition of the C{<failure/>}.
    """

    def __init__(self, condition):
        Exception.__init__(self, condition)
        self.condition = condition


class UnexpectedElement(Exception):
    """
    The server sent something else than the step expected.

    @ivar element: what was received.
    """

    def __init__(self, element):
        Exception.__init__(self, element.toXml())
        self.element = element


_END = object()


def children(element, uri=None, name=None):
    """
    @return: the child elements of C{element} with that namespace and name
        (either may be L{None} for any).
    """
    return [
        child
        for child in element.elements()
        if (uri is None or child.uri == uri) and (name is None or child.name == name)
    ]


def firstChild(element, uri=None, name=None):
    """
    @return: the first matching child element or L{None}.
    """
    found = children(element, uri, name)
    return found[0] if found else None


def errorCondition(element):
    """
    @return: the defined condition name of a stream error or a stanza error
        (C{'conflict'}...), or L{None}.
    """
    if element.name == "error":
        error = element
    else:
        error = firstChild(element, name="error")
    if error is None:
        return None
    for child in error.elements():
        if child.name != "text":
            return child.name
    return None


def mechanisms(features):
    """
    @return: the SASL mechanism names offered in a features element.
    """
    offered = firstChild(features, NS_SASL, "mechanisms")
    if offered is None:
        return []
    return [str(m) for m in children(offered, name="mechanism")]


def assertStartTLSRequired(testCase, features):
    """
    Fail C{testCase} unless C{features} (before TLS) offer STARTTLS as
    required and no SASL mechanism.
    """
    starttls = firstChild(features, NS_TLS, "starttls")
    testCase.assertIsNotNone(starttls)
    testCase.assertIsNotNone(firstChild(starttls, name="required"))
    testCase.assertEqual(mechanisms(features), [])


class XMPPTestClient(protocol.Protocol):
    """
    One client connection.

    @ivar domain: the server domain used in stream headers.
    @ivar header: the last stream header received (L{domish.Element}).
    @ivar jid: the bound full JID (str) once bound.
    @ivar closed: Deferred firing when the connection is lost.
    @ivar received: every element received, in order (for debugging).
    """

    def __init__(self, domain="localhost"):
        self.domain = domain
        self.header = None
        self.jid = None
        self.closed = defer.Deferred()
        self.received = []
        self._queue = defer.DeferredQueue()
        self._ids = 0

    # --- protocol

    def connectionMade(self):
        self._newParser()

    def _newParser(self):
        self._parser = domish.elementStream()
        self._parser.DocumentStartEvent = self._headerReceived
        self._parser.ElementEvent = self._elementReceived
        self._parser.DocumentEndEvent = self._documentEnded

    def dataReceived(self, data):
        try:
            self._parser.parse(data)
        except domish.ParserError:
            self._queue.put(_END)
            self.transport.abortConnection()

    def _headerReceived(self, root):
        self.header = root
        self._queue.put(root)

    def _elementReceived(self, element):
        self.received.append(element)
        self._queue.put(element)

    def _documentEnded(self):
        self._queue.put(_END)

    def connectionLost(self, reason):
        self._queue.put(_END)
        self.closed.callback(None)

    # --- sending

    def send(self, data):
        """
        Send raw XML (L{str} or L{bytes}) or a L{domish.Element}.
        """
        if isinstance(data, domish.Element):
            data = data.toXml(defaultUri=NS_CLIENT)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.transport.write(data)

    def sendHeader(self, to=None, version="1.0", ns=NS_CLIENT):
        """
        Send a stream header (parameters allow broken ones).
        """
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s'"
            "%s%s>"
            % (
                ns,
                NS_STREAMS,
                " to='%s'" % (to or self.domain,),
                " version='%s'" % (version,) if version else "",
            )
        )

    def nextID(self):
        self._ids += 1
        return "t%d" % (self._ids,)

    # --- receiving

    def receive(self, timeout=DEFAULT_TIMEOUT):
        """
        @return: Deferred firing with the next top-level element (a stream
            header counts as one), failing with L{StreamClosed} when the
            stream ends, or with L{defer.TimeoutError}.
        """
        d = self._queue.get()

        def check(item):
            if item is _END:
                # Later calls must fail too.
                self._queue.put(_END)
                raise StreamClosed()
            return item

        d.addCallback(check)
        d.addTimeout(timeout, reactor)
        return d

    @defer.inlineCallbacks
    def receiveStanza(self, timeout=DEFAULT_TIMEOUT):
        """
        Like L{receive}, but skips nothing and checks that the element is a
        stanza (message, presence, iq).

        @raise UnexpectedElement: for anything else (a stream error...).
        """
        element = yield self.receive(timeout)
        if element.name not in ("message", "presence", "iq") or element.uri != NS_CLIENT:
            raise UnexpectedElement(element)
        return element

    @defer.inlineCallbacks
    def streamError(self, timeout=DEFAULT_TIMEOUT):
        """
        Expect a stream error, then the end of the stream.

        @return: Deferred firing with the error condition.
        """
        while True:
            element = yield self.receive(timeout)
            if element.uri == NS_STREAMS and element.name == "stream":
                continue
            if element.uri == NS_STREAMS and element.name == "error":
                break
            raise UnexpectedElement(element)
        return errorCondition(element)

    def waitClosed(self, timeout=DEFAULT_TIMEOUT):
        """
        @return: Deferred firing when the connection is gone.
        """
        d = defer.Deferred()
        self.closed.addBoth(lambda r: d.callback(None) if not d.called else None)
        d.addTimeout(timeout, reactor)
        return d

    @defer.inlineCallbacks
    def iq(self, xml, timeout=DEFAULT_TIMEOUT):
        """
        Send an iq (its C{id} must be given in C{xml}) and wait for the
        reply with the same id; other elements received meanwhile are
        kept in order for later L{receive} calls.

        @return: Deferred firing with the reply element.
        """
        if isinstance(xml, str):
            parsed = _parseOne(xml)
        else:
            parsed = xml
        wanted = parsed.getAttribute("id")
        self.send(xml)
        others = []
        try:
            while True:
                element = yield self.receive(timeout)
                if element.name == "iq" and element.getAttribute("id") == wanted:
                    return element
                others.append(element)
        finally:
            self._pushBack(others)

    def _pushBack(self, elements):
        # Back in front of what arrived meanwhile, in the original order.
        self._queue.pending[0:0] = elements

    # --- negotiation steps

    @defer.inlineCallbacks
    def openStream(self, to=None):
        """
        Send a header and wait for the server's header and features.

        @return: Deferred firing with the features element.
        """
        self.sendHeader(to)
        header = yield self.receive()
        if header.name != "stream":
            raise UnexpectedElement(header)
        features = yield self.receive()
        if features.name != "features":
            raise UnexpectedElement(features)
        return features

    @defer.inlineCallbacks
    def startTLS(self):
        """
        STARTTLS (the server certificate is not verified: tests use
        throwaway self-signed ones) and stream restart.

        @return: Deferred firing with the new features.
        """
        self.send("<starttls xmlns='%s'/>" % (NS_TLS,))
        answer = yield self.receive()
        if answer.name != "proceed":
            raise UnexpectedElement(answer)
        self.transport.startTLS(ssl.CertificateOptions())
        self._newParser()
        features = yield self.openStream()
        return features

    @defer.inlineCallbacks
    def authenticate(self, username, password, mechanism="PLAIN", authzid=""):
        """
        SASL with C{mechanism} (C{PLAIN}, C{SCRAM-SHA-1}, C{SCRAM-SHA-256}),
        then stream restart.

        @return: Deferred firing with the features after the restart.
        @raise AuthenticationFailed: with the failure condition.
        """
        if mechanism == "PLAIN":
            payload = ("%s\x00%s\x00%s" % (authzid, username, password)).encode("utf-8")
            self._sendAuth(mechanism, payload)
            answer = yield self.receive()
            self._checkSASL(answer, "success")
        elif mechanism.startswith("SCRAM-"):
            yield self._scram(mechanism[6:], username, password, authzid)
        else:
            raise ValueError(mechanism)
        self._newParser()
        features = yield self.openStream()
        return features

    def _sendAuth(self, mechanism, payload):
        self.send(
            "<auth xmlns='%s' mechanism='%s'>%s</auth>"
            % (NS_SASL, mechanism, base64.b64encode(payload).decode("ascii") or "=")
        )

    def _checkSASL(self, element, expected):
        if element.uri == NS_SASL and element.name == "failure":
            raise AuthenticationFailed(errorConditionOfFailure(element))
        if element.uri != NS_SASL or element.name != expected:
            raise UnexpectedElement(element)

    @defer.inlineCallbacks
    def _scram(self, hashName, username, password, authzid):
        nonce = base64.b64encode(os.urandom(18)).decode("ascii")
        gs2 = "n,%s," % ("a=" + scram.escapeName(authzid) if authzid else "",)
        bare = "n=%s,r=%s" % (scram.escapeName(username), nonce)
        self._sendAuth("SCRAM-" + hashName, (gs2 + bare).encode("utf-8"))
        challenge = yield self.receive()
        self._checkSASL(challenge, "challenge")
        serverFirst = base64.b64decode(str(challenge)).decode("utf-8")
        attributes = dict(scram.parseAttributes(serverFirst))
        if not attributes["r"].startswith(nonce):
            raise ValueError("server nonce does not extend ours")
        salted = scram.saltedPassword(
            hashName, password, base64.b64decode(attributes["s"]), int(attributes["i"])
        )
        withoutProof = "c=%s,r=%s" % (
            base64.b64encode(gs2.encode("utf-8")).decode("ascii"),
            attributes["r"],
        )
        message = scram.authMessage(bare, serverFirst, withoutProof)
        key = scram.clientKey(hashName, salted)
        proof = scram.clientProof(hashName, key, scram.storedKey(hashName, key), message)
        self.send(
            "<response xmlns='%s'>%s</response>"
            % (
                NS_SASL,
                base64.b64encode(
                    ("%s,p=%s" % (withoutProof, scram.b64encode(proof))).encode("utf-8")
                ).decode("ascii"),
            )
        )
        success = yield self.receive()
        self._checkSASL(success, "success")
        expected = scram.serverFinal(
            scram.serverSignature(hashName, scram.serverKey(hashName, salted), message)
        )
        if base64.b64decode(str(success)).decode("utf-8") != expected:
            raise ValueError("server signature mismatch")

    @defer.inlineCallbacks
    def bind(self, resource=None):
        """
        Bind a resource (server-generated when L{None}).

        @return: Deferred firing with the full JID (str).
        @raise UnexpectedElement: with the iq error when refused.
        """
        inner = "<resource>%s</resource>" % (resource,) if resource else ""
        reply = yield self.iq(
            "<iq type='set' id='%s'><bind xmlns='%s'>%s</bind></iq>"
            % (self.nextID(), NS_BIND, inner)
        )
        if reply.getAttribute("type") != "result":
            raise UnexpectedElement(reply)
        self.jid = str(firstChild(firstChild(reply, NS_BIND, "bind"), name="jid"))
        return self.jid

    @defer.inlineCallbacks
    def login(self, username, password, resource=None, tls=False, mechanism=None, session=True):
        """
        Everything up to a bound resource: open the stream, STARTTLS when
        C{tls} (or when the server requires it), SASL, bind, and the legacy
        session iq when C{session}.

        @param mechanism: the SASL mechanism, or L{None} for the server's
            first offered one.
        @return: Deferred firing with the full JID (str).
        """
        features = yield self.openStream()
        starttls = firstChild(features, NS_TLS, "starttls")
        if starttls is not None and (tls or firstChild(starttls, name="required") is not None):
            features = yield self.startTLS()
        if mechanism is None:
            mechanism = mechanisms(features)[0]
        yield self.authenticate(username, password, mechanism)
        jid = yield self.bind(resource)
        if session:
            yield self.iq(
                "<iq type='set' id='%s'><session xmlns='%s'/></iq>"
                % (self.nextID(), NS_SESSION)
            )
        return jid

    def close(self):
        """
        Close the stream politely and wait for the connection to end.

        @return: Deferred firing when closed.
        """
        if not self.closed.called:
            self.send("</stream:stream>")
            self.transport.loseConnection()
        return self.waitClosed()


def errorConditionOfFailure(failure):
    """
    @return: the condition name inside a SASL C{<failure/>}.
    """
    for child in failure.elements():
        if child.name != "text":
            return child.name
    return None


def _parseOne(xml):
    """
    Parse one XML element given as text (attributes are what matter).
    """
    result = []
    parser = domish.elementStream()
    parser.DocumentStartEvent = lambda root: None
    parser.ElementEvent = result.append
    parser.DocumentEndEvent = lambda: None
    parser.parse(b"<r xmlns='jabber:client'>" + xml.encode("utf-8") + b"</r>")
    return result[0]


def connectClient(port, domain="localhost", host="127.0.0.1", source=None):
    """
    Open a TCP connection to a test server.

    @param port: the c2s port.
    @param domain: the XMPP domain used in stream headers.
    @param source: the local address to connect from (C{'127.0.0.2'}...:
        every 127/8 address is loopback), or L{None} for any.
    @return: Deferred firing with a connected L{XMPPTestClient}.
    """
    endpoint = endpoints.TCP4ClientEndpoint(
        reactor,
        host,
        port,
        timeout=DEFAULT_TIMEOUT,
        bindAddress=(source, 0) if source is not None else None,
    )
    return endpoints.connectProtocol(endpoint, XMPPTestClient(domain))


@defer.inlineCallbacks
def connectStuckClient(port, user, password="pw"):
    """
    Log in as C{user}, stop reading, then have the server write more than
    the socket buffers hold (big chat messages to itself, given a second to
    be routed): its writes to this client pile up.  The server must read
    it at full speed (C{[c2s] read_rate = 0}).

    @return: Deferred firing with the L{XMPPTestClient}.
    """
    client = yield connectClient(port)
    jid = yield client.login(user, password)
    client.transport.pauseProducing()
    body = "x" * 60000
    for number in range(300):
        client.send(
            "<message to='%s' type='chat' id='n%d'><body>%s</body></message>"
            % (jid, number, body)
        )
    yield task.deferLater(reactor, 1.0, lambda: None)
    return client


# --- a throwaway server for tests


def makeSelfSignedCertificate(directory, domain="localhost"):
    """
    Write a throwaway self-signed certificate for C{domain} and its key as
    PEM files, made as C{xmucctl cert} makes them.

    @return: C{(certificatePath, keyPath)}.
    """
    certificatePEM, keyPEM = makeCertificate(domain, days=30)
    certificatePath = os.path.join(directory, "cert.pem")
    keyPath = os.path.join(directory, "key.pem")
    for path, data in ((certificatePath, certificatePEM), (keyPath, keyPEM)):
        with open(path, "wb") as f:
            f.write(data)
    return certificatePath, keyPath


@defer.inlineCallbacks
def startTestServer(testCase, overrides=None, tls=True):
    """
    Start a real xmuc server for C{testCase} (a trial TestCase): memory
    storage, internal authentication, MUC off, c2s on an ephemeral port,
    TLS with a throwaway certificate (and required) when C{tls}.  It is
    stopped, and every client connection closed, when the test ends.

    @param overrides: C{{section: {key: raw string}}} on top of that.
    @return: Deferred firing with the
        L{xmuc.testing.server.RunningServer}.
    """
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    sections = {
        "server": {"hosts": "localhost"},
        "c2s": {"listen": "tcp:0:interface=127.0.0.1"},
        "auth": {"backend": "internal"},
        "storage": {"backend": "memory"},
        "muc": {"enabled": "false"},
        "log": {"level": "warn"},
    }
    if tls:
        certificate, key = makeSelfSignedCertificate(directory)
        sections["c2s"].update(
            tls_certificate=certificate, tls_key=key, require_encryption="true"
        )
    else:
        sections["c2s"]["require_encryption"] = "false"
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % (section,))
            for key, value in values.items():
                f.write("%s = %s\n" % (key, value))
    running = yield startServer(path)
    testCase.addCleanup(_stopTestServer, running)
    return running


@defer.inlineCallbacks
def _stopTestServer(running):
    factory = running.server.c2sFactory
    yield running.stop()
    # Connections that never bound are not closed by the session manager.
    yield factory.disconnectAll()


def connectTestClient(testCase, running, domain="localhost", source=None):
    """
    L{connectClient} to a L{startTestServer} server; the connection is
    aborted at the end of the test if still open.

    @param source: the local address to connect from, or L{None}.

    @return: Deferred firing with an L{XMPPTestClient}.
    """

    def connected(client):
        def cleanup():
            if not client.closed.called:
                client.transport.abortConnection()
            return client.closed

        testCase.addCleanup(cleanup)
        return client

    return connectClient(running.c2sPort, domain, source=source).addCallback(connected)


@defer.inlineCallbacks
def startServerWith(testCase, sections):
    """
    Start an in-process server from exactly C{sections} (no key added
    behind the test's back, unlike L{startTestServer}).

    @param sections: C{{section: {key: raw string}}}; C{{dir}} in a value is
        replaced by the test's directory.
    @return: Deferred firing with the L{xmuc.testing.server.RunningServer}.
    """
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w", encoding="utf-8") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % (section,))
            for key, value in values.items():
                f.write("%s = %s\n" % (key, value.replace("{dir}", directory)))
    running = yield startServer(path)

    @defer.inlineCallbacks
    def stop():
        factory = running.server.c2sFactory
        yield running.stop()
        yield factory.disconnectAll()

    testCase.addCleanup(stop)
    return running


def tlsSections(directory, **c2s):
    """
    A configuration with a certificate and nothing else about TLS,
    registration or stanza size.
    """
    certificate, key = makeSelfSignedCertificate(directory)
    values = {
        "listen": "tcp:0:interface=127.0.0.1",
        "tls_certificate": certificate,
        "tls_key": key,
    }
    values.update(c2s)
    return {
        "server": {"hosts": "localhost"},
        "c2s": values,
        "auth": {"backend": "internal"},
        "storage": {"backend": "memory"},
        "muc": {"enabled": "false"},
        "log": {"level": "warn"},
    }


def certificateDirectory(testCase):
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    return directory


@defer.inlineCallbacks
def collectUntilClosed(client, timeout=15):
    """
    @return: Deferred firing with every element received until the stream
        ended.
    """
    elements = []
    while True:
        try:
            element = yield client.receive(timeout)
        except StreamClosed:
            break
        elements.append(element)
    yield client.waitClosed(timeout)
    return elements


def streamErrorConditions(elements):
    return [
        child.name
        for element in elements
        if element.name == "error" and element.uri == "http://etherx.jabber.org/streams"
        for child in element.elements()
    ]
