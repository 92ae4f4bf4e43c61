"""
Ad-hoc commands of rooms and of the service (XEP-0050): features declare
commands (L{roomCommand}, L{serviceCommand}); the room (or the service)
lists those the requester may run on the commands node of its
disco#items, describes each on its disco#info node, and runs them on a
C{<command/>} iq set to its bare JID (or the service's domain).  Commands are
stateless (L{xmuc.xmpp.adhoc}): a request without a submitted form gets
the command's form, a submission runs it, a cancel ends it.  A node the
room does not have is C{item-not-found}; a command the requester may not
run is C{forbidden}.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.muc import hooks
from xmuc.xmpp import adhoc, ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.jid import bareJID

log = Logger()


class RoomCommand:
    """
    A command that rooms offer.

    @ivar node: its node.
    @ivar name: its human-readable name.
    @ivar form: callable C{(room)} returning the C{jabber:x:data} form to
        fill, or L{None} when the command runs at once.
    @ivar run: callable C{(room, request, requester, stanza)} returning the
        C{<command/>} of the answer (or a Deferred firing with it); raises
        L{StanzaError} to refuse.
    @ivar allowed: callable C{(room, requester)} (real bare JID str)
        saying whether the requester may run it.
    """

    def __init__(self, node, name, form, run, allowed):
        self.node = node
        self.name = name
        self.form = form
        self.run = run
        self.allowed = allowed


def _commands(service):
    """
    @return: C{{node: RoomCommand}} of C{service}, in declaration order.
    """
    return service.state(__name__, dict)


def roomCommand(service, node, name, form, run, allowed):
    """
    Declare a command of every room of C{service} (see L{RoomCommand}).
    """
    command = _commands(service)[node] = RoomCommand(node, name, form, run, allowed)

    def describe(room, stanza, **kw):
        if not command.allowed(room, bareJID(stanza.getAttribute("from"))):
            raise StanzaError("forbidden")
        return adhoc.commandInfo(node, name)

    service.hooks.add(hooks.ROOM_DISCO_INFO_NODE + node, describe)


def listCommands(room, stanza, **kw):
    """
    C{room-disco-items-node:<commands>}: the commands the requester may
    run.
    """
    requester = bareJID(stanza.getAttribute("from"))
    return adhoc.commandItems(room.jidStr, [(command.node, command.name) for command in _commands(room.service).values()
                                            if command.allowed(room, requester)])


def execute(room, stanza, **kw):
    """
    C{room-iq-set:<commands>}: run a command.
    """
    request = adhoc.parseCommand(stanza)
    command = _commands(room.service).get(request.node)
    if command is None:
        raise StanzaError("item-not-found", text="No such command")
    requester = bareJID(stanza.getAttribute("from"))
    if not command.allowed(room, requester):
        raise StanzaError("forbidden", text="You may not run this command")
    if request.action == "cancel":
        return adhoc.commandResponse(request, "canceled")
    if request.form is None and command.form is not None:
        return adhoc.commandResponse(request, "executing", form=command.form(room))
    return command.run(room, request, requester, stanza)


def addFeature(room, features, **kw):
    features.add(ns.COMMANDS)


# -- Commands of the service ---------------------------------------------------


class _ServiceCommands(dict):
    """
    C{{node: RoomCommand}} of the service's own commands, whose C{form}
    takes the service, C{run} C{(service, request, requester, stanza)}
    and C{allowed} C{(service, requester)}.
    """


def _serviceCommands(service):
    return service.state(_ServiceCommands, _ServiceCommands)


def serviceCommand(service, node, name, form, run, allowed):
    """
    Declare a command of the service itself (see L{RoomCommand}, with the
    service in place of the room).
    """
    command = _serviceCommands(service)[node] = RoomCommand(node, name, form, run, allowed)

    def describe(service, stanza, **kw):
        if not command.allowed(service, bareJID(stanza.getAttribute("from"))):
            raise StanzaError("forbidden")
        return adhoc.commandInfo(node, name)

    service.hooks.add(hooks.SERVICE_DISCO_INFO_NODE + node, describe)


def listServiceCommands(service, stanza, **kw):
    requester = bareJID(stanza.getAttribute("from"))
    return adhoc.commandItems(service.domain, [(command.node, command.name)
                                               for command in _serviceCommands(service).values()
                                               if command.allowed(service, requester)])


def executeOnService(service, stanza, **kw):
    """
    C{service-iq-set:<commands>}: run a command of the service; the reply
    is sent once it finished (C{True} for the service).
    """
    request = adhoc.parseCommand(stanza)
    command = _serviceCommands(service).get(request.node)
    if command is None:
        raise StanzaError("item-not-found", text="No such command")
    requester = bareJID(stanza.getAttribute("from"))
    if not command.allowed(service, requester):
        raise StanzaError("forbidden", text="You may not run this command")
    if request.action == "cancel":
        return adhoc.commandResponse(request, "canceled")
    if request.form is None and command.form is not None:
        return adhoc.commandResponse(request, "executing", form=command.form(service))
    d = defer.maybeDeferred(command.run, service, request, requester, stanza)

    def failed(failure):
        if failure.check(StanzaError):
            service.router.route(errorReply(stanza, failure.value, by=service.domain, payload=False))
        else:
            log.failure("command {node} failed", failure, node=request.node)
            service.router.route(errorReply(stanza, "internal-server-error", by=service.domain, payload=False))

    d.addCallbacks(lambda result: service.replyFromService(stanza, result), failed)
    return True


def addServiceFeature(service, features, **kw):
    features.add(ns.COMMANDS)


def install(service):
    service.hooks.add(hooks.SERVICE_DISCO_FEATURES, addServiceFeature)
    service.hooks.add(hooks.ROOM_DISCO_ITEMS_NODE + ns.COMMANDS, listCommands)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.COMMANDS, execute)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.SERVICE_DISCO_ITEMS_NODE + ns.COMMANDS, listServiceCommands)
    service.hooks.add(hooks.SERVICE_IQ_SET + ns.COMMANDS, executeOnService)
