"""
Roster management by the user (RFC 6121 section 2): get, set, remove, and
roster pushes to the interested resources, with roster versioning
(XEP-0237): results and pushes carry the roster's C{ver}, and a get whose
C{ver} is the current one is answered with an empty result.
"""

import itertools

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from xmuc.session import items
from xmuc.session.hooks import IQ_GET_SELF, IQ_SET_SELF, addIQHandler
from xmuc.session.stanzas import presence
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError, errorReply
from xmuc.xmpp.jid import parseJID

log = Logger()

#: Longest roster item name or group name accepted, in characters.
MAX_NAME_LENGTH = 1023


class RosterHandler:
    """
    @ivar sm: the L{xmuc.session.manager.SessionManager}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.rosters = sm.rosters
        self._pushIds = itertools.count(1)

    def handleIQ(self, iq, child, session, bare, **kw):
        """
        A roster iq from one of the account's sessions (an
        C{iq-get/self} or C{iq-set/self} event).
        """
        self.handle(session, iq, child, bare)

    def handle(self, session, iq, query, bare):
        """
        A roster iq from the user's own session.

        @param query: the C{<query xmlns='jabber:iq:roster'/>} child.
        """
        kind = iq.getAttribute("type")
        if kind == "get":
            session.interestedInRoster = True
            d = self.rosters.get(bare)
            d.addCallback(self._sendRoster, session, iq, query.getAttribute("ver"))
        elif kind == "set":
            try:
                contact, remove, name, groups = self._parseSet(query, bare)
            except StanzaError as e:
                session.send(errorReply(iq, e, payload=False))
                return
            if remove:
                operation = lambda roster: self._remove(roster, session, iq, bare, contact)
            else:
                operation = lambda roster: self._update(roster, session, iq, bare, contact, name, groups)
            d = self.rosters.run(bare, operation)
        else:
            return
        d.addErrback(self._failed, session, iq)

    def _failed(self, failure, session, iq):
        log.failure("roster request failed", failure)
        session.send(errorReply(iq, "internal-server-error", payload=False))

    def _sendRoster(self, roster, session, iq, clientVersion):
        """
        @param clientVersion: the C{ver} of the request, L{None} when the
            client does not version its roster.
        """
        reply = toResponse(iq, "result")
        if clientVersion is None:
            reply.addChild(items.rosterQuery(roster))
        else:
            version = items.rosterVersion(roster)
            # XEP-0237 section 2.4: "If the roster did not change since the
            # version enumerated by the client, the server MUST simply
            # return an empty IQ-result"; otherwise the whole roster, with
            # its version.
            if clientVersion != version:
                query = reply.addChild(items.rosterQuery(roster))
                query["ver"] = version
        session.send(reply)

    def _parseSet(self, query, bare):
        """
        Check a roster set (RFC 6121 2.3.3).

        @return: C{(contact, remove, name, groups)}.
        @raise StanzaError: what is wrong.
        """
        children = [c for c in query.elements() if c.name == "item" and c.uri == ns.ROSTER]
        if len(children) != 1:
            raise StanzaError("bad-request", text="a roster set carries exactly one item")
        element = children[0]
        contact = parseJID(element.getAttribute("jid") or "")
        if contact is None:
            raise StanzaError("jid-malformed")
        if contact.resource is not None:
            raise StanzaError("bad-request", text="roster items are bare JIDs")
        contactStr = contact.userhost()
        if element.getAttribute("subscription") == "remove":
            return contactStr, True, None, None
        if contactStr == bare:
            raise StanzaError("not-allowed", text="you cannot add yourself to your roster")
        name = element.getAttribute("name")
        if name is not None and len(name) > MAX_NAME_LENGTH:
            raise StanzaError("not-acceptable", text="name too long")
        if name == "":
            name = None
        groups = []
        for child in element.elements():
            if child.name != "group":
                continue
            group = str(child)
            if not group or len(group) > MAX_NAME_LENGTH:
                raise StanzaError("not-acceptable", text="invalid group name")
            if group in groups:
                raise StanzaError("bad-request", text="duplicate group")
            groups.append(group)
        return contactStr, False, name, groups

    @defer.inlineCallbacks
    def _update(self, roster, session, iq, bare, contact, name, groups):
        old = roster.get(contact)
        item = dict(old) if old is not None else items.newItem()
        # The client only chooses the name and groups; the subscription
        # state belongs to the server (RFC 6121 2.1.2.5).
        item["name"] = name
        item["groups"] = groups
        yield self.rosters.setItem(roster, bare, contact, item)
        session.send(toResponse(iq, "result"))
        self.push(roster, bare, contact, item)

    @defer.inlineCallbacks
    def _remove(self, roster, session, iq, bare, contact):
        old = roster.get(contact)
        if old is None or not items.isVisible(old):
            session.send(errorReply(iq, "item-not-found", payload=False))
            return
        yield self.rosters.removeItem(roster, bare, contact)
        session.send(toResponse(iq, "result"))
        self.push(roster, bare, contact, None)
        # RFC 6121 2.5.2: the contact loses the subscriptions both ways.
        route = self.sm.router.route
        if items.hasTo(old) or old["ask"]:
            route(presence(bare, contact, "unsubscribe"))
        if items.hasFrom(old) or old["pending_in"]:
            route(presence(bare, contact, "unsubscribed"))
            if items.hasFrom(old):
                for other in self.sm.availableSessions(bare):
                    route(presence(self.sm.boundJID(other)[0], contact, "unavailable"))

    def push(self, roster, bare, contact, item):
        """
        Push a changed item to every resource of C{bare} that requested the
        roster (RFC 6121 2.1.6), with the roster's new version (XEP-0237
        section 2.3).

        @param roster: the roster, as changed (from inside
            L{xmuc.session.rosters.RosterCache.run}).
        @param item: the new item, or L{None} when it was removed.
        """
        version = None
        for session in self.sm.sessionsOf(bare):
            if not session.interestedInRoster:
                continue
            if version is None:
                version = items.rosterVersion(roster)
            iq = domish.Element((None, "iq"))
            iq["type"] = "set"
            iq["id"] = "push%d" % (next(self._pushIds),)
            iq["to"] = self.sm.boundJID(session)[0]
            query = iq.addElement((ns.ROSTER, "query"))
            query["ver"] = version
            query.addChild(items.itemElement(contact, item))
            session.send(iq)


def install(sm):
    """
    Roster gets and sets from the account's own sessions
    (C{sm.rosterHandler}, which also sends the roster pushes).
    """
    sm.rosterHandler = RosterHandler(sm)
    sm.serverFeatures.append(ns.ROSTER)
    # XEP-0237 section 2.1: the server announces versioning as a stream
    # feature.
    sm.streamFeatures.append((ns.ROSTER_VERSIONING, "ver"))
    addIQHandler(sm.hooks, (IQ_GET_SELF, IQ_SET_SELF), ns.ROSTER, sm.rosterHandler.handleIQ)
