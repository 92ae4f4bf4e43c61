"""
The protocol of Message Archive Management (XEP-0313, C{urn:xmpp:mam:2})
that does not depend on whose archive is searched: the search form, query
parsing and validation, RSM paging over a list of records, the result
messages and the C{<fin/>}, as Prosody's mod_mam and mod_muc_mam do them.

Used by the rooms' archive (L{xmuc.muc.mam}) and the users' personal
archive (L{xmuc.session.mam}).  A record is any object with an C{id} (the
archive id, i.e. the stanza-id) and a C{when} (POSIX time).
"""

import re

from twisted.words.xish import domish

from xmuc.xmpp import forms
from xmuc.xmpp import ns
from xmuc.xmpp.datetime import parseStamp, stamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import bareJID
from xmuc.xmpp.stanza import newStanza


#: Page size without RSM C{max}, and the largest page by default
#: (Prosody's C{max_archive_query_results}; C{[server] max_archive_page}).
DEFAULT_MAX = 20
MAX_MAX = 50

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


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
    @ivar withJID: the bare JID of the form's C{with} field, or L{None}
        (rooms ignore it, as Prosody's mod_muc_mam).
    """

    def __init__(self, start=None, end=None, ids=None, before=None, after=None, reverse=False, flip=False,
                 max=DEFAULT_MAX, withJID=None):
        self.start = start
        self.end = end
        self.ids = ids
        self.before = before
        self.after = after
        self.reverse = reverse
        self.flip = flip
        self.max = max
        self.withJID = withJID


def searchForm():
    """
    @return: the C{<x/>} search form, exactly Prosody's.
    """
    form = forms.Form("form", ns.MAM)
    form.add("with", "jid-single")
    form.add("start", "text-single", datatype="xs:dateTime")
    form.add("end", "text-single", datatype="xs:dateTime")
    form.add("before-id", "text-single")
    form.add("after-id", "text-single")
    form.add("ids", "list-multi")
    return form.toElement()


def formQuery():
    """
    @return: the C{<query/>} payload answering a form request (iq get).
    """
    query = domish.Element((ns.MAM, "query"))
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
    for rsmSet in query.elements(ns.RSM, "set"):
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


def parseQuery(query, maximum=MAX_MAX):
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
        if formType != ns.MAM:
            raise StanzaError("bad-request", text="Unexpected FORM_TYPE, expected '%s'" % (ns.MAM,))
        parsed.start = _timestamp(fields.get("start", []))
        parsed.end = _timestamp(fields.get("end", []))
        withJID = forms.single(fields.get("with", [])).strip()
        if withJID:
            parsed.withJID = bareJID(withJID)
            if parsed.withJID is None:
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
    parsed.max = min(size, maximum)
    parsed.reverse = "before" in rsm
    before = rsm.get("before") or formBefore
    parsed.before = before if isinstance(before, str) else None
    parsed.after = rsm["after"] if "after" in rsm else formAfter
    parsed.flip = parsed.reverse != any(True for _ in query.elements(ns.MAM, "flip-page"))
    return parsed


def _position(items, key):
    for index, record in enumerate(items):
        if record.id == key:
            return index
    raise StanzaError("item-not-found", type="modify")


def find(archived, query, limit):
    """
    Select up to C{limit} records, as Prosody's archive stores do.

    @param archived: records, oldest first (already filtered by C{with}
        where that applies).
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


def selectPage(archived, query):
    """
    The page a query asks for.

    @return: C{(page, complete, total)}: the records to send, in retrieval
        order; whether nothing follows the page; how many match the
        filters.
    @raise StanzaError: see L{find}.
    """
    page, total = find(archived, query, max(query.max + 1, 0))
    complete = not (page and len(page) > query.max)
    return page[:max(query.max, 0)], complete, total


def resultMessage(sender, requester, queryID, record, archived):
    """
    @param sender: the archive's JID (C{from} of the message).
    @param requester: the full JID the results go to.
    @param queryID: the query's C{queryid} or L{None}.
    @param record: the record (its C{id} and C{when} are used).
    @param archived: the archived message element, as it is to be
        forwarded.
    @return: the C{<message><result/></message>} carrying C{archived}.
    """
    message = newStanza("message", to=requester, **{"from": sender})
    result = message.addElement((ns.MAM, "result"))
    if queryID is not None:
        result["queryid"] = queryID
    result["id"] = record.id
    forwarded = result.addElement((ns.FORWARD, "forwarded"))
    forwarded.addElement((ns.DELAY, "delay"))["stamp"] = stamp(record.when)
    forwarded.addChild(archived)
    return message


def fin(page, query, complete, total):
    """
    @param page: the records sent, in retrieval order.
    @return: the C{<fin/>} element of the iq result, with its RSM C{<set/>}
        (first, last, count).
    """
    element = domish.Element((ns.MAM, "fin"))
    if complete:
        element["complete"] = "true"
    rsmSet = element.addElement((ns.RSM, "set"))
    if page:
        first, last = page[0].id, page[-1].id
        if query.reverse:
            first, last = last, first
        rsmSet.addElement("first", content=first)
        rsmSet.addElement("last", content=last)
    rsmSet.addElement("count", content=str(total))
    return element


def answer(query, page, complete, total, messages, send):
    """
    Send the result messages of a page in the order the query wants.

    @param messages: the result messages, in the order of C{page}.
    @param send: callable sending one stanza to the requester.
    @return: the C{<fin/>} element of the iq result.
    """
    for message in (reversed(messages) if query.flip else messages):
        send(message)
    return fin(page, query, complete, total)
