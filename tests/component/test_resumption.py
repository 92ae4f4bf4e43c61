"""
Stream Management on component links (L{xmuc.component.resumption}):
the accepting end with a raw component (enable, acknowledgements,
resumption after a cut, a resumption too late), and xmuc at both ends:
xmuc's MUC as a component of an xmuc host, through a proxy the test kills
and restarts while a room is busy, every delivery counted.
"""

import os

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from tests.support.client import connectClient
from tests.support.components import (
    ACCEPT,
    SM,
    componentPort,
    componentSections,
    connectComponent,
    handshakeToken,
    secretOf,
)
from tests.support.proxy import CuttableProxy
from tests.support.wire import OVERRIDES, LoggedInClients, condition
from xmuc.componentserver import ComponentServer
from xmuc.config import loadConfig


def _merged(*sections):
    result = {}
    for each in sections:
        for section, values in each.items():
            result.setdefault(section, {}).update(values)
    return result


def isSM(name):
    return lambda e: e.uri == SM and e.name == name


@defer.inlineCallbacks
def streamErrorAfterAck(client):
    """
    @return: Deferred firing with the stream error condition C{client}
        gets, past the C{<a/>} the server sends before closing.
    """
    while True:
        element = yield client.receive()
        if element.uri == "http://etherx.jabber.org/streams" and element.name == "error":
            return [child.name for child in element.elements() if child.name != "text"][0]
        if element.uri != SM:
            raise AssertionError("unexpected %s" % (element.toXml(),))


class AcceptingEndTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(OVERRIDES, componentSections())

    @defer.inlineCallbacks
    def enabled(self):
        """
        @return: Deferred firing with C{(component, resumption id)} once
            the raw component enabled resumable Stream Management.
        """
        bot = yield connectComponent(self, self.running)
        self.assertIn(SM, bot.header.localPrefixes.values(), "the header announces stream management")
        bot.send("<enable xmlns='%s' resume='true'/>" % (SM,))
        enabled = yield self.until(bot, isSM("enabled"))
        self.assertEqual(enabled.getAttribute("resume"), "true")
        self.assertEqual(enabled.getAttribute("max"), "300")
        return bot, enabled.getAttribute("id")

    @defer.inlineCallbacks
    def resumeOn(self, previd, h):
        """
        A new connection for echo.localhost that completes the handshake
        and sends C{<resume/>}.

        @return: Deferred firing with C{(component, answer)}.
        """
        bot = yield connectComponent(self, self.running)
        bot.send("<resume xmlns='%s' previd='%s' h='%d'/>" % (SM, previd, h))
        answer = yield self.until(bot, lambda e: e.uri == SM and e.name in ("resumed", "failed"))
        return bot, answer

    def chat(self, client, body, to="bot@echo.localhost"):
        client.send("<message to='%s' type='chat' id='%s'><body>%s</body></message>" % (to, body, body))

    @defer.inlineCallbacks
    def test_countsAndAcknowledges(self):
        """
        After C{<enable/>} the server counts the component's stanzas (its
        C{<a/>} answers C{<r/>}) and asks for acknowledgements of its own.
        """
        alice = yield self.login("alice")
        bot, _ = yield self.enabled()
        bot.send("<r xmlns='%s'/>" % (SM,))
        self.assertEqual((yield self.until(bot, isSM("a"))).getAttribute("h"), "0")
        bot.send("<message from='bot@echo.localhost' to='alice@localhost/r'><body>one</body></message>")
        bot.send("<r xmlns='%s'/>" % (SM,))
        self.assertEqual((yield self.until(bot, isSM("a"))).getAttribute("h"), "1")
        yield self.until(alice, lambda e: e.name == "message")
        self.chat(alice, "m1")
        yield self.until(bot, lambda e: e.name == "message")
        yield self.until(bot, isSM("r"))
        bot.send("<a xmlns='%s' h='1'/>" % (SM,))
        yield self.assertServed(alice)

    @defer.inlineCallbacks
    def test_resumeAfterCut(self):
        """
        A connection lost without closing tag keeps the link: stanzas for
        the domain wait, and a new stream that resumes gets what the
        component had not handled, once; the senders get no error.
        """
        alice = yield self.login("alice")
        bot, previd = yield self.enabled()
        self.chat(alice, "m1")
        self.assertEqual(str((yield self.until(bot, lambda e: e.name == "message")).body), "m1")
        bot.transport.abortConnection()
        yield bot.waitClosed()
        self.chat(alice, "m2")
        self.chat(alice, "m3")
        yield self.assertServed(alice)
        bot, answer = yield self.resumeOn(previd, 1)
        self.assertEqual((answer.name, answer.getAttribute("h")), ("resumed", "0"))
        got = []
        while len(got) < 2:
            element = yield self.until(bot, lambda e: e.name == "message")
            got.append(str(element.body))
        self.assertEqual(got, ["m2", "m3"])
        self.chat(alice, "m4")
        self.assertEqual(str((yield self.until(bot, lambda e: e.name == "message")).body), "m4")
        self.assertEqual([e for e in alice.received if e.name == "message"], [])

    @defer.inlineCallbacks
    def test_resumeWhileConnected(self):
        """
        A resumption while the old connection is still open (its loss not
        noticed yet) takes the link over; the old stream gets C{conflict}.
        """
        alice = yield self.login("alice")
        old, previd = yield self.enabled()
        bot, answer = yield self.resumeOn(previd, 0)
        self.assertEqual(answer.name, "resumed")
        self.assertEqual((yield streamErrorAfterAck(old)), "conflict")
        self.chat(alice, "after")
        self.assertEqual(str((yield self.until(bot, lambda e: e.name == "message")).body), "after")

    @defer.inlineCallbacks
    def test_wrongResumptionWhileConnected(self):
        """
        A resumption of another link, while the domain's resumable link is
        connected, is a second connection: refused with C{conflict} (the
        default C{kick_new}), the first link carries on.
        """
        alice = yield self.login("alice")
        first, _ = yield self.enabled()
        second, answer = yield self.resumeOn("nonsense", 0)
        self.assertEqual(answer.name, "failed")
        self.assertEqual((yield second.streamError()), "conflict")
        self.chat(alice, "still")
        self.assertEqual(str((yield self.until(first, lambda e: e.name == "message")).body), "still")

    @defer.inlineCallbacks
    def test_resumeUnknown(self):
        """
        A resumption of a link the server does not know gets C{<failed/>};
        the new stream carries the domain's stanzas from then on.
        """
        alice = yield self.login("alice")
        bot, answer = yield self.resumeOn("nonsense", 0)
        self.assertEqual(answer.name, "failed")
        self.chat(alice, "fresh")
        self.assertEqual(str((yield self.until(bot, lambda e: e.name == "message")).body), "fresh")

    @defer.inlineCallbacks
    def test_newStreamEndsTheWait(self):
        """
        A new stream that does not resume ends the waiting link: what it
        held goes back to its senders as for a disconnected component, and
        the new stream gets what comes after.
        """
        alice = yield self.login("alice")
        bot, _ = yield self.enabled()
        bot.transport.abortConnection()
        yield bot.waitClosed()
        self.chat(alice, "held")
        yield self.assertServed(alice)
        fresh = yield connectComponent(self, self.running)
        fresh.send("<message from='bot@echo.localhost' to='alice@localhost/r'><body>hi</body></message>")
        bounced = yield self.until(alice, lambda e: e.name == "message" and e.getAttribute("type") == "error")
        self.assertEqual((bounced.getAttribute("id"), condition(bounced)), ("held", "remote-server-timeout"))
        self.chat(alice, "next")
        self.assertEqual(str((yield self.until(fresh, lambda e: e.name == "message")).body), "next")

    @defer.inlineCallbacks
    def test_acknowledgesBeforeClosing(self):
        """
        A stream the server closes gets an C{<a/>} with what the server
        handled first, so that the component knows what to send again.
        """
        bot, _ = yield self.enabled()
        bot.send("<message from='bot@echo.localhost' to='alice@localhost'><body>one</body></message>")
        bot.send("<message from='bot@echo.localhost' to='alice@localhost'><body>two</body></message>")
        bot.send("<message><unclosed></message>")
        ack = yield self.until(bot, isSM("a"))
        self.assertEqual(ack.getAttribute("h"), "2")
        self.assertEqual((yield bot.streamError()), "not-well-formed")

    @defer.inlineCallbacks
    def test_resumeBeforeHandshake(self):
        """
        C{<resume/>} before the handshake gets C{not-authorized}.
        """
        bot = yield connectComponent(self, self.running, handshake=False)
        bot.sendHeader("echo.localhost", version=None, ns=ACCEPT)
        yield bot.receive()
        bot.send("<resume xmlns='%s' previd='x' h='0'/>" % (SM,))
        self.assertEqual((yield bot.streamError()), "not-authorized")

    @defer.inlineCallbacks
    def test_impossibleAck(self):
        """
        An acknowledgement of more than was sent ends the stream with
        C{undefined-condition}, as on client streams.
        """
        bot, _ = yield self.enabled()
        bot.send("<a xmlns='%s' h='5'/>" % (SM,))
        self.assertEqual((yield streamErrorAfterAck(bot)), "undefined-condition")


