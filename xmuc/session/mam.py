"""
The personal message archive of local users (XEP-0313, C{urn:xmpp:mam:2}),
as Prosody 0.12's mod_mam does it, so that a user's devices (Conversations,
Gajim) can catch up on one-to-one conversations.

What is archived (Prosody's C{should_store}): messages of type C{chat} or
C{normal} that carry a body, a subject, an encrypted payload (EME), a
receipt, a chat marker, an invitation or a Jingle Message, or a
C{<store/>} hint.  Never C{groupchat} (the room keeps its own archive:
a seed requirement), C{headline} or C{error}; never a message with a
C{<no-store/>} or C{<no-permanent-store/>} hint.  MUC private messages
(type C{chat} through a room) are archived like any chat, with the
room's bare JID as the peer, as in Prosody 0.12.  Chat states are left
out of the stored copy.

Both directions: a message a user's session sends is archived in the
sender's archive before it is routed; a message to a local user is
archived in the recipient's archive when it is delivered (once for the
account, whichever resources get it) or stored offline (L{xmuc.session.offline};
not again when it is delivered from there).  Incoming messages get a
C{<stanza-id by='user@host'/>} (XEP-0359) naming the archive id, and so do
the C{sent} carbon copies; a C{<stanza-id/>} claiming to be the user's own
that arrives from outside (or that a client puts in what it sends) is
removed, as nobody else may speak for the archive.

Storage: C{server.storage.archive} (L{xmuc.storage.interfaces.IRoomArchive})
with the user's bare JID as owner (rooms live on the MUC domain: no key
collides) and its C{nick} column holding the bare JID of the peer (the
C{with} of queries).  Writes are fired and forgotten: delivery never waits
for the database, and the storage keeps their order.
"""

import time
import uuid

from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.session.hooks import IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.session.stanzas import retarget
from xmuc.xmpp import mam as shared
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.jid import bareJID
from xmuc.xmpp.stanza import clientCopy, parseElement

log = Logger()


#: The features of an account's disco#info, as Prosody's mod_mam.
FEATURES = (ns.MAM, ns.MAM_EXTENDED, ns.STANZA_ID)


def _children(stanza, uri, name=None):
    return [child for child in stanza.elements() if child.uri == uri and (name is None or child.name == name)]


def _hasOwn(stanza, name):
    """
    @return: whether C{stanza} has a child C{name} in its own namespace.
    """
    return any(child.name == name and child.uri in (None, ns.CLIENT, stanza.uri) for child in stanza.elements())


def shouldStore(stanza):
    """
    Whether a message belongs in a personal archive (Prosody 0.12's
    C{should_store}, except that errors are never stored).

    @return: C{(bool, reason)}.
    """
    kind = stanza.getAttribute("type", "normal")
    if kind in ("headline", "error", "groupchat"):
        return False, kind
    if _children(stanza, ns.HINTS, "no-store") or _children(stanza, ns.HINTS, "no-permanent-store"):
        return False, "hint"
    if _children(stanza, ns.HINTS, "store"):
        return True, "hint"
    if _hasOwn(stanza, "body"):
        return True, "body"
    if _hasOwn(stanza, "subject"):
        return True, "subject"
    if _children(stanza, ns.EME, "encryption"):
        return True, "encrypted"
    if _children(stanza, ns.RECEIPTS) or _children(stanza, ns.CHAT_MARKERS):
        return True, "receipt"
    if _children(stanza, ns.CONFERENCE, "x") or any(
            _children(x, ns.MUC_USER, "invite") for x in _children(stanza, ns.MUC_USER, "x")):
        return True, "invite"
    if any(_children(stanza, uri) for uri in ns.JINGLE_MESSAGE):
        return True, "jingle call"
    return False, "default"


def stripOwnStanzaIDs(stanza, bare):
    """
    Remove the C{<stanza-id/>}s claiming to come from C{bare}'s archive.
    """
    def claimed(child):
        if not (isinstance(child, domish.Element) and child.uri == ns.STANZA_ID and child.name == "stanza-id"):
            return False
        by = child.getAttribute("by", "")
        if by == bare:
            return True
        if "/" in by:
            return False
        if by.isascii():
            # Preparing an ASCII bare JID only lowercases it: no parsing
            # on the fan-out path of rooms (their messages carry the
            # room's stanza-id).
            return by.lower() == bare
        return bareJID(by) == bare

    # A loop rather than any() over a generator: this runs for every
    # message delivered, and most children are not stanza-ids at all.
    for child in stanza.children:
        if isinstance(child, domish.Element) and child.name == "stanza-id" and claimed(child):
            stanza.children = [child for child in stanza.children if not claimed(child)]
            return


