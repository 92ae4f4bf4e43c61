"""
Service discovery (XEP-0030) of the MUC service and its rooms.
"""

from tests.support.muc import MUCTestCase, ROOM, configure, field
from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.xmpp import ns


class DiscoTests(MUCTestCase):
    def query(self, client, to, namespace, node=None):
        client.received()
        attribute = " node='%s'" % (node,) if node else ""
        name = "ping" if namespace == "urn:xmpp:ping" else "query"
        client.send("<iq id='d' to='%s' type='get'><%s xmlns='%s'%s/></iq>" % (to, name, namespace, attribute))
        [answer] = client.received()
        return answer

    def features(self, answer):
        return {f["var"] for f in answer.query.elements(ns.DISCO_INFO, "feature")}

    def test_serviceInfo(self):
        answer = self.query(self.romeo, DOMAIN, ns.DISCO_INFO)
        self.assertEqual((answer["type"], answer["from"]), ("result", DOMAIN))
        identity = answer.query.identity
        self.assertEqual((identity["category"], identity["type"], identity["name"]), ("conference", "text", "Chatrooms"))
        self.assertIn(ns.MUC, self.features(answer))

    def test_serviceItemsListPublicRooms(self):
        self.createRoom(field("muc#roomconfig_roomname", "The Balcony") + field("muc#roomconfig_publicroom", "1"))
        self.juliet.join("hidden", "Juliet")
        configure(self.juliet, field("muc#roomconfig_publicroom", "0"), room="hidden@" + DOMAIN)
        answer = self.query(self.rosaline, DOMAIN, ns.DISCO_ITEMS)
        items = [(i["jid"], i["name"]) for i in answer.query.elements(ns.DISCO_ITEMS, "item")]
        self.assertEqual(items, [(ROOM, "The Balcony")])

    def test_lockedRoomsNotListed(self):
        harness = MUCHarness(muc={"lock_new_rooms": "true"})
        owner = harness.client("user@localhost/r")
        owner.join("room", "Owner")
        harness.muc.rooms[ROOM].config.public = True
        answer = self.query(harness.client("user2@localhost/x"), DOMAIN, ns.DISCO_ITEMS)
        self.assertEqual(list(answer.query.elements()), [])

    def test_uniqueName(self):
        answer = self.query(self.romeo, DOMAIN, ns.MUC + "#unique")
        name = str(answer.unique)
        self.assertTrue(name)
        self.assertNotIn("%s@%s" % (name, DOMAIN), self.harness.muc.rooms)

    def test_roomInfo(self):
        self.createRoom(field("muc#roomconfig_roomname", "Balcony") + field("muc#roomconfig_roomdesc", "Nice view")
                        + field("muc#roomconfig_roomsecret", "pw") + field("muc#roomconfig_membersonly", "1")
                        + field("muc#roomconfig_publicroom", "1"))
        answer = self.query(self.rosaline, ROOM, ns.DISCO_INFO)
        self.assertEqual(answer.query.identity["name"], "Balcony")
        features = self.features(answer)
        for feature in (ns.MUC, "muc_passwordprotected", "muc_membersonly", "muc_unmoderated", "muc_temporary",
                        "muc_public", "muc_semianonymous"):
            self.assertIn(feature, features)
        form = answer.query.x
        values = {f["var"]: [str(v) for v in f.elements(ns.DATA_FORMS, "value")]
                  for f in form.elements(ns.DATA_FORMS, "field")}
        self.assertEqual(values["FORM_TYPE"], [ns.MUC_ROOMINFO])
        self.assertEqual(values["muc#roominfo_description"], ["Nice view"])
        self.assertEqual(values["muc#roominfo_occupants"], ["1"])
        # A stranger to a members-only room is not told its subject.
        self.assertNotIn("muc#roominfo_subject", values)

    def roomInfoSubject(self, client):
        """
        @return: the values of the subject field of the room info
            C{client} gets, or L{None} without the field.
        """
        form = self.query(client, ROOM, ns.DISCO_INFO).query.x
        for f in form.elements(ns.DATA_FORMS, "field"):
            if f["var"] == "muc#roominfo_subject":
                return [str(v) for v in f.elements(ns.DATA_FORMS, "value")]
        return None

    def test_roomInfoSubject(self):
        """
        Room info shows the subject of a public room to anyone; of a
        hidden one, to its occupants and affiliated users only.
        """
        self.createRoom(field("muc#roomconfig_publicroom", "1"))
        self.romeo.send("<message to='%s' type='groupchat'><subject>plans</subject></message>" % (ROOM,))
        self.assertEqual(self.roomInfoSubject(self.rosaline), ["plans"])
        configure(self.romeo, field("muc#roomconfig_publicroom", "0"))
        self.assertIsNone(self.roomInfoSubject(self.rosaline))
        self.assertEqual(self.roomInfoSubject(self.romeo), ["plans"])
        self.juliet.join("room", "Juliet")
        self.assertEqual(self.roomInfoSubject(self.juliet), ["plans"])

    def test_roomInfoOpposites(self):
        self.createRoom(field("muc#roomconfig_moderatedroom", "1") + field("muc#roomconfig_persistentroom", "1")
                        + field("muc#roomconfig_publicroom", "0") + field("muc#roomconfig_whois", "anyone"))
        features = self.features(self.query(self.rosaline, ROOM, ns.DISCO_INFO))
        for feature in ("muc_unsecured", "muc_open", "muc_moderated", "muc_persistent", "muc_hidden",
                        "muc_nonanonymous"):
            self.assertIn(feature, features)

    def test_roomItems(self):
        """
        disco#items of a room is empty for occupants and strangers alike,
        as Prosody answers.
        """
        self.createRoom()
        self.juliet.join("room", "Juliet")
        for client in (self.juliet, self.rosaline):
            answer = self.query(client, ROOM, ns.DISCO_ITEMS)
            self.assertEqual(answer["type"], "result")
            self.assertEqual(list(answer.query.elements()), [])

    def test_unknownNode(self):
        """
        As Prosody: disco#info of a node the room does not know is an empty
        result for that node.
        """
        self.createRoom()
        answer = self.query(self.romeo, ROOM, ns.DISCO_INFO, node="nothing")
        self.assertEqual(answer["type"], "result")
        self.assertEqual(answer.query.getAttribute("node"), "nothing")
        self.assertEqual(list(answer.query.elements()), [])

    def test_servicePing(self):
        answer = self.query(self.romeo, DOMAIN, "urn:xmpp:ping")
        self.assertEqual((answer["type"], answer["from"]), ("result", DOMAIN))