class HibernationTimeoutTests(LoggedInClients, unittest.TestCase):
    overrides = _merged(OVERRIDES, componentSections(resumption_timeout="0.2"))

    @defer.inlineCallbacks
    def test_notResumedInTime(self):
        """
        A link not resumed within C{[components] resumption_timeout} ends:
        what it held is bounced, as for a disconnected component.
        """
        alice = yield self.login("alice")
        bot = yield connectComponent(self, self.running)
        bot.send("<enable xmlns='%s' resume='true'/>" % (SM,))
        yield self.until(bot, isSM("enabled"))
        bot.transport.abortConnection()
        yield bot.waitClosed()
        alice.send("<message to='bot@echo.localhost' id='late'><body>late</body></message>")
        bounced = yield self.until(alice, lambda e: e.name == "message")
        self.assertEqual((bounced.getAttribute("id"), condition(bounced)), ("late", "remote-server-timeout"))


ROOMS = "rooms.localhost"
ROOM = "busy@" + ROOMS
SENDERS = ("alice", "bob", "carol")
MESSAGES = 150
BATCH = 5


class LinkedRoom(LoggedInClients):
    """
    xmuc's MUC as a component of an xmuc host, the link through a proxy.
    """

    overrides = _merged(
        OVERRIDES,
        {"muc": {"enabled": "false"}},
        {"components": {"listen": "tcp:0:interface=127.0.0.1", "secrets": "%s=link-secret" % (ROOMS,)}},
    )

    @defer.inlineCallbacks
    def linkedRoom(self, users):
        """
        The MUC started as a component of the host through a proxy, and
        C{users} logged in to the host and in the room.

        @return: Deferred firing with C{(proxy, component server, clients
            by user)}.
        """
        yield self.running.server.components.listening
        proxy = CuttableProxy(componentPort(self.running))
        yield proxy.start()
        self.addCleanup(proxy.stop)
        component = yield self.startComponent(proxy.port)
        yield component.link.resumption.whenEnabled()
        self.assertIsNotNone(component.link.resumption.resumptionID, "the link is resumable")
        clients = {}
        for user in users:
            clients[user] = client = yield self.login(user)
            self.assertIsNone((yield self.joinRoom(client, ROOM, user)))
        # Everyone's join is seen by everyone before the traffic starts.
        for user in users[:-1]:
            yield self.until(clients[user], lambda e: e.name == "presence" and e.getAttribute("from") == ROOM + "/" + users[-1])
        return proxy, component, clients

    @defer.inlineCallbacks
    def flush(self, client):
        """
        Ask the room something: its answer comes after everything it sent
        C{client} before.
        """
        reply = yield client.iq(
            "<iq type='get' id='%s' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
            % (client.nextID(), ROOM)
        )
        self.assertEqual(reply.getAttribute("type"), "result")

    @defer.inlineCallbacks
    def startComponent(self, port):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, "tap.conf")
        sections = {
            "storage": {"backend": "memory"},
            "muc": {"domain": ROOMS, "lock_new_rooms": "false", "occupant_message_rate": "0"},
            "component": {
                "connect": "tcp:host=127.0.0.1:port=%d" % (port,),
                "secret": "link-secret",
                "reconnect_delay": "0.05",
                "max_reconnect_delay": "0.2",
            },
            "log": {"level": "warn"},
        }
        with open(path, "w") as f:
            for section, values in sections.items():
                f.write("[%s]\n" % (section,))
                for key, value in values.items():
                    f.write("%s = %s\n" % (key, value))
        server = ComponentServer(loadConfig(path))
        server.startService()
        self.addCleanup(server.stopService)
        yield server.link.whenUp()
        return server

    @defer.inlineCallbacks
    def collect(self, client, expected):
        """
        @return: Deferred firing with the C{(sender, number)} of every
            groupchat message C{client} receives, in order, once
            C{expected} arrived (or nothing came for 20 seconds: the
            assertions then say what is missing).
        """
        seen = []
        while len(seen) < expected:
            try:
                element = yield client.receive(20)
            except defer.TimeoutError:
                break
            if element.name == "message" and element.getAttribute("type") == "groupchat" and element.body:
                sender, number = str(element.body).split()
                seen.append((sender, int(number)))
        return seen


