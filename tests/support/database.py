"""
An in-process server on a database (SQLite file or PostgreSQL schema) that
a test starts, stops and starts again (L{ServerOnDatabase}), a MUC client
over a real socket (L{MUCClient}), and the form builders and stanza
readers that go with them.
"""

import os

from twisted.internet import defer

from tests.support.client import DEFAULT_TIMEOUT, NS_CLIENT, connectClient, firstChild
from xmuc.testing.server import startServer

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_DATA = "jabber:x:data"
NS_DELAY = "urn:xmpp:delay"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_REGISTER = "jabber:iq:register"
NS_ROSTER = "jabber:iq:roster"

SERVICE = "conference.localhost"
PASSWORD = "secret"


def writeConfig(directory, storage, extra=None):
    """
    Write a tap.conf for an in-process server: internal authentication, no
    TLS, MUC on C{conference.localhost}, c2s on an ephemeral port.

    @param storage: the C{[storage]} keys.
    @param extra: C{{section: {key: value}}} added on top.
    @return: the path of the file.
    """
    sections = {
        "server": {"hosts": "localhost"},
        "c2s": {"listen": "tcp:0:interface=127.0.0.1", "require_encryption": "false"},
        "auth": {"backend": "internal"},
        "storage": dict(storage),
        "muc": {"enabled": "true", "domain": SERVICE},
        "log": {"level": "warn"},
    }
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w", encoding="utf-8") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % (section,))
            for key, value in values.items():
                f.write("%s = %s\n" % (key, value))
    return path


class ServerOnDatabase:
    """
    Start, stop and start again an in-process server on one database.

    @ivar running: the L{xmuc.testing.server.RunningServer}, or L{None}
        while stopped.
    """

    def __init__(self, testCase, storage, extra=None):
        self.testCase = testCase
        self.directory = os.path.abspath(testCase.mktemp())
        os.makedirs(self.directory)
        self.path = writeConfig(self.directory, storage, extra)
        self.running = None
        self.clients = []
        testCase.addCleanup(self.stop)

    @property
    def server(self):
        return self.running.server

    @defer.inlineCallbacks
    def start(self):
        self.running = yield startServer(self.path)
        return self.running

    @defer.inlineCallbacks
    def stop(self):
        """
        Stop like SIGTERM does, and drop every client connection.
        """
        running, self.running = self.running, None
        if running is None:
            return
        factory = running.server.c2sFactory
        yield running.stop()
        yield factory.disconnectAll()
        for client in self.clients:
            if not client.closed.called:
                client.transport.abortConnection()
        self.clients = []

    @defer.inlineCallbacks
    def register(self, *names):
        for name in names:
            yield self.server.accounts.register(name, "localhost", PASSWORD)

    @defer.inlineCallbacks
    def login(self, name, resource="r"):
        """
        @return: Deferred firing with a logged-in L{MUCClient}.
        """
        client = yield connectClient(self.running.c2sPort)
        self.clients.append(client)
        yield client.login(name, PASSWORD, resource)
        return MUCClient(client, "%s@localhost/%s" % (name, resource))


def field(var, *values):
    return "<field var='%s'>%s</field>" % (
        var, "".join("<value>%s</value>" % (value,) for value in values))


def formFields(element):
    """
    @return: C{{var: [values]}} of the first data form in C{element}.
    """
    for x in element.elements(NS_DATA, "x"):
        return {
            f.getAttribute("var"): [str(v) for v in f.elements(NS_DATA, "value")]
            for f in x.elements(NS_DATA, "field")
        }
    return {}


def statusCodes(stanza):
    codes = []
    for x in stanza.elements(NS_MUC_USER, "x"):
        codes.extend(s.getAttribute("code") for s in x.elements(NS_MUC_USER, "status"))
    return codes


def mucItems(stanza):
    """
    @return: the C{<item/>}s of the muc#user x of a presence or message.
    """
    return [item for x in stanza.elements(NS_MUC_USER, "x") for item in x.elements(NS_MUC_USER, "item")]


