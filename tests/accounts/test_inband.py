"""
In-band registration (XEP-0077) before authentication, password change
and account removal after it, the tombstone left by a removal, the
account-deleted event.
"""


from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import (
    AuthenticationFailed,
    connectTestClient,
    errorCondition,
    firstChild,
    startTestServer,
)
from xmuc.hooks import ACCOUNT_DELETED
from xmuc.xmpp.errors import StanzaError

NS_REGISTER = "jabber:iq:register"
NS_DATA = "jabber:x:data"
CHANGE_PASSWORD = "jabber:iq:register:changepassword"
REGISTER_FEATURE = "http://jabber.org/features/iq-register"


def registerIQ(id, username=None, password=None, extra=""):
    fields = ""
    if username is not None:
        fields += "<username>%s</username>" % (username,)
    if password is not None:
        fields += "<password>%s</password>" % (password,)
    return "<iq type='set' id='%s'><query xmlns='%s'>%s%s</query></iq>" % (
        id,
        NS_REGISTER,
        fields,
        extra,
    )


def changePasswordForm(id, oldPassword, password, username="alice", formType=CHANGE_PASSWORD):
    """
    @return: the password change form of XEP-0077 section 3.3, submitted.
    """
    return (
        "<iq type='set' id='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
        "<field var='username'><value>%s</value></field>"
        "<field var='old_password'><value>%s</value></field>"
        "<field var='password'><value>%s</value></field>"
        "</x></query></iq>" % (id, NS_REGISTER, formType, username, oldPassword, password)
    )


class AccountsTestCase(unittest.TestCase):
    allowRegistration = "true"
    tombstoneExpiry = "0"
    passwordChangeWindow = "300"

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startTestServer(
            self,
            {
                "c2s": {
                    "allow_registration": self.allowRegistration,
                    "password_change_window": self.passwordChangeWindow,
                },
                "storage": {"tombstone_expiry": self.tombstoneExpiry},
            },
        )
        self.server = self.running.server

    def connect(self):
        return connectTestClient(self, self.running)

    @defer.inlineCallbacks
    def tlsClient(self):
        client = yield self.connect()
        yield client.openStream()
        features = yield client.startTLS()
        return client, features

    @defer.inlineCallbacks
    def loggedIn(self, username, password, resource="r"):
        client = yield self.connect()
        yield client.login(username, password, resource, tls=True, mechanism="SCRAM-SHA-1")
        return client

    @defer.inlineCallbacks
    def assertLoginFails(self, username, password):
        client, _ = yield self.tlsClient()
        e = yield self.assertFailure(
            client.authenticate(username, password, "PLAIN"), AuthenticationFailed
        )
        self.assertEqual(e.condition, "not-authorized")


class RegistrationOffTests(AccountsTestCase):
    allowRegistration = "false"

    @defer.inlineCallbacks
    def test_noFeatureAndServiceUnavailable(self):
        client, features = yield self.tlsClient()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        reply = yield client.iq(
            "<iq type='get' id='g'><query xmlns='%s'/></iq>" % (NS_REGISTER,)
        )
        self.assertEqual(errorCondition(reply), "service-unavailable")
        reply = yield client.iq(registerIQ("s", "mallory", "pw"))
        self.assertEqual(errorCondition(reply), "service-unavailable")
        exists = yield self.server.auth.userExists("mallory@localhost")
        self.assertFalse(exists)


class RegistrationTests(AccountsTestCase):
    @defer.inlineCallbacks
    def test_featureOnlyAfterTLS(self):
        client = yield self.connect()
        features = yield client.openStream()
        self.assertIsNone(firstChild(features, REGISTER_FEATURE, "register"))
        client.send("<iq type='get' id='g'><query xmlns='%s'/></iq>" % (NS_REGISTER,))
        condition = yield client.streamError()
        self.assertEqual(condition, "not-authorized")

    @defer.inlineCallbacks
    def test_registerThenLogin(self):
        client, features = yield self.tlsClient()
        self.assertIsNotNone(firstChild(features, REGISTER_FEATURE, "register"))
        form = yield client.iq("<iq type='get' id='g'><query xmlns='%s'/></iq>" % (NS_REGISTER,))
        self.assertEqual(form.getAttribute("type"), "result")
        query = firstChild(form, NS_REGISTER, "query")
        self.assertIsNotNone(firstChild(query, name="instructions"))
        self.assertIsNotNone(firstChild(query, name="username"))
        self.assertIsNotNone(firstChild(query, name="password"))
        reply = yield client.iq(registerIQ("s", "Carol", "pässword"))
        self.assertEqual(reply.getAttribute("type"), "result")
        # Same stream: authenticate with the new account (name prepared).
        yield client.authenticate("carol", "pässword", "SCRAM-SHA-256")
        jid = yield client.bind("here")
        self.assertEqual(jid, "carol@localhost/here")

    @defer.inlineCallbacks
    def test_conflict(self):
        yield self.server.accounts.register("dave", "localhost", "pw")
        client, _ = yield self.tlsClient()
        reply = yield client.iq(registerIQ("s", "dave", "other"))
        self.assertEqual(errorCondition(reply), "conflict")
        # The existing password is unchanged.
        yield (yield self.connect()).login("dave", "pw", tls=True)

    @defer.inlineCallbacks
    def test_notAcceptable(self):
        client, _ = yield self.tlsClient()
        for iq in (
            registerIQ("a", "erin"),
            registerIQ("b", "erin", ""),
            registerIQ("c", None, "pw"),
            registerIQ("d", "bad@name", "pw"),
        ):
            reply = yield client.iq(iq)
            self.assertEqual(errorCondition(reply), "not-acceptable", iq)
        exists = yield self.server.auth.userExists("erin@localhost")
        self.assertFalse(exists)

    @defer.inlineCallbacks
    def test_oneAccountPerStream(self):
        client, _ = yield self.tlsClient()
        reply = yield client.iq(registerIQ("a", "frank", "pw"))
        self.assertEqual(reply.getAttribute("type"), "result")
        reply = yield client.iq(registerIQ("b", "grace", "pw"))
        self.assertEqual(errorCondition(reply), "not-acceptable")


