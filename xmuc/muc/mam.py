"""
Message Archive Management for rooms (XEP-0313, C{urn:xmpp:mam:2}), as
Prosody's mod_muc_mam does it.

Every historic groupchat message (L{history.isHistoric}) of a room whose
C{muc#roomconfig_enablearchiving} is on (the default) is archived under the
room's stanza-id (XEP-0359), so a client can page from a message it has.
Persistent rooms archive to C{server.storage.archive} (which also brings
the history back after a restart); temporary rooms keep a bounded archive
in memory that vanishes with the room, as Prosody deletes the archive of a
destroyed room.

A C{<query/>} set to the room's bare JID answers with one
C{<message><result><forwarded>} per archived message, then the iq result
with C{<fin/>} and an RSM C{<set/>} (first, last, count); the protocol
itself (form, paging, result messages) is L{xmuc.xmpp.mam}.  Filters: the
data form's C{start}, C{end}, C{before-id}, C{after-id} and C{ids}
(C{urn:xmpp:mam:2#extended}); C{with} is validated and then ignored, as in
Prosody.  RSM C{max} (default 20, capped at 50), C{before} (empty: the last
page), C{after}, and C{<flip-page/>}.

Who may query: whoever may enter the room, by the room's entry rules
(L{xmuc.muc.room.Room.checkEntry}): nobody but owners while it is locked
(C{item-not-found}), no outcasts, only members and above in members-only
rooms (C{forbidden}); in a password-protected room only owners, admins and
occupants, who gave the password, since an archive query cannot carry it
(C{not-authorized}).  In rooms that are not non-anonymous, archived
messages carry no real JID for anyone; non-anonymous rooms archive each
message with a C{muc#user} item giving the sender's bare JID, affiliation
and role.
"""

import collections
import time

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from xmuc.muc import hooks
from xmuc.muc.history import historyOf, isHistoric
from xmuc.xmpp import forms, ns
from xmuc.xmpp import mam as shared
from xmuc.xmpp.mam import parseQuery
from xmuc.xmpp.stanza import parseElement

log = Logger()

ARCHIVING_FIELD = "muc#roomconfig_enablearchiving"

#: Messages kept by the archive of a temporary room (Prosody's memory
#: store keeps 1000 per room too).
MEMORY_ARCHIVE_SIZE = 1000


class Record:
    """
    One archived message.

    @ivar id: the room's stanza-id of the message.
    @ivar when: POSIX time the room received it.
    @ivar nick: the sender's nick.
    @ivar xml: the message as broadcast (with the stanza-id, no C{to}),
        serialized (plus a C{muc#user} item in non-anonymous rooms); or,
        in a temporary room, the L{Serialized} history entry of the message
        (shared with the history: no serialization of its own on the hot
        path), with its delay.
    @ivar sender: C{(affiliation, role, bare JID)} of the sender in a
        non-anonymous room, when not in C{xml}; else L{None}.
    """

    __slots__ = ("id", "when", "nick", "xml", "sender")

    def __init__(self, id, when, nick, xml, sender=None):
        self.id = id
        self.when = when
        self.nick = nick
        self.xml = xml
        self.sender = sender

    def element(self, room):
        """
        @return: the archived message (a new element: stanza-id and
            C{muc#user} x included, no C{to}).
        """
        if isinstance(self.xml, str):
            return parseElement(self.xml)
        message = parseElement(self.xml.text(""))
        message.attributes.pop("to", None)
        for delay in list(message.elements(ns.DELAY, "delay")):
            if delay.getAttribute("from") == room.jidStr:
                message.children.remove(delay)
        if self.sender is not None:
            addSender(message, *self.sender)
        return message

    def text(self, room):
        """
        @return: C{xml} as text (for storage).
        """
        return self.xml if isinstance(self.xml, str) else self.element(room).toXml()


# -- Archiving -------------------------------------------------------------------


def archivingEnabled(room):
    """
    @return: whether new messages of C{room} are archived (on unless the
        owner switched it off).
    """
    return room.extra.get("archiving", True)


