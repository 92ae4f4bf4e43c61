"""
Named events, for parts of the server that must react to each other without
importing each other (an account deleted: rooms drop its affiliations; a
join presence: room features decide whether it may enter).

One L{HookRegistry} serves every layer; each layer keeps the catalogue of
its own events (the server-wide ones below, the MUC's in
L{xmuc.muc.hooks}).  Handlers of one event run in order of decreasing
priority (ties: registration order) and are called with keyword arguments
only, so that new arguments can be added later.

An event is fired in one of two ways, chosen by the event:

 - L{HookRegistry.fire} asks a question or lets a handler refuse: the first
   handler returning something else than L{None} decides, and exceptions
   (e.g. L{xmuc.xmpp.errors.StanzaError} refusals) propagate to the caller;
 - L{HookRegistry.fireAll} announces something done: every handler runs,
   a failing handler is logged without stopping the others, and the caller
   gets a Deferred firing when every handler (and the Deferreds they return)
   is done.

A catalogue is a collection of event names.  A name ending with C{":"}
stands for a family of events parametrised by what follows the colon
(C{"iq-get:"} covers C{"iq-get:jabber:iq:register"}).  A registry built
with a catalogue refuses (L{UncataloguedEvent}) to register or fire a name
outside it, so that a misspelt event fails the tests instead of never
firing.

Server-wide events (L{SERVER_EVENTS}, on C{server.hooks}):

C{account-deleted(jid)} (L{ACCOUNT_DELETED}, with L{HookRegistry.fireAll})
    The account C{jid} (bare JID, str) was removed, or its deletion was
    learned from storage; presence, archives, PEP and rooms forget it.
C{account-blocks(account, contact)} (L{ACCOUNT_BLOCKS}, with L{HookRegistry.fire})
    Does the local account C{account} block C{contact} (both bare JIDs,
    str)?  The session manager answers C{True} when its blocklist
    (XEP-0191) says so; L{None} (nobody answers) means no.  The MUC asks
    before relaying a private message, since only it knows the sender's
    real JID behind its nickname.
C{s2s-domain-failed(domain, condition, reason)} (L{S2S_DOMAIN_FAILED}, with L{HookRegistry.fireAll})
    A remote C{domain} cannot be reached any more: setting up a stream to
    it failed (the stanzas waiting were bounced with C{condition},
    C{remote-server-not-found} or C{remote-server-timeout}), or an
    established stream to it was lost without being closed.  C{reason}
    says why, in words.  Its users are gone as far as this server knows.
C{room-messages-removed(room, messages)} (L{ROOM_MESSAGES_REMOVED}, with L{HookRegistry.fireAll})
    Messages of the room C{room} (bare JID, str) were taken down by
    moderation: a moderator retracted one (XEP-0425), or the room was
    destroyed with its history and archive.  C{messages} is a list of
    the removed messages as serialized XML (str), as they were before; the
    upload service deletes the files they link to.
"""

import itertools

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()

ACCOUNT_DELETED = "account-deleted"

ACCOUNT_BLOCKS = "account-blocks"

S2S_DOMAIN_FAILED = "s2s-domain-failed"

ROOM_MESSAGES_REMOVED = "room-messages-removed"

SERVER_EVENTS = frozenset(
    {ACCOUNT_DELETED, ACCOUNT_BLOCKS, S2S_DOMAIN_FAILED, ROOM_MESSAGES_REMOVED}
)


class UncataloguedEvent(KeyError):
    """
    A name given to a L{HookRegistry} is not in its catalogue.
    """


def isCatalogued(name, catalogue):
    """
    @param name: an event name.
    @param catalogue: a collection of event names; a name ending with
        C{":"} covers every name starting with it.
    @return: whether C{name} is in C{catalogue}.
    """
    if name in catalogue:
        return True
    colon = name.find(":")
    return colon >= 0 and name[: colon + 1] in catalogue


class HookRegistry:
    """
    Event handlers by name, called in order of decreasing priority.

    @ivar catalogue: the event names this registry accepts, or L{None} to
        accept any.
    """

    def __init__(self, catalogue=None):
        self.catalogue = catalogue
        self._handlers = {}
        self._counter = itertools.count()

    def _check(self, name):
        if self.catalogue is not None and not isCatalogued(name, self.catalogue):
            raise UncataloguedEvent(name)

    def add(self, name, handler, priority=0):
        """
        Call C{handler(**data)} when C{name} fires.

        @param name: the event name, from the registry's catalogue.
        @param handler: callable taking keyword arguments.
        @param priority: higher runs first.
        @raise UncataloguedEvent: when C{name} is not in the catalogue.
        """
        self._check(name)
        handlers = self._handlers.setdefault(name, [])
        handlers.append((-priority, next(self._counter), handler))
        handlers.sort(key=lambda entry: entry[:2])

    def remove(self, name, handler):
        """
        Stop calling C{handler} for C{name}.
        """
        handlers = self._handlers.get(name, [])
        handlers[:] = [entry for entry in handlers if entry[2] != handler]

    def has(self, name):
        """
        @return: whether anything listens to C{name}.
        """
        return bool(self._handlers.get(name))

    def names(self):
        """
        @return: the set of names that have handlers.
        """
        return {name for name, handlers in self._handlers.items() if handlers}

    def fire(self, name, **data):
        """
        Run the handlers of C{name} until one returns something else than
        L{None}.  Exceptions propagate and stop the event.

        @return: the first non-None result, or L{None}.
        @raise UncataloguedEvent: when C{name} is not in the catalogue.
        """
        handlers = self._handlers.get(name)
        if not handlers:
            # Only a name without handlers can be uncatalogued (L{add}
            # checks), so hooked events pay nothing for the check.
            if self.catalogue is not None:
                self._check(name)
            return None
        for _, _, handler in handlers:
            result = handler(**data)
            if result is not None:
                return result
        return None

    def fireAll(self, name, **data):
        """
        Run every handler of C{name}; a handler may return a Deferred.  A
        failing handler is logged and does not stop the others.

        @return: a Deferred firing with L{None} when every handler is done.
        @raise UncataloguedEvent: when C{name} is not in the catalogue.
        """
        handlers = self._handlers.get(name)
        if not handlers and self.catalogue is not None:
            self._check(name)
        waiting = []
        for _, _, handler in list(handlers or ()):
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
