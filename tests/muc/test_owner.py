"""
Owner configuration (muc#owner form get/submit, status codes) and room
destruction (XEP-0045 10.1-10.9); a room destroyed while a change of it is
being stored stays forgotten.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.muc import (
    HeldStorage,
    MUCTestCase,
    ROOM,
    codes,
    condition,
    configure,
    field,
    iqResult,
    item,
    layout,
    mucX,
)
from xmuc.testing.muc import DOMAIN, MUCHarness
from xmuc.xmpp import ns

FIELDS = [
    "muc#roomconfig_roomname", "muc#roomconfig_roomdesc", "muc#roomconfig_lang",
    "muc#roomconfig_persistentroom", "muc#roomconfig_publicroom", "muc#roomconfig_moderatedroom",
    "muc#roomconfig_membersonly", "muc#roomconfig_passwordprotectedroom", "muc#roomconfig_roomsecret",
    "muc#roomconfig_whois", "muc#roomconfig_maxusers", "muc#roomconfig_changesubject",
    "muc#roomconfig_allowinvites", "muc#roomconfig_allowpm", "muc#roomconfig_presencebroadcast",
    "muc#roomconfig_historylength", "muc#roomconfig_enablelogging",
]


class ConfigFormTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom()
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def getForm(self, client):
        client.send("<iq id='get1' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.MUC_OWNER))
        [answer] = client.received()
        return answer

    def fields(self, answer):
        form = answer.query.x
        return {f["var"]: (f.getAttribute("type"), [str(v) for v in f.elements(ns.DATA_FORMS, "value")])
                for f in form.elements(ns.DATA_FORMS, "field")}

    def test_form(self):
        answer = self.getForm(self.romeo)
        self.assertEqual(answer["type"], "result")
        self.assertEqual(answer.query.uri, ns.MUC_OWNER)
        self.assertEqual(answer.query.x["type"], "form")
        fields = self.fields(answer)
        self.assertEqual(fields["FORM_TYPE"], ("hidden", [ns.MUC_ROOMCONFIG]))
        for var in FIELDS:
            self.assertIn(var, fields)
        self.assertEqual(fields["muc#roomconfig_whois"], ("list-single", ["moderators"]))
        self.assertEqual(fields["muc#roomconfig_presencebroadcast"][1], ["moderator", "participant", "visitor"])
        self.assertEqual(fields["muc#roomconfig_persistentroom"], ("boolean", ["0"]))
        self.assertEqual(fields["muc#roomconfig_historylength"][1], ["20"])

    def test_nonOwnerForbidden(self):
        self.assertEqual(condition(self.getForm(self.juliet))[0], "forbidden")
        [error] = configure(self.juliet, field("muc#roomconfig_roomname", "Mine"))
        self.assertEqual(condition(error)[0], "forbidden")
        self.assertEqual(self.room().config.name, "")

    def test_submitThenNotice(self):
        """
        The iq result comes first, then the 104 message to every occupant.
        """
        result, notice = configure(self.romeo, field("muc#roomconfig_roomname", "Balcony"))
        self.assertEqual((result.name, result["type"]), ("iq", "result"))
        self.assertEqual((notice.name, notice["type"], notice["from"]), ("message", "groupchat", ROOM))
        self.assertEqual(codes(notice), ["104"])
        [notice] = self.juliet.received()
        self.assertEqual(codes(notice), ["104"])
        self.assertEqual(self.room().config.name, "Balcony")

    def test_unchangedNoNotice(self):
        [result] = configure(self.romeo, field("muc#roomconfig_roomname", ""))
        self.assertEqual(result["type"], "result")
        self.assertEqual(self.juliet.received(), [])

    def test_roundTrip(self):
        """
        Submitting the form as received changes nothing.
        """
        fields = self.fields(self.getForm(self.romeo))
        before = self.room().config.toDict()
        submitted = "".join(field(var, *values) for var, (_, values) in fields.items() if var != "FORM_TYPE")
        result, *notices = configure(self.romeo, submitted)
        self.assertEqual(result["type"], "result")
        self.assertEqual(self.room().config.toDict(), before)
        # As Prosody: the archiving field (mam) announces itself, unchanged.
        self.assertEqual([codes(notice) for notice in notices], [["170"]])

    def test_badValuesNamed(self):
        """
        Bad values are refused with not-acceptable naming the field; nothing
        of the form is applied.
        """
        for var, value in [("muc#roomconfig_whois", "everyone"), ("muc#roomconfig_maxusers", "-3"),
                           ("muc#roomconfig_persistentroom", "maybe"),
                           ("muc#roomconfig_presencebroadcast", "admin")]:
            [error] = configure(self.romeo, field("muc#roomconfig_roomname", "X") + field(var, value))
            self.assertEqual(condition(error)[0], "not-acceptable")
            self.assertIn(var, str(error.error.text))
        self.assertEqual(self.room().config.name, "")

    def test_wrongFormType(self):
        self.romeo.send("<iq id='c' to='%s' type='set'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>"
                        "<field var='FORM_TYPE'><value>urn:other</value></field>%s</x></query></iq>"
                        % (ROOM, ns.MUC_OWNER, field("muc#roomconfig_roomname", "x")))
        [error] = self.romeo.received()
        self.assertEqual(condition(error)[0], "bad-request")

    def test_passwordRules(self):
        """
        A secret makes the room protected; passwordprotectedroom=0 clears
        it; protected without a secret is not acceptable; an empty secret
        field clears it.
        """
        configure(self.romeo, field("muc#roomconfig_roomsecret", "s"))
        self.assertEqual(self.room().config.password, "s")
        configure(self.romeo, field("muc#roomconfig_passwordprotectedroom", "0"))
        self.assertEqual(self.room().config.password, "")
        [error] = configure(self.romeo, field("muc#roomconfig_passwordprotectedroom", "1"))
        self.assertEqual(condition(error)[0], "not-acceptable")
        configure(self.romeo, field("muc#roomconfig_roomsecret", "s"))
        configure(self.romeo, "<field var='muc#roomconfig_roomsecret'></field>")
        self.assertEqual(self.room().config.password, "")

    def test_anonymityCodes(self):
        """
        172/173 announce anonymity changes (104 only with other changes).
        """
        result, notice = configure(self.romeo, field("muc#roomconfig_whois", "anyone"))
        self.assertEqual(codes(notice), ["172"])
        result, notice = configure(self.romeo, field("muc#roomconfig_whois", "moderators")
                                   + field("muc#roomconfig_roomname", "x"))
        self.assertEqual(codes(notice), ["104", "173"])

    def test_loggingCodes(self):
        result, notice = configure(self.romeo, field("muc#roomconfig_enablelogging", "1"))
        self.assertEqual(codes(notice), ["170"])
        result, notice = configure(self.romeo, field("muc#roomconfig_enablelogging", "0"))
        self.assertEqual(codes(notice), ["171"])

    def test_membersOnlyRemovesOthers(self):
        """
        Switching to members-only removes non-members with status 322.
        """
        configure(self.romeo, field("muc#roomconfig_membersonly", "1"))
        received = self.juliet.received()
        [gone] = [s for s in received if s.name == "presence"]
        self.assertEqual((gone["type"], codes(gone)), ("unavailable", ["322", "110"]))
        self.assertEqual(list(self.room().occupants), ["Romeo"])

    def test_maxusersBoundedByService(self):
        harness = MUCHarness(muc={"max_occupants": "10"})
        owner = harness.client("user@localhost/a")
        owner.join("room", "Owner")
        [error] = configure(owner, field("muc#roomconfig_maxusers", "11"))
        self.assertEqual(condition(error)[0], "not-acceptable")
        result = configure(owner, field("muc#roomconfig_maxusers", "5"))[0]
        self.assertEqual(result["type"], "result")

    def maxusersField(self, client):
        """
        @return: C{(type, values, option values)} of the maxusers field.
        """
        client.send("<iq id='get1' to='%s' type='get'><query xmlns='%s'/></iq>" % (ROOM, ns.MUC_OWNER))
        [answer] = client.received()
        for f in answer.query.x.elements(ns.DATA_FORMS, "field"):
            if f.getAttribute("var") == "muc#roomconfig_maxusers":
                return (
                    f.getAttribute("type"),
                    [str(v) for v in f.elements(ns.DATA_FORMS, "value")],
                    [str(o.value) for o in f.elements(ns.DATA_FORMS, "option")],
                )

    def test_maxusersIsAList(self):
        """
        The limit is a list-single, as XEP-0045's form registry types it,
        offering the choices of its example form and C{none} (the default
        when the service sets no limit); a number outside the choices is
        still accepted and then offered too, so the form shows it.
        """
        self.assertEqual(
            self.maxusersField(self.romeo),
            ("list-single", ["none"], ["10", "20", "30", "50", "100", "none"]),
        )
        result = configure(self.romeo, field("muc#roomconfig_maxusers", "37"))[0]
        self.assertEqual(result["type"], "result")
        self.assertEqual(self.room().config.maxUsers, 37)
        self.assertEqual(
            self.maxusersField(self.romeo),
            ("list-single", ["37"], ["10", "20", "30", "37", "50", "100", "none"]),
        )
        configure(self.romeo, field("muc#roomconfig_maxusers", "none"))
        self.assertEqual(self.room().config.maxUsers, 0)

    def test_maxusersChoicesBoundedByService(self):
        """
        Under a service limit, only the choices up to it are offered, and
        the service's limit itself.
        """
        harness = MUCHarness(muc={"max_occupants": "25"})
        owner = harness.client("user@localhost/a")
        owner.join("room", "Owner")
        owner.received()
        self.assertEqual(self.maxusersField(owner), ("list-single", ["25"], ["10", "20", "25"]))

    def test_historyLengthClamped(self):
        configure(self.romeo, field("muc#roomconfig_historylength", "100000"))
        self.assertEqual(self.room().config.historyLength, self.harness.muc.maxHistoryLength)

    def test_presenceBroadcastStored(self):
        configure(self.romeo, field("muc#roomconfig_presencebroadcast", "moderator", "none"))
        self.assertEqual(self.room().config.presenceBroadcast, ["moderator", "none"])


class DestroyTests(MUCTestCase):
    def setUp(self):
        MUCTestCase.setUp(self)
        self.createRoom(field("muc#roomconfig_persistentroom", "1"))
        self.juliet.join("room", "Juliet")
        self.romeo.received()

    def destroy(self, client, body):
        client.send("<iq id='d1' to='%s' type='set'><query xmlns='%s'>%s</query></iq>" % (ROOM, ns.MUC_OWNER, body))

    def test_destroy(self):
        """
        Every occupant is told with the reason and alternate venue; the
        owner gets the result; the room is gone from memory and storage.
        """
        self.destroy(self.romeo, "<destroy jid='other@%s'><reason>Moving</reason></destroy>" % (DOMAIN,))
        received = self.juliet.received()
        own = [s for s in received if s["from"] == ROOM + "/Juliet"][0]
        self.assertEqual(own["type"], "unavailable")
        self.assertEqual(layout(own), ["destroy", "item", "status:110"])
        destroy = mucX(own).destroy
        self.assertEqual((destroy["jid"], str(destroy.reason)), ("other@" + DOMAIN, "Moving"))
        self.assertEqual(item(own)["role"], "none")
        romeo = self.romeo.received()
        self.assertEqual(romeo[-1].name, "iq")
        self.assertEqual(romeo[-1]["type"], "result")
        self.assertIsNone(self.room())
        stored = []
        self.harness.storage.rooms.get(ROOM).addCallback(stored.append)
        self.assertEqual(stored, [None])
        # A persistent room leaves a tombstone: its name is gone.
        [error] = self.rosaline.join("room", "Rosaline")
        self.assertEqual(condition(error)[0], "gone")
        gone = error.error.firstChildElement()
        self.assertEqual(str(gone), "xmpp:other@%s?join" % (DOMAIN,))
        self.assertEqual(error.error["by"], DOMAIN)

    def test_temporaryRoomNameFree(self):
        configure(self.romeo, field("muc#roomconfig_persistentroom", "0"))
        self.destroy(self.romeo, "<destroy/>")
        self.assertEqual(codes(self.rosaline.join("room", "Rosaline")[0]), ["201", "110"])

    def test_adminRecreates(self):
        self.harness.admins.add("user3@localhost")
        self.destroy(self.romeo, "<destroy/>")
        self.assertEqual(codes(self.rosaline.join("room", "Rosaline")[0]), ["201", "110"])

    def test_tombstoneSurvivesRestart(self):
        self.destroy(self.romeo, "<destroy/>")
        d = self.harness.restart()

        def restarted(harness):
            [error] = harness.client("user3@localhost/x").join("room", "Rosaline")
            self.assertEqual(condition(error)[0], "gone")

        return d.addCallback(restarted)

    def test_nonOwnerCannotDestroy(self):
        self.destroy(self.juliet, "<destroy/>")
        [error] = self.juliet.received()
        self.assertEqual(condition(error)[0], "forbidden")
        self.assertIsNotNone(self.room())


class DestroyWhileSavingTests(unittest.TestCase):
    """
    A room destroyed while a change of it is being stored: the storage
    forgets it after that save, so the save cannot put it back (it would
    come back at the next start).
    """

    @defer.inlineCallbacks
    def test_destroyedRoomStaysForgotten(self):
        storage = HeldStorage()
        harness = MUCHarness(storage=storage)
        romeo = harness.client("romeo@localhost/r")
        romeo.join("room", "Romeo")
        configure(romeo, field("muc#roomconfig_persistentroom", "1"))
        storage.rooms.holding = True
        configure(romeo, field("muc#roomconfig_roomname", "Secret"), id="first")
        romeo.send("<iq id='d1' to='%s' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                   "<destroy/></query></iq>" % (ROOM,))
        self.assertNotIn(ROOM, harness.muc.rooms)
        storage.rooms.release()
        received = romeo.received()
        self.assertEqual(iqResult(received, "first")["type"], "result")
        self.assertEqual(iqResult(received, "d1")["type"], "result")
        self.assertIsNone((yield storage.rooms.get(ROOM)))
