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
with C{<fin/>} and an RSM C{<set/>} (first, last, count).  Filters: the
data form's C{start}, C{end}, C{before-id}, C{after-id} and C{ids}
(C{urn:xmpp:mam:2#extended}); C{with} is validated and then ignored, as in
Prosody.  RSM C{max} (default 20, capped at 50), C{before} (empty: the last
page), C{after}, and C{<flip-page/>}.

Who may query (Prosody's rules): anyone but outcasts, and in members-only
rooms only members and above; occupancy does not matter.  In rooms that
are not non-anonymous, archived messages carry no real JID for anyone;
non-anonymous rooms archive each message with a C{muc#user} item giving
the sender's bare JID, affiliation and role.
"""

import collections
import re
import time

from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import InvalidFormat, JID
from twisted.words.xish import domish

from xmuc.muc import forms
from xmuc.muc.fanout import newStanza, parseElement
from xmuc.muc.history import historyOf, isHistoric, parseStamp, stamp
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

log = Logger()

MAM = "urn:xmpp:mam:2"
MAM_EXTENDED = MAM + "#extended"
RSM = "http://jabber.org/protocol/rsm"
FORWARD = "urn:xmpp:forward:0"
XDATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"
ARCHIVING_FIELD = "muc#roomconfig_enablearchiving"

#: Page size without RSM C{max}, and the largest page (Prosody's
#: C{max_archive_query_results}).
DEFAULT_MAX = 20
MAX_MAX = 50

#: Messages kept by the archive of a temporary room (Prosody's memory
#: store keeps 1000 per room too).
MEMORY_ARCHIVE_SIZE = 1000

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


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


class Query:
    """
    A parsed archive query.

    @ivar start: POSIX time or L{None}; C{end} likewise.
    @ivar ids: set of ids to keep, or L{None}.
    @ivar before: id the page ends before (L{None}: none).
    @ivar after: id the page starts after (L{None}: none).
    @ivar reverse: RSM C{<before/>} was given: the page is taken from the
        end.
    @ivar flip: send the page in the other order.
    @ivar max: the page size.
    """

    def __init__(self, start=None, end=None, ids=None, before=None, after=None, reverse=False, flip=False,
                 max=DEFAULT_MAX):
        self.start = start
        self.end = end
        self.ids = ids
        self.before = before
        self.after = after
        self.reverse = reverse
        self.flip = flip
        self.max = max


# -- Archiving -------------------------------------------------------------------


def archivingEnabled(room):
    """
    @return: whether new messages of C{room} are archived (on unless the
        owner switched it off).
    """
    return room.extra.get("archiving", True)


def memoryArchive(room):
    """
    @return: the in-memory archive of a temporary room (a bounded deque of
        L{Record}, oldest first).
    """
    archive = getattr(room, "mamArchive", None)
    if archive is None:
        archive = room.mamArchive = collections.deque(maxlen=MEMORY_ARCHIVE_SIZE)
    return archive


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
    from twisted.internet import defer

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


def searchForm():
    """
    @return: the C{<x/>} search form, exactly Prosody's.
    """
    x = domish.Element((ns.DATA_FORMS, "x"))
    x["type"] = "form"

    def field(var, type, datatype=None):
        element = x.addElement("field")
        element["var"] = var
        element["type"] = type
        if datatype:
            element.addElement((XDATA_VALIDATE, "validate"))["datatype"] = datatype
        return element

    field("FORM_TYPE", "hidden").addElement("value", content=MAM)
    field("with", "jid-single")
    field("start", "text-single", "xs:dateTime")
    field("end", "text-single", "xs:dateTime")
    field("before-id", "text-single")
    field("after-id", "text-single")
    field("ids", "list-multi")
    return x


def serveForm(room, stanza, **kw):
    """
    C{iq-get}: the search form.
    """
    if stanza.firstChildElement().name != "query":
        return None
    query = domish.Element((MAM, "query"))
    query.addChild(searchForm())
    return query


def _timestamp(values):
    text = forms.single(values).strip()
    if not text:
        return None
    when = parseStamp(text) if _DATETIME.match(text) else None
    if when is None:
        raise StanzaError("bad-request", text="invalid timestamp")
    return when


def _rsm(query):
    """
    @return: C{{name: value}} of the RSM C{<set/>} of C{query} (C{before}
        is L{True} when empty), or L{None} without a set or an empty one.
    """
    for rsmSet in query.elements(RSM, "set"):
        values = {}
        for child in rsmSet.elements():
            text = str(child)
            if child.name == "before":
                values["before"] = text or True
            elif child.name in ("after", "max"):
                values[child.name] = text
        found = any(True for _ in rsmSet.elements())
        return values if found else None
    return None


def parseQuery(query):
    """
    Read the filters and paging of a C{<query/>}, as Prosody.

    @raise StanzaError: C{bad-request} for a bad form.
    @return: a L{Query}.
    """
    parsed = Query()
    formBefore = formAfter = None
    x = forms.findForm(query)
    if x is not None:
        _, formType, fields = forms.parseForm(x)
        if formType != MAM:
            raise StanzaError("bad-request", text="Unexpected FORM_TYPE, expected '%s'" % (MAM,))
        parsed.start = _timestamp(fields.get("start", []))
        parsed.end = _timestamp(fields.get("end", []))
        withJID = forms.single(fields.get("with", [])).strip()
        if withJID:
            # Checked, then ignored: Prosody keeps the stanza type there.
            try:
                JID(withJID)
            except InvalidFormat:
                raise StanzaError("bad-request", text="Invalid JID: " + withJID)
        formBefore = forms.single(fields.get("before-id", [])) or None
        formAfter = forms.single(fields.get("after-id", [])) or None
        if "ids" in fields:
            parsed.ids = set(fields["ids"])
    rsm = _rsm(query) or {}
    size = DEFAULT_MAX
    if "max" in rsm:
        try:
            size = int(rsm["max"].strip())
        except ValueError:
            pass
    parsed.max = min(size, MAX_MAX)
    parsed.reverse = "before" in rsm
    before = rsm.get("before") or formBefore
    parsed.before = before if isinstance(before, str) else None
    parsed.after = rsm["after"] if "after" in rsm else formAfter
    parsed.flip = parsed.reverse != any(True for _ in query.elements(MAM, "flip-page"))
    return parsed


def _position(items, key):
    for index, record in enumerate(items):
        if record.id == key:
            return index
    raise StanzaError("item-not-found", type="modify")


def find(archived, query, limit):
    """
    Select up to C{limit} records, as Prosody's archive stores do.

    @param archived: L{Record}s, oldest first.
    @return: C{(records in retrieval order, total matching the filters)}.
    @raise StanzaError: C{item-not-found} for an unknown before/after id.
    """
    if not archived and (query.before is not None or query.after is not None):
        raise StanzaError("item-not-found", type="modify")
    items = archived
    if query.ids is not None:
        items = [r for r in items if r.id in query.ids]
    if query.start is not None:
        items = [r for r in items if r.when >= query.start]
    if query.end is not None:
        items = [r for r in items if r.when <= query.end]
    total = len(items)
    first = 0
    stop = None
    if query.reverse:
        items = items[::-1]
        if query.before is not None:
            first = _position(items, query.before) + 1
        stop = query.after
    elif query.after is not None:
        first = _position(items, query.after) + 1
        stop = query.before
    elif query.before is not None:
        stop = query.before
    page = []
    for record in items[first:]:
        if len(page) >= limit or (stop is not None and record.id == stop):
            break
        page.append(record)
    return page, total


def resultMessage(room, requester, queryID, record):
    """
    @return: the C{<message><result/></message>} carrying C{record}.
    """
    message = newStanza("message", to=requester, **{"from": room.jidStr})
    result = message.addElement((MAM, "result"))
    if queryID is not None:
        result["queryid"] = queryID
    result["id"] = record.id
    forwarded = result.addElement((FORWARD, "forwarded"))
    forwarded.addElement((ns.DELAY, "delay"))["stamp"] = stamp(record.when)
    archived = record.element(room)
    archived.attributes.pop("to", None)
    anyone = room.config.whois == "anyone"
    for child in list(archived.elements()):
        if (child.uri == ns.STANZA_ID and child.name == "stanza-id" and child.getAttribute("by") == room.jidStr) \
                or (not anyone and child.uri == ns.MUC_USER and child.name == "x"):
            archived.children.remove(child)
    forwarded.addChild(archived)
    return message


def answer(room, stanza, query, parsed, archived):
    """
    Send the page of C{archived} to the requester.

    @return: the C{<fin/>} element of the iq result.
    """
    page, total = find(archived, parsed, max(parsed.max + 1, 0))
    complete = not (page and len(page) > parsed.max)
    page = page[:max(parsed.max, 0)]
    requester = stanza.getAttribute("from")
    queryID = query.getAttribute("queryid")
    messages = [resultMessage(room, requester, queryID, record) for record in page]
    for message in (reversed(messages) if parsed.flip else messages):
        room.route(message)
    fin = domish.Element((MAM, "fin"))
    if complete:
        fin["complete"] = "true"
    rsmSet = fin.addElement((RSM, "set"))
    if page:
        first, last = page[0].id, page[-1].id
        if parsed.reverse:
            first, last = last, first
        rsmSet.addElement("first", content=first)
        rsmSet.addElement("last", content=last)
    rsmSet.addElement("count", content=str(total))
    return fin


def handleQuery(room, stanza, occupant, **kw):
    """
    C{iq-set}: an archive query.
    """
    query = stanza.firstChildElement()
    if query.name != "query":
        return None
    bare = JID(stanza["from"]).userhost()
    affiliation = room.getAffiliation(bare)
    if affiliation == "outcast" or (room.config.membersOnly and affiliation == "none"):
        raise StanzaError("forbidden")
    parsed = parseQuery(query)
    d = records(room)
    d.addCallback(lambda archived: answer(room, stanza, query, parsed, archived))
    return d


# -- Configuration and discovery -----------------------------------------------------------


def addConfigField(room, form, **kw):
    form.add(ARCHIVING_FIELD, "boolean", "Enable archiving?", ["1" if archivingEnabled(room) else "0"])


def readConfigField(room, fields, **kw):
    # Applied in config-changed, once no handler refused the form.
    room.mamArchivingSubmitted = (
        forms.boolean(fields[ARCHIVING_FIELD], ARCHIVING_FIELD) if ARCHIVING_FIELD in fields else None)


def applyConfigField(room, codes, **kw):
    """
    Like Prosody: a submitted archiving field always announces 170 (on) or
    171 (off), changed or not.
    """
    enabled = getattr(room, "mamArchivingSubmitted", None)
    room.mamArchivingSubmitted = None
    if enabled is None:
        return
    room.extra["archiving"] = enabled
    codes.add("170" if enabled else "171")


def addFeatures(room, features, **kw):
    if archivingEnabled(room):
        features.add(MAM)
        features.add(MAM_EXTENDED)


def addServiceFeature(service, features, **kw):
    features.add(MAM)


def install(service):
    service.hooks.add("groupchat-broadcast", archive, priority=-10)
    service.hooks.add("iq-get:" + MAM, serveForm)
    service.hooks.add("iq-set:" + MAM, handleQuery)
    service.hooks.add("config-form", addConfigField, priority=1)
    service.hooks.add("config-submitted", readConfigField)
    service.hooks.add("config-changed", applyConfigField)
    service.hooks.add("config-changed", persistenceChanged)
    service.hooks.add("disco-features", addFeatures)
    service.hooks.add("service-disco-features", addServiceFeature)
