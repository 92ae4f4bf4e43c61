"""
Server side of the SASL mechanisms: PLAIN (RFC 4616) and SCRAM-SHA-1 /
SCRAM-SHA-256 (RFC 5802, RFC 7677; no channel binding).

A mechanism is a small state machine fed with the decoded client
responses.  Each L{step} returns a Deferred firing with a L{Challenge} or a
L{Success}, or failing with L{SASLFailure}.  L{SASLNegotiation} does the
XML and base64 around it on a client stream (RFC 6120 section 6).
"""

import base64
import binascii
import hashlib
import hmac
import os

from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmpp_stringprep import nodeprep
from twisted.words.xish import domish

from xmuc.auth import scram
from xmuc.c2s.connectionlog import failedLogin
from xmuc.xmpp import ns
from xmuc.xmpp.jid import jidOrNone

log = Logger()

#: Every mechanism this module implements, preferred first.
SUPPORTED = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN")


class SASLFailure(Exception):
    """
    Authentication failed.

    @ivar condition: the RFC 6120 section 6.5 condition (C{'not-authorized'},
        C{'malformed-request'}, C{'invalid-authzid'}, ...).
    """

    def __init__(self, condition, reason=""):
        Exception.__init__(self, condition, reason)
        self.condition = condition


class Challenge:
    """
    The server needs another response.

    @ivar data: the challenge (L{bytes}).
    """

    def __init__(self, data):
        self.data = data


class Success:
    """
    Authentication succeeded.

    @ivar username: the node part of the authenticated JID (prepared).
    @ivar data: additional data for the C{<success/>} element (L{bytes}) or
        L{None}.
    """

    def __init__(self, username, data=None):
        self.username = username
        self.data = data


def prepareUsername(name):
    """
    Turn a SASL user name into the node part of a JID.

    @raise SASLFailure: C{not-authorized} when it cannot be one.
    """
    try:
        node = nodeprep.prepare(scram.saslprep(name))
    except UnicodeError:
        raise SASLFailure("not-authorized", "bad user name")
    if not node or len(node.encode("utf-8")) > 1023:
        raise SASLFailure("not-authorized", "bad user name")
    return node


def checkAuthzid(authzid, username, host):
    """
    Only authorizing as oneself is allowed.

    @param authzid: the requested authorization identity, or L{None}/empty.
    @raise SASLFailure: C{invalid-authzid} when it names someone else.
    """
    if not authzid:
        return
    wanted = jidOrNone(authzid)
    if wanted is None or wanted.resource or wanted.user != username or wanted.host != host:
        raise SASLFailure("invalid-authzid")


class PlainMechanism:
    """
    PLAIN: C{authzid NUL authcid NUL password} in one message.

    @ivar account: the account tried (C{user@host}, or the name as sent
        when it is no valid one), once known, for the log of a failure.
    """

    name = "PLAIN"
    account = None

    def __init__(self, auth, host):
        """
        @param auth: the L{xmuc.auth.interfaces.IAuthBackend}.
        @param host: the virtual host of the stream.
        """
        self.auth = auth
        self.host = host

    def step(self, response):
        """
        @param response: the decoded client response or L{None} when the
            C{<auth/>} had no initial response.
        @return: Deferred firing with L{Challenge} or L{Success}.
        """
        if response is None:
            return defer.succeed(Challenge(b""))
        return self._check(response)

    @defer.inlineCallbacks
    def _check(self, response):
        parts = response.split(b"\x00")
        if len(parts) != 3:
            raise SASLFailure("malformed-request")
        try:
            authzid, authcid, password = (part.decode("utf-8") for part in parts)
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request")
        if not authcid:
            raise SASLFailure("malformed-request")
        self.account = authcid
        username = prepareUsername(authcid)
        self.account = "%s@%s" % (username, self.host)
        checkAuthzid(authzid, username, self.host)
        try:
            scram.saslprep(password)
        except UnicodeError:
            raise SASLFailure("not-authorized")
        ok = yield self.auth.checkPassword(username, self.host, password)
        if not ok:
            raise SASLFailure("not-authorized")
        return Success(username)


