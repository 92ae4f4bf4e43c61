"""
Client streams over real sockets against a real server: stream header
checks, STARTTLS, SASL, binding, and bad input; and what a server whose
tap.conf leaves out C{require_encryption}, C{allow_registration} and
C{max_stanza_size} does: it requires TLS, offers no registration, accepts
a 200 KiB stanza and answers a 300 KiB one with C{policy-violation}
(256 KiB default), the other sessions unaffected.
"""

import base64
import os

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.words.xish import domish

from tests.support.client import (
    AuthenticationFailed,
    NS_BIND,
    NS_SASL,
    NS_SESSION,
    NS_TLS,
    StreamClosed,
    assertStartTLSRequired,
    certificateDirectory,
    connectTestClient,
    errorCondition,
    firstChild,
    makeSelfSignedCertificate,
    mechanisms,
    startServerWith,
    startTestServer,
    tlsSections,
)
from xmuc.c2s.stream import loadTLSOptions
from xmuc.config import ConfigError, validate

REGISTER_FEATURE = "http://jabber.org/features/iq-register"
NS_REGISTER = "jabber:iq:register"


class ServerTestCase(unittest.TestCase):
    """
    A server with TLS required and the account alice@localhost/secret.
    """

    tls = True
    overrides = None

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(self, self.overrides, tls=self.tls)
        self.server = self.running.server
        yield self.server.accounts.register("alice", "localhost", "secret")

    def connect(self, domain="localhost"):
        return connectTestClient(self, self.running, domain)

    @defer.inlineCallbacks
    def tlsClient(self):
        """
        @return: a client past STARTTLS, and the features offered.
        """
        client = yield self.connect()
        yield client.openStream()
        features = yield client.startTLS()
        return client, features

    @defer.inlineCallbacks
    def loggedIn(self, resource=None, username="alice", password="secret"):
        client = yield self.connect()
        yield client.login(username, password, resource, tls=True, mechanism="SCRAM-SHA-256")
        return client


def streamHeader(
    to="localhost",
    version="1.0",
    namespace="jabber:client",
    streamNamespace="http://etherx.jabber.org/streams",
):
    """
    @param version: L{None} to leave the attribute out.
    @return: a stream header as a client sends it.
    """
    return "<stream:stream xmlns='%s' xmlns:stream='%s' to='%s'%s>" % (
        namespace,
        streamNamespace,
        to,
        "" if version is None else " version='%s'" % (version,),
    )


class StreamHeaderTests(ServerTestCase):
    @defer.inlineCallbacks
    def headerError(self, data):
        client = yield self.connect()
        client.send(data)
        condition = yield client.streamError()
        yield client.waitClosed()
        return condition

    @defer.inlineCallbacks
    def test_foreignHost(self):
        condition = yield self.headerError(streamHeader(to="example.org"))
        self.assertEqual(condition, "host-unknown")

    @defer.inlineCallbacks
    def test_noVersion(self):
        condition = yield self.headerError(streamHeader(version=None))
        self.assertEqual(condition, "unsupported-version")

    @defer.inlineCallbacks
    def test_oldVersion(self):
        condition = yield self.headerError(streamHeader(version="0.9"))
        self.assertEqual(condition, "unsupported-version")

    @defer.inlineCallbacks
    def test_wrongStreamNamespace(self):
        condition = yield self.headerError(
            streamHeader(streamNamespace="http://example.org/streams")
        )
        self.assertEqual(condition, "invalid-namespace")

    @defer.inlineCallbacks
    def test_wrongDefaultNamespace(self):
        condition = yield self.headerError(streamHeader(namespace="jabber:server"))
        self.assertEqual(condition, "invalid-namespace")

    @defer.inlineCallbacks
    def test_headerReply(self):
        client = yield self.connect()
        yield client.openStream()
        header = client.header
        self.assertEqual(header.getAttribute("from"), "localhost")
        self.assertEqual(header.getAttribute("version"), "1.0")
        self.assertTrue(header.getAttribute("id"))
        self.assertEqual(header.defaultUri, "jabber:client")


