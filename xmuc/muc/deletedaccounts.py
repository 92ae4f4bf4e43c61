"""
Deleted accounts lose their place in every room (the MUC side of the
tombstones of issue 6): on the server event C{account-deleted}, the JID's
affiliations and reserved nicks are removed from every room of the
service, with the usual effects and notices to occupants, and persistent
rooms are stored again.  Whoever registers the same name later inherits
nothing.
"""

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


def forgetAccount(service, bare):
    """
    Remove C{bare}'s affiliations and reserved nicks from every room.

    @return: a Deferred firing once the changed persistent rooms are stored.
    """
    saving = []
    for room in list(service.rooms.values()):
        if room.destroyed or (bare not in room.affiliations and bare not in room.reservedNicks):
            continue
        room.reservedNicks.pop(bare, None)
        if bare in room.affiliations:
            room.setAffiliation(bare, "none")
        saving.append(room.save().addErrback(
            lambda f, r=room: log.failure("could not store {room} after an account deletion", f, room=r.jidStr)))
    return defer.DeferredList(saving)


def install(service):
    def accountDeleted(jid, **kw):
        return forgetAccount(service, jid)

    service.server.events.on("account-deleted", accountDeleted)