class LinkThroughProxyTests(LinkedRoom, unittest.TestCase):
    @defer.inlineCallbacks
    def test_busyRoomCut(self):
        """
        The link is cut in the middle of a busy room and comes back: every
        occupant gets every message once, in each sender's order.
        """
        proxy, component, clients = yield self.linkedRoom(SENDERS + ("dave",))

        expected = len(SENDERS) * MESSAGES
        collecting = [self.collect(clients[user], expected) for user in SENDERS + ("dave",)]
        sentDuringCut = 0
        cutAt, backAt = MESSAGES // 3, 2 * MESSAGES // 3
        for start in range(0, MESSAGES, BATCH):
            if start == cutAt:
                yield proxy.kill()
            if start == backAt:
                yield proxy.start()
            for number in range(start, start + BATCH):
                for user in SENDERS:
                    clients[user].send(
                        "<message to='%s' type='groupchat'><body>%s %d</body></message>" % (ROOM, user, number)
                    )
                    if cutAt <= start < backAt:
                        sentDuringCut += 1
            # Let the reactor move the batch before the next one.
            yield task.deferLater(reactor, 0, lambda: None)

        results = yield defer.gatherResults(collecting)
        self.assertEqual(proxy.cuts, 1)
        self.assertGreater(sentDuringCut, 0)
        self.assertGreaterEqual(component.link.resumption.resumptions, 1, "the link was resumed")
        everything = sorted((user, number) for user in SENDERS for number in range(MESSAGES))
        for user, seen in zip(SENDERS + ("dave",), results):
            self.assertEqual(sorted(seen), everything, "%s lost or got twice" % (user,))
            for sender in SENDERS:
                numbers = [number for who, number in seen if who == sender]
                self.assertEqual(numbers, list(range(MESSAGES)), "%s got %s's out of order" % (user, sender))
        for user in SENDERS + ("dave",):
            client = clients[user]
            # No late copy is on its way.
            yield self.flush(client)
            groupchat = [e for e in client.received if e.name == "message" and e.getAttribute("type") == "groupchat" and e.body]
            self.assertEqual(len(groupchat), expected, "%s got a message twice" % (user,))
            self.assertEqual([e for e in client.received if e.getAttribute("type") == "error"], [], "no error")


class RefusedResumptionTests(LinkedRoom, unittest.TestCase):
    """
    The host gives up the cut link before it comes back.
    """

    overrides = _merged(LinkedRoom.overrides, {"components": {"resumption_timeout": "0.3"}})

    @defer.inlineCallbacks
    def test_resumptionRefused(self):
        """
        What the host held when it gave the link up goes back to its
        senders; the MUC's link starts afresh, and every message is then
        delivered once: none lost without an error, none twice.
        """
        proxy, component, clients = yield self.linkedRoom(("alice", "bob"))
        alice, bob = clients["alice"], clients["bob"]
        alice.send("<message to='%s' type='groupchat' id='before'><body>before</body></message>" % (ROOM,))
        for client in (alice, bob):
            yield self.until(client, lambda e: e.getAttribute("type") == "groupchat" and e.body is not None)
        yield proxy.kill()
        alice.send("<message to='%s' type='groupchat' id='lost'><body>during</body></message>" % (ROOM,))
        bounced = yield self.until(alice, lambda e: e.getAttribute("type") == "error")
        self.assertEqual((bounced.getAttribute("id"), condition(bounced)), ("lost", "remote-server-timeout"))
        up = component.link.whenDown().addCallback(lambda link: link.whenUp())
        yield proxy.start()
        yield up
        yield component.link.resumption.whenEnabled()
        self.assertEqual(component.link.resumption.resumptions, 0)
        # Not resumed, the MUC checks who is still there: both answer.
        for client in (alice, bob):
            ping = yield self.until(client, lambda e: e.name == "iq" and e.getAttribute("from") == ROOMS)
            client.send("<iq type='result' id='%s' to='%s'/>" % (ping.getAttribute("id"), ROOMS))
        bob.send("<message to='%s' type='groupchat' id='after'><body>after</body></message>" % (ROOM,))
        for client in (alice, bob):
            heard = yield self.until(client, lambda e: e.getAttribute("type") == "groupchat" and e.body is not None)
            self.assertEqual(str(heard.body), "after")
            yield self.flush(client)
            bodies = [str(e.body) for e in client.received if e.getAttribute("type") == "groupchat" and e.body]
            self.assertEqual(bodies, ["before", "after"])