class AfterAuthenticationTests(AccountsTestCase):
    allowRegistration = "false"

    @defer.inlineCallbacks
    def setUp(self):
        yield AccountsTestCase.setUp(self)
        yield self.server.accounts.register("alice", "localhost", "secret")

    @defer.inlineCallbacks
    def test_registrationState(self):
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(
            "<iq type='get' id='g'><query xmlns='%s'/></iq>" % (NS_REGISTER,)
        )
        query = firstChild(reply, NS_REGISTER, "query")
        self.assertIsNotNone(firstChild(query, name="registered"))
        self.assertEqual(str(firstChild(query, name="username")), "alice")

    @defer.inlineCallbacks
    def test_changePassword(self):
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(registerIQ("c", "alice", "newsecret"))
        self.assertEqual(reply.getAttribute("type"), "result")
        yield self.assertLoginFails("alice", "secret")
        other = yield self.connect()
        yield other.login("alice", "newsecret", "two", tls=True, mechanism="PLAIN")
        other2 = yield self.connect()
        yield other2.login("alice", "newsecret", "three", tls=True, mechanism="SCRAM-SHA-256")

    @defer.inlineCallbacks
    def test_changePasswordClosesOtherSessions(self):
        """
        Once the password is changed, the account's other sessions are
        closed with a C{reset} stream error (as Prosody does); the session
        that changed it goes on.
        """
        other = yield self.loggedIn("alice", "secret", "other")
        client = yield self.loggedIn("alice", "secret", "main")
        reply = yield client.iq(registerIQ("c", "alice", "newsecret"))
        self.assertEqual(reply.getAttribute("type"), "result")
        condition = yield other.streamError()
        self.assertEqual(condition, "reset")
        reply = yield client.iq("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_changePasswordWithForm(self):
        """
        The password change form with the right old password changes the
        password, within the window too.
        """
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(changePasswordForm("f", "secret", "newsecret"))
        self.assertEqual(reply.getAttribute("type"), "result")
        yield self.assertLoginFails("alice", "secret")
        yield (yield self.connect()).login("alice", "newsecret", "two", tls=True)

    @defer.inlineCallbacks
    def test_changePasswordErrors(self):
        yield self.server.accounts.register("bob", "localhost", "bobpw")
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(registerIQ("a", "bob", "stolen"))
        self.assertEqual(errorCondition(reply), "not-allowed")
        reply = yield client.iq(registerIQ("b", "alice", ""))
        self.assertEqual(errorCondition(reply), "bad-request")
        reply = yield client.iq(registerIQ("c", None, "x"))
        self.assertEqual(errorCondition(reply), "bad-request")
        # Nothing changed.
        yield (yield self.connect()).login("bob", "bobpw", tls=True)
        yield (yield self.connect()).login("alice", "secret", "again", tls=True)

    @defer.inlineCallbacks
    def test_remove(self):
        events = []
        self.server.hooks.add(ACCOUNT_DELETED, lambda jid: events.append(jid))
        yield self.server.storage.rosters.set(
            "alice@localhost", "bob@localhost", {"subscription": "both"}
        )
        other = yield self.loggedIn("alice", "secret", "other")
        client = yield self.loggedIn("alice", "secret", "main")
        client.send(
            "<iq type='set' id='rm'><query xmlns='%s'><remove/></query></iq>" % (NS_REGISTER,)
        )
        reply = yield client.receive()
        self.assertEqual((reply.name, reply.getAttribute("type")), ("iq", "result"))
        self.assertEqual(reply.getAttribute("id"), "rm")
        for c in (client, other):
            condition = yield c.streamError()
            self.assertEqual(condition, "not-authorized")
            yield c.waitClosed()
        self.assertEqual(events, ["alice@localhost"])
        exists = yield self.server.auth.userExists("alice@localhost")
        self.assertFalse(exists)
        roster = yield self.server.storage.rosters.get("alice@localhost")
        self.assertEqual(roster, {})
        tombstone = yield self.server.storage.tombstones.get("alice@localhost")
        self.assertEqual(tombstone["kind"], "account")
        yield self.assertLoginFails("alice", "secret")
        # The name stays taken.
        e = yield self.assertFailure(
            self.server.accounts.register("alice", "localhost", "x"), StanzaError
        )
        self.assertEqual(e.condition, "conflict")

    @defer.inlineCallbacks
    def test_removeWithOtherChildren(self):
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(
            "<iq type='set' id='rm'><query xmlns='%s'><remove/><username>alice</username>"
            "</query></iq>" % (NS_REGISTER,)
        )
        self.assertEqual(errorCondition(reply), "bad-request")
        exists = yield self.server.auth.userExists("alice@localhost")
        self.assertTrue(exists)


class OldPasswordTests(AccountsTestCase):
    """
    Past C{[c2s] password_change_window} (here 0: at once) a session
    changes the password only with the old one.
    """

    allowRegistration = "false"
    passwordChangeWindow = "0"

    @defer.inlineCallbacks
    def setUp(self):
        yield AccountsTestCase.setUp(self)
        yield self.server.accounts.register("alice", "localhost", "secret")

    @defer.inlineCallbacks
    def test_formAsked(self):
        """
        The new password alone is answered C{not-authorized} with the
        password change form (XEP-0077 section 3.3), and changes nothing.
        """
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(registerIQ("c", "alice", "stolen"))
        self.assertEqual(reply.getAttribute("type"), "error")
        self.assertEqual(errorCondition(reply), "not-authorized")
        form = firstChild(firstChild(reply, NS_REGISTER, "query"), NS_DATA, "x")
        fields = {f.getAttribute("var"): f for f in form.elements(NS_DATA, "field")}
        self.assertEqual(str(firstChild(fields["FORM_TYPE"], name="value")), CHANGE_PASSWORD)
        self.assertEqual(fields["old_password"].getAttribute("type"), "text-private")
        self.assertEqual(fields["password"].getAttribute("type"), "text-private")
        self.assertEqual(str(firstChild(fields["username"], name="value")), "alice")
        yield (yield self.connect()).login("alice", "secret", "again", tls=True)

    @defer.inlineCallbacks
    def test_oldPasswordChecked(self):
        """
        The form with a wrong old password is C{not-authorized}; with the
        right one the password changes and the session goes on.
        """
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(changePasswordForm("w", "guess", "stolen"))
        self.assertEqual(errorCondition(reply), "not-authorized")
        reply = yield client.iq(changePasswordForm("r", "secret", "newsecret"))
        self.assertEqual(reply.getAttribute("type"), "result")
        yield self.assertLoginFails("alice", "secret")
        yield (yield self.connect()).login("alice", "newsecret", "two", tls=True)
        reply = yield client.iq("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def test_otherFormRefused(self):
        """
        A form of another type is a C{bad-request}.
        """
        client = yield self.loggedIn("alice", "secret")
        reply = yield client.iq(changePasswordForm("o", "secret", "x", formType="urn:example"))
        self.assertEqual(errorCondition(reply), "bad-request")
        yield (yield self.connect()).login("alice", "secret", "again", tls=True)

    @defer.inlineCallbacks
    def test_guessesLimited(self):
        """
        Wrong old passwords count as failed logins: at C{[c2s]
        max_auth_failures} (3) the stream is closed with
        C{policy-violation}.
        """
        client = yield self.loggedIn("alice", "secret")
        for guess in ("one", "two"):
            reply = yield client.iq(changePasswordForm(guess, guess, "stolen"))
            self.assertEqual(errorCondition(reply), "not-authorized")
        client.send(changePasswordForm("three", "three", "stolen"))
        reply = yield client.receive()
        self.assertEqual((reply["id"], errorCondition(reply)), ("three", "not-authorized"))
        condition = yield client.streamError()
        self.assertEqual(condition, "policy-violation")
        yield (yield self.connect()).login("alice", "secret", "again", tls=True)


class RemoveThenRegisterTests(AccountsTestCase):
    @defer.inlineCallbacks
    def test_reRegistrationConflict(self):
        yield self.server.accounts.register("henry", "localhost", "pw")
        client = yield self.loggedIn("henry", "pw")
        client.send(
            "<iq type='set' id='rm'><query xmlns='%s'><remove/></query></iq>" % (NS_REGISTER,)
        )
        yield client.waitClosed()
        yield self.server.storage.tombstones.get("henry@localhost")
        newcomer, _ = yield self.tlsClient()
        reply = yield newcomer.iq(registerIQ("s", "henry", "mine"))
        self.assertEqual(errorCondition(reply), "conflict")
