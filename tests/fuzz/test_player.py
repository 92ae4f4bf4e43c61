"""
The fuzz target's checks can fail: a round against a real server whose
session manager was given a broken iq handler fails, naming the broken
promise; a round the server handles well passes.
"""

from twisted.internet import defer
from twisted.trial import unittest
from twisted.words.xish import domish

from tests.fuzz.player import LoggedErrors, Player, RoundFailure
from tests.fuzz.seeds import CONNECT, SEND, Seed, Step
from tests.support.client import NS_CLIENT
from tests.support.scansion import C2S_OVERRIDES, CONFIG
from xmuc.session.hooks import IQ_GET_HOST
from xmuc.testing.server import startServer
from xmuc.xmpp.errors import errorReply

NS_BROKEN = "urn:xmuc:test:broken"


def brokenHandler(iq, child, reply, session, bare):
    """
    An iq handler doing what the server must never do, chosen by the
    payload's name.
    """
    if child.name == "raise":
        raise ZeroDivisionError("a handler crashed")
    if child.name == "internal":
        reply(errorReply(iq, "internal-server-error"))
    # "silent": never answered.
    return True


def oneStanzaSeed(name):
    """
    @return: a L{Seed} connecting slot 0 and sending an iq whose payload
        is C{<name xmlns=NS_BROKEN/>}.
    """
    iq = domish.Element((NS_CLIENT, "iq"))
    iq["type"] = "get"
    iq["id"] = "broken"
    iq["to"] = "localhost"
    iq.addElement((NS_BROKEN, name))
    return Seed("test", [Step(CONNECT, (0, 0)), Step(SEND, (0, 0), iq)], [1])


class PlayerChecksTests(unittest.TestCase):
    """
    What a round checks, against a real server with a broken handler.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startServer(CONFIG, overrides=C2S_OVERRIDES)
        self.addCleanup(self._stop)
        self.running.server.sm.hooks.add(IQ_GET_HOST + NS_BROKEN, brokenHandler)
        self.errors = LoggedErrors()
        self.errors.start()
        self.addCleanup(self.errors.stop)
        # A silent server is noticed after this long (a wait, not a measure).
        self.player = Player(self.running.c2sPort, self.errors, replyTimeout=1.0)
        self.addCleanup(self.player.close)
        yield self.player.startSentinel()

    @defer.inlineCallbacks
    def _stop(self):
        factory = self.running.server.c2sFactory
        yield self.running.stop()
        yield factory.disconnectAll()

    @defer.inlineCallbacks
    def playFailing(self, name):
        seed = oneStanzaSeed(name)
        failure = yield self.assertFailure(
            self.player.play(seed.steps), RoundFailure
        )
        return str(failure)

    @defer.inlineCallbacks
    def test_wellHandledRound(self):
        """
        A ping is answered, nothing is logged: the round passes.
        """
        iq = domish.Element((NS_CLIENT, "iq"))
        iq["type"], iq["id"], iq["to"] = "get", "p", "localhost"
        iq.addElement(("urn:xmpp:ping", "ping"))
        seed = Seed("test", [Step(CONNECT, (0, 0)), Step(SEND, (0, 0), iq)], [1])
        yield self.player.play(seed.steps)

    @defer.inlineCallbacks
    def test_crash(self):
        """
        A handler raising: the traceback logged fails the round (even
        though the client got an answer).
        """
        text = yield self.playFailing("raise")
        self.assertIn("ZeroDivisionError: a handler crashed", text)
        self.flushLoggedErrors(ZeroDivisionError)

    @defer.inlineCallbacks
    def test_internalServerError(self):
        """
        An internal-server-error received fails the round.
        """
        text = yield self.playFailing("internal")
        self.assertIn("internal-server-error", text)

    @defer.inlineCallbacks
    def test_unansweredIq(self):
        """
        An iq never answered fails the round, naming the stanza.
        """
        text = yield self.playFailing("silent")
        self.assertIn("no answer from the server to <iq", text)
        self.assertIn(NS_BROKEN, text)