class _ArchiveState:
    """
    What the archive keeps about a room at run time.

    @ivar archive: the in-memory archive of a temporary room.
    @ivar submitted: the archiving field of a configuration form being
        applied (L{None}: not submitted).
    """

    def __init__(self):
        self.archive = collections.deque(maxlen=MEMORY_ARCHIVE_SIZE)
        self.submitted = None


def _stateOf(room):
    return room.state(__name__, _ArchiveState)


def memoryArchive(room):
    """
    @return: the in-memory archive of a temporary room (a bounded deque of
        L{Record}, oldest first).
    """
    return _stateOf(room).archive


def addSender(message, affiliation, role, jid):
    """
    Say who sent an archived message of a non-anonymous room, as Prosody.
    """
    item = message.addElement((ns.MUC_USER, "x")).addElement("item")
    item["affiliation"] = affiliation
    item["role"] = role
    item["jid"] = jid


def archive(room, occupant, message, stanzaID, **kw):
    """
    C{groupchat-broadcast}: archive a historic message.  Runs after
    L{history.remember}, whose entry a temporary room's archive shares.
    """
    if not archivingEnabled(room) or not isHistoric(message):
        return
    sender = None
    if room.config.whois == "anyone":
        sender = (room.getAffiliation(occupant.bare), occupant.role, occupant.bare)
    if room.config.persistent:
        store = room.service.server.storage.archive
        d = store.append(room.jidStr, stanzaID, time.time(), occupant.nick, storedText(message, sender))
        d.addErrback(lambda f: log.failure("could not archive a message of {room}", f, room=room.jidStr))
        return
    history = historyOf(room) if room.config.historyLength > 0 else None
    if history:
        # history.remember (priority 0) just kept this message.
        entry = history[-1]
        record = Record(stanzaID, entry.when, occupant.nick, entry.serialized, sender)
    else:
        record = Record(stanzaID, time.time(), occupant.nick, storedText(message, sender))
    memoryArchive(room).append(record)


def storedText(message, sender):
    """
    @param sender: see L{Record.sender}.
    @return: the serialized message as archived.
    """
    if sender is None:
        return message.toXml()
    stored = domish.Element((message.uri, message.name), message.defaultUri, dict(message.attributes))
    stored.children = list(message.children)
    addSender(stored, *sender)
    return stored.toXml()


def records(room):
    """
    @return: Deferred firing with the archived L{Record}s of C{room},
        oldest first.
    """
    if not room.config.persistent:
        return defer.succeed(list(memoryArchive(room)))
    store = room.service.server.storage.archive
    d = store.recent(room.jidStr, store.maxPerRoom)
    d.addCallback(lambda rows: [Record(row["stanza_id"], row["when"], row["nick"], row["xml"])
                                for row in rows if row["stanza_id"]])
    return d


def persistenceChanged(room, changes, **kw):
    """
    C{config-changed}: the archive follows the room between memory and
    storage.
    """
    if "persistent" not in changes:
        return
    store = room.service.server.storage.archive
    if changes["persistent"]:
        # Stored in order before any later message (storage runs its
        # operations one at a time).
        for record in memoryArchive(room):
            store.append(room.jidStr, record.id, record.when, record.nick, record.text(room)).addErrback(
                lambda f: log.failure("could not archive a message of {room}", f, room=room.jidStr))
        memoryArchive(room).clear()
        return
    d = store.recent(room.jidStr, store.maxPerRoom)

    def loaded(rows):
        kept = [Record(row["stanza_id"], row["when"], row["nick"], row["xml"]) for row in rows if row["stanza_id"]]
        # Messages archived while loading stay after the stored ones.
        memoryArchive(room).extendleft(reversed(kept))
        return store.purge(room.jidStr)

    d.addCallback(loaded)
    d.addErrback(lambda f: log.failure("could not move the archive of {room} to memory", f, room=room.jidStr))


# -- Queries ------------------------------------------------------------------------


