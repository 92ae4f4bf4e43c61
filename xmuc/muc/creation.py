"""
Who may create rooms: with C{[muc] restrict_room_creation}, only server
administrators (others get C{not-allowed}); and how many: an account
creates at most C{[muc] max_rooms_per_account} rooms in C{[muc]
room_creation_period} seconds (C{policy-violation}, type C{wait}, beyond;
administrators are not limited).  Names of destroyed rooms stay buried
meanwhile (L{xmuc.muc.tombstones}).
"""

import collections

from xmuc.muc import hooks
from xmuc.xmpp.errors import StanzaError

#: Accounts whose creations are counted at most: the oldest are forgotten
#: first, so that many accounts cannot grow memory forever.
MAX_TRACKED = 100000


def restrictCreation(service, creator, **kw):
    """
    C{room-pre-create}: with C{[muc] restrict_room_creation}, only server
    administrators create rooms (C{not-allowed}).
    """
    if service.restrictRoomCreation and (creator is None or not service.isAdmin(creator.userhost())):
        raise StanzaError("not-allowed", text="Room creation is restricted")


class _Creations:
    """
    Rooms created per account, over a fixed window starting at the first.
    """

    def __init__(self, service):
        config = service.server.config
        self.maximum = config.get("muc", "max_rooms_per_account")
        self.period = config.get("muc", "room_creation_period")
        self.clock = service.server.reactor
        self.windows = collections.OrderedDict()

    def count(self, account):
        """
        Count one creation by C{account}.

        @return: whether it is allowed.
        """
        now = self.clock.seconds()
        window = self.windows.get(account)
        if window is None or now - window[0] >= self.period:
            window = self.windows[account] = [now, 0]
            self.windows.move_to_end(account)
            if len(self.windows) > MAX_TRACKED:
                self.windows.popitem(last=False)
        if window[1] >= self.maximum:
            return False
        window[1] += 1
        return True


def limitCreation(service, creator, **kw):
    """
    C{room-pre-create}: at most C{[muc] max_rooms_per_account} new rooms
    per account and period (C{policy-violation}, type C{wait}).
    """
    creations = service.state(__name__, _Creations, service)
    if not creations.maximum or creator is None:
        return
    account = creator.userhost()
    if service.isAdmin(account):
        return
    if not creations.count(account):
        raise StanzaError(
            "policy-violation", type="wait", text="You have created too many rooms lately; try again later"
        )


def install(service):
    service.hooks.add(hooks.ROOM_PRE_CREATE, restrictCreation)
    # Last: only creations that every other rule allows are counted.
    service.hooks.add(hooks.ROOM_PRE_CREATE, limitCreation, priority=-100)