def inArchive(message, archivedBy):
    """
    @param archivedBy: the bare JID str of an account whose client queried
        its archive in the session concerned, or L{None}.
    @return: whether the client can get C{message} from an archive anyway:
        it is an archive query result, or it carries the C{stanza-id} of
        the archive of C{archivedBy}.
    """
    for child in message.elements():
        if child.uri == ns.MAM and child.name == "result":
            return True
        if (
            archivedBy is not None
            and child.uri == ns.STANZA_ID
            and child.name == "stanza-id"
            and child.getAttribute("by") == archivedBy
        ):
            return True
    return False


def storedCopy(stanza):
    """
    @return: the serialized message as archived (chat states left out),
        or L{None} when nothing would remain.
    """
    kept = [child for child in stanza.children if not (isinstance(child, domish.Element) and child.uri == ns.CHATSTATES)]
    if not any(isinstance(child, domish.Element) for child in kept):
        return None
    copy = domish.Element((stanza.uri, stanza.name), stanza.defaultUri, dict(stanza.attributes))
    copy.children = kept
    return copy.toXml()


def addStanzaID(stanza, bare, stanzaID):
    """
    Add the archive's C{<stanza-id/>} (XEP-0359) to C{stanza}.
    """
    stanzaIDElement = stanza.addElement((ns.STANZA_ID, "stanza-id"))
    stanzaIDElement["by"] = bare
    stanzaIDElement["id"] = stanzaID


class Record:
    """
    One message of a personal archive.

    @ivar id: its archive id (the stanza-id given by the archive).
    @ivar when: POSIX time it was archived.
    @ivar withJID: the peer's bare JID.
    @ivar xml: the serialized message.
    """

    __slots__ = ("id", "when", "withJID", "xml")

    def __init__(self, id, when, withJID, xml):
        self.id = id
        self.when = when
        self.withJID = withJID
        self.xml = xml

    def element(self):
        """
        @return: the archived message, every namespace explicit (it is
            forwarded).
        """
        return clientCopy(parseElement(self.xml))


