"""
Rooms their creator never configures (Dino submits no form after status
201) are unlocked with the default configuration after C{[muc]
lock_timeout} seconds, as Prosody's C{muc_room_lock_timeout}; over real
sockets, the service's time given by a L{Clock}.
"""

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from tests.support.client import connectTestClient, startTestServer
from xmuc.muc.locking import isLocked
from xmuc.muc.persistence import stateOf
from xmuc.testing.muc import MUCHarness

DOMAIN = "conference.localhost"
ROOM = "dino@" + DOMAIN
MUC = "http://jabber.org/protocol/muc"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def condition(stanza):
    """
    @return: the defined condition of an error stanza, or L{None}.
    """
    for error in stanza.elements():
        if error.name == "error":
            for child in error.elements():
                if child.uri == STANZAS and child.name != "text":
                    return child.name
    return None


class LockTimeoutTests(unittest.TestCase):
    """
    A server whose new rooms are locked, with the given lock timeout.
    """

    timeoutSetting = "300"

    @defer.inlineCallbacks
    def setUp(self):
        overrides = {
            "auth": {"backend": "insecure", "allow_insecure": "true"},
            "muc": {"enabled": "true", "lock_new_rooms": "true", "lock_timeout": self.timeoutSetting},
        }
        self.running = yield startTestServer(self, overrides, tls=False)
        self.clock = Clock()
        self.running.server.muc.clock = self.clock

    @defer.inlineCallbacks
    def login(self, user):
        client = yield connectTestClient(self, self.running)
        yield client.login(user, "pw", "r")
        return client

    @defer.inlineCallbacks
    def join(self, client, nick):
        """
        @return: the error presence, or L{None} once joined (own presence).
        """
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, MUC))
        while True:
            element = yield client.receive(5.0)
            if element.name == "presence" and element.getAttribute("from") == ROOM + "/" + nick:
                return element if element.getAttribute("type") == "error" else None

    @defer.inlineCallbacks
    def createUnconfigured(self):
        """
        Create the room as Dino does: join, get 201, configure nothing.
        """
        creator = yield self.login("creator")
        self.assertIsNone((yield self.join(creator, "creator")))
        return creator


class UnlockedAfterTimeoutTests(LockTimeoutTests):
    @defer.inlineCallbacks
    def test_unlockedAfterTimeout(self):
        """
        Others meet C{item-not-found} until the timeout, then enter the
        room with its default configuration.
        """
        yield self.createUnconfigured()
        guest = yield self.login("guest")
        self.clock.advance(299)
        error = yield self.join(guest, "guest")
        self.assertEqual(condition(error), "item-not-found")
        self.clock.advance(1)
        self.assertIsNone((yield self.join(guest, "guest")))


class NeverUnlockedTests(LockTimeoutTests):
    timeoutSetting = "0"

    @defer.inlineCallbacks
    def test_zeroKeepsTheLock(self):
        """
        C{lock_timeout = 0}: the room stays locked until configured.
        """
        yield self.createUnconfigured()
        guest = yield self.login("guest")
        self.clock.advance(10 ** 7)
        error = yield self.join(guest, "guest")
        self.assertEqual(condition(error), "item-not-found")


class StoredLockTests(unittest.TestCase):
    """
    The lock and its deadline are stored with a room.
    """

    def test_deadlineStored(self):
        harness = MUCHarness(muc={"lock_new_rooms": "true", "lock_timeout": "60"})
        harness.reactor.advance(1000)
        harness.client("user@localhost/r").join("room", "Romeo")
        room = harness.muc.rooms["room@" + DOMAIN]
        state = stateOf(room)
        self.assertEqual((state["locked"], state["lockExpires"]), (True, 1060))
        harness.reactor.advance(60)
        self.assertFalse(isLocked(room))
        state = stateOf(room)
        self.assertEqual((state["locked"], state["lockExpires"]), (False, None))
