"""
Tombstones written or lifted by another process (C{xmucctl deluser},
C{xmucctl destroy-room}, C{xmucctl lift-tombstone}) while the server runs.

The server keeps persistent rooms in memory and stores their whole state
at every change: without this watcher, a room would put back the
affiliation of an account that C{xmucctl deluser} just removed from
storage, and a room destroyed with C{xmucctl destroy-room} would live on
(and be stored again).  So the server reads the tombstones at start (once
the rooms are loaded) and then every L{POLL_INTERVAL} seconds, and for each
one it has not seen yet:

 - an account tombstone, still in force, of an account that does not exist:
   at start, rooms forget the JID (there are no sessions yet); later, the
   C{account-deleted} event is fired (rooms forget the JID with notices to
   occupants, contacts are told) and the account's sessions are closed, as
   for an in-band deletion;
 - a room tombstone: the room, if loaded, is destroyed (occupants get the
   usual destroy presence) and joining the name gets C{gone}.

A tombstone seen before and now gone was lifted: a room name is free again
(the MUC forgets its in-memory tombstone).

Tombstones this server wrote itself are seen again harmlessly: the work is
already done, so repeating it changes nothing.
"""

import time

from twisted.application import service
from twisted.internet import defer, task
from twisted.logger import Logger

from xmuc.accounts.tombstones import ACCOUNT, inForce
from xmuc.hooks import ACCOUNT_DELETED
from xmuc.muc import tombstones as roomtombstones
from xmuc.muc.deletedaccounts import forgetAccount

log = Logger()

#: Seconds between two readings of the tombstones.
POLL_INTERVAL = 10.0

#: Why a room destroyed by another process says it is gone.
DESTROYED_ELSEWHERE = "This room has been destroyed by an administrator"


class TombstoneWatcher(service.Service):
    """
    @ivar server: the L{xmuc.server.XmucServer}.
    @ivar seen: C{{jid: when}} of the tombstones already handled.
    @ivar loop: the L{task.LoopingCall} once started.
    """

    def __init__(self, server, interval=POLL_INTERVAL):
        self.server = server
        self.interval = interval
        self.seen = {}
        self.loop = None
        self._started = False
        self._previouslyAsked = None

    def startService(self):
        service.Service.startService(self)
        # After the rooms are loaded (the MUC service started earlier and
        # chained its loading on the same Deferred).
        self.server.ready.addCallback(self._start)

    def _start(self, result):
        if not self.running:
            return result
        self.loop = task.LoopingCall(self._poll)
        self.loop.start(self.interval, now=False)
        d = self.check()
        d.addErrback(lambda f: log.failure("could not read the tombstones", f))
        d.addCallback(lambda _: result)
        return d

    def stopService(self):
        service.Service.stopService(self)
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def _poll(self):
        # A failing reading (database gone) is logged; the loop goes on.
        return self.check().addErrback(lambda f: log.warn(
            "could not read the tombstones: {error}", error=f.getErrorMessage()))

    @defer.inlineCallbacks
    def check(self):
        """
        Read the tombstones and handle those not seen yet.

        @return: Deferred firing once handled.
        """
        first = not self._started
        asked = time.time()
        found = yield self.server.storage.tombstones.list()
        self._started = True
        self._forgetLifted(set(tombstone["jid"] for tombstone in found), asked)
        self._previouslyAsked = asked
        accounts = []
        for tombstone in found:
            jid, when = tombstone["jid"], tombstone["when"]
            if self.seen.get(jid) == when:
                continue
            self.seen[jid] = when
            if tombstone["kind"] == ACCOUNT:
                accounts.append(tombstone)
            else:
                self.roomDestroyed(jid, when)
        if first:
            # Only those some room still holds are worth a look (there may
            # be many old tombstones).
            held = self._heldInRooms(set(t["jid"] for t in accounts))
            accounts = [t for t in accounts if t["jid"] in held]
        gone = []
        for tombstone in accounts:
            if (yield self._accountGone(tombstone)):
                gone.append(tombstone["jid"])
        if first:
            yield self._forgetInRooms(gone)
        else:
            for bare in gone:
                yield self.accountDeleted(bare)

    def _forgetLifted(self, present, asked):
        """
        Tombstones seen before and now gone were lifted (C{xmucctl
        lift-tombstone}, or an administrator recreating a room): a room
        name is free again in the MUC's memory too.  So is a room this
        server destroyed and whose tombstone, written before the previous
        reading (so stored by now), was lifted before this watcher saw it.
        Account tombstones need nothing more: the server reads them from
        storage each time.

        @param present: the JIDs of the tombstones stored now.
        @param asked: the POSIX time the tombstones were asked for.
        """
        # JID -> only a tombstone written before this time is lifted: a
        # room destroyed again meanwhile has a newer one, perhaps not
        # stored yet, which stays.
        lifted = {jid: asked for jid in self.seen if jid not in present}
        for jid in lifted:
            del self.seen[jid]
        muc = self.server.muc
        if muc is None:
            return
        if self._previouslyAsked is not None:
            for jid in roomtombstones.tombstonesOf(muc):
                if jid not in present:
                    lifted.setdefault(jid, self._previouslyAsked)
        for jid, writtenBefore in lifted.items():
            if roomtombstones.lift(muc, jid, writtenBefore):
                log.info("the tombstone of room {room} was lifted", room=jid)

    def _heldInRooms(self, jids):
        """
        @return: the subset of C{jids} having an affiliation or a reserved
            nick in a loaded room.
        """
        held = set()
        if self.server.muc is not None and jids:
            for room in self.server.muc.rooms.values():
                held.update(jids.intersection(room.affiliations))
                held.update(jids.intersection(room.reservedNicks))
        return held

    def _accountGone(self, tombstone):
        """
        @return: Deferred firing with whether the tombstone is in force and
            the account does not exist (not registered again).
        """
        expiry = self.server.config.get("storage", "tombstone_expiry")
        if not inForce(tombstone["when"], expiry):
            return defer.succeed(False)
        return self.server.storage.accounts.get(tombstone["jid"]).addCallback(lambda c: c is None)

    def _forgetInRooms(self, gone):
        """
        At start: rooms forget the deleted JIDs they still hold.
        """
        muc = self.server.muc
        if muc is None or not gone:
            return defer.succeed(None)
        return defer.gatherResults([forgetAccount(muc, bare) for bare in sorted(gone)])

    @defer.inlineCallbacks
    def accountDeleted(self, bare):
        """
        An account deleted by another process: what an in-band deletion does
        after the storage part.
        """
        log.info("account {jid} was deleted by another process", jid=bare)
        yield self.server.hooks.fireAll(ACCOUNT_DELETED, jid=bare)
        yield self.server.accounts.closeSessions(bare)

    def roomDestroyed(self, roomJID, when):
        muc = self.server.muc
        if muc is None or not roomJID.endswith("@" + muc.domain):
            return
        if not inForce(when, roomtombstones.expiry(muc)):
            return
        room = muc.rooms.get(roomJID)
        if room is not None and not room.destroyed:
            log.info("room {room} was destroyed by another process", room=roomJID)
            room.destroy(DESTROYED_ELSEWHERE).addErrback(
                lambda f: log.failure("could not forget {room}", f, room=roomJID))
        roomtombstones.tombstonesOf(muc).setdefault(roomJID, {"when": when})
