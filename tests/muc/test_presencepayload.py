"""
Occupant presence carries what the client sent (XEP-0045 7.2.3: the room
"MUST" send the presence "including extended presence information"): show,
status, entity capabilities (XEP-0115), the user's nickname (XEP-0172) and
the avatar hash its server adds (XEP-0153), reach the other occupants as
sent, followed by the room's own elements (occupant-id, one C{muc#user}
x); the MUC elements and occupant id the client wrote are not relayed.
Over real sockets, with the user's vCard photo set through its server.
"""

import base64
import hashlib

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import NS_CLIENT, firstChild
from tests.support.database import NS_MUC, NS_MUC_USER, ROOM, ServerOnDatabase, assertResult

NS_CAPS = "http://jabber.org/protocol/caps"
NS_NICK = "http://jabber.org/protocol/nick"
NS_VCARD_UPDATE = "vcard-temp:x:update"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"

PHOTO = b"\x89PNG\r\n\x1a\n a tiny avatar"

CAPS = "<c xmlns='%s' hash='sha-1' node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>" % (NS_CAPS,)
PAYLOAD = ("<show>dnd</show><status>Balcony scene</status><priority>5</priority>" + CAPS
           + "<nick xmlns='%s'>Juliet Capulet</nick>" % (NS_NICK,)
           + "<x xmlns='%s'><photo>0000000000000000000000000000000000000000</photo></x>" % (NS_VCARD_UPDATE,)
           + "<x xmlns='%s'><item affiliation='owner' role='moderator'/><status code='110'/></x>" % (NS_MUC_USER,)
           + "<occupant-id xmlns='%s' id='forged'/>" % (NS_OCCUPANT_ID,))


def layout(presence):
    """
    @return: C{[(namespace, name)]} of the children of C{presence}.
    """
    return [(child.uri, child.name) for child in presence.elements()]


class PresencePayloadTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.server = ServerOnDatabase(self, {"backend": "memory"}, {"muc": {"lock_new_rooms": "false"}})
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        self.romeo = yield self.server.login("romeo")
        self.juliet = yield self.server.login("juliet")
        reply = yield self.juliet.iq(None, "set", "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL></PHOTO></vCard>"
                                     % (base64.b64encode(PHOTO).decode("ascii"),))
        assertResult(reply)
        yield self.romeo.join(ROOM, "Romeo")

    def joinWithPayload(self):
        """
        Juliet joins with L{PAYLOAD} in her join presence.

        @return: Deferred firing with her own presence from the room.
        """
        self.juliet.send("<presence xmlns='%s' to='%s/Juliet'>%s<x xmlns='%s'/></presence>"
                         % (NS_CLIENT, ROOM, PAYLOAD, NS_MUC))
        return self.juliet.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")

    def assertPayload(self, presence, show, status):
        """
        C{presence} has the client's elements as sent, the server's avatar
        hash, then the room's occupant-id and one muc#user x.
        """
        self.assertEqual(layout(presence), [
            (NS_CLIENT, "show"), (NS_CLIENT, "status"), (NS_CLIENT, "priority"), (NS_CAPS, "c"), (NS_NICK, "nick"),
            (NS_VCARD_UPDATE, "x"), (NS_OCCUPANT_ID, "occupant-id"), (NS_MUC_USER, "x")])
        self.assertEqual((str(firstChild(presence, name="show")), str(firstChild(presence, name="status"))), (show, status))
        caps = firstChild(presence, NS_CAPS, "c")
        self.assertEqual((caps["hash"], caps["node"], caps["ver"]), ("sha-1", "https://gajim.org", "QgayPKawpkPSDYmwT/WM94uAlu0="))
        self.assertEqual(str(firstChild(presence, NS_NICK, "nick")), "Juliet Capulet")
        photo = firstChild(firstChild(presence, NS_VCARD_UPDATE, "x"), name="photo")
        self.assertEqual(str(photo), hashlib.sha1(PHOTO).hexdigest())
        self.assertNotEqual(firstChild(presence, NS_OCCUPANT_ID, "occupant-id")["id"], "forged")
        muc = firstChild(presence, NS_MUC_USER, "x")
        items = [(i.getAttribute("affiliation"), i.getAttribute("role")) for i in muc.elements(NS_MUC_USER, "item")]
        self.assertEqual(items, [("none", "participant")])

    @defer.inlineCallbacks
    def test_joinAndUpdate(self):
        """
        The join presence and a later update reach the other occupants
        with the client's payload; the joiner's own presence has it too.
        """
        own = yield self.joinWithPayload()
        self.assertEqual(firstChild(own, NS_MUC, "x"), None)
        self.assertEqual(str(firstChild(own, NS_NICK, "nick")), "Juliet Capulet")
        joined = yield self.romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        self.assertPayload(joined, "dnd", "Balcony scene")

        self.juliet.send("<presence xmlns='%s' to='%s/Juliet'>%s</presence>"
                         % (NS_CLIENT, ROOM, PAYLOAD.replace("dnd", "away").replace("Balcony scene", "Garden")))
        updated = yield self.romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        self.assertPayload(updated, "away", "Garden")

    @defer.inlineCallbacks
    def test_keptThroughRoleChange(self):
        """
        A presence the room sends of its own accord (a role change) still
        carries the occupant's last payload.
        """
        yield self.joinWithPayload()
        yield self.romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        reply = yield self.romeo.iq(ROOM, "set", "<query xmlns='http://jabber.org/protocol/muc#admin'>"
                                    "<item nick='Juliet' role='visitor'/></query>")
        assertResult(reply)
        changed = yield self.juliet.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        self.assertEqual(str(firstChild(changed, NS_NICK, "nick")), "Juliet Capulet")
        self.assertEqual(firstChild(changed, NS_CAPS, "c")["ver"], "QgayPKawpkPSDYmwT/WM94uAlu0=")

    @defer.inlineCallbacks
    def test_keptWithoutTheStanzas(self):
        """
        What the room keeps of an occupant's presence while it is in the
        room (its payload) holds no stanza: neither the client's presence
        it came in nor a presence the room built from it, which the kept
        elements would otherwise keep alive as their parent (a whole
        element tree per occupant).
        """
        yield self.joinWithPayload()
        yield self.romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        self.juliet.send("<presence xmlns='%s' to='%s/Juliet'>%s</presence>"
                         % (NS_CLIENT, ROOM, PAYLOAD.replace("dnd", "away")))
        yield self.romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        reply = yield self.romeo.iq(ROOM, "set", "<query xmlns='http://jabber.org/protocol/muc#admin'>"
                                    "<item nick='Juliet' role='visitor'/></query>")
        assertResult(reply)
        yield self.juliet.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        occupant = self.server.server.muc.rooms[ROOM].occupants["Juliet"]
        kept = list(occupant.payload) + [child for payload in occupant.sessions.values() for child in payload]
        self.assertEqual([(child.name, child.parent) for child in kept],
                         [(name, None) for name in ("show", "status", "priority", "c", "nick", "x")] * 2)
