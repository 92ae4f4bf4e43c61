"""
Tests for Message Carbons (XEP-0280) in L{xmuc.session.carbons}, through the
real L{SessionManager}, and over real client streams.
"""

from twisted.internet import defer
from twisted.trial import unittest
from twisted.words.xish import domish

from xmuc.session.carbons import wrap
from xmuc.xmpp.ns import CARBONS, FORWARD
from xmuc.xmpp import ns

from tests.support.slixmpp import runClientScript, startClientServer
from tests.support.client import connectTestClient, startTestServer
from tests.support.session import SMHarness, parseStanzas, stanza

ENABLE = "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>"
DISABLE = "<iq type='set' id='c2'><disable xmlns='urn:xmpp:carbons:2'/></iq>"
INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}


def child(element, uri, name):
    """
    @return: the first child of C{element} named C{name} in C{uri}, or
        L{None}.
    """
    for found in element.elements():
        if found.uri == uri and found.name == name:
            return found
    return None


def unwrap(carbon, direction):
    """
    @return: the message forwarded in a carbon copy, checking the wrapping.
    """
    wrapper = child(carbon, CARBONS, direction)
    assert wrapper is not None, carbon.toXml()
    forwarded = child(wrapper, FORWARD, "forwarded")
    assert forwarded is not None, carbon.toXml()
    (message,) = list(forwarded.elements())
    assert (message.uri, message.name) == (ns.CLIENT, "message"), message.toXml()
    return message