class ScramMechanism:
    """
    SCRAM-SHA-1 or SCRAM-SHA-256 without channel binding.

    An unknown user gets a plausible salt (derived from a per-server secret
    so it is the same on every try) and fails at the proof, like a wrong
    password: the exchange does not tell which user names exist.

    @ivar account: as L{PlainMechanism.account}.
    """

    account = None

    def __init__(self, auth, host, hashName, secret):
        """
        @param hashName: C{'SHA-1'} or C{'SHA-256'}.
        @param secret: per-server random bytes for the fake salts.
        """
        self.auth = auth
        self.host = host
        self.hashName = hashName
        self.name = "SCRAM-" + hashName
        self.secret = secret
        self._state = self._first

    def step(self, response):
        """
        @param response: the decoded client response or L{None}.
        @return: Deferred firing with L{Challenge} or L{Success}.
        """
        return defer.maybeDeferred(self._state, response)

    def _first(self, response):
        if response is None:
            # No initial response: the client sends it after an empty
            # challenge (RFC 6120 6.4.2).
            return Challenge(b"")
        try:
            first = scram.parseClientFirst(response)
        except scram.ScramError as e:
            raise SASLFailure(e.condition)
        self.account = first.username
        username = prepareUsername(first.username)
        self.account = "%s@%s" % (username, self.host)
        checkAuthzid(first.authzid, username, self.host)
        self._clientFirst = first
        self._username = username
        self._state = self._done
        d = self.auth.getScramCredentials(username, self.host, self.hashName)
        d.addCallback(self._gotCredentials)
        return d

    def _fakeCredentials(self):
        salt = hmac.new(
            self.secret, self._username.encode("utf-8"), hashlib.sha256
        ).digest()[: scram.SALT_LENGTH]
        return dict(
            salt=salt,
            # The count real accounts get, so it does not tell them apart.
            iterations=getattr(self.auth, "iterations", scram.DEFAULT_ITERATIONS),
            stored_key=b"",
            server_key=b"",
        )

    def _gotCredentials(self, credentials):
        self._known = credentials is not None
        if credentials is None:
            credentials = self._fakeCredentials()
        self._credentials = credentials
        self._nonce = self._clientFirst.nonce + scram.b64encode(os.urandom(18))
        self._serverFirst = scram.serverFirst(
            self._nonce, credentials["salt"], credentials["iterations"]
        )
        self._state = self._final
        return Challenge(self._serverFirst.encode("utf-8"))

    def _final(self, response):
        self._state = self._done
        if response is None:
            raise SASLFailure("malformed-request")
        try:
            final = scram.parseClientFinal(response)
        except scram.ScramError as e:
            raise SASLFailure(e.condition)
        if final.channelBinding != self._clientFirst.gs2Header.encode("utf-8"):
            raise SASLFailure("not-authorized", "channel binding mismatch")
        if final.nonce != self._nonce:
            raise SASLFailure("not-authorized", "nonce mismatch")
        message = scram.authMessage(
            self._clientFirst.bare, self._serverFirst, final.withoutProof
        )
        credentials = self._credentials
        if not self._known or not scram.verifyProof(
            self.hashName, credentials["stored_key"], message, final.proof
        ):
            raise SASLFailure("not-authorized")
        signature = scram.serverSignature(
            self.hashName, credentials["server_key"], message
        )
        return Success(self._username, scram.serverFinal(signature).encode("utf-8"))

    def _done(self, response):
        raise SASLFailure("malformed-request", "unexpected response")


def createMechanism(name, auth, host, secret):
    """
    @param name: a name from L{SUPPORTED}.
    @return: a new mechanism state machine, or L{None} for an unknown name.
    """
    if name == "PLAIN":
        return PlainMechanism(auth, host)
    if name.startswith("SCRAM-") and name[6:] in scram.HASHES:
        return ScramMechanism(auth, host, name[6:], secret)
    return None


_INVALID = object()


def _b64decode(text):
    """
    @return: the decoded bytes, or L{_INVALID}.
    """
    if text == "=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return _INVALID


