"""
xmuc's MUC as an external component (L{xmuc.componentserver}): the service
tree built from a configuration with C{[component] connect}, on a real
link to a host's component port, and the check of who is still there
after the link comes back (L{xmuc.muc.linkcheck}).
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.componenthost import ComponentHost
from xmuc.componentserver import ComponentServer
from xmuc.config import ConfigError, loadConfig
from xmuc.muc.linkcheck import lastCheck
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized

DOMAIN = "rooms.example"
ROOM = "lobby@" + DOMAIN


def writeConfig(testCase, sections):
    directory = os.path.abspath(testCase.mktemp())
    os.makedirs(directory)
    path = os.path.join(directory, "tap.conf")
    with open(path, "w") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % (section,))
            for key, value in values.items():
                f.write("%s = %s\n" % (key, value))
    return path


def join(xs, real, nick, room=ROOM):
    xs.send(
        "<presence from='%s' to='%s/%s'><x xmlns='%s'/></presence>" % (real, room, nick, ns.MUC)
    )


def isPresence(to, nick, kind=None):
    def match(element):
        return (
            element.name == "presence"
            and element.getAttribute("to") == to
            and element.getAttribute("from") == "%s/%s" % (ROOM, nick)
            and element.getAttribute("type") == kind
        )

    return match


class ComponentServerTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.host = ComponentHost("s3cret")
        self.portNumber = yield self.host.listen()
        self.addCleanup(lambda: self.host.stop())

    @defer.inlineCallbacks
    def startComponent(self, **component):
        values = {
            "connect": "tcp:host=127.0.0.1:port=%d" % (self.portNumber,),
            "secret": "s3cret",
            "reconnect_delay": "0.05",
            "max_reconnect_delay": "0.2",
        }
        values.update(component)
        path = writeConfig(self, {
            "server": {"admins": "boss@example"},
            "storage": {"backend": "memory"},
            "muc": {"domain": DOMAIN, "lock_new_rooms": "false"},
            "component": values,
            "log": {"level": "warn"},
        })
        server = ComponentServer(loadConfig(path))
        stream = self.host.nextStream()
        server.startService()
        self.addCleanup(server.stopService)
        xs = yield stream
        yield server.link.whenUp()
        return server, xs

    @defer.inlineCallbacks
    def test_joinThroughTheHost(self):
        """
        A join presence from the host creates the room; the occupant's
        self-presence goes back on the link, and a groupchat message from
        one occupant reaches both.
        """
        server, xs = yield self.startComponent()
        self.assertIsNone(getattr(server, "c2sFactory", None))
        join(xs, "alice@example/a", "alice")
        yield self.host.waitFor(isPresence("alice@example/a", "alice"))
        join(xs, "bob@example/b", "bob")
        yield self.host.waitFor(isPresence("bob@example/b", "bob"))
        built = Serialized.built
        xs.send("<message type='groupchat' from='bob@example/b' to='%s'><body>hi</body></message>" % ROOM)
        for to in ("alice@example/a", "bob@example/b"):
            got = yield self.host.waitFor(
                lambda e, to=to: e.name == "message" and e.getAttribute("to") == to and e.body is not None
            )
            self.assertEqual(str(got.body), "hi")
            self.assertEqual(got.body.uri, ns.COMPONENT)
        # The broadcast went out as serialized text: no element was built
        # back from it for any recipient.
        self.assertEqual(Serialized.built, built)

    @defer.inlineCallbacks
    def test_stopTellsOccupants(self):
        """
        Stopping the component sends every occupant its unavailable
        presence with status 332 through the host before the link
        closes.
        """
        server, xs = yield self.startComponent()
        join(xs, "alice@example/a", "alice")
        yield self.host.waitFor(isPresence("alice@example/a", "alice"))
        closed = self.host.nextClose()
        yield server.stopService()
        yield closed
        left = yield self.host.waitFor(isPresence("alice@example/a", "alice", "unavailable"))
        self.assertIn("332", [s["code"] for s in left.x.elements(ns.MUC_USER, "status")])

    @defer.inlineCallbacks
    def restart(self):
        """
        The host goes away and comes back on the same port.

        @return: Deferred firing with the new host stream.
        """
        down = self.server.link.whenDown()
        yield self.host.stop()
        yield down
        self.host = ComponentHost("s3cret")
        stream = self.host.nextStream()
        yield self.host.listen(self.portNumber)
        xs = yield stream
        yield self.server.link.whenUp()
        return xs

    def pings(self):
        return [e for e in self.host.received if e.name == "iq" and e.firstChildElement() is not None
                and e.firstChildElement().uri == ns.PING]

    @defer.inlineCallbacks
    def test_ghostsRemovedAfterReconnect(self):
        """
        After the link comes back every occupant session is pinged once
        through the host; the one the host says is not online leaves
        every room (the others see it leave with status 333), the one
        that answers stays, and rooms carry on.
        """
        self.server, xs = yield self.startComponent()
        join(xs, "alice@example/a", "alice")
        join(xs, "bob@example/b", "bob")
        join(xs, "bob@example/b", "bobby", room="other@" + DOMAIN)
        yield self.host.waitFor(isPresence("bob@example/b", "bob"))
        yield self.host.waitFor(lambda e: e.getAttribute("from") == "other@%s/bobby" % DOMAIN)

        xs = yield self.restart()
        pinged = yield self.host.waitFor(
            lambda e: e.name == "iq" and e.getAttribute("to") == "bob@example/b")
        alicePing = yield self.host.waitFor(
            lambda e: e.name == "iq" and e.getAttribute("to") == "alice@example/a")
        self.assertEqual(pinged.getAttribute("from"), DOMAIN)
        self.assertEqual(pinged.getAttribute("type"), "get")
        xs.send("<iq type='result' id='%s' from='alice@example/a' to='%s'/>"
                % (alicePing["id"], DOMAIN))
        xs.send("<iq type='error' id='%s' from='bob@example/b' to='%s'><error type='cancel'>"
                "<service-unavailable xmlns='%s'/></error></iq>"
                % (pinged["id"], DOMAIN, ns.XMPP_STANZAS))
        left = yield self.host.waitFor(isPresence("alice@example/a", "bob", "unavailable"))
        self.assertIn("333", [s["code"] for s in left.x.elements(ns.MUC_USER, "status")])
        rooms = self.server.muc.rooms
        self.assertEqual(list(rooms[ROOM].occupantsByJID), ["alice@example/a"])
        self.assertNotIn("other@" + DOMAIN, [r for r in rooms if rooms[r].occupants])
        self.assertEqual(len(self.pings()), 2)
        removed = yield lastCheck(self.server.muc)
        self.assertEqual(removed, ["bob@example/b"])

        xs.send("<message type='groupchat' from='alice@example/a' to='%s'><body>still here</body></message>"
                % ROOM)
        got = yield self.host.waitFor(lambda e: e.name == "message" and e.getAttribute("to") == "alice@example/a" and e.body is not None)
        self.assertEqual(str(got.body), "still here")

    @defer.inlineCallbacks
    def test_malformedInputFromHost(self):
        """
        Malformed XML from the host ends that stream with not-well-formed;
        the link comes back, the occupant that answers its ping stays, and
        the room carries on.
        """
        self.server, xs = yield self.startComponent()
        join(xs, "alice@example/a", "alice")
        yield self.host.waitFor(isPresence("alice@example/a", "alice"))
        read = []
        xs.rawDataInFn = read.append
        stream = self.host.nextStream()
        xs.transport.write(b"<message from='alice@example/a' to='%s'><body></message>" % ROOM.encode())
        xs = yield stream
        self.assertIn(b"not-well-formed", b"".join(read))
        ping = yield self.host.waitFor(lambda e: e.name == "iq" and e.getAttribute("to") == "alice@example/a")
        xs.send("<iq type='result' id='%s' from='alice@example/a' to='%s'/>" % (ping["id"], DOMAIN))
        removed = yield lastCheck(self.server.muc)
        self.assertEqual(removed, [])
        xs.send("<message type='groupchat' from='alice@example/a' to='%s'><body>on</body></message>" % ROOM)
        got = yield self.host.waitFor(lambda e: e.name == "message" and e.body is not None)
        self.assertEqual(str(got.body), "on")

    @defer.inlineCallbacks
    def test_silentSessionRemoved(self):
        """
        A session that does not answer within ping_timeout leaves, with
        the status text of a timeout.
        """
        self.server, xs = yield self.startComponent(ping_timeout="0.1")
        join(xs, "alice@example/a", "alice")
        join(xs, "carol@example/c", "carol")
        yield self.host.waitFor(isPresence("carol@example/c", "carol"))
        xs = yield self.restart()
        alicePing = yield self.host.waitFor(
            lambda e: e.name == "iq" and e.getAttribute("to") == "alice@example/a")
        xs.send("<iq type='result' id='%s' from='alice@example/a' to='%s'/>"
                % (alicePing["id"], DOMAIN))
        left = yield self.host.waitFor(isPresence("alice@example/a", "carol", "unavailable"))
        self.assertEqual(str(left.status), "Kicked: remote server timeout")
        self.assertEqual(list(self.server.muc.rooms[ROOM].occupantsByJID), ["alice@example/a"])

    @defer.inlineCallbacks
    def test_answerFromSomeoneElseIgnored(self):
        """
        An answer with a ping's id from another JID than the pinged one
        removes nobody.
        """
        self.server, xs = yield self.startComponent(ping_timeout="30")
        join(xs, "alice@example/a", "alice")
        yield self.host.waitFor(isPresence("alice@example/a", "alice"))
        xs = yield self.restart()
        ping = yield self.host.waitFor(lambda e: e.name == "iq" and e.getAttribute("to") == "alice@example/a")
        xs.send("<iq type='error' id='%s' from='mallory@example/m' to='%s'><error type='cancel'>"
                "<service-unavailable xmlns='%s'/></error></iq>" % (ping["id"], DOMAIN, ns.XMPP_STANZAS))
        xs.send("<iq type='get' id='after' from='alice@example/a' to='%s'>"
                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (ROOM,))
        yield self.host.waitFor(lambda e: e.getAttribute("id") == "after")
        self.assertEqual(list(self.server.muc.rooms[ROOM].occupantsByJID), ["alice@example/a"])
        xs.send("<iq type='result' id='%s' from='alice@example/a' to='%s'/>" % (ping["id"], DOMAIN))
        removed = yield lastCheck(self.server.muc)
        self.assertEqual(removed, [])


class ComponentConfigTests(unittest.TestCase):
    """
    What a configuration with [component] connect may not say.
    """

    def load(self, sections):
        return loadConfig(writeConfig(self, sections))

    def test_clientListenerRefused(self):
        """
        A [c2s] key is an error naming it, with its file and line.
        """
        e = self.assertRaises(ConfigError, self.load, {
            "component": {"connect": "tcp:host=127.0.0.1:port=5347", "secret": "x"},
            "c2s": {"listen": "tcp:5222"},
        })
        self.assertEqual((e.section, e.key, e.line), ("c2s", "listen", 5))
        self.assertIn("[component] connect", e.message)

    def test_hostsRefused(self):
        e = self.assertRaises(ConfigError, self.load, {
            "server": {"hosts": "example.org"},
            "component": {"connect": "tcp:host=127.0.0.1:port=5347", "secret": "x"},
        })
        self.assertEqual((e.section, e.key, e.line), ("server", "hosts", 2))

    def test_secretRequired(self):
        e = self.assertRaises(ConfigError, self.load, {
            "component": {"connect": "tcp:host=127.0.0.1:port=5347"},
        })
        self.assertEqual((e.section, e.key, e.line), ("component", "secret", 1))
        self.assertIn("secret shared with the host", e.message)

    def test_badEndpoint(self):
        e = self.assertRaises(ConfigError, self.load, {
            "component": {"connect": "nosuchkind:x", "secret": "x"},
        })
        self.assertEqual((e.section, e.key), ("component", "connect"))

    def test_withoutComponentTheKeysAreFine(self):
        """
        Without [component] connect, the same keys are the normal server's.
        """
        config = self.load({"c2s": {"listen": "tcp:5222"}, "server": {"hosts": "example.org"}})
        self.assertIsNone(config.get("component", "connect"))


class TwistdComponentTests(unittest.TestCase):
    """
    C{twistd -n xmuc -c FILE} with C{[component] connect}: the real
    process.
    """

    @defer.inlineCallbacks
    def test_runsTheMUCAlone(self):
        """
        The process connects to the host, serves a join through it,
        listens for no client, and stops cleanly on SIGTERM.
        """
        from twisted.internet import reactor

        from tests.support.twistd import TWISTD, TwistdProcess

        host = ComponentHost("s3cret")
        port = yield host.listen()
        self.addCleanup(host.stop)
        path = writeConfig(self, {
            "storage": {"backend": "memory"},
            "muc": {"domain": DOMAIN, "lock_new_rooms": "false"},
            "component": {"connect": "tcp:host=127.0.0.1:port=%d" % (port,), "secret": "s3cret"},
            "log": {"level": "info"},
        })
        stream = host.nextStream()
        server = TwistdProcess(None, os.path.dirname(path))
        argv = [TWISTD, "--pidfile=", "-n", "xmuc", "-c", path]
        reactor.spawnProcess(server, TWISTD, argv, env=dict(os.environ), path=server.directory)
        self.addCleanup(lambda: server.exitStatus is None and server.signal("KILL"))
        xs = yield stream
        yield server.waitForOutput("component link up")
        join(xs, "alice@example/a", "alice")
        yield host.waitFor(isPresence("alice@example/a", "alice"))
        server.signal("TERM")
        status = yield server.ended
        output = server.text()
        self.assertEqual(status, 0, output)
        self.assertNotIn("Traceback", output)
        self.assertNotIn("listening for clients", output)
        self.assertIn("as an external component", output)

    def test_configErrorIsOneLine(self):
        """
        A key that means nothing in component mode stops twistd at once
        with one line naming the file, line, section and key.
        """
        from tests.support.twistd import runTwistdToEnd

        path = writeConfig(self, {
            "component": {"connect": "tcp:host=127.0.0.1:port=5347", "secret": "x"},
            "auth": {"backend": "internal"},
        })
        code, output = runTwistdToEnd(os.path.dirname(path), path)
        self.assertNotEqual(code, 0)
        self.assertNotIn("Traceback", output)
        self.assertIn("%s:5 [auth] backend: not used when xmuc runs as a component" % (path,), output)


class HostSectionsRefusedTests(unittest.TestCase):
    def test_federationAndHTTPRefused(self):
        """
        Federation, HTTP and upload keys are the host's business: each is
        an error in component mode.
        """
        from xmuc.config import collectErrors, readRaw

        path = writeConfig(self, {
            "component": {"connect": "tcp:host=127.0.0.1:port=5347", "secret": "x"},
            "s2s": {"listen": "tcp:5269"},
            "http": {"listen": "tcp:5280"},
            "upload": {"enabled": "true"},
        })
        errors = collectErrors(readRaw(path), path)
        self.assertEqual([(e.section, e.key) for e in errors],
                         [("s2s", "listen"), ("http", "listen"), ("upload", "enabled")])