class TLSRequiredTests(ServerTestCase):
    @defer.inlineCallbacks
    def test_onlyStartTLSBeforeTLS(self):
        client = yield self.connect()
        features = yield client.openStream()
        assertStartTLSRequired(self, features)
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))

    @defer.inlineCallbacks
    def test_saslAfterTLS(self):
        client, features = yield self.tlsClient()
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        self.assertEqual(mechanisms(features), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
        self.assertTrue(client.transport.TLS)

    @defer.inlineCallbacks
    def test_saslBeforeTLSRefused(self):
        client = yield self.connect()
        yield client.openStream()
        client.send(
            "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
            % (NS_SASL, base64.b64encode(b"\0alice\0secret").decode())
        )
        failure = yield client.receive()
        self.assertEqual(failure.name, "failure")
        self.assertEqual(errorCondition_(failure), "encryption-required")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_secondStartTLSRefused(self):
        client, _ = yield self.tlsClient()
        client.send("<starttls xmlns='%s'/>" % (NS_TLS,))
        answer = yield client.receive()
        self.assertEqual((answer.uri, answer.name), (NS_TLS, "failure"))
        yield client.waitClosed()


def errorCondition_(failure):
    for child in failure.elements():
        return child.name


class SASLTests(ServerTestCase):
    @defer.inlineCallbacks
    def loginWith(self, mechanism, password="secret"):
        client, _ = yield self.tlsClient()
        features = yield client.authenticate("alice", password, mechanism)
        self.assertIsNotNone(firstChild(features, NS_BIND, "bind"))
        session = firstChild(features, NS_SESSION, "session")
        self.assertIsNotNone(firstChild(session, name="optional"))
        self.assertEqual(mechanisms(features), [])
        return client

    def test_plain(self):
        return self.loginWith("PLAIN")

    def test_scramSHA1(self):
        return self.loginWith("SCRAM-SHA-1")

    def test_scramSHA256(self):
        return self.loginWith("SCRAM-SHA-256")

    @defer.inlineCallbacks
    def assertAuthFails(self, client, condition, *args, **kwargs):
        e = yield self.assertFailure(
            client.authenticate(*args, **kwargs), AuthenticationFailed
        )
        self.assertEqual(e.condition, condition)

    @defer.inlineCallbacks
    def test_wrongPassword(self):
        for mechanism in ("PLAIN", "SCRAM-SHA-1"):
            client, _ = yield self.tlsClient()
            yield self.assertAuthFails(client, "not-authorized", "alice", "wrong", mechanism)
            # The stream stays usable for another try.
            yield client.authenticate("alice", "secret", mechanism)

    @defer.inlineCallbacks
    def test_unknownUser(self):
        client, _ = yield self.tlsClient()
        yield self.assertAuthFails(client, "not-authorized", "nobody", "x", "SCRAM-SHA-256")
        yield self.assertAuthFails(client, "not-authorized", "nobody", "x", "PLAIN")

    @defer.inlineCallbacks
    def test_closedAfterThreeFailures(self):
        client, _ = yield self.tlsClient()
        yield self.assertAuthFails(client, "not-authorized", "alice", "a", "PLAIN")
        yield self.assertAuthFails(client, "not-authorized", "alice", "b", "SCRAM-SHA-256")
        yield self.assertAuthFails(client, "not-authorized", "alice", "c", "PLAIN")
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_badBase64(self):
        client, _ = yield self.tlsClient()
        client.send("<auth xmlns='%s' mechanism='PLAIN'>!!!notbase64</auth>" % (NS_SASL,))
        failure = yield client.receive()
        self.assertEqual(errorCondition_(failure), "incorrect-encoding")

    @defer.inlineCallbacks
    def test_badScramMessage(self):
        client, _ = yield self.tlsClient()
        client.send(
            "<auth xmlns='%s' mechanism='SCRAM-SHA-1'>%s</auth>"
            % (NS_SASL, base64.b64encode(b"p=tls-unique,,n=alice,r=abc").decode())
        )
        failure = yield client.receive()
        self.assertEqual(errorCondition_(failure), "malformed-request")

    @defer.inlineCallbacks
    def test_badAuthzid(self):
        for mechanism in ("PLAIN", "SCRAM-SHA-256"):
            client, _ = yield self.tlsClient()
            yield self.assertAuthFails(
                client, "invalid-authzid", "alice", "secret", mechanism, authzid="bob@localhost"
            )
            # Authorizing as oneself is fine.
            yield client.authenticate(
                "alice", "secret", mechanism, authzid="alice@localhost"
            )

    @defer.inlineCallbacks
    def test_unknownMechanism(self):
        client, _ = yield self.tlsClient()
        client.send("<auth xmlns='%s' mechanism='DIGEST-MD5'/>" % (NS_SASL,))
        failure = yield client.receive()
        self.assertEqual(errorCondition_(failure), "invalid-mechanism")

    @defer.inlineCallbacks
    def test_plainWithoutInitialResponse(self):
        client, _ = yield self.tlsClient()
        client.send("<auth xmlns='%s' mechanism='PLAIN'/>" % (NS_SASL,))
        challenge = yield client.receive()
        self.assertEqual(challenge.name, "challenge")
        client.send(
            "<response xmlns='%s'>%s</response>"
            % (NS_SASL, base64.b64encode(b"\0alice\0secret").decode())
        )
        success = yield client.receive()
        self.assertEqual(success.name, "success")

    @defer.inlineCallbacks
    def test_abort(self):
        client, _ = yield self.tlsClient()
        client.send("<auth xmlns='%s' mechanism='PLAIN'/>" % (NS_SASL,))
        yield client.receive()
        client.send("<abort xmlns='%s'/>" % (NS_SASL,))
        failure = yield client.receive()
        self.assertEqual(errorCondition_(failure), "aborted")
        yield client.authenticate("alice", "secret", "PLAIN")

    @defer.inlineCallbacks
    def test_passwordNeverStored(self):
        credentials = yield self.server.storage.accounts.get("alice@localhost")
        self.assertNotIn("secret", repr(credentials))
        self.assertEqual(sorted(credentials["scram"]), ["SHA-1", "SHA-256"])


class PlainTCPTests(ServerTestCase):
    """
    require_encryption = false, with a certificate: STARTTLS offered but
    optional, SASL offered on plain TCP (without PLAIN, which would show
    the password).
    """

    @defer.inlineCallbacks
    def test_features(self):
        self.server.c2sFactory.requireEncryption = False
        client = yield self.connect()
        features = yield client.openStream()
        starttls = firstChild(features, NS_TLS, "starttls")
        self.assertIsNotNone(starttls)
        self.assertIsNone(firstChild(starttls, name="required"))
        self.assertEqual(mechanisms(features), ["SCRAM-SHA-256", "SCRAM-SHA-1"])
        yield client.authenticate("alice", "secret", "SCRAM-SHA-256")
        jid = yield client.bind("r")
        self.assertEqual(jid, "alice@localhost/r")


class NoTLSTests(ServerTestCase):
    tls = False

    @defer.inlineCallbacks
    def test_noStartTLSWithoutCertificate(self):
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIsNone(firstChild(features, NS_TLS, "starttls"))
        client.send("<starttls xmlns='%s'/>" % (NS_TLS,))
        answer = yield client.receive()
        self.assertEqual(answer.name, "failure")
        yield client.waitClosed()

    def test_certificateRequiredWhenEncryptionRequired(self):
        config = validate({"c2s": {"require_encryption": "true"}})
        e = self.assertRaises(ConfigError, loadTLSOptions, config)
        self.assertEqual((e.section, e.key), ("c2s", "tls_certificate"))


class BindTests(ServerTestCase):
    @defer.inlineCallbacks
    def test_bindResource(self):
        client = yield self.loggedIn("phone")
        self.assertEqual(client.jid, "alice@localhost/phone")
        sessions = self.server.sm.sessionsOf("alice@localhost")
        self.assertEqual([s.jid.full() for s in sessions], ["alice@localhost/phone"])

    @defer.inlineCallbacks
    def test_bindGenerated(self):
        client = yield self.loggedIn()
        self.assertTrue(client.jid.startswith("alice@localhost/"))
        self.assertGreater(len(client.jid), len("alice@localhost/"))

    @defer.inlineCallbacks
    def test_conflict(self):
        first = yield self.loggedIn("same")
        second = yield self.loggedIn("same")
        condition = yield first.streamError()
        self.assertEqual(condition, "conflict")
        yield first.waitClosed()
        sessions = self.server.sm.sessionsOf("alice@localhost")
        self.assertEqual(len(sessions), 1)
        # The new session works.
        reply = yield second.iq(
            "<iq type='set' id='s1'><session xmlns='%s'/></iq>" % (NS_SESSION,)
        )
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_sessionIQ(self):
        client = yield self.connect()
        yield client.login("alice", "secret", "r", tls=True, session=False)
        reply = yield client.iq(
            "<iq type='set' id='sess'><session xmlns='%s'/></iq>" % (NS_SESSION,)
        )
        self.assertEqual(reply.getAttribute("type"), "result")
        self.assertEqual(reply.getAttribute("id"), "sess")

    @defer.inlineCallbacks
    def test_sessionIQBeforeBind(self):
        client, _ = yield self.tlsClient()
        yield client.authenticate("alice", "secret", "PLAIN")
        reply = yield client.iq(
            "<iq type='set' id='sess'><session xmlns='%s'/></iq>" % (NS_SESSION,)
        )
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_badResource(self):
        client, _ = yield self.tlsClient()
        yield client.authenticate("alice", "secret", "PLAIN")
        reply = yield client.iq(
            "<iq type='set' id='b'><bind xmlns='%s'><resource>\ue000</resource></bind></iq>"
            % (NS_BIND,)
        )
        self.assertEqual(reply.getAttribute("type"), "error")
        self.assertEqual(errorCondition(reply), "bad-request")

    @defer.inlineCallbacks
    def test_unbindOnConnectionLost(self):
        client = yield self.loggedIn("gone")
        calls = []
        sm = self.server.sm
        original = sm.unbind
        sm.unbind = lambda session: (calls.append(session), original(session))
        self.addCleanup(setattr, sm, "unbind", original)
        session = sm.sessionsOf("alice@localhost")[0]
        client.transport.abortConnection()
        yield session._authenticator.whenClosed()
        self.assertEqual(calls, [session])
        self.assertEqual(sm.sessionsOf("alice@localhost"), [])

    @defer.inlineCallbacks
    def test_disconnectSystemShutdown(self):
        client = yield self.loggedIn("r")
        session = self.server.sm.sessionsOf("alice@localhost")[0]
        yield session.disconnect("system-shutdown")
        condition = yield client.streamError()
        self.assertEqual(condition, "system-shutdown")
        yield client.waitClosed()
        self.assertEqual(self.server.sm.sessionsOf("alice@localhost"), [])
        # Sending to a closed session is harmless.
        session.send("<message/>")

    @defer.inlineCallbacks
    def test_clientClosesStream(self):
        client = yield self.loggedIn("r")
        client.send("</stream:stream>")
        with self.assertRaises(StreamClosed):
            yield client.receive()
        yield client.waitClosed()


class BadInputTests(ServerTestCase):
    overrides = {"server": {"max_stanza_size": "4096"}}

    @defer.inlineCallbacks
    def test_stanzaBeforeAuth(self):
        client, _ = yield self.tlsClient()
        client.send("<message to='alice@localhost'><body>hi</body></message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_stanzaBeforeBind(self):
        client, _ = yield self.tlsClient()
        yield client.authenticate("alice", "secret", "PLAIN")
        client.send("<message to='alice@localhost'><body>hi</body></message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")

    @defer.inlineCallbacks
    def test_notWellFormed(self):
        other = yield self.loggedIn("other")
        client = yield self.loggedIn("broken")
        client.send("<message><body>x</message>")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-well-formed")
        yield client.waitClosed()
        # The other session is unaffected.
        other.send(
            "<message to='alice@localhost/other' id='m1'><body>still here</body></message>"
        )
        message = yield other.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "m1")

    @defer.inlineCallbacks
    def test_notWellFormedBeforeHeader(self):
        client = yield self.connect()
        client.send("<<<")
        condition = yield client.streamError()
        self.assertEqual(condition, "not-well-formed")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_oversizedStanza(self):
        client = yield self.loggedIn("big")
        client.send(
            "<message to='alice@localhost/big'><body>%s</body></message>" % ("x" * 5000,)
        )
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_oversizedInPieces(self):
        client = yield self.loggedIn("big")
        client.send("<message to='alice@localhost/big'><body>")
        for _ in range(6):
            client.send("y" * 1000)
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")

    @defer.inlineCallbacks
    def test_manySmallStanzasAreFine(self):
        client = yield self.loggedIn("small")
        stanza = "<message to='alice@localhost/small'><body>%s</body></message>"
        client.send("".join(stanza % (i,) for i in range(200)))
        for i in range(200):
            message = yield client.receiveStanza()
            self.assertEqual(str(firstChild(message, name="body")), str(i))

    @defer.inlineCallbacks
    def test_whitespaceKeepalive(self):
        client = yield self.loggedIn("ka")
        client.send(" \n ")
        client.send("<message to='alice@localhost/ka' id='k'><body>k</body></message>")
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "k")

    @defer.inlineCallbacks
    def test_foreignFromReplaced(self):
        """
        A C{from} of another account is replaced by the sender's full JID
        (RFC 6120 section 8.1.2.1), not a stream error.
        """
        client = yield self.loggedIn("r")
        client.send("<message from='bob@localhost/x' to='alice@localhost/r' id='f'><body/></message>")
        message = yield client.receiveStanza()
        self.assertEqual((message["id"], message["from"]), ("f", "alice@localhost/r"))

    @defer.inlineCallbacks
    def test_ownFromAccepted(self):
        client = yield self.loggedIn("r")
        for sender in ("alice@localhost/r", "alice@localhost", "Alice@LOCALHOST/r"):
            client.send(
                "<message from='%s' to='alice@localhost/r' id='%s'><body/></message>"
                % (sender, sender)
            )
            message = yield client.receiveStanza()
            self.assertEqual(message.getAttribute("id"), sender)
            self.assertEqual(message.getAttribute("from"), "alice@localhost/r")

    @defer.inlineCallbacks
    def test_restrictedXML(self):
        client = yield self.loggedIn("r")
        client.send("<!-- a comment -->")
        condition = yield client.streamError()
        self.assertEqual(condition, "restricted-xml")

    @defer.inlineCallbacks
    def test_unsupportedStanzaType(self):
        client = yield self.loggedIn("r")
        client.send("<enable xmlns='urn:example:unsupported'/>")
        condition = yield client.streamError()
        self.assertEqual(condition, "unsupported-stanza-type")