def serveForm(room, stanza, **kw):
    """
    C{room-iq-get}: the search form.
    """
    if stanza.firstChildElement().name != "query":
        return None
    return shared.formQuery()


def archivedElement(room, record):
    """
    @return: the message of C{record} as a room's archive forwards it: no
        C{to}, no stanza-id of the room, and the C{muc#user} item only in
        non-anonymous rooms.
    """
    archived = record.element(room)
    archived.attributes.pop("to", None)
    anyone = room.config.whois == "anyone"
    for child in list(archived.elements()):
        if (child.uri == ns.STANZA_ID and child.name == "stanza-id" and child.getAttribute("by") == room.jidStr) \
                or (not anyone and child.uri == ns.MUC_USER and child.name == "x"):
            archived.children.remove(child)
    return archived


def resultMessage(room, requester, queryID, record):
    """
    @return: the C{<message><result/></message>} carrying C{record}.
    """
    return shared.resultMessage(room.jidStr, requester, queryID, record, archivedElement(room, record))


def answer(room, stanza, query, parsed, archived):
    """
    Send the page of C{archived} to the requester.

    @return: the C{<fin/>} element of the iq result.
    """
    page, complete, total = shared.selectPage(archived, parsed)
    requester = stanza.getAttribute("from")
    queryID = query.getAttribute("queryid")
    messages = [resultMessage(room, requester, queryID, record) for record in page]
    return shared.answer(parsed, page, complete, total, messages, room.route)


def handleQuery(room, stanza, occupant, **kw):
    """
    C{room-iq-set}: an archive query.
    """
    query = stanza.firstChildElement()
    if query.name != "query":
        return None
    # XEP-0313, business rules of MUC archives: "A MUC archive MUST check
    # that the user requesting the archive has the right to enter it at the
    # time of the query".
    room.checkEntry(JID(stanza["from"]), stanza, occupant)
    parsed = parseQuery(query, room.service.server.config.get("server", "max_archive_page"))
    d = records(room)
    d.addCallback(lambda archived: answer(room, stanza, query, parsed, archived))
    return d


# -- Configuration and discovery -----------------------------------------------------------


def addConfigField(room, form, **kw):
    form.add(ARCHIVING_FIELD, "boolean", "Enable archiving?", ["1" if archivingEnabled(room) else "0"])


def readConfigField(room, fields, **kw):
    # Applied in config-changed, once no handler refused the form.
    _stateOf(room).submitted = (
        forms.boolean(fields[ARCHIVING_FIELD], ARCHIVING_FIELD) if ARCHIVING_FIELD in fields else None)


def applyConfigField(room, codes, **kw):
    """
    Like Prosody: a submitted archiving field always announces 170 (on) or
    171 (off), changed or not.
    """
    state = _stateOf(room)
    enabled, state.submitted = state.submitted, None
    if enabled is None:
        return
    # Runs inside the owner form's room change (RoomStore.change): undone with
    # room.extra when storing fails.
    room.extra["archiving"] = enabled
    codes.add("170" if enabled else "171")


def addFeatures(room, features, **kw):
    if archivingEnabled(room):
        features.add(ns.MAM)
        features.add(ns.MAM_EXTENDED)


def addServiceFeature(service, features, **kw):
    features.add(ns.MAM)


def install(service):
    service.hooks.add(hooks.GROUPCHAT_BROADCAST, archive, priority=-10)
    service.hooks.add(hooks.ROOM_IQ_GET + ns.MAM, serveForm)
    service.hooks.add(hooks.ROOM_IQ_SET + ns.MAM, handleQuery)
    service.hooks.add(hooks.CONFIG_FORM, addConfigField, priority=1)
    service.hooks.add(hooks.CONFIG_SUBMITTED, readConfigField)
    service.hooks.add(hooks.CONFIG_CHANGED, applyConfigField)
    service.hooks.add(hooks.CONFIG_CHANGED, persistenceChanged)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeatures)
    service.hooks.add(hooks.SERVICE_DISCO_FEATURES, addServiceFeature)
