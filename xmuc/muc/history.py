"""
Discussion history (XEP-0045 7.2.14-15): the last
C{muc#roomconfig_historylength} groupchat messages with a body, sent to
joiners with a C{<delay/>} stamp, as limited by the join's
C{<history maxstanzas maxchars seconds since/>}.  A history entry is the
broadcast's serialized text with the C{<delay/>} spliced in (no second
serialization), reused for every joiner.  Messages of
persistent rooms are also archived (C{server.storage.archive}, written by
L{xmuc.muc.mam} when archiving is on), from which the history comes back
after a restart.
"""

import collections
import time

from twisted.logger import Logger

from xmuc.muc import hooks
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import forms, ns
from xmuc.xmpp.datetime import parseStamp
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import copyElement, parseElement

log = Logger()

#: C{historyLength}: messages of history sent to joiners (default: the
#: service's C{[muc] default_history_length}).
SETTING = "historyLength"


class HistoryEntry:
    """
    @ivar when: POSIX time the message was sent.
    @ivar serialized: the L{Serialized} message with its delay.
    @ivar chars: its length, for C{maxchars}.
    """

    __slots__ = ("when", "serialized", "chars")

    def __init__(self, when, serialized):
        self.when = when
        self.serialized = serialized
        self.chars = len(serialized.text(""))


def historyOf(room):
    """
    @return: the room's deque of L{HistoryEntry}, oldest first.
    """
    return room.state(__name__, collections.deque)


def makeEntry(room, message, when, serialized=None):
    """
    @param message: the message as broadcast (a C{to} is dropped).
    @param serialized: the L{Serialized} broadcast of C{message}, when
        there is one: its text is reused.
    @return: the L{HistoryEntry} of C{message}, with its delay.
    """
    if serialized is None:
        if message.getAttribute("to") is not None:
            message = copyElement(message)
            message.attributes.pop("to", None)
        serialized = Serialized(message)
    return HistoryEntry(when, serialized.withDelay(room.jidStr, when))


def trim(room):
    history = historyOf(room)
    while len(history) > room.config.historyLength:
        history.popleft()


def isHistoric(message):
    """
    Prosody's rules: storage hints decide, else a body, an encrypted
    payload (XEP-0380) or a chat marker makes a message worth keeping;
    chat states and the like are not.
    """
    found = set()
    for child in message.elements():
        found.add((child.uri, child.name))
        if child.uri == ns.CHAT_MARKERS:
            found.add(("markers", None))
    if (ns.HINTS, "no-store") in found or (ns.HINTS, "no-permanent-store") in found:
        return False
    return bool((ns.HINTS, "store") in found or any(name == "body" for _, name in found)
                or (ns.EME, "encryption") in found or ("markers", None) in found)


def remember(room, occupant, message, stanzaID, serialized=None, **kw):
    """
    Keep a broadcast groupchat message if it is historic.

    @param serialized: the L{Serialized} broadcast of C{message}.
    """
    if not isHistoric(message):
        return
    when = time.time()
    if room.config.historyLength > 0:
        historyOf(room).append(makeEntry(room, message, when, serialized))
        trim(room)


def _intAttribute(element, name):
    value = element.getAttribute(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def select(entries, request, now=None, to=""):
    """
    Apply a C{<history/>} request.

    @param entries: L{HistoryEntry} list, oldest first.
    @param request: the C{<history/>} element or L{None}.
    @param to: the recipient (its length counts for C{maxchars}, as in
        Prosody).
    @return: the entries to send, oldest first.
    """
    if request is None:
        return entries
    now = time.time() if now is None else now
    maxstanzas = _intAttribute(request, "maxstanzas")
    if maxstanzas is not None:
        entries = entries[-maxstanzas:] if maxstanzas else []
    seconds = _intAttribute(request, "seconds")
    if seconds is not None:
        entries = [e for e in entries if e.when >= now - seconds]
    since = request.getAttribute("since")
    if since is not None:
        when = parseStamp(since)
        if when is not None:
            entries = [e for e in entries if e.when >= when]
    maxchars = _intAttribute(request, "maxchars")
    if maxchars is not None:
        kept = []
        total = 0
        for entry in reversed(entries):
            total += entry.chars + len(to)
            if total > maxchars:
                break
            kept.append(entry)
        entries = kept[::-1]
    return entries


def historyRequest(stanza):
    for x in stanza.elements(ns.MUC, "x"):
        for history in x.elements(ns.MUC, "history"):
            return history
    return None


def sendHistory(room, occupant, stanza, **kw):
    """
    Send the history the joiner asked for, to the session that joined.
    """
    to = kw.get("to") or occupant.realJID
    entries = select(list(historyOf(room)), historyRequest(stanza), to=to)
    for entry in entries:
        entry.serialized.sendTo(room.router, to)


def addField(room, form, **kw):
    form.add("muc#roomconfig_historylength", "text-single",
             "Maximum number of history messages returned by room", [str(room.config.historyLength)])


def readField(room, fields, changes, **kw):
    var = "muc#roomconfig_historylength"
    if var in fields:
        text = forms.single(fields[var]).strip()
        try:
            length = int(text) if text else room.service.defaultHistoryLength
        except ValueError:
            length = -1
        if length < 0:
            raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))
        # Like Prosody: too long is clamped to the service maximum.
        changes["historyLength"] = min(length, room.service.maxHistoryLength)


def applyLength(room, changes, **kw):
    if "historyLength" in changes:
        trim(room)


def loadArchived(room, state, **kw):
    """
    A persistent room came back: its history comes from the archive.
    """
    archive = room.service.server.storage.archive
    d = archive.recent(room.jidStr, room.config.historyLength)

    def loaded(messages):
        history = historyOf(room)
        restored = []
        for record in messages:
            try:
                message = parseElement(record["xml"])
            except ValueError:
                continue
            # Archives of non-anonymous rooms say who sent each message;
            # the live history never does.
            for child in list(message.elements(ns.MUC_USER, "x")):
                message.children.remove(child)
            restored.append(makeEntry(room, message, record["when"]))
        # Messages sent since loading began stay after the archived ones.
        history.extendleft(reversed(restored))
        trim(room)

    d.addCallback(loaded)
    d.addErrback(lambda f: log.failure("could not load the history of {room}", f, room=room.jidStr))
    return None


def purge(room, **kw):
    archive = room.service.server.storage.archive
    purgeArchive = getattr(archive, "purge", None)
    if purgeArchive is not None:
        purgeArchive(room.jidStr).addErrback(
            lambda f: log.failure("could not purge the archive of {room}", f, room=room.jidStr))


def install(service):
    declareSettings(service, {SETTING: service.defaultHistoryLength})
    service.hooks.add(hooks.GROUPCHAT_BROADCAST, remember)
    service.hooks.add(hooks.OCCUPANT_JOINED, sendHistory, priority=20)
    service.hooks.add(hooks.CONFIG_FORM, addField, priority=25)
    service.hooks.add(hooks.CONFIG_SUBMITTED, readField, priority=25)
    service.hooks.add(hooks.CONFIG_CHANGED, applyLength)
    service.hooks.add(hooks.ROOM_LOADED, loadArchived)
    service.hooks.add(hooks.ROOM_DESTROYED, purge)