class SASLNegotiation:
    """
    The SASL exchange (RFC 6120 section 6) of one client stream, from
    C{<auth/>} to C{<success/>} or C{<failure/>}.

    @ivar authenticator: the L{xmuc.c2s.stream.ClientAuthenticator}; it
        says whether SASL is allowed yet (C{saslAllowed}), holds further
        input while a step waits for the backend (C{waitFor}), and takes
        over once the client is authenticated (C{authenticated}).
    @ivar mechanism: the mechanism of the exchange under way, or L{None}.
    @ivar failures: failed attempts on this stream so far.
    """

    def __init__(self, authenticator):
        self.authenticator = authenticator
        self.mechanism = None
        self.failures = 0

    def offered(self):
        """
        @return: the names of the mechanisms offered on this stream now.
        """
        authenticator = self.authenticator
        offered = authenticator.factory.server.auth.mechanisms(authenticator.xmlstream.tls)
        return [name for name in offered if name in SUPPORTED]

    def _sendFailure(self, condition):
        failure = domish.Element((ns.SASL, "failure"))
        failure.addElement(condition)
        self.authenticator.xmlstream.send(failure)

    def received(self, element):
        """
        An element in the SASL namespace from the client.
        """
        authenticator = self.authenticator
        name = element.name
        if authenticator.username is not None:
            return authenticator.streamError("not-authorized", "already authenticated")
        if not authenticator.saslAllowed():
            self._sendFailure("encryption-required")
            return authenticator.close()
        if name == "abort":
            self.mechanism = None
            return self._sendFailure("aborted")
        if name == "auth":
            mechanismName = element.getAttribute("mechanism")
            if mechanismName not in self.offered():
                self.mechanism = None
                return self._refused("invalid-mechanism")
            factory = authenticator.factory
            self.mechanism = createMechanism(
                mechanismName, factory.server.auth, authenticator.host, factory.scramSecret
            )
            text = str(element).strip()
            if not text:
                data = None
            elif text == "=":
                data = b""
            else:
                data = _b64decode(text)
        elif name == "response":
            if self.mechanism is None:
                return self._refused("malformed-request")
            data = _b64decode(str(element).strip())
        else:
            return self._refused("malformed-request")
        if data is _INVALID:
            self.mechanism = None
            return self._refused("incorrect-encoding")

        mechanism = self.mechanism
        d = mechanism.step(data)
        d.addCallbacks(self._stepDone, self._stepFailed, (mechanism,), None, (mechanism,))
        d.addErrback(lambda f: log.failure("SASL step failed", f))
        authenticator.waitFor(d)

    def _stepDone(self, result, mechanism):
        xs = self.authenticator.xmlstream
        if mechanism is not self.mechanism or xs.closing:
            return
        if isinstance(result, Challenge):
            challenge = domish.Element((ns.SASL, "challenge"))
            if result.data:
                challenge.addContent(base64.b64encode(result.data).decode("ascii"))
            xs.send(challenge)
            return
        self.mechanism = None
        refused = self._refusedAccount(mechanism.account)
        if refused is not None:
            return refused
        success = domish.Element((ns.SASL, "success"))
        if result.data:
            success.addContent(base64.b64encode(result.data).decode("ascii"))
        xs.send(success)
        self.authenticator.authenticated(result.username, mechanism.name)

    def _stepFailed(self, failure, mechanism):
        if mechanism is not self.mechanism or self.authenticator.xmlstream.closing:
            return
        self.mechanism = None
        if failure.check(SASLFailure):
            condition = failure.value.condition
            account = mechanism.account
            if condition == "not-authorized" and account is not None:
                refused = self._refusedAccount(account)
                if refused is not None:
                    return refused
            failedLogin(
                self.authenticator.xmlstream.transport.getPeer(),
                account,
                "%s, %s" % (condition, mechanism.name),
            )
            if condition == "not-authorized" and account is not None:
                # A credentials check failed: counted, and answered late.
                delay = self._logins().failed(self.authenticator.xmlstream.addressKey, account)
                if delay:
                    return task.deferLater(self.authenticator.clock, delay, self._failedUnlessClosed, condition)
        else:
            # Our failure, not the client's: not a failed login.
            log.failure("authentication backend failed", failure)
            condition = "temporary-auth-failure"
        self._failed(condition)

    def _refused(self, condition):
        """
        A failure before any mechanism ran (no such mechanism, bad base64,
        an unexpected element): a failed login of an unknown account.
        """
        failedLogin(self.authenticator.xmlstream.transport.getPeer(), None, condition)
        self._failed(condition)

    def _logins(self):
        return self.authenticator.factory.limits.logins

    def _refusedAccount(self, account):
        """
        Logins to an account that failed too often are refused whatever
        the password, so that guessing learns nothing.

        @param account: C{user@host}.
        @return: L{None} when the account may log in, else a Deferred
            firing once the refusal is sent (late, like a failure).
        """
        logins = self._logins()
        if not logins.accountRefused(account):
            return None
        failedLogin(
            self.authenticator.xmlstream.transport.getPeer(),
            account,
            "temporary-auth-failure, too many failed logins to this account",
        )
        return task.deferLater(
            self.authenticator.clock, logins.refusalDelay(), self._failedUnlessClosed, "temporary-auth-failure"
        )

    def _failedUnlessClosed(self, condition):
        if not self.authenticator.xmlstream.closing:
            self._failed(condition)

    def _failed(self, condition):
        self._sendFailure(condition)
        self.failures += 1
        if self.failures >= self.authenticator.factory.maxAuthFailures:
            self.authenticator.streamError("policy-violation", "too many authentication failures")
