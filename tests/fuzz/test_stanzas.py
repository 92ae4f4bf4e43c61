"""
The fuzz target: stanzas of the project's scansion scripts, mutated with
hypothesis, sent over real streams to a real server with MUC (the shipped
C{tap-scansion.conf}).

Each round replays one script's sends up to one of them and sends a
mutation of that one instead (see L{tests.fuzz.mutations}), in rooms of its
own, and in one round of two plays the rest of the script after it (some
of it mutated too) on whatever state the mutation left.  The server must
answer every iq, log no error, never answer C{internal-server-error}, and
keep serving a client that takes no part (L{tests.fuzz.player}).  The server and the pool of connections live for
the whole run.

The run is bounded and reproducible: a fixed number of rounds, generated
from a fixed seed, no example database.  To fuzz longer by hand::

    XMUC_FUZZ_EXAMPLES=20000 XMUC_FUZZ_SEED=7 .venv/bin/python -m pytest tests/fuzz

C{XMUC_FUZZ_EXAMPLES} sets the number of rounds; C{XMUC_FUZZ_SEED}, when
set, draws other rounds than CI's (each seed its own).  A failure shows the
minimal mutated stanza hypothesis found, the script and the step it
replaced, and what the server did wrong (tracebacks included).
"""

import os

from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from twisted.internet import defer, reactor, threads
from twisted.trial import unittest

from tests.fuzz.mutations import Vocabulary, mutate
from tests.fuzz.player import LoggedErrors, Player
from tests.fuzz.seeds import SEND, Step, accountsNeeded, loadSeeds
from tests.support.client import NS_CLIENT
from tests.support.scansion import C2S_OVERRIDES, CONFIG, SCRIPTS, SEEDS
from xmuc.testing.server import startServer

#: Rounds in CI (about a minute on two shared cores: a round takes
#: about 12 ms).
DEFAULT_EXAMPLES = 5000


def fuzzSettings(environ):
    """
    The hypothesis settings of a run.

    @param environ: the environment (C{XMUC_FUZZ_EXAMPLES},
        C{XMUC_FUZZ_SEED}).
    @return: C{(settings, seed or None)}.
    """
    examples = int(environ.get("XMUC_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
    chosen = environ.get("XMUC_FUZZ_SEED")
    return (
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=chosen is None,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        ),
        None if chosen is None else int(chosen),
    )


def drawRound(data, seeds, vocabulary):
    """
    Draw the steps of a round: a seed script up to one of its stanzas, a
    mutation of that stanza, and in one round of two the rest of the
    script after it, where each stanza is mutated in one case of four.

    @param data: hypothesis's C{st.data()} object.
    @param seeds: the L{tests.fuzz.seeds.Seed}s.
    @param vocabulary: their L{Vocabulary}.
    @return: the list of L{Step}s.
    """
    chosen = seeds[data.draw(st.integers(0, len(seeds) - 1), label="script")]
    target = chosen.sends[data.draw(st.integers(0, len(chosen.sends) - 1), label="stanza")]
    steps = list(chosen.steps[:target])
    rest = []
    if data.draw(st.booleans(), label="then the rest of the script"):
        rest = chosen.steps[target + 1 :]
    for number, step in enumerate([chosen.steps[target]] + rest):
        if step.kind == SEND and (number == 0 or data.draw(st.integers(0, 3), label="mutate") == 3):
            mutated = mutate(data, vocabulary, step.stanza)
            note(
                "%s, step %d by slot %r, sent instead:\n%s"
                % (chosen.name, target + number, step.slot, mutated.toXml(defaultUri=NS_CLIENT))
            )
            step = Step(SEND, step.slot, mutated)
        steps.append(step)
    return steps


class MutatedStanzaTests(unittest.TestCase):
    """
    Mutated stanzas of the scansion scripts through the real stream parser,
    session manager and rooms.
    """

    examples = fuzzSettings(os.environ)[0].max_examples
    # Rounds take milliseconds, four times as long on a busy machine;
    # hypothesis gives up shrinking a failure after five minutes.
    timeout = 600 + examples // 20

    @defer.inlineCallbacks
    def test_mutatedScriptStanzas(self):
        """
        Every round's iqs are answered, no error is logged, no
        internal-server-error is sent, and the sentinel is served.
        """
        if not os.path.isdir(SEEDS) and os.environ.get("XMUC_REQUIRE_SEEDS") == "1":
            self.fail("seed scripts folder %s is missing (XMUC_REQUIRE_SEEDS=1)" % (SEEDS,))
        seeds = loadSeeds([SCRIPTS, SEEDS])
        vocabulary = Vocabulary(
            [step.stanza for s in seeds for step in s.steps if step.kind == SEND],
            accountsNeeded(seeds),
        )
        running = yield startServer(CONFIG, overrides=C2S_OVERRIDES)
        self.addCleanup(self._stop, running)
        errors = LoggedErrors()
        errors.start()
        self.addCleanup(errors.stop)
        player = Player(running.c2sPort, errors)
        self.addCleanup(player.close)
        yield player.startSentinel()

        def playRound(data):
            steps = drawRound(data, seeds, vocabulary)
            threads.blockingCallFromThread(reactor, player.play, steps)

        chosenSettings, chosenSeed = fuzzSettings(os.environ)
        fuzz = chosenSettings(given(st.data())(playRound))
        if chosenSeed is not None:
            fuzz = seed(chosenSeed)(fuzz)
        # Hypothesis runs in a thread; each round runs on the reactor.
        yield threads.deferToThread(fuzz)
        self.assertGreaterEqual(player.round, self.examples)

    @defer.inlineCallbacks
    def _stop(self, running):
        factory = running.server.c2sFactory
        yield running.stop()
        yield factory.disconnectAll()
