"""
Named events inside the server, for parts that must react to each other
without importing each other (an account deleted: rooms drop its
affiliations; shutdown: sessions close first).
"""

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


class EventBus:
    """
    Handlers registered by event name, called in order of decreasing
    priority.  A handler may return a Deferred; L{fire} waits for all of them.
    """

    def __init__(self):
        self._handlers = {}

    def on(self, name, handler, priority=0):
        """
        Call C{handler(**data)} whenever C{name} is fired.
        """
        handlers = self._handlers.setdefault(name, [])
        handlers.append((priority, handler))
        handlers.sort(key=lambda pair: -pair[0])

    def off(self, name, handler):
        handlers = self._handlers.get(name, [])
        handlers[:] = [pair for pair in handlers if pair[1] != handler]

    def fire(self, name, **data):
        """
        Call every handler of C{name}.  A failing handler is logged and does
        not stop the others.

        @return: a Deferred firing (with None) when every handler is done.
        """
        waiting = []
        for _, handler in list(self._handlers.get(name, ())):
            d = defer.maybeDeferred(handler, **data)
            d.addErrback(
                lambda f, h=handler: log.failure(
                    "handler {handler!r} of event {event} failed",
                    f,
                    handler=h,
                    event=name,
                )
            )
            waiting.append(d)
        return defer.gatherResults(waiting).addCallback(lambda _: None)