class MUCClient:
    """
    A logged-in L{XMPPTestClient} with MUC steps.

    @ivar jid: the full JID.
    """

    def __init__(self, client, jid):
        self.client = client
        self.jid = jid
        self.bare = jid.split("/")[0]
        self._ids = 0

    def nextID(self):
        self._ids += 1
        return "t%d" % (self._ids,)

    def send(self, xml):
        self.client.send(xml)

    def receive(self, timeout=DEFAULT_TIMEOUT):
        return self.client.receive(timeout)

    def iq(self, to, kind, payload, timeout=DEFAULT_TIMEOUT):
        """
        @return: Deferred firing with the reply iq.
        """
        return self.client.iq(
            "<iq xmlns='%s' type='%s' id='%s'%s>%s</iq>"
            % (NS_CLIENT, kind, self.nextID(), " to='%s'" % (to,) if to else "", payload),
            timeout,
        )

    @defer.inlineCallbacks
    def join(self, room, nick, inside=""):
        """
        Join C{room} (a bare JID) and collect everything up to the subject
        message (the last step of a join), or the error presence.

        @return: Deferred firing with the list of stanzas received.
        """
        self.send("<presence xmlns='%s' to='%s/%s'><x xmlns='%s'>%s</x></presence>"
                  % (NS_CLIENT, room, nick, NS_MUC, inside))
        received = []
        while True:
            stanza = yield self.receive()
            received.append(stanza)
            sender = stanza.getAttribute("from", "")
            if sender.split("/")[0] != room:
                continue
            if stanza.name == "presence" and stanza.getAttribute("type") == "error":
                return received
            if stanza.name == "message" and firstChild(stanza, name="subject") is not None \
                    and firstChild(stanza, name="body") is None:
                return received

    @defer.inlineCallbacks
    def waitFor(self, predicate, timeout=DEFAULT_TIMEOUT):
        """
        Skip stanzas until one for which C{predicate} is true.

        @return: Deferred firing with it.
        """
        while True:
            stanza = yield self.receive(timeout)
            if predicate(stanza):
                return stanza

    def configure(self, room, fields):
        """
        Submit the owner configuration form.

        @return: Deferred firing with the reply iq.
        """
        return self.iq(room, "set",
                       "<query xmlns='%s'><x xmlns='%s' type='submit'>%s%s</x></query>"
                       % (NS_MUC_OWNER, NS_DATA, field("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"),
                          fields))

    @defer.inlineCallbacks
    def configForm(self, room):
        """
        @return: Deferred firing with C{{var: [values]}} of the owner form.
        """
        reply = yield self.iq(room, "get", "<query xmlns='%s'/>" % (NS_MUC_OWNER,))
        assertResult(reply)
        return formFields(firstChild(reply, NS_MUC_OWNER, "query"))

    def setAffiliation(self, room, jid, affiliation, nick=None):
        return self.iq(room, "set",
                       "<query xmlns='%s'><item affiliation='%s' jid='%s'%s/></query>"
                       % (NS_MUC_ADMIN, affiliation, jid, " nick='%s'" % (nick,) if nick else ""))

    @defer.inlineCallbacks
    def affiliationList(self, room, affiliation):
        """
        @return: Deferred firing with C{{jid: nick or None}}.
        """
        reply = yield self.iq(room, "get", "<query xmlns='%s'><item affiliation='%s'/></query>"
                              % (NS_MUC_ADMIN, affiliation))
        assertResult(reply)
        query = firstChild(reply, NS_MUC_ADMIN, "query")
        return {item.getAttribute("jid"): item.getAttribute("nick")
                for item in query.elements(NS_MUC_ADMIN, "item")}

    def groupchat(self, room, body=None, subject=None, id=None):
        self.send("<message xmlns='%s' to='%s' type='groupchat'%s>%s%s</message>"
                  % (NS_CLIENT, room, " id='%s'" % (id,) if id else "",
                     "<body>%s</body>" % (body,) if body is not None else "",
                     "<subject>%s</subject>" % (subject,) if subject is not None else ""))

    def echoOf(self, room, id):
        """
        @return: Deferred firing with the room's groupchat message carrying
            C{id} (the echo), or an error for it.
        """
        return self.waitFor(lambda s: s.name == "message" and s.getAttribute("id") == id
                            and s.getAttribute("from", "").split("/")[0] == room)


def assertResult(iq):
    if iq.getAttribute("type") != "result":
        raise AssertionError("expected a result, got %s" % (iq.toXml(),))


def history(received):
    """
    @return: C{[(from, body, has delay)]} of the history messages of a join.
    """
    return [
        (s.getAttribute("from"), str(firstChild(s, name="body")), firstChild(s, NS_DELAY, "delay") is not None)
        for s in received
        if s.name == "message" and firstChild(s, name="body") is not None
    ]


def subjectOf(received):
    for s in received:
        if s.name == "message" and firstChild(s, name="subject") is not None and firstChild(s, name="body") is None:
            return s.getAttribute("from"), str(firstChild(s, name="subject"))
    return None


ROOM = "balcony@" + SERVICE
TEMPORARY = "street@" + SERVICE
