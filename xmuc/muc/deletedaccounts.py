"""
Deleted accounts lose their place in every room (the MUC side of account
tombstones): on the server event C{account-deleted}, the JID's
affiliations and reserved nicks are removed from every room of the
service, with the usual effects and notices to occupants, and persistent
rooms are stored again.  Whoever registers the same name later inherits
nothing.
"""

from twisted.internet import defer
from twisted.logger import Logger

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.muc.affiliations import affiliationEffects, recordAffiliation

log = Logger()


def forgetAccount(service, bare):
    """
    Remove C{bare}'s affiliations and reserved nicks from every room, each
    room's change all-or-nothing (L{xmuc.muc.persistence.RoomStore.change}): stored, then
    the effects and notices.  When storing a room fails, that room keeps
    the JID (in memory as in storage) and the failure is logged.

    @return: a Deferred firing once the changed persistent rooms are stored.
    """
    saving = []
    for room in list(service.rooms.values()):
        if room.destroyed or (bare not in room.affiliations and bare not in room.reservedNicks):
            continue
        saving.append(_forgetInRoom(room, bare).addErrback(
            lambda f, r=room: log.failure("could not store {room} after an account deletion", f, room=r.jidStr)))
    return defer.DeferredList(saving)


def _forgetInRoom(room, bare):
    """
    Remove C{bare}'s affiliation and reserved nick from C{room}.

    @return: a Deferred firing once stored and the effects sent.
    """
    recorded = {}

    def record():
        # As found once an earlier change of the room is stored.
        room.reservedNicks.pop(bare, None)
        recorded["old"] = recordAffiliation(room, bare, "none")

    def effects(_):
        # Only the reserved nick went: nobody sees a change.
        if not room.destroyed and recorded["old"] != "none":
            affiliationEffects(room, bare, recorded["old"], "none")

    return room.store.change(room, record, effects)


def install(service):
    def accountDeleted(jid, **kw):
        return forgetAccount(service, jid)

    service.server.hooks.add(ACCOUNT_DELETED, accountDeleted)


@defer.inlineCallbacks
def forgetInStoredRooms(storage, domain, bare):
    """
    What L{forgetAccount} does, on the stored state of the persistent rooms
    of C{domain} instead of loaded rooms: for a process without rooms in
    memory (C{xmucctl deluser}).  No notices are sent.

    @param storage: the L{xmuc.storage.interfaces.IStorage}.
    @param domain: the MUC service's domain.
    @param bare: the deleted account's bare JID string.
    @return: Deferred firing with the number of rooms changed.
    """
    found = yield storage.rooms.list(domain)
    changed = 0
    for room, state in found:
        touched = False
        for key in ("affiliations", "reservedNicks"):
            entries = state.get(key)
            if isinstance(entries, dict) and bare in entries:
                del entries[bare]
                touched = True
        if touched:
            yield storage.rooms.save(room, state)
            changed += 1
    return changed
