"""
Occupant message rate (what Prosody's C{mod_muc_limits} does): each
occupant may send C{[muc] occupant_message_rate} groupchat and private
messages per minute in a room, after a burst of C{[muc]
occupant_message_burst}; beyond it the message is refused with a
C{policy-violation} error of type C{wait} (Prosody's answer: the client
may try again later) and goes to no one.  Owners may lower the rate of
their room (C{xmuc#roomconfig_messagerate}, messages per minute; the
service's rate is the most they may choose).  Moderators are not limited:
they must be able to act in a room that is being flooded.
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.tokenbucket import TokenBucket

#: C{messageRate}: messages per minute per occupant, 0 for the service's
#: rate.
SETTING = "messageRate"

#: The room configuration field (not in XEP-0045's registry).
FIELD = "xmuc#roomconfig_messagerate"


class _Rate:
    """
    The limits of the service, read once.
    """

    def __init__(self, service):
        config = service.server.config
        self.perMinute = config.get("muc", "occupant_message_rate")
        self.burst = config.get("muc", "occupant_message_burst")
        self.clock = service.server.reactor


def roomRate(room):
    """
    @return: the messages per minute an occupant of C{room} may send, 0
        for no limit.
    """
    service = room.service.state(__name__, _Rate, room.service).perMinute
    chosen = room.config.messageRate
    if chosen and (not service or chosen < service):
        return chosen
    return service


def checkRate(room, occupant):
    """
    Count one message of C{occupant}.

    @raise StanzaError: C{policy-violation} (type C{wait}) beyond its rate.
    """
    if occupant is None or occupant.role == "moderator":
        return
    perMinute = roomRate(room)
    if not perMinute:
        return
    limits = room.service.state(__name__, _Rate, room.service)
    rate = perMinute / 60.0
    bucket = occupant.state(__name__, TokenBucket, rate, limits.burst, limits.clock)
    if bucket.rate != rate:
        # The owner changed the room's rate: the bucket follows.
        bucket.rate = rate
    if not bucket.take():
        raise StanzaError(
            "policy-violation", type="wait", text="You are sending messages too fast; please wait a moment"
        )


def limitGroupchat(room, occupant, stanza, **kw):
    checkRate(room, occupant)


def limitPrivateMessage(room, sender, recipient, stanza, **kw):
    if stanza.name == "message":
        checkRate(room, sender)


def install(service):
    declareSettings(service, {SETTING: 0})
    # Before anything else looks at the message (the subject, moderation).
    service.hooks.add(hooks.GROUPCHAT_PRE_BROADCAST, limitGroupchat, priority=100)
    service.hooks.add(hooks.PRIVATE_MESSAGE_PRE_ROUTE, limitPrivateMessage, priority=100)
    configField(
        service,
        FIELD,
        SETTING,
        "integer",
        "Messages per minute per occupant (0: the service's limit)",
        35,
        maximum=lambda room: room.service.state(__name__, _Rate, room.service).perMinute or None,
    )
