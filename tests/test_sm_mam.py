"""
Tests for the personal message archive (XEP-0313) of L{xmuc.session.mam}:
through the real L{SessionManager} with memory storage, over real client
streams with the real MUC service, and across a restart on SQLite.
"""

import os

from twisted.internet import defer, task
from twisted.trial import unittest

from xmuc.hooks import ACCOUNT_DELETED
from xmuc.xmpp import ns
from xmuc.xmpp.ns import CARBONS, FORWARD, MAM, MAM_EXTENDED, RSM

from helpers_client import connectTestClient, startTestServer
from test_sm_support import SMHarness, stanza

STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}


def child(element, uri, name):
    for found in element.elements():
        if found.uri == uri and found.name == name:
            return found
    return None


def stanzaIDs(message):
    return [(e.getAttribute("by"), e.getAttribute("id")) for e in message.elements() if (e.uri, e.name) == (ns.STANZA_ID, "stanza-id")]


def form(**fields):
    """
    @return: a MAM search form submitting C{fields} (lists for list-multi).
    """
    parts = ["<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % (MAM,)]
    for var, value in fields.items():
        values = value if isinstance(value, list) else [value]
        parts.append("<field var='%s'>%s</field>" % (var.replace("_", "-"), "".join("<value>%s</value>" % v for v in values)))
    return "<x xmlns='jabber:x:data' type='submit'>%s</x>" % ("".join(parts),)


def rsm(**values):
    return "<set xmlns='%s'>%s</set>" % (RSM, "".join("<%s>%s</%s>" % (k, v, k) for k, v in values.items()))


class ArchiveTestsBase(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.phone = self.h.connect("romeo@localhost", "phone")
        self.juliet = self.h.connect("juliet@localhost", "balcony")
        self.nurse = self.h.connect("nurse@localhost", "kitchen")

    def archived(self, bare):
        return self.h.successResultOf(self.h.storage.archive.recent(bare, 1000))

    def query(self, session, payload="", queryid="q1", to=None, iqid="mam1"):
        """
        Send an archive query from C{session}.

        @return: C{(results, iq reply)}: the forwarded messages (the
            C{<message/>} inside each result) and the final iq.
        """
        attrs = " to='%s'" % (to,) if to else ""
        self.h.send(session, "<iq type='set' id='%s'%s><query xmlns='%s' queryid='%s'>%s</query></iq>"
                    % (iqid, attrs, MAM, queryid, payload))
        received = session.take()
        (reply,) = [s for s in received if s.name == "iq"]
        results = []
        for message in received:
            if message.name != "message":
                continue
            result = child(message, MAM, "result")
            self.assertIsNotNone(result, message.toXml())
            self.assertEqual(message["from"], session.jid.userhost())
            self.assertEqual(message["to"], session.jid.full())
            self.assertEqual(result["queryid"], queryid)
            forwarded = child(result, FORWARD, "forwarded")
            self.assertIsNotNone(child(forwarded, ns.DELAY, "delay"))
            (inner,) = list(forwarded.elements(ns.CLIENT, "message"))
            inner.resultID = result["id"]
            results.append(inner)
        return results, reply

    def fin(self, reply):
        self.assertEqual(reply["type"], "result", reply.toXml())
        fin = child(reply, MAM, "fin")
        rsmSet = child(fin, RSM, "set")
        values = {e.name: str(e) for e in rsmSet.elements()}
        return fin.getAttribute("complete"), values

    def chat(self, sender, to, body, kind="chat", extra=""):
        self.h.send(sender, "<message to='%s' type='%s'><body>%s</body>%s</message>" % (to, kind, body, extra))


class ArchivingTests(ArchiveTestsBase):
    def test_bothDirections(self):
        """
        A chat message is archived in the sender's and in the recipient's
        archive, each with the peer's bare JID; the delivered message
        carries the recipient's archive id.
        """
        self.chat(self.juliet, "romeo@localhost/phone", "hi")
        (delivered,) = self.phone.take("message")
        ((by, stanzaID),) = stanzaIDs(delivered)
        self.assertEqual(by, "romeo@localhost")
        (row,) = self.archived("romeo@localhost")
        self.assertEqual((row["stanza_id"], row["nick"]), (stanzaID, "juliet@localhost"))
        (row,) = self.archived("juliet@localhost")
        self.assertEqual(row["nick"], "romeo@localhost")
        self.assertNotEqual(row["stanza_id"], stanzaID)

        results, reply = self.query(self.phone)
        (inner,) = results
        self.assertEqual((inner["from"], inner["to"], str(inner.body)), ("juliet@localhost/balcony", "romeo@localhost/phone", "hi"))
        self.assertEqual(inner.resultID, stanzaID)
        self.assertEqual(self.fin(reply), ("true", {"first": stanzaID, "last": stanzaID, "count": "1"}))
        results, _ = self.query(self.juliet)
        self.assertEqual([str(m.body) for m in results], ["hi"])

    def test_normalWithBody(self):
        self.chat(self.juliet, "romeo@localhost", "note", kind="normal")
        self.assertEqual(len(self.archived("romeo@localhost")), 1)

    def test_severalResourcesArchivedOnce(self):
        laptop = self.h.connect("romeo@localhost", "laptop", create=False)
        self.chat(self.juliet, "romeo@localhost", "to both")
        (one,) = self.phone.take("message")
        (two,) = laptop.take("message")
        self.assertEqual(stanzaIDs(one), stanzaIDs(two))
        self.assertEqual(len(self.archived("romeo@localhost")), 1)

    def test_notArchived(self):
        """
        Groupchat, headlines, errors, no-store and no-permanent-store
        hints, and messages with nothing to keep (chat states only) are
        not archived, in either archive; each is still delivered.
        """
        for text in (
            "<message from='room@conference.localhost/nurse' to='romeo@localhost/phone' type='groupchat'><body>all</body></message>",
            "<message from='room@conference.localhost' to='romeo@localhost/phone' type='groupchat'><subject>s</subject></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone' type='headline'><body>news</body></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone' type='error'><body>x</body>"
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone' type='chat'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone' type='chat'><body>secret</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message from='juliet@localhost/balcony' to='romeo@localhost/phone'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ):
            self.h.router.route(stanza(text))
            (delivered,) = self.phone.take("message")
            self.assertEqual(stanzaIDs(delivered), [], text)
        self.chat(self.phone, "juliet@localhost", "secret", extra="<no-store xmlns='urn:xmpp:hints'/>")
        self.assertEqual(len(self.juliet.take("message")), 1)
        self.assertEqual(self.archived("romeo@localhost"), [])
        self.assertEqual(self.archived("juliet@localhost"), [])

    def test_storeHintAndChatStatesStripped(self):
        """
        A C{<store/>} hint archives a message without body; chat states are
        left out of the stored copy.
        """
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='chat'><store xmlns='urn:xmpp:hints'/></message>")
        self.chat(self.juliet, "romeo@localhost/phone", "hey", extra="<active xmlns='http://jabber.org/protocol/chatstates'/>")
        (stored, withBody) = self.archived("romeo@localhost")
        self.assertIn("urn:xmpp:hints", stored["xml"])
        self.assertIn("hey", withBody["xml"])
        self.assertNotIn("chatstates", withBody["xml"])

    def test_bouncedNotArchived(self):
        """
        A message that reaches no session and cannot be stored offline
        (the store is full) bounces and is not archived; the bounce names
        no archive id.
        """
        self.h.storage.offline.limit = 0
        self.h.send(self.phone, "<presence type='unavailable'/>")
        self.juliet.take()
        self.chat(self.juliet, "romeo@localhost", "anyone?")
        (bounce,) = self.juliet.take("message")
        self.assertEqual(bounce["type"], "error")
        self.assertEqual(stanzaIDs(bounce), [])
        self.assertEqual(self.archived("romeo@localhost"), [])

    def test_mucPrivateMessageArchived(self):
        """
        As Prosody 0.12: a MUC private message is archived, the room's bare
        JID being the peer.
        """
        self.h.router.route(stanza(
            "<message from='room@conference.localhost/nurse' to='romeo@localhost/phone' type='chat'>"
            "<body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"))
        self.h.send(self.phone, "<message to='room@conference.localhost/nurse' type='chat'><body>yes</body>"
                                "<x xmlns='http://jabber.org/protocol/muc#user'/></message>")
        self.assertEqual([r["nick"] for r in self.archived("romeo@localhost")],
                         ["room@conference.localhost", "room@conference.localhost"])

    def test_toSelfArchivedOnce(self):
        self.chat(self.phone, "romeo@localhost/phone", "note to self")
        self.assertEqual(len(self.phone.take("message")), 1)
        self.assertEqual([r["nick"] for r in self.archived("romeo@localhost")], ["romeo@localhost"])


class StanzaIDTests(ArchiveTestsBase):
    def test_spoofStripped(self):
        """
        A stanza-id claiming to be the recipient's own is removed, from an
        archived message and from one that is not; others' are kept.
        """
        self.chat(self.juliet, "romeo@localhost/phone", "hi",
                  extra="<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@localhost' id='fake'/>"
                        "<stanza-id xmlns='urn:xmpp:sid:0' by='nurse@localhost' id='hers'/>")
        (delivered,) = self.phone.take("message")
        ids = stanzaIDs(delivered)
        self.assertIn(("nurse@localhost", "hers"), ids)
        (own,) = [i for (b, i) in ids if b == "romeo@localhost"]
        self.assertNotEqual(own, "fake")
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='chat'><no-store xmlns='urn:xmpp:hints'/>"
                                 "<body>x</body><stanza-id xmlns='urn:xmpp:sid:0' by='romeo@localhost' id='fake'/></message>")
        (delivered,) = self.phone.take("message")
        self.assertEqual(stanzaIDs(delivered), [])
        # Unprepared forms of the JID, and in groupchat messages too.
        self.h.router.route(stanza(
            "<message from='room@conference.localhost/nurse' to='romeo@localhost/phone' type='groupchat'><body>x</body>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='Romeo@LocalHost' id='fake'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.localhost' id='room'/></message>"))
        (delivered,) = self.phone.take("message")
        self.assertEqual(stanzaIDs(delivered), [("room@conference.localhost", "room")])

    def test_sentCarbonCarriesStanzaID(self):
        """
        The C{sent} carbon of an archived message names the sender's
        archive id; the message routed to the contact does not, and a
        stanza-id the client claimed for its own archive is removed.
        """
        laptop = self.h.connect("romeo@localhost", "laptop", create=False)
        self.h.send(laptop, "<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
        laptop.take()
        self.chat(self.phone, "juliet@localhost", "hello",
                  extra="<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@localhost' id='fake'/>")
        (routed,) = self.juliet.take("message")
        self.assertNotIn("romeo@localhost", [by for by, _ in stanzaIDs(routed)])
        (carbon,) = laptop.take("message")
        inner = list(child(child(carbon, CARBONS, "sent"), FORWARD, "forwarded").elements())[0]
        (row,) = self.archived("romeo@localhost")
        self.assertEqual(stanzaIDs(inner), [("romeo@localhost", row["stanza_id"])])
        self.assertNotIn("fake", row["xml"])


class QueryTests(ArchiveTestsBase):
    def setUp(self):
        ArchiveTestsBase.setUp(self)
        self.clock = task.Clock()
        self.h.sm.mam.now = self.clock.seconds
        # Six messages, one a minute from 2020-01-01T00:01:00Z: juliet,
        # nurse alternately, odd ones sent by romeo.
        self.clock.advance(1577836800)
        for n in range(1, 7):
            self.clock.advance(60)
            peer = (self.juliet, "juliet@localhost") if n % 3 else (self.nurse, "nurse@localhost")
            if n % 2:
                self.chat(self.phone, peer[1], "m%d" % n)
            else:
                self.chat(peer[0], "romeo@localhost/phone", "m%d" % n)
        self.phone.take()
        self.ids = [r["stanza_id"] for r in self.archived("romeo@localhost")]
        self.assertEqual(len(self.ids), 6)

    def bodies(self, payload="", session=None):
        results, reply = self.query(session or self.phone, payload)
        return [str(m.body) for m in results], self.fin(reply)

    def test_all(self):
        bodies, (complete, values) = self.bodies()
        self.assertEqual(bodies, ["m1", "m2", "m3", "m4", "m5", "m6"])
        self.assertEqual(values, {"first": self.ids[0], "last": self.ids[-1], "count": "6"})
        self.assertEqual(complete, "true")

    def test_toOwnBareJID(self):
        results, reply = self.query(self.phone, to="romeo@localhost")
        self.assertEqual(len(results), 6)

    def test_with(self):
        bodies, (_, values) = self.bodies(form(**{"with": "nurse@localhost"}))
        self.assertEqual((bodies, values["count"]), (["m3", "m6"], "2"))
        bodies, _ = self.bodies(form(**{"with": "juliet@localhost/balcony"}))
        self.assertEqual(bodies, ["m1", "m2", "m4", "m5"])

    def test_startEnd(self):
        bodies, _ = self.bodies(form(start="2020-01-01T00:02:00Z", end="2020-01-01T00:04:00Z"))
        self.assertEqual(bodies, ["m2", "m3", "m4"])

    def test_badForm(self):
        for payload in (form(start="yesterday"), form(**{"with": "@@"}),
                        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>x</value></field></x>"):
            _, reply = self.query(self.phone, payload)
            self.assertEqual(reply["type"], "error")
            self.assertIsNotNone(child(reply.error, STANZAS, "bad-request"), reply.toXml())

    def test_extended(self):
        bodies, _ = self.bodies(form(after_id=self.ids[1], before_id=self.ids[4]))
        self.assertEqual(bodies, ["m3", "m4"])
        bodies, _ = self.bodies(form(ids=[self.ids[0], self.ids[5]]))
        self.assertEqual(bodies, ["m1", "m6"])

    def test_paging(self):
        bodies, (complete, values) = self.bodies(rsm(max=2))
        self.assertEqual((bodies, complete), (["m1", "m2"], None))
        self.assertEqual(values, {"first": self.ids[0], "last": self.ids[1], "count": "6"})
        bodies, (complete, _) = self.bodies(rsm(max=2, after=values["last"]))
        self.assertEqual(bodies, ["m3", "m4"])
        bodies, (complete, _) = self.bodies(rsm(max=10, after=self.ids[3]))
        self.assertEqual((bodies, complete), (["m5", "m6"], "true"))
        # The last page, in chronological order; flip-page reverses it.
        bodies, (_, values) = self.bodies(rsm(max=2, before=""))
        self.assertEqual((bodies, values["first"], values["last"]), (["m5", "m6"], self.ids[4], self.ids[5]))
        bodies, _ = self.bodies(rsm(max=2, before=self.ids[4]))
        self.assertEqual(bodies, ["m3", "m4"])
        bodies, _ = self.bodies(rsm(max=2) + "<flip-page/>")
        self.assertEqual(bodies, ["m2", "m1"])

    def test_unknownID(self):
        _, reply = self.query(self.phone, rsm(after="nope"))
        self.assertEqual(reply["type"], "error")
        self.assertIsNotNone(child(reply.error, STANZAS, "item-not-found"))

    def test_othersCannotQuery(self):
        """
        As Prosody: an archive query to another user's bare JID is answered
        with service-unavailable, and nothing of the archive is sent.
        """
        self.juliet.take()
        for kind in ("set", "get"):
            self.h.send(self.juliet, "<iq type='%s' id='spy' to='romeo@localhost'><query xmlns='%s'/></iq>" % (kind, MAM))
            (reply,) = self.juliet.take()
            self.assertEqual((reply.name, reply["type"]), ("iq", "error"))
            self.assertIsNotNone(child(reply.error, STANZAS, "service-unavailable"))
        # Juliet's own archive holds only her conversation with romeo.
        bodies, _ = self.bodies(session=self.juliet)
        self.assertEqual(bodies, ["m1", "m2", "m4", "m5"])

    def test_form(self):
        self.h.send(self.phone, "<iq type='get' id='f'><query xmlns='%s'/></iq>" % (MAM,))
        (reply,) = self.phone.take()
        x = child(child(reply, MAM, "query"), ns.DATA_FORMS, "x")
        self.assertEqual([f["var"] for f in x.elements() if f.name == "field"],
                         ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"])

    def test_metadata(self):
        self.h.send(self.phone, "<iq type='get' id='md'><metadata xmlns='%s'/></iq>" % (MAM,))
        (reply,) = self.phone.take()
        metadata = child(reply, MAM, "metadata")
        self.assertEqual(child(metadata, MAM, "start")["id"], self.ids[0])
        self.assertEqual(child(metadata, MAM, "end")["id"], self.ids[-1])
        self.assertEqual(child(metadata, MAM, "end")["timestamp"], "2020-01-01T00:06:00Z")

    def test_prefs(self):
        self.h.send(self.phone, "<iq type='get' id='p'><prefs xmlns='%s'/></iq>" % (MAM,))
        (reply,) = self.phone.take()
        prefs = child(reply, MAM, "prefs")
        self.assertEqual(prefs["default"], "always")
        self.assertEqual([e.name for e in prefs.elements()], ["always", "never"])
        self.h.send(self.phone, "<iq type='set' id='p2'><prefs xmlns='%s' default='always'><always/><never/></prefs></iq>" % (MAM,))
        (reply,) = self.phone.take()
        self.assertEqual(reply["type"], "result")
        self.h.send(self.phone, "<iq type='set' id='p3'><prefs xmlns='%s' default='never'/></iq>" % (MAM,))
        (reply,) = self.phone.take()
        self.assertEqual(reply["type"], "error")

    def test_accountDeletionPurges(self):
        self.h.successResultOf(self.h.hooks.fireAll(ACCOUNT_DELETED, jid="romeo@localhost"))
        self.assertEqual(self.archived("romeo@localhost"), [])
        self.assertEqual(len(self.archived("juliet@localhost")), 4)

    def test_accountManagerDeletionPurges(self):
        """
        Deleting an account through L{AccountManager.delete} purges its
        archive.
        """
        from xmuc.accounts.manager import AccountManager

        class Auth:
            def deleteAccount(self, bare):
                return defer.succeed(True)

        self.h.auth = Auth()
        self.h.successResultOf(AccountManager(self.h).delete("juliet@localhost"))
        self.assertEqual(self.archived("juliet@localhost"), [])
        self.assertEqual(len(self.archived("romeo@localhost")), 6)

    def test_advertised(self):
        self.h.send(self.phone, "<iq type='get' id='d' to='romeo@localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,))
        (reply,) = self.phone.take()
        features = {e["var"] for e in reply.query.elements() if e.name == "feature"}
        self.assertTrue({MAM, MAM_EXTENDED, ns.STANZA_ID} <= features, features)


class WireTests(unittest.TestCase):
    """
    Real streams, the real MUC service, real storage.
    """

    @defer.inlineCallbacks
    def login(self, running, user, resource="r"):
        client = yield connectTestClient(self, running)
        yield client.login(user, "pw", resource)
        client.send("<presence/>")
        yield client.receiveStanza()
        return client

    @defer.inlineCallbacks
    def nextMessage(self, client):
        while True:
            element = yield client.receiveStanza()
            if element.name == "message":
                return element

    @defer.inlineCallbacks
    def queryBodies(self, client):
        """
        @return: Deferred firing with the bodies of the messages of the
            client's archive.
        """
        reply = yield client.iq("<iq type='set' id='q'><query xmlns='%s' queryid='x'/></iq>" % (MAM,))
        self.assertEqual(reply["type"], "result", reply.toXml())
        bodies = []
        while client._queue.pending:
            message = yield client.receive()
            result = child(message, MAM, "result")
            if result is not None:
                (inner,) = list(child(result, FORWARD, "forwarded").elements(ns.CLIENT, "message"))
                bodies.append((inner.getAttribute("type"), str(inner.body)))
        return bodies

    @defer.inlineCallbacks
    def test_groupchatNotArchived(self):
        """
        The seed requirement: messages of a MUC room reach the user but
        stay out of the personal archive; a one-to-one chat is archived.
        """
        running = yield startTestServer(self, dict(INSECURE, muc={"enabled": "true", "lock_new_rooms": "false"}), tls=False)
        romeo = yield self.login(running, "romeo")
        juliet = yield self.login(running, "juliet")
        for client, nick in ((romeo, "romeo"), (juliet, "juliet")):
            client.send("<presence to='room@conference.localhost/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>" % (nick,))
            while True:
                presence = yield client.receiveStanza()
                if presence.name == "presence" and presence.getAttribute("from") == "room@conference.localhost/" + nick:
                    break
        juliet.send("<message to='room@conference.localhost' type='groupchat'><body>to all</body></message>")
        message = yield self.nextMessage(romeo)
        while message.getAttribute("type") != "groupchat" or not message.body:
            message = yield self.nextMessage(romeo)
        self.assertEqual(str(message.body), "to all")
        self.assertNotIn("romeo@localhost", [by for by, _ in stanzaIDs(message)])
        juliet.send("<message to='romeo@localhost' type='chat'><body>just you</body></message>")
        message = yield self.nextMessage(romeo)
        while message.getAttribute("type") != "chat":
            message = yield self.nextMessage(romeo)
        self.assertEqual([by for by, _ in stanzaIDs(message)], ["romeo@localhost"])
        bodies = yield self.queryBodies(romeo)
        self.assertEqual(bodies, [("chat", "just you")])
        bodies = yield self.queryBodies(juliet)
        self.assertEqual(bodies, [("chat", "just you")])

    @defer.inlineCallbacks
    def test_persistsAcrossRestart(self):
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        overrides = dict(INSECURE, storage={"backend": "sqlite", "path": os.path.join(path, "xmuc.sqlite")})
        running = yield startTestServer(self, overrides, tls=False)
        romeo = yield self.login(running, "romeo")
        juliet = yield self.login(running, "juliet")
        juliet.send("<message to='romeo@localhost' type='chat'><body>remember me</body></message>")
        yield self.nextMessage(romeo)
        # A round trip: the archive write went out before the stop.
        yield romeo.iq("<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>")
        yield running.stop()
        running = yield startTestServer(self, overrides, tls=False)
        romeo = yield self.login(running, "romeo", "again")
        bodies = yield self.queryBodies(romeo)
        self.assertEqual(bodies, [("chat", "remember me")])