class PersonalArchive:
    """
    The archives of the local users.

    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    @ivar now: callable giving the POSIX time messages are archived at.
    """

    def __init__(self, sm):
        self.sm = sm
        self.now = time.time

    @property
    def store(self):
        return self.sm.server.storage.archive

    def _append(self, bare, stanzaID, withJID, xml):
        """
        Archive a message, without waiting for the storage (which keeps
        the order of its writes).
        """
        d = self.store.append(bare, stanzaID, self.now(), withJID, xml)
        d.addErrback(lambda f: log.failure("could not archive a message of {user}", f, user=bare))

    # --- messages

    def sent(self, stanza, bare):
        """
        A local session sends a message (C{from} and C{to} set): archive
        it in the sender's archive.

        @param stanza: the message; a stanza-id claiming to be the
            sender's own is removed from it.
        @param bare: the sender's bare JID str.
        @return: a copy of C{stanza} carrying the archive's stanza-id (for
            the sender's own other sessions: carbons), or L{None} when the
            message was not archived.
        """
        stripOwnStanzaIDs(stanza, bare)
        # Nothing logged per message, not even at debug level: a debug
        # call costs a sixth of a delivery (the logging system's filters
        # run before the level is known to be off).
        eligible, _ = shouldStore(stanza)
        xml = storedCopy(stanza) if eligible else None
        if xml is None:
            return None
        withJID = bareJID(stanza.getAttribute("to"))
        if withJID is None or withJID == bare:
            # To oneself: archived once, on delivery.
            return None
        stanzaID = str(uuid.uuid4())
        self._append(bare, stanzaID, withJID, xml)
        copy = retarget(stanza, stanza["to"])
        addStanzaID(copy, bare, stanzaID)
        return copy

    def beforeDelivery(self, stanza, recipient):
        """
        A message is about to be delivered to a local user: remove spoofed
        stanza-ids and, when it is to be archived and will reach a
        session, give it the archive's stanza-id.

        @param recipient: the C{to} as a L{JID}.
        @return: what L{delivered} needs, or L{None} when nothing is to be
            archived.
        """
        bare = recipient.userhost()
        stripOwnStanzaIDs(stanza, bare)
        eligible, _ = shouldStore(stanza)
        xml = storedCopy(stanza) if eligible else None
        if xml is None:
            return None
        # Eligible messages (chat or normal) reach a session or offline
        # storage (xmuc.session.offline), which archives them once stored; the
        # stored copy carries the stanza-id too, as with Prosody.
        withJID = bareJID(stanza.getAttribute("from")) or bare
        stanzaID = str(uuid.uuid4())
        addStanzaID(stanza, bare, stanzaID)
        return bare, stanzaID, withJID, xml

    def delivered(self, pending, sessions):
        """
        The message prepared by L{beforeDelivery} went to C{sessions}.

        @param sessions: the sessions that got it, or C{True} when it was
            stored offline; nothing is archived when empty (bounced, or
            left to offline storage, which calls this again once stored).
        """
        if not sessions:
            return
        self._append(*pending)

    # --- account life cycle

    def accountDeleted(self, jid, **kw):
        """
        C{account-deleted}: the archive goes with the account.
        """
        return self.store.purge(jid)

    # --- queries

    def handleIQ(self, session, iq, child, reply, bare, **kw):
        """
        An iq in the MAM namespace from a user's session to its own account
        (no C{to}, or its own bare JID).

        @param child: the iq's payload.
        @param reply: callable sending a stanza to the session.
        """
        kind = iq["type"]
        if child.name == "query" and kind == "get":
            result = toResponse(iq, "result")
            result.addChild(shared.formQuery())
            reply(result)
        elif child.name == "query" and kind == "set":
            if session is not None:
                # Offline messages are not pushed to a session that has
                # read its archive (Prosody's mam_requested).
                session.mamRequested = True
            self._query(iq, child, reply, bare)
        elif child.name == "prefs":
            self._prefs(iq, child, reply)
        elif child.name == "metadata" and kind == "get":
            self._metadata(iq, reply, bare)
        else:
            reply(errorReply(iq, "service-unavailable"))

    def records(self, bare):
        """
        @return: Deferred firing with the L{Record}s of C{bare}, oldest
            first.
        """
        d = self.store.recent(bare, self.store.maxPerRoom)
        d.addCallback(lambda rows: [Record(row["stanza_id"], row["when"], row["nick"], row["xml"])
                                    for row in rows if row["stanza_id"]])
        return d

    def _failed(self, failure, iq, reply):
        if failure.check(StanzaError):
            reply(errorReply(iq, failure.value, payload=False))
        else:
            log.failure("archive query failed", failure)
            reply(errorReply(iq, "internal-server-error", payload=False))

    def _query(self, iq, query, reply, bare):
        try:
            parsed = shared.parseQuery(query, self.sm.server.config.get("server", "max_archive_page"))
        except StanzaError as e:
            reply(errorReply(iq, e, payload=False))
            return
        requester = iq["from"]
        queryID = query.getAttribute("queryid")

        def answer(archived):
            if parsed.withJID is not None:
                archived = [record for record in archived if record.withJID == parsed.withJID]
            page, complete, total = shared.selectPage(archived, parsed)
            messages = [shared.resultMessage(bare, requester, queryID, record, record.element()) for record in page]
            result = toResponse(iq, "result")
            result.addChild(shared.answer(parsed, page, complete, total, messages, reply))
            reply(result)

        d = self.records(bare)
        d.addCallback(answer)
        d.addErrback(self._failed, iq, reply)

    def _metadata(self, iq, reply, bare):
        def answer(archived):
            result = toResponse(iq, "result")
            metadata = result.addElement((ns.MAM, "metadata"))
            if archived:
                for name, record in (("start", archived[0]), ("end", archived[-1])):
                    element = metadata.addElement(name)
                    element["id"] = record.id
                    element["timestamp"] = shared.stamp(record.when)
            reply(result)

        d = self.records(bare)
        d.addCallback(answer)
        d.addErrback(self._failed, iq, reply)

    def _prefs(self, iq, prefs, reply):
        """
        Preferences: everything is archived (Prosody's default
        C{default='always'}, no per-JID rules).  Setting exactly that is
        accepted; other rules are refused rather than silently ignored.
        """
        if iq["type"] == "set":
            rules = [jid for parent in prefs.elements() if parent.name in ("always", "never")
                     for jid in parent.elements() if jid.name == "jid"]
            if prefs.getAttribute("default", "always") != "always" or rules:
                reply(errorReply(iq, "feature-not-implemented", payload=False,
                                 text="only default='always' without rules is supported"))
                return
        result = toResponse(iq, "result")
        answer = result.addElement((ns.MAM, "prefs"))
        answer["default"] = "always"
        answer.addElement("always")
        answer.addElement("never")
        reply(result)


def install(sm):
    """
    The personal archive (C{sm.mam}): queries from the account's own
    sessions; messages are archived on the message path; the archive goes
    with a deleted account.
    """
    sm.mam = PersonalArchive(sm)
    sm.accountFeatures.extend(FEATURES)
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_SET_SELF), ns.MAM, sm.mam.handleIQ)
    sm.server.hooks.add(ACCOUNT_DELETED, sm.mam.accountDeleted)