class CarbonsTestsBase(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.phone = self.h.connect("romeo@localhost", "phone")
        self.laptop = self.h.connect("romeo@localhost", "laptop", create=False)
        self.juliet = self.h.connect("juliet@localhost", "balcony")
        self.phone.take()

    def enable(self, session, request=ENABLE):
        self.h.send(session, request)
        (reply,) = session.take("iq")
        self.assertEqual(reply["type"], "result")
        return reply


class EnableTests(CarbonsTestsBase):
    def test_enableAndDisable(self):
        """
        C{<enable/>} and C{<disable/>} without C{to} are answered with an
        empty result and switch the session's state.
        """
        self.assertFalse(self.h.sm.carbons.isEnabled(self.phone))
        reply = self.enable(self.phone)
        self.assertEqual((reply["id"], list(reply.elements())), ("c1", []))
        self.assertTrue(self.h.sm.carbons.isEnabled(self.phone))
        self.assertFalse(self.h.sm.carbons.isEnabled(self.laptop))
        self.enable(self.phone, DISABLE)
        self.assertFalse(self.h.sm.carbons.isEnabled(self.phone))

    def test_enableToOwnBareJID(self):
        self.enable(self.phone, "<iq type='set' id='c1' to='romeo@localhost'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
        self.assertTrue(self.h.sm.carbons.isEnabled(self.phone))

    def test_getOrUnknownElement(self):
        for request in (
            "<iq type='get' id='c3'><enable xmlns='urn:xmpp:carbons:2'/></iq>",
            "<iq type='set' id='c4'><toggle xmlns='urn:xmpp:carbons:2'/></iq>",
        ):
            self.h.send(self.phone, request)
            (reply,) = self.phone.take("iq")
            self.assertEqual(reply["type"], "error")
        self.assertFalse(self.h.sm.carbons.isEnabled(self.phone))

    def test_advertised(self):
        self.h.send(self.phone, "<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        (reply,) = self.phone.take("iq")
        features = {e["var"] for e in reply.query.elements() if e.name == "feature"}
        self.assertIn(CARBONS, features)
        self.assertIn("urn:xmpp:carbons:rules:0", features)


class ReceivedTests(CarbonsTestsBase):
    def test_disabledByDefault(self):
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='chat'><body>hi</body></message>")
        self.assertEqual(len(self.phone.take("message")), 1)
        self.assertEqual(self.laptop.take(), [])

    def test_receivedAtFullJID(self):
        """
        A chat message to one resource is copied, wrapped in
        C{<received/>}, to the other enabled resource only.
        """
        self.enable(self.laptop)
        self.enable(self.phone)
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='chat' id='m1'><body>hi</body></message>")
        (direct,) = self.phone.take()
        self.assertIsNone(child(direct, CARBONS, "received"))
        (carbon,) = self.laptop.take()
        self.assertEqual(
            (carbon["from"], carbon["to"], carbon["type"]),
            ("romeo@localhost", "romeo@localhost/laptop", "chat"),
        )
        inner = unwrap(carbon, "received")
        self.assertEqual((inner["from"], inner["to"], inner["id"]), ("juliet@localhost/balcony", "romeo@localhost/phone", "m1"))
        self.assertEqual(str(inner.body), "hi")

    def test_receivedAtBareJIDLowerPriority(self):
        """
        A message to the bare JID reaches the top-priority resource; the
        enabled lower-priority one gets a copy, not the message twice.
        """
        self.h.send(self.laptop, "<presence><priority>-1</priority></presence>")
        self.enable(self.laptop)
        self.laptop.take()
        self.h.send(self.juliet, "<message to='romeo@localhost' type='chat'><body>hi</body></message>")
        self.assertEqual(len(self.phone.take("message")), 1)
        (carbon,) = self.laptop.take("message")
        unwrap(carbon, "received")

    def test_receivedAtBareJIDBothTop(self):
        """
        Both resources got the message itself: no copies.
        """
        self.enable(self.laptop)
        self.enable(self.phone)
        self.h.send(self.juliet, "<message to='romeo@localhost' type='chat'><body>hi</body></message>")
        for session in (self.phone, self.laptop):
            (message,) = session.take()
            self.assertIsNone(child(message, CARBONS, "received"))

    def test_normalWithBodyCopied(self):
        self.enable(self.laptop)
        self.h.send(self.juliet, "<message to='romeo@localhost/phone'><body>hi</body></message>")
        self.assertEqual(len(self.laptop.take("message")), 1)

    def test_notCopied(self):
        """
        Groupchat, headline, normal without body, private, no-copy and MUC
        private messages are never copied; the private marker is removed
        before delivery.
        """
        self.enable(self.laptop)
        for text in (
            "<message to='romeo@localhost/phone' type='groupchat'><body>hi</body></message>",
            "<message to='romeo@localhost/phone' type='headline'><body>hi</body></message>",
            "<message to='romeo@localhost/phone'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message to='romeo@localhost/phone' type='chat'><body>hi</body><private xmlns='urn:xmpp:carbons:2'/></message>",
            "<message to='romeo@localhost/phone' type='chat'><body>hi</body><no-copy xmlns='urn:xmpp:hints'/></message>",
            "<message to='romeo@localhost/phone' type='chat'><body>hi</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>",
        ):
            self.h.send(self.juliet, text)
            (message,) = self.phone.take()
            self.assertIsNone(child(message, CARBONS, "private"))
            self.assertEqual(self.laptop.take(), [], text)

    def test_fromMUCRoomNotCopied(self):
        """
        A private message relayed by a MUC room to one session is not
        copied to the others.
        """
        self.enable(self.laptop)
        self.h.router.route(self.stanzaFromRoom())
        self.assertEqual(len(self.phone.take("message")), 1)
        self.assertEqual(self.laptop.take(), [])

    def stanzaFromRoom(self):
        return stanza(
            "<message from='room@conference.localhost/nurse' to='romeo@localhost/phone' type='chat'>"
            "<body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"
        )

    def test_bounceFromBareJIDCopied(self):
        """
        The error bounce of a message sent to a bare JID is copied.
        """
        self.enable(self.laptop)
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='error'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
        self.assertEqual(self.laptop.take(), [])
        self.assertEqual(len(self.phone.take("message")), 1)

        self.h.router.route(stanza(
            "<message from='nobody@localhost' to='romeo@localhost/phone' type='error'><error type='cancel'>"
            "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
        ))
        self.assertEqual(len(self.phone.take("message")), 1)
        (carbon,) = self.laptop.take()
        self.assertEqual(unwrap(carbon, "received")["type"], "error")

    def test_bouncedNotCopied(self):
        """
        A message that was not delivered (bounced: the offline store is
        full) is not copied either.
        """
        self.h.storage.offline.limit = 0
        self.h.send(self.laptop, "<presence type='unavailable'/>")
        self.h.send(self.phone, "<presence type='unavailable'/>")
        self.enable(self.laptop)
        self.phone.take()
        self.juliet.take()
        self.h.send(self.juliet, "<message to='romeo@localhost' type='chat'><body>hi</body></message>")
        self.assertEqual(self.laptop.take("message"), [])
        (bounce,) = self.juliet.take("message")
        self.assertEqual(bounce["type"], "error")

    def test_closedSessionForgotten(self):
        self.enable(self.laptop)
        self.h.sm.unbind(self.laptop)
        self.laptop.take()
        self.h.send(self.juliet, "<message to='romeo@localhost/phone' type='chat'><body>hi</body></message>")
        self.assertEqual(self.laptop.take(), [])


class SentTests(CarbonsTestsBase):
    def test_sentCopied(self):
        """
        A chat message sent by one resource is copied, wrapped in
        C{<sent/>}, to the other enabled resources, and delivered.
        """
        self.enable(self.laptop)
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat' id='s1'><body>hello</body></message>")
        (carbon,) = self.laptop.take()
        self.assertEqual((carbon["from"], carbon["to"]), ("romeo@localhost", "romeo@localhost/laptop"))
        inner = unwrap(carbon, "sent")
        self.assertEqual((inner["from"], inner["to"], inner["id"]), ("romeo@localhost/phone", "juliet@localhost", "s1"))
        self.assertEqual(self.phone.take(), [])
        (delivered,) = self.juliet.take("message")
        self.assertEqual(str(delivered.body), "hello")

    def test_senderNotCopied(self):
        """
        The sending resource does not get its own message back, even with
        carbons enabled; disabled resources get nothing.
        """
        self.enable(self.phone)
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat'><body>hello</body></message>")
        self.assertEqual(self.phone.take(), [])
        self.assertEqual(self.laptop.take(), [])

    def test_onlyEnabledResources(self):
        tablet = self.h.connect("romeo@localhost", "tablet", create=False)
        self.enable(tablet)
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat'><body>hello</body></message>")
        self.assertEqual(len(tablet.take("message")), 1)
        self.assertEqual(self.laptop.take("message"), [])
        self.enable(tablet, DISABLE)
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat'><body>again</body></message>")
        self.assertEqual(tablet.take(), [])

    def test_privateAndNoCopy(self):
        """
        C{<private/>} and C{<no-copy/>} keep the message off the other
        resources; the recipient gets it without C{<private/>}.
        """
        self.enable(self.laptop)
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat'><body>a</body><private xmlns='urn:xmpp:carbons:2'/></message>")
        self.h.send(self.phone, "<message to='juliet@localhost' type='chat'><body>b</body><no-copy xmlns='urn:xmpp:hints'/></message>")
        self.assertEqual(self.laptop.take(), [])
        delivered = self.juliet.take("message")
        self.assertEqual([str(m.body) for m in delivered], ["a", "b"])
        self.assertIsNone(child(delivered[0], CARBONS, "private"))

    def test_groupchatAndMUCPrivateNotCopied(self):
        self.enable(self.laptop)
        self.h.send(self.phone, "<message to='room@conference.localhost' type='groupchat'><body>all</body></message>")
        self.h.send(
            self.phone,
            "<message to='room@conference.localhost/nurse' type='chat'><body>pm</body>"
            "<x xmlns='http://jabber.org/protocol/muc#user'/></message>",
        )
        self.assertEqual(len(self.h.routed), 2)
        self.assertEqual(self.laptop.take(), [])

    def test_toContactsOtherUsersNotCopied(self):
        """
        Juliet's carbons are hers: Romeo's message to her reaches none of
        Romeo's other resources as a 'received' copy.
        """
        self.enable(self.laptop)
        self.h.send(self.phone, "<message to='juliet@localhost/balcony' type='chat'><body>x</body></message>")
        (carbon,) = self.laptop.take()
        unwrap(carbon, "sent")
        self.assertEqual(len(self.juliet.take("message")), 1)


class ForgedTests(CarbonsTestsBase):
    def test_forgedCarbonsDropped(self):
        """
        XEP-0280 section 11: a message from someone else wrapping a
        C{<received/>} or C{<sent/>} copy is never delivered.
        """
        self.enable(self.phone)
        for direction in ("received", "sent"):
            self.h.send(
                self.juliet,
                "<message to='romeo@localhost/phone'><%s xmlns='urn:xmpp:carbons:2'>"
                "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='rosaline@localhost/x'"
                " to='romeo@localhost' type='chat'><body>forged</body></message></forwarded></%s></message>"
                % (direction, direction),
            )
            self.assertEqual(self.phone.take(), [])
            self.assertEqual(self.laptop.take(), [])

    def test_forgedBySelfDropped(self):
        """
        Even one of the user's own resources cannot send a fake copy to
        another: only the server makes them.
        """
        self.h.send(
            self.phone,
            "<message to='romeo@localhost/laptop'><received xmlns='urn:xmpp:carbons:2'>"
            "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='juliet@localhost/balcony'"
            " to='romeo@localhost' type='chat'><body>forged</body></message></forwarded></received></message>",
        )
        self.assertEqual(self.laptop.take(), [])


class ServerBuiltStanzaTests(unittest.TestCase):
    def test_implicitNamespaceMadeExplicit(self):
        """
        A message built by the server with the client namespace left
        implicit is forwarded in C{jabber:client}, children included.
        """
        message = domish.Element((None, "message"))
        message["type"] = "chat"
        message.addElement("body", content="hi")
        (carbon,) = parseStanzas(wrap(message, "received", "romeo@localhost").toXml())
        inner = unwrap(carbon, "received")
        self.assertEqual(inner.body.uri, ns.CLIENT)


class WireTests(unittest.TestCase):
    """
    Two real sessions of one user over TCP.
    """

    @defer.inlineCallbacks
    def login(self, running, user, resource):
        client = yield connectTestClient(self, running)
        yield client.login(user, "pw", resource)
        client.send("<presence/>")
        own = yield client.receiveStanza()
        self.assertEqual(own.name, "presence")
        return client

    @defer.inlineCallbacks
    def nextMessage(self, client):
        """
        @return: Deferred firing with the next message C{client} receives
            (the presences of the other resources are skipped).
        """
        while True:
            element = yield client.receiveStanza()
            if element.name == "message":
                return element

    @defer.inlineCallbacks
    def test_sentAndReceivedCopies(self):
        running = yield startTestServer(self, INSECURE, tls=False)
        phone = yield self.login(running, "romeo", "phone")
        laptop = yield self.login(running, "romeo", "laptop")
        juliet = yield self.login(running, "juliet", "balcony")
        info = yield laptop.iq("<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        self.assertIn(CARBONS, [e["var"] for e in info.query.elements() if e.name == "feature"])
        result = yield laptop.iq(ENABLE)
        self.assertEqual(result["type"], "result")

        phone.send("<message to='juliet@localhost' type='chat' id='s1'><body>hello</body></message>")
        carbon = yield self.nextMessage(laptop)
        self.assertEqual((carbon.name, carbon["from"]), ("message", "romeo@localhost"))
        inner = unwrap(carbon, "sent")
        self.assertEqual((inner["from"], str(inner.body)), ("romeo@localhost/phone", "hello"))
        message = yield self.nextMessage(juliet)
        self.assertEqual(str(message.body), "hello")

        juliet.send("<message to='romeo@localhost/phone' type='chat' id='r1'><body>hi</body></message>")
        message = yield self.nextMessage(phone)
        self.assertEqual(str(message.body), "hi")
        carbon = yield self.nextMessage(laptop)
        inner = unwrap(carbon, "received")
        self.assertEqual((inner["from"], inner["id"]), ("juliet@localhost/balcony", "r1"))


class SlixmppTests(unittest.TestCase):
    """
    slixmpp's xep_0280 plugin with two sessions of one user.
    """

    timeout = 60

    @defer.inlineCallbacks
    def test_slixmppCarbons(self):
        running = yield startClientServer(self)
        checks = yield runClientScript(self, running, "carbons")
        for expected in (
            "carbons-advertised",
            "carbons-enabled",
            "carbon-received",
            "direct-delivery",
            "carbon-sent",
            "sent-delivered",
            "private-delivered",
            "forged-dropped",
            "carbon-after-forged",
            "private-not-copied",
        ):
            self.assertIn(expected, checks)
