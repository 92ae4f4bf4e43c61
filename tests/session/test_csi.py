"""
Client State Indication (XEP-0352): what an inactive client is sent at once
and what waits, over real sockets.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.session.csi import MAX_HELD, isImportant
from xmuc.storage.common import rosterItem
from xmuc.xmpp import ns
from xmuc.xmpp.stanza import parseElement

from tests.support.account import child, nextStanza, signIn, startAccountServer
from tests.support.client import connectTestClient, firstChild

JULIET = "juliet@localhost"
ROMEO = "romeo@localhost"
CHATSTATES = "http://jabber.org/protocol/chatstates"


class Recipient:
    """
    What L{isImportant} reads of a session.
    """

    username = "juliet"
    directedPresence = {"lounge@conference.localhost/Jule"}


class ImportanceTests(unittest.TestCase):
    """
    The rules of Prosody's mod_csi_simple.
    """

    def important(self, xml):
        return isImportant(parseElement(xml), Recipient())

    def test_rules(self):
        for xml, expected in [
            ("<iq xmlns='jabber:client' type='result' id='a'/>", True),
            ("<presence xmlns='jabber:client'/>", False),
            ("<presence xmlns='jabber:client' type='unavailable'/>", False),
            ("<presence xmlns='jabber:client' type='subscribe'/>", True),
            ("<presence xmlns='jabber:client' type='error'/>", False),
            ("<message xmlns='jabber:client'><propose xmlns='urn:xmpp:jingle-message:0' id='c'/></message>", True),
            (
                "<message xmlns='jabber:client'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                "<message xmlns='jabber:client' type='chat'><active xmlns='%s'/></message></forwarded></sent></message>"
                % CHATSTATES,
                True,
            ),
            ("<message xmlns='jabber:client' type='chat'><body>hi</body></message>", True),
            ("<message xmlns='jabber:client' type='chat'><active xmlns='%s'/></message>" % CHATSTATES, False),
            ("<message xmlns='jabber:client' type='headline'><body>news</body></message>", False),
            ("<message xmlns='jabber:client' type='error'/>", True),
            ("<message xmlns='jabber:client' from='lounge@conference.localhost/x' type='groupchat'><body>hello all</body></message>", False),
            ("<message xmlns='jabber:client' from='lounge@conference.localhost/x' type='groupchat'><body>Jule: hi</body></message>", True),
            ("<message xmlns='jabber:client' from='hall@conference.localhost/x' type='groupchat'><body>Jule: hi</body></message>", False),
            ("<message xmlns='jabber:client' from='hall@conference.localhost/x' type='groupchat'><body>juliet?</body></message>", True),
            ("<message xmlns='jabber:client' from='hall@conference.localhost' type='groupchat'><subject>x</subject></message>", True),
            ("<message xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc#user'><invite/></x></message>", True),
            (
                "<message xmlns='jabber:client'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                "<message xmlns='jabber:client' type='chat'><body>hi</body></message></forwarded></received></message>",
                True,
            ),
            (
                "<message xmlns='jabber:client'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                "<message xmlns='jabber:client' type='chat'><composing xmlns='%s'/></message></forwarded></received></message>"
                % CHATSTATES,
                False,
            ),
        ]:
            self.assertEqual(self.important(xml), expected, xml)


class ClientStateTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.running = yield startAccountServer(self)
        rosters = self.running.server.storage.rosters
        yield rosters.set(JULIET, ROMEO, rosterItem(dict(subscription="both")))
        yield rosters.set(ROMEO, JULIET, rosterItem(dict(subscription="both")))
        self.romeo = yield signIn(self, self.running, "romeo", "garden")
        self.juliet = yield signIn(self, self.running, "juliet", "phone")
        yield self.presenceFrom(self.juliet, self.romeo.jid)
        yield self.presenceFrom(self.romeo, self.juliet.jid)

    @defer.inlineCallbacks
    def presenceFrom(self, client, sender):
        while True:
            seen = yield nextStanza(client, "presence")
            if seen["from"] == sender:
                return seen

    @defer.inlineCallbacks
    def processed(self, client):
        """
        Wait until the server handled what C{client} sent so far.
        """
        ping = client.nextID()
        result = yield client.iq("<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (ping,))
        self.assertEqual(result["type"], "result")

    @defer.inlineCallbacks
    def test_feature(self):
        client = yield connectTestClient(self, self.running)
        before = yield client.openStream()
        self.assertIsNone(firstChild(before, ns.CSI, "csi"))
        after = yield client.authenticate("juliet", "pw")
        self.assertIsNotNone(firstChild(after, ns.CSI, "csi"))

    @defer.inlineCallbacks
    def test_heldCollapsedAndFlushed(self):
        """
        While Juliet is inactive, Romeo's presence changes and chat states
        wait (only his latest presence is kept); his message with a body
        brings them, before it; back to active, what waits comes.
        """
        self.juliet.send("<inactive xmlns='urn:xmpp:csi:0'/>")
        yield self.processed(self.juliet)
        for show in ("away", "dnd", "chat"):
            self.romeo.send("<presence><show>%s</show></presence>" % (show,))
        self.romeo.send(
            "<message to='%s' type='chat'><composing xmlns='%s'/></message>" % (self.juliet.jid, CHATSTATES)
        )
        yield self.processed(self.romeo)
        self.romeo.send("<message to='%s' type='chat' id='m1'><body>Wherefore?</body></message>" % (self.juliet.jid,))
        presence = yield self.juliet.receiveStanza()
        self.assertEqual((presence.name, str(child(presence, ns.CLIENT, "show"))), ("presence", "chat"))
        # Stamped with the time it was held (XEP-0203), as Prosody.
        self.assertEqual(child(presence, ns.DELAY, "delay")["from"], JULIET)
        state = yield self.juliet.receiveStanza()
        self.assertIsNotNone(child(state, CHATSTATES, "composing"), state.toXml())
        self.assertIsNotNone(child(state, ns.DELAY, "delay"))
        message = yield self.juliet.receiveStanza()
        self.assertEqual(message.getAttribute("id"), "m1")
        self.assertIsNone(child(message, ns.DELAY, "delay"))

        # Still inactive: a presence waits until she is active again.
        self.romeo.send("<presence><show>xa</show></presence>")
        yield self.processed(self.romeo)
        self.juliet.send("<active xmlns='urn:xmpp:csi:0'/>")
        presence = yield self.juliet.receiveStanza()
        self.assertEqual(str(child(presence, ns.CLIENT, "show")), "xa")
        # Active: nothing waits.
        self.romeo.send("<presence><show>away</show></presence>")
        presence = yield self.juliet.receiveStanza()
        self.assertEqual(str(child(presence, ns.CLIENT, "show")), "away")

    @defer.inlineCallbacks
    def test_iqFlushes(self):
        """
        An iq answer is important: what waited comes before it.
        """
        self.juliet.send("<inactive xmlns='urn:xmpp:csi:0'/>")
        self.romeo.send("<presence><show>dnd</show></presence>")
        yield self.processed(self.romeo)
        self.juliet.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        presence = yield self.juliet.receiveStanza()
        self.assertEqual(str(child(presence, ns.CLIENT, "show")), "dnd")
        result = yield self.juliet.receiveStanza()
        self.assertEqual((result.name, result["id"]), ("iq", "p"))

    @defer.inlineCallbacks
    def test_boundedHold(self):
        """
        One stanza more than L{MAX_HELD} sends what waits.
        """
        self.juliet.send("<inactive xmlns='urn:xmpp:csi:0'/>")
        yield self.processed(self.juliet)
        for n in range(MAX_HELD + 1):
            self.romeo.send(
                "<message to='%s' type='chat' id='s%d'><paused xmlns='%s'/></message>" % (self.juliet.jid, n, CHATSTATES)
            )
        first = yield self.juliet.receiveStanza()
        self.assertEqual(first["id"], "s0")

    @defer.inlineCallbacks
    def test_unknownElement(self):
        self.juliet.send("<busy xmlns='urn:xmpp:csi:0'/>")
        condition = yield self.juliet.streamError()
        self.assertEqual(condition, "unsupported-stanza-type")
