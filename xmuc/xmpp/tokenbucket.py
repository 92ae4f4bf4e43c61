"""
A token bucket: the rate limit of ejabberd's shapers and Prosody's
C{util.throttle}, shared by the connection read rate (bytes) and the
occupant message rate (stanzas).
"""


class TokenBucket:
    """
    Holds up to C{burst} tokens and gains C{rate} tokens per second.

    @ivar tokens: the tokens now (negative after L{consume} beyond them),
        as of the last call.
    """

    def __init__(self, rate, burst, clock):
        """
        @param rate: tokens gained per second (> 0).
        @param burst: the most it holds (it starts full).
        @param clock: an L{twisted.internet.interfaces.IReactorTime}.
        """
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.tokens = self.burst
        self._last = clock.seconds()

    def _refill(self):
        now = self.clock.seconds()
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now

    def take(self, amount=1):
        """
        Take C{amount} tokens if there are that many.

        @return: whether they were taken (else nothing is).
        """
        self._refill()
        if self.tokens >= amount:
            self.tokens -= amount
            return True
        return False

    def consume(self, amount):
        """
        Take C{amount} tokens, into debt if need be.

        @return: the seconds until the debt is paid (0 when there was
            none).
        """
        self._refill()
        self.tokens -= amount
        return -self.tokens / self.rate if self.tokens < 0 else 0.0
