"""
Tests for L{xmuc.session.manager.SessionManager}: binding, local delivery
(RFC 6121 8.5), server iqs and shutdown.
"""

from twisted.trial import unittest

import xmuc
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

from test_sm_support import RecordingSession, SMHarness


def errorCondition(element):
    """
    @return: the defined condition of an error stanza.
    """
    for child in element.elements():
        if child.name == "error":
            for condition in child.elements():
                if condition.uri == ns.XMPP_STANZAS:
                    return condition.name
    return None


class BindTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()

    def test_bindRequestedResource(self):
        session = RecordingSession("juliet@localhost")
        full = self.h.sm.bind(session, "balcony")
        self.assertEqual(full.full(), "juliet@localhost/balcony")
        self.assertEqual(session.jid.full(), "juliet@localhost/balcony")
        self.assertIs(self.h.router.sessions["juliet@localhost/balcony"], session)
        self.assertEqual(self.h.sm.sessionsOf("juliet@localhost"), [session])

    def test_bindGeneratedResource(self):
        one, two = RecordingSession("juliet@localhost"), RecordingSession("juliet@localhost")
        first = self.h.sm.bind(one, None)
        second = self.h.sm.bind(two, None)
        self.assertTrue(first.resource)
        self.assertNotEqual(first.resource, second.resource)
        self.assertEqual(len(self.h.sm.sessionsOf("juliet@localhost")), 2)

    def test_resourceprep(self):
        session = RecordingSession("juliet@localhost")
        full = self.h.sm.bind(session, "Balcony\u00a0One")
        self.assertEqual(full.resource, "Balcony One")

    def test_invalidResource(self):
        for bad in ["", "x\u0007y", "a" * 1024]:
            session = RecordingSession("juliet@localhost")
            e = self.assertRaises(StanzaError, self.h.sm.bind, session, bad)
            self.assertEqual(e.condition, "bad-request")
        self.assertEqual(self.h.sm.sessionsOf("juliet@localhost"), [])

    def test_bindTwice(self):
        session = RecordingSession("juliet@localhost")
        self.h.sm.bind(session, "a")
        session.jid = session.jid.userhostJID()
        e = self.assertRaises(StanzaError, self.h.sm.bind, session, "b")
        self.assertEqual(e.condition, "not-allowed")

    def test_conflictReplacesOldSession(self):
        """
        Binding a full JID in use disconnects the old session with
        'conflict'; its presence ends before the new one starts, and its
        late unbind does not disturb the new session.
        """
        self.h.connect("romeo@localhost", "phone")
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both")
        self.h.setRoster("romeo@localhost", "juliet@localhost", subscription="both")
        old = self.h.connect("juliet@localhost", "balcony")
        old.directedPresence.add("room@conference.localhost/jul")
        romeo = self.h.sm.sessionsOf("romeo@localhost")[0]
        romeo.take()
        new = RecordingSession("juliet@localhost")
        self.h.sm.bind(new, "balcony")
        self.assertEqual(old.closed, "conflict")
        self.assertIs(self.h.router.sessions["juliet@localhost/balcony"], new)
        (gone,) = romeo.take("presence", "unavailable")
        self.assertEqual(gone["from"], "juliet@localhost/balcony")
        self.assertEqual(
            [s["to"] for s in self.h.routed], ["room@conference.localhost/jul"]
        )
        self.h.sm.unbind(old)
        self.assertIs(self.h.router.sessions["juliet@localhost/balcony"], new)
        self.assertEqual(self.h.sm.sessionsOf("juliet@localhost"), [new])
        self.h.send(new, "<message to='romeo@localhost/phone' type='chat'><body>hi</body></message>")
        (message,) = romeo.take("message")
        self.assertEqual(message["from"], "juliet@localhost/balcony")

    def test_unbindForgets(self):
        session = self.h.connect("juliet@localhost", "balcony")
        self.h.sm.unbind(session)
        self.assertEqual(self.h.router.sessions, {})
        self.assertEqual(self.h.sm.sessionsOf("juliet@localhost"), [])
        self.h.sm.unbind(session)
        # A stanza from a session that is gone is ignored.
        self.h.send(session, "<message to='romeo@localhost'><body>x</body></message>")


class MessageDeliveryTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.romeo = self.h.connect("romeo@localhost", "phone")

    def test_fromIsStamped(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(
            self.romeo,
            "<message from='juliet@localhost/balcony' to='juliet@localhost/balcony' type='chat'><body>x</body></message>",
        )
        (message,) = juliet.take("message")
        self.assertEqual(message["from"], "romeo@localhost/phone")

    def test_bareToHighestPriority(self):
        low = self.h.connect("juliet@localhost", "low", priority=1)
        high = self.h.connect("juliet@localhost", "high", priority=5)
        self.h.send(self.romeo, "<message to='juliet@localhost' type='chat'><body>x</body></message>")
        self.assertEqual(len(high.take("message")), 1)
        self.assertEqual(low.take("message"), [])

    def test_bareToAllTopPriorities(self):
        one = self.h.connect("juliet@localhost", "one", priority=3)
        two = self.h.connect("juliet@localhost", "two", priority=3)
        self.h.send(self.romeo, "<message to='juliet@localhost'><body>x</body></message>")
        self.assertEqual(len(one.take("message")), 1)
        self.assertEqual(len(two.take("message")), 1)

    def test_negativePriorityNeverGetsBareMessages(self):
        negative = self.h.connect("juliet@localhost", "bot", priority=-1)
        self.h.send(self.romeo, "<message to='juliet@localhost' id='m1' type='chat'><body>x</body></message>")
        self.assertEqual(negative.take("message"), [])
        # Not bounced: kept in offline storage (xmuc.session.offline).
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.h.successResultOf(self.h.storage.offline.count("juliet@localhost")), 1)
        # Its full JID still works.
        self.h.send(self.romeo, "<message to='juliet@localhost/bot' type='chat'><body>x</body></message>")
        self.assertEqual(len(negative.take("message")), 1)

    def test_connectedButNotAvailable(self):
        hidden = self.h.connect("juliet@localhost", "hidden", available=False)
        self.h.send(self.romeo, "<message to='juliet@localhost' type='chat'><body>x</body></message>")
        self.assertEqual(hidden.take("message"), [])
        # Not bounced: kept in offline storage (xmuc.session.offline).
        self.assertEqual(self.romeo.take("message"), [])
        self.assertEqual(self.h.successResultOf(self.h.storage.offline.count("juliet@localhost")), 1)

    def test_headlineToAllNonNegative(self):
        one = self.h.connect("juliet@localhost", "one", priority=1)
        two = self.h.connect("juliet@localhost", "two", priority=0)
        three = self.h.connect("juliet@localhost", "three", priority=-5)
        self.h.send(self.romeo, "<message to='juliet@localhost' type='headline'><body>x</body></message>")
        self.assertEqual(len(one.take("message")), 1)
        self.assertEqual(len(two.take("message")), 1)
        self.assertEqual(three.take("message"), [])

    def test_groupchatToBareJID(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(self.romeo, "<message to='juliet@localhost' type='groupchat'><body>x</body></message>")
        self.assertEqual(juliet.take("message"), [])
        self.assertEqual(errorCondition(self.romeo.take("message")[0]), "service-unavailable")

    def test_offlineResourceFallsBackToBare(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(self.romeo, "<message to='juliet@localhost/gone' type='chat'><body>x</body></message>")
        (message,) = juliet.take("message")
        self.assertEqual(message["to"], "juliet@localhost/gone")

    def test_offlineResourceGroupchatAndHeadline(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(self.romeo, "<message to='juliet@localhost/gone' type='headline'><body>x</body></message>")
        self.h.send(self.romeo, "<message to='juliet@localhost/gone' type='groupchat'><body>x</body></message>")
        self.assertEqual(juliet.take("message"), [])
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "service-unavailable")

    def test_unknownUser(self):
        self.h.send(self.romeo, "<message to='nobody@localhost' id='m1' type='chat'><body>x</body></message>")
        (error,) = self.romeo.take("message")
        self.assertEqual(error["from"], "nobody@localhost")
        self.assertEqual(error["id"], "m1")
        self.assertEqual(errorCondition(error), "service-unavailable")
        self.h.send(self.romeo, "<iq to='nobody@localhost' id='i1' type='get'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        self.h.send(self.romeo, "<iq to='nobody@localhost/x' id='i2' type='get'><query xmlns='%s'/></iq>" % ns.PING)
        errors = self.romeo.take("iq")
        self.assertEqual([e["id"] for e in errors], ["i1", "i2"])
        self.assertEqual([errorCondition(e) for e in errors], ["service-unavailable"] * 2)

    def test_errorsAreNotAnswered(self):
        self.h.send(self.romeo, "<message to='nobody@localhost' type='error'><body>x</body></message>")
        self.h.send(self.romeo, "<iq to='nobody@localhost/x' type='result' id='a'/>")
        self.assertEqual(self.romeo.take(), [])

    def test_messageToHostDropped(self):
        self.h.send(self.romeo, "<message to='localhost'><body>x</body></message>")
        self.h.send(self.romeo, "<presence to='localhost'/>")
        self.assertEqual(self.romeo.take(), [])

    def test_messageWithoutTo(self):
        self.h.send(self.romeo, "<message type='chat'><body>note to self</body></message>")
        (message,) = self.romeo.take("message")
        self.assertEqual(message["to"], "romeo@localhost")

    def test_malformedTo(self):
        self.h.send(self.romeo, "<message to='@@bad@@' id='m'><body>x</body></message>")
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "jid-malformed")

    def test_remoteDomain(self):
        self.h.send(self.romeo, "<message to='someone@elsewhere.example' id='m'><body>x</body></message>")
        (error,) = self.romeo.take("message")
        self.assertEqual(errorCondition(error), "remote-server-not-found")

    def test_toComponent(self):
        self.h.send(self.romeo, "<message to='room@conference.localhost' type='groupchat'><body>x</body></message>")
        (routed,) = self.h.routed
        self.assertEqual(routed["from"], "romeo@localhost/phone")


class IQDeliveryTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.romeo = self.h.connect("romeo@localhost", "phone")

    def test_iqToFullJID(self):
        juliet = self.h.connect("juliet@localhost", "balcony", available=False)
        self.h.send(self.romeo, "<iq to='juliet@localhost/balcony' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
        (iq,) = juliet.take("iq")
        self.assertEqual(iq["from"], "romeo@localhost/phone")
        self.h.send(juliet, "<iq to='romeo@localhost/phone' type='result' id='v'/>")
        (result,) = self.romeo.take("iq")
        self.assertEqual(result["type"], "result")

    def test_iqToOfflineResource(self):
        self.h.connect("juliet@localhost", "balcony")
        self.h.send(self.romeo, "<iq to='juliet@localhost/gone' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
        (error,) = self.romeo.take("iq")
        self.assertEqual(errorCondition(error), "service-unavailable")

    def test_iqToBareJIDHandledByServer(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        # Only contacts receiving Juliet's presence get her disco#info
        # (tests/test_sm_account_disco.py).
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="from")
        self.h.send(self.romeo, "<iq to='juliet@localhost' type='get' id='d'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        self.assertEqual(juliet.take(), [])
        (result,) = self.romeo.take("iq")
        self.assertEqual(result["type"], "result")
        self.assertEqual(result["from"], "juliet@localhost")
        identity = list(result.query.elements())[0]
        self.assertEqual((identity["category"], identity["type"]), ("account", "registered"))
        self.h.send(self.romeo, "<iq to='juliet@localhost' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
        (error,) = self.romeo.take("iq")
        self.assertEqual(errorCondition(error), "service-unavailable")

    def test_discoOfOfflineAccount(self):
        self.h.createAccount("juliet@localhost")
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both")
        self.h.send(self.romeo, "<iq to='juliet@localhost' type='get' id='d'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        (result,) = self.romeo.take("iq")
        self.assertEqual(result["type"], "result")

    def test_rosterOfSomeoneElse(self):
        self.h.connect("juliet@localhost", "balcony")
        self.h.send(self.romeo, "<iq to='juliet@localhost' type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
        (error,) = self.romeo.take("iq")
        self.assertEqual(error["type"], "error")


class ServerIQTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.romeo = self.h.connect("romeo@localhost", "phone")

    def ask(self, text):
        self.h.send(self.romeo, text)
        (reply,) = self.romeo.take("iq")
        return reply

    def test_ping(self):
        for to in ["", " to='localhost'"]:
            reply = self.ask("<iq type='get' id='p'%s><ping xmlns='urn:xmpp:ping'/></iq>" % to)
            self.assertEqual(reply["type"], "result")
            self.assertEqual(reply["id"], "p")
            self.assertEqual(list(reply.elements()), [])
        self.assertEqual(reply["from"], "localhost")
        self.assertEqual(reply["to"], "romeo@localhost/phone")

    def test_version(self):
        reply = self.ask("<iq type='get' id='v' to='localhost'><query xmlns='jabber:iq:version'/></iq>")
        self.assertEqual(reply["type"], "result")
        children = {e.name: str(e) for e in reply.query.elements()}
        self.assertEqual(children, {"name": "xmuc", "version": xmuc.__version__})

    def test_discoInfo(self):
        reply = self.ask("<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        identities = [e for e in reply.query.elements() if e.name == "identity"]
        self.assertEqual([(i["category"], i["type"]) for i in identities], [("server", "im")])
        features = {e["var"] for e in reply.query.elements() if e.name == "feature"}
        for feature in [ns.DISCO_INFO, ns.DISCO_ITEMS, ns.PING, ns.VERSION]:
            self.assertIn(feature, features)
        self.assertNotIn(ns.REGISTER, features)

    def test_discoInfoRegistration(self):
        h = SMHarness(config={"c2s": {"allow_registration": "true"}, "storage": {"backend": "memory"}})
        romeo = h.connect("romeo@localhost")
        h.send(romeo, "<iq type='get' id='d'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        (reply,) = romeo.take("iq")
        features = {e["var"] for e in reply.query.elements() if e.name == "feature"}
        self.assertIn(ns.REGISTER, features)

    def test_discoInfoUnknownNode(self):
        reply = self.ask("<iq type='get' id='d' to='localhost'><query xmlns='%s' node='x'/></iq>" % ns.DISCO_INFO)
        self.assertEqual(errorCondition(reply), "item-not-found")

    def test_discoItemsListsComponents(self):
        reply = self.ask("<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % ns.DISCO_ITEMS)
        items = [(e["jid"], e.getAttribute("name")) for e in reply.query.elements()]
        self.assertEqual(items, [("conference.localhost", "Chatrooms")])

    def test_unknownNamespace(self):
        reply = self.ask("<iq type='get' id='u' to='localhost'><query xmlns='urn:example:nothing'/></iq>")
        self.assertEqual(reply["type"], "error")
        self.assertEqual(errorCondition(reply), "service-unavailable")
        error = reply.error
        self.assertEqual(error["type"], "cancel")
        self.assertEqual(error["code"], "503")

    def test_wrongChildCount(self):
        reply = self.ask("<iq type='get' id='u'/>")
        self.assertEqual(errorCondition(reply), "bad-request")
        reply = self.ask("<iq type='get' id='u'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(errorCondition(reply), "bad-request")

    def test_resultsToServerIgnored(self):
        self.h.send(self.romeo, "<iq type='result' id='x'/>")
        self.h.send(self.romeo, "<iq type='error' id='y' to='localhost'/>")
        self.assertEqual(self.romeo.take(), [])

    def test_sessionIQ(self):
        reply = self.ask("<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        self.assertEqual(reply["type"], "result")

    def test_iqToOwnBareJID(self):
        reply = self.ask("<iq type='get' id='d' to='romeo@localhost'><query xmlns='%s'/></iq>" % ns.DISCO_INFO)
        self.assertEqual(reply["type"], "result")
        reply = self.ask("<iq type='get' id='r' to='romeo@localhost'><query xmlns='jabber:iq:roster'/></iq>")
        self.assertEqual(reply["type"], "result")
        reply = self.ask("<iq type='get' id='v' to='romeo@localhost'><query xmlns='jabber:iq:version'/></iq>")
        self.assertEqual(errorCondition(reply), "service-unavailable")

    def test_iqFromComponentToHost(self):
        ping = "<iq type='get' id='c' from='conference.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
        from test_sm_support import stanza

        self.h.router.route(stanza(ping))
        (reply,) = self.h.routed
        self.assertEqual(reply["type"], "result")
        self.assertEqual(reply["to"], "conference.localhost")


class ShutdownTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()

    def test_noSessions(self):
        d = self.h.sm.stopService()
        self.assertIsNone(self.successResultOf(d))

    def test_waitsForSessions(self):
        """
        stopService closes every session with 'system-shutdown' and fires
        only once all of them unbound, after their unavailable presence
        went out (here: to a MUC room).
        """
        self.h.sm.startService()
        sessions = [self.h.connect("u%d@localhost" % i, "r") for i in range(3)]
        sessions[0].directedPresence.add("room@conference.localhost/u0")
        d = self.h.sm.stopService()
        self.assertEqual([s.closed for s in sessions], ["system-shutdown"] * 3)
        self.assertNoResult(d)
        self.h.sm.unbind(sessions[0])
        self.h.sm.unbind(sessions[1])
        self.assertNoResult(d)
        self.assertEqual(len(self.h.routed), 1)
        self.h.sm.unbind(sessions[2])
        self.successResultOf(d)
        self.assertEqual(self.h.router.sessions, {})

    def test_unbindDuringDisconnect(self):
        self.h.sm.startService()
        session = self.h.connect("u@localhost", "r")
        session.onDisconnect = self.h.sm.unbind
        self.successResultOf(self.h.sm.stopService())

    def test_timeout(self):
        self.h.sm.startService()
        stuck = self.h.connect("u@localhost", "r")
        stuck.directedPresence.add("room@conference.localhost/u")
        d = self.h.sm.stopService()
        self.h.clock.advance(4.9)
        self.assertNoResult(d)
        self.h.clock.advance(0.2)
        self.successResultOf(d)
        self.assertEqual(len(self.h.routed), 1)
        self.assertEqual(self.h.sm.sessionsOf("u@localhost"), [])