class NegotiationTimeoutTests(ServerTestCase):
    @defer.inlineCallbacks
    def test_slowClientDisconnected(self):
        self.server.c2sFactory.negotiationTimeout = 0.2
        client = yield self.connect()
        yield client.openStream()
        condition = yield client.streamError()
        self.assertEqual(condition, "connection-timeout")
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_boundClientStays(self):
        self.server.c2sFactory.negotiationTimeout = 0.3
        client = yield self.loggedIn("r")
        yield deferLater(0.5)
        client.send("<message to='alice@localhost/r' id='m'><body/></message>")
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "m")


def deferLater(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


class SessionSendTests(ServerTestCase):
    @defer.inlineCallbacks
    def test_sendSerializedAndElement(self):
        client = yield self.loggedIn("r")
        session = self.server.sm.sessionsOf("alice@localhost")[0]
        session.send("<message from='localhost' to='alice@localhost/r' id='raw'/>")
        element = domish.Element((None, "message"))
        element["id"] = "element"
        session.send(element)
        first = yield client.receiveStanza()
        second = yield client.receiveStanza()
        self.assertEqual(
            [first.getAttribute("id"), second.getAttribute("id")], ["raw", "element"]
        )

    @defer.inlineCallbacks
    def test_disconnectAfterConnectionLost(self):
        client = yield self.loggedIn("r")
        session = self.server.sm.sessionsOf("alice@localhost")[0]
        client.transport.abortConnection()
        yield session._authenticator.whenClosed()
        # Harmless, and leaves no timer behind (trial would complain).
        yield session.disconnect("system-shutdown")
        session.send("<message/>")


class TLSOptionsTests(unittest.TestCase):
    """
    Certificate loading errors name the key of tap.conf at fault.
    """

    def configWith(self, certificate, key):
        return validate(
            {"c2s": {"tls_certificate": certificate, "tls_key": key}}
        )

    def assertConfigError(self, key, certificate, keyPath):
        e = self.assertRaises(
            ConfigError, loadTLSOptions, self.configWith(certificate, keyPath)
        )
        self.assertEqual((e.section, e.key), ("c2s", key))

    def makePair(self):

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        return makeSelfSignedCertificate(directory)

    def test_valid(self):
        certificate, key = self.makePair()
        self.assertIsNotNone(loadTLSOptions(self.configWith(certificate, key)))

    def test_missingFiles(self):
        certificate, key = self.makePair()
        self.assertConfigError("tls_certificate", certificate + ".missing", key)
        self.assertConfigError("tls_key", certificate, key + ".missing")

    def test_notPEM(self):
        certificate, key = self.makePair()
        self.assertConfigError("tls_certificate", key, key)
        self.assertConfigError("tls_key", certificate, certificate)

    def test_mismatchedKey(self):
        certificate, _ = self.makePair()
        _, otherKey = self.makePair()
        self.assertConfigError("tls_key", certificate, otherKey)


class DefaultSettingsTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startServerWith(self, tlsSections(certificateDirectory(self)))
        yield self.running.server.accounts.register("alice", "localhost", "secret")

    def connect(self):
        return connectTestClient(self, self.running)

    @defer.inlineCallbacks
    def test_tlsRequiredByDefault(self):
        client = yield self.connect()
        features = yield client.openStream()
        assertStartTLSRequired(self, features)
        client.send(
            "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
            % (NS_SASL, base64.b64encode(b"\0alice\0secret").decode())
        )
        failure = yield client.receive()
        self.assertEqual(failure.name, "failure")
        self.assertEqual([c.name for c in failure.elements()], ["encryption-required"])
        yield client.waitClosed()

    @defer.inlineCallbacks
    def test_registrationOffByDefault(self):
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        features = yield client.startTLS()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        reply = yield client.iq(
            "<iq type='set' id='r'><query xmlns='%s'><username>mallory</username>"
            "<password>pw</password></query></iq>" % (NS_REGISTER,)
        )
        self.assertEqual(errorCondition(reply), "service-unavailable")
        exists = yield self.running.server.auth.userExists("mallory@localhost")
        self.assertFalse(exists)

    @defer.inlineCallbacks
    def test_stanzaSizeDefault(self):
        """
        256 KiB by default: 200 KiB goes through, 300 KiB is a
        C{policy-violation} for that stream only.
        """
        other = yield self.connect()
        yield other.login("alice", "secret", "other", tls=True)
        client = yield self.connect()
        jid = yield client.login("alice", "secret", "big", tls=True)
        stanza = "<message to='%s' id='%s'><body>%s</body></message>"
        client.send(stanza % (jid, "fits", "a" * (200 * 1024)))
        message = yield client.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "fits")
        self.assertEqual(len(str(firstChild(message, name="body"))), 200 * 1024)

        client.send(stanza % (jid, "too-big", "b" * (300 * 1024)))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield client.waitClosed()

        other.send(stanza % ("alice@localhost/other", "still-here", "x"))
        message = yield other.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "still-here")
