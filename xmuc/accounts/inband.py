"""
In-band registration (XEP-0077, C{jabber:iq:register}) with the server.

Before authentication (only when C{[c2s] allow_registration}): the form
and account creation, one account per stream; the client stream calls
L{handleUnauthenticatedRegisterIQ}.  After authentication (always): the
registration state, password change and account removal; the session
manager calls L{handleRegisterIQ}.  Both leave the rules to
L{xmuc.accounts.manager.AccountManager}.

A password change with the new password alone (Prosody's mod_register
accepts it from any authenticated session) is accepted only from a session
that proved the current password recently, within C{[c2s]
password_change_window} seconds of its login: a device left logged in
must not let whoever holds it take the account over.  Later, the server
answers C{not-authorized} with the password change form of XEP-0077
section 3.3, whose C{old_password} it checks.  Once changed, the
account's other sessions are closed with a C{reset} stream error, as
Prosody does: none of them outlives the password it logged in with.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError, errorReply

log = Logger()

INSTRUCTIONS = "Choose a user name and password to register with this server."
REGISTERED_INSTRUCTIONS = (
    "You are registered. Send a new password to change it, or <remove/> "
    "to delete your account."
)

CHANGE_PASSWORD_INSTRUCTIONS = "Give your current password to change it."


def _query(iq):
    for child in iq.elements():
        if child.uri == ns.REGISTER and child.name == "query":
            return child
    return None


def _fields(query):
    """
    @return: C{{name: text}} of the simple fields, and whether there is a
        C{<remove/>}, and the number of child elements.
    """
    fields = {}
    remove = False
    count = 0
    for child in query.elements():
        count += 1
        if child.uri != ns.REGISTER:
            continue
        if child.name == "remove":
            remove = True
        else:
            fields[child.name] = str(child)
    return fields, remove, count


def _result(iq, payload=None):
    result = toResponse(iq, "result")
    if payload is not None:
        result.addChild(payload)
    return result


def _failed(failure, iq, send, echo):
    """
    Answer with the stanza error in C{failure}, or internal-server-error.
    """
    if failure.check(StanzaError):
        send(errorReply(iq, failure.value, payload=echo))
    else:
        log.failure("registration request failed", failure)
        send(errorReply(iq, "internal-server-error", payload=False))


def handleUnauthenticatedRegisterIQ(server, authenticator, iq):
    """
    A C{jabber:iq:register} iq on a stream not yet authenticated (the
    stream checked that registration is allowed and the stream encrypted
    when required).

    @param server: the L{xmuc.server.XmucServer}.
    @param authenticator: the L{xmuc.c2s.stream.ClientAuthenticator}
        (C{host}, C{registered}, C{xmlstream}).
    @param iq: the request.
    @return: Deferred firing once answered.
    """
    send = authenticator.xmlstream.send
    iqType = iq.getAttribute("type")
    query = _query(iq)
    if iqType == "get":
        form = domish.Element((ns.REGISTER, "query"))
        form.addElement("instructions", content=INSTRUCTIONS)
        form.addElement("username")
        form.addElement("password")
        send(_result(iq, form))
        return defer.succeed(None)
    if iqType != "set":
        send(errorReply(iq, "bad-request", payload=False))
        return defer.succeed(None)
    fields, remove, _ = _fields(query)
    if remove:
        # Nothing to remove before authentication (XEP-0077 3.2).
        send(errorReply(iq, "unexpected-request", payload=False))
        return defer.succeed(None)
    if authenticator.registered:
        send(errorReply(iq, "not-acceptable", text="one account per connection"))
        return defer.succeed(None)
    username = fields.get("username", "").strip()
    password = fields.get("password", "")
    if not username or not password:
        send(errorReply(iq, "not-acceptable"))
        return defer.succeed(None)

    d = server.accounts.register(username, authenticator.host, password)

    def registered(bare):
        authenticator.registered = True
        send(_result(iq))

    d.addCallbacks(registered, _failed, errbackArgs=(iq, send, True))
    return d


def handleRegisterIQ(server, session, iq):
    """
    A C{jabber:iq:register} iq from an authenticated, bound session,
    addressed to its server (no C{to}, or its host).  The session manager
    calls this after stamping C{from}.

    @param server: the L{xmuc.server.XmucServer}.
    @param session: the L{xmuc.interfaces.ISession} (C{username}, C{bare},
        C{send}).
    @param iq: the request.
    @return: Deferred firing once answered (for C{<remove/>}: once the
        account is deleted and the sessions are closed).
    """
    send = session.send
    iqType = iq.getAttribute("type")
    query = _query(iq)
    if query is None or iqType not in ("get", "set"):
        if iqType in ("get", "set"):
            send(errorReply(iq, "bad-request", payload=False))
        return defer.succeed(None)
    if iqType == "get":
        form = domish.Element((ns.REGISTER, "query"))
        form.addElement("instructions", content=REGISTERED_INSTRUCTIONS)
        form.addElement("registered")
        form.addElement("username", content=session.username)
        form.addElement("password")
        send(_result(iq, form))
        return defer.succeed(None)

    fields, remove, count = _fields(query)
    if remove:
        if count != 1:
            send(errorReply(iq, "bad-request", payload=False))
            return defer.succeed(None)
        # The result goes out once the deletion is durable, before the
        # stream is closed by it; if storage fails first, an error instead.
        acknowledged = []

        def acknowledge():
            acknowledged.append(True)
            send(_result(iq))

        def failed(failure):
            log.failure("deleting {jid} failed", failure, jid=session.bare)
            if not acknowledged:
                send(errorReply(iq, "internal-server-error", payload=False))

        d = server.accounts.delete(session.bare, acknowledge)
        d.addErrback(failed)
        return d

    x = forms.findForm(query)
    if x is not None:
        _, formType, values = forms.parseForm(x)
        if formType != ns.REGISTER_CHANGE_PASSWORD:
            send(errorReply(iq, "bad-request", text="expected the password change form", payload=False))
            return defer.succeed(None)
        username = forms.single(values.get("username", [])) or None
        password = forms.single(values.get("password", []))
        oldPassword = forms.single(values.get("old_password", []))
    else:
        username = fields.get("username")
        password = fields.get("password", "")
        oldPassword = None
    if username is None or not password:
        send(errorReply(iq, "bad-request", payload=False))
        return defer.succeed(None)
    try:
        bare = server.accounts.prepareUsername(username.strip(), session.host)
    except StanzaError:
        bare = None
    if bare != session.bare:
        send(errorReply(iq, "not-allowed", text="not your account", payload=False))
        return defer.succeed(None)
    if not oldPassword:
        if session.authenticationAge() > server.config.get("c2s", "password_change_window"):
            send(_oldPasswordNeeded(iq, session.username))
            return defer.succeed(None)
        d = defer.succeed(True)
    else:
        d = server.auth.checkPassword(session.username, session.host, oldPassword)

    def checked(matches):
        if not matches:
            send(errorReply(iq, "not-authorized", text="wrong password", payload=False))
            session.wrongPassword()
            return None
        return server.accounts.changePassword(session.bare, password).addCallback(changed)

    def changed(_):
        send(_result(iq))
        # Prosody's mod_c2s does the same on user-password-changed.
        for other in server.sm.sessionsOf(session.bare):
            if other is not session:
                try:
                    other.disconnect("reset", "password changed")
                except Exception:
                    log.failure("closing {session!r} after a password change failed", session=other)

    d.addCallback(checked)
    d.addErrback(_failed, iq, send, False)
    return d


def _oldPasswordNeeded(iq, username):
    """
    @return: the C{not-authorized} error carrying the password change form
        (XEP-0077 section 3.3, example 23).
    """
    form = forms.Form("form", ns.REGISTER_CHANGE_PASSWORD, title="Password Change",
                      instructions=CHANGE_PASSWORD_INSTRUCTIONS)
    form.add("username", "text-single", label="Username", values=[username], required=True)
    form.add("old_password", "text-private", label="Old Password", required=True)
    form.add("password", "text-private", label="New Password", required=True)
    reply = toResponse(iq, "error")
    reply.addElement((ns.REGISTER, "query")).addChild(form.toElement())
    error = StanzaError(
        "not-authorized", type="modify", text="give your current password to change it"
    )
    reply.addChild(error.getElement())
    return reply
