"""
Destroyed persistent rooms leave a tombstone (C{server.storage.tombstones},
kind C{'room'}) so that nobody else takes their name for
C{[storage] room_tombstone_expiry} seconds (0: forever): joining one gets
C{gone}, with the alternate venue as an C{xmpp:} URI when there was one.
Server administrators may recreate it (which lifts the tombstone).
"""

import time

from twisted.logger import Logger

from xmuc.accounts.tombstones import inForce
from xmuc.muc import hooks
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

log = Logger()


class GoneError(StanzaError):
    """
    C{gone}, with the new address as the condition's content.
    """

    def __init__(self, text=None, uri=None):
        StanzaError.__init__(self, "gone", type="cancel", text=text)
        self.uri = uri

    def getElement(self):
        element = StanzaError.getElement(self)
        if self.uri:
            for child in element.elements(ns.XMPP_STANZAS, "gone"):
                child.addContent(self.uri)
        return element


def tombstonesOf(service):
    """
    @return: C{{room JID: {'when': float, 'reason': str, 'alternate': str}}}.
    """
    return service.state(__name__, dict)


def expiry(service):
    return service.server.config.get("storage", "room_tombstone_expiry")


def refuseBuried(service, roomJID, creator, **kw):
    tombstone = tombstonesOf(service).get(roomJID)
    if tombstone is None:
        return None
    expired = not inForce(tombstone["when"], expiry(service))
    if expired or (creator is not None and service.isAdmin(creator.userhost())):
        del tombstonesOf(service)[roomJID]
        service.server.storage.tombstones.remove(roomJID).addErrback(
            lambda f: log.failure("could not remove the tombstone of {room}", f, room=roomJID))
        return None
    alternate = tombstone.get("alternate")
    raise GoneError(tombstone.get("reason") or "This room has been destroyed",
                    "xmpp:%s?join" % (alternate,) if alternate else None)


def bury(room, reason, alternate, **kw):
    if not room.config.persistent:
        return None
    when = time.time()
    tombstonesOf(room.service)[room.jidStr] = {"when": when, "reason": reason, "alternate": alternate}
    room.service.server.storage.tombstones.add(room.jidStr, "room", when).addErrback(
        lambda f: log.failure("could not record the tombstone of {room}", f, room=room.jidStr))
    return None


def lift(service, roomJID, writtenBefore):
    """
    Forget the tombstone of C{roomJID}, lifted from storage by another
    process (C{xmucctl lift-tombstone}): the name is free again.

    @param writtenBefore: a POSIX time; a tombstone written since (the
        room destroyed again, perhaps not stored yet) stays.
    @return: whether a tombstone was forgotten.
    """
    tombstone = tombstonesOf(service).get(roomJID)
    if tombstone is None or tombstone["when"] >= writtenBefore:
        return False
    del tombstonesOf(service)[roomJID]
    return True


def loadTombstones(service):
    """
    @return: a Deferred firing once the service knows its tombstones.
    """
    d = service.server.storage.tombstones.list("room")

    def loaded(found):
        suffix = "@" + service.domain
        for tombstone in found:
            if tombstone["jid"].endswith(suffix):
                tombstonesOf(service).setdefault(tombstone["jid"], {"when": tombstone["when"]})

    return d.addCallback(loaded)


def install(service):
    tombstonesOf(service)
    service.hooks.add(hooks.ROOM_PRE_CREATE, refuseBuried, priority=10)
    service.hooks.add(hooks.ROOM_DESTROYED, bury)
