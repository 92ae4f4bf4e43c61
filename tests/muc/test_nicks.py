"""
Nicknames in their canonical form (L{xmuc.muc.nicks}, and the service's
reading of addresses): a nickname is the resource of the occupant's JID,
so the room writes it prepared (resourceprep maps a trailing variation
selector to nothing), in presences and in errors alike, and a nickname
that only differs by preparation names the same occupant.  Over real
sockets.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import NS_CLIENT, errorCondition, firstChild
from tests.support.database import NS_MUC, ROOM, ServerOnDatabase, statusCodes

#: VARIATION SELECTOR-16, which clients add after emoji and symbols.
VS16 = "\ufe0f"


class CanonicalNickTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.server = ServerOnDatabase(self, {"backend": "memory"}, {"muc": {"lock_new_rooms": "false"}})
        yield self.server.start()
        yield self.server.register("romeo", "juliet")
        self.romeo = yield self.server.login("romeo")
        self.juliet = yield self.server.login("juliet")

    def presencesFrom(self, received, nick=None):
        return [s for s in received if s.name == "presence" and (nick is None or s.getAttribute("from") == ROOM + "/" + nick)]

    @defer.inlineCallbacks
    def test_joinedUnderPreparedNick(self):
        """
        A join with a trailing variation selector makes the occupant of the
        nick without it: the joiner's own presence and what others see come
        from the prepared address.
        """
        received = yield self.romeo.join(ROOM, "Romeo" + VS16)
        own = [s for s in received if s.name == "presence"]
        self.assertEqual([(s.getAttribute("from"), "110" in statusCodes(s)) for s in own], [(ROOM + "/Romeo", True)])
        received = yield self.juliet.join(ROOM, "Juliet")
        self.assertEqual(sorted(s.getAttribute("from") for s in self.presencesFrom(received)),
                         [ROOM + "/Juliet", ROOM + "/Romeo"])

    @defer.inlineCallbacks
    def test_sameOccupant(self):
        """
        A nickname that only differs by preparation is taken (C{conflict},
        from the prepared address); the occupant's presence sent to it is
        an update of its presence, not a nick change; a private message to
        it reaches the occupant.
        """
        yield self.romeo.join(ROOM, "Romeo")
        received = yield self.juliet.join(ROOM, "Romeo" + VS16)
        self.assertEqual(errorCondition(received[-1]), "conflict")
        self.assertEqual(received[-1].getAttribute("from"), ROOM + "/Romeo")
        yield self.juliet.join(ROOM, "Juliet")

        self.romeo.send("<presence xmlns='%s' to='%s/Romeo%s'><show>away</show></presence>" % (NS_CLIENT, ROOM, VS16))
        update = yield self.juliet.waitFor(lambda s: s.name == "presence")
        self.assertEqual((update.getAttribute("from"), update.getAttribute("type"), str(firstChild(update, name="show"))),
                         (ROOM + "/Romeo", None, "away"))
        self.assertNotIn("303", statusCodes(update))

        self.juliet.send("<message xmlns='%s' to='%s/Romeo%s' type='chat' id='pm'><body>Hi</body></message>"
                         % (NS_CLIENT, ROOM, VS16))
        message = yield self.romeo.waitFor(lambda s: s.name == "message" and s.getAttribute("id") == "pm")
        self.assertEqual((message.getAttribute("from"), str(firstChild(message, name="body"))), (ROOM + "/Juliet", "Hi"))

    @defer.inlineCallbacks
    def test_errorsFromPreparedAddress(self):
        """
        Errors answer from the prepared address: a message or an iq to a
        nickname nobody has, a join to a room name written in capitals.
        """
        yield self.romeo.join(ROOM, "Romeo")
        self.romeo.send("<message xmlns='%s' to='%s/Nobody%s' type='chat' id='m1'><body>Hi</body></message>"
                        % (NS_CLIENT, ROOM, VS16))
        error = yield self.romeo.waitFor(lambda s: s.getAttribute("id") == "m1")
        self.assertEqual((error.getAttribute("type"), errorCondition(error), error.getAttribute("from")),
                         ("error", "item-not-found", ROOM + "/Nobody"))
        reply = yield self.romeo.iq("%s/Nobody%s" % (ROOM, VS16), "get", "<query xmlns='jabber:iq:version'/>")
        self.assertEqual((errorCondition(reply), reply.getAttribute("from")), ("item-not-found", ROOM + "/Nobody"))
        self.juliet.send("<presence xmlns='%s' to='%s/Romeo%s' id='j1'><x xmlns='%s'/></presence>"
                         % (NS_CLIENT, ROOM.capitalize(), VS16, NS_MUC))
        error = yield self.juliet.waitFor(lambda s: s.getAttribute("id") == "j1")
        self.assertEqual((errorCondition(error), error.getAttribute("from")), ("conflict", ROOM + "/Romeo"))

    @defer.inlineCallbacks
    def test_voiceGrantedByUnpreparedNick(self):
        """
        A moderator approving a voice request with the nickname written
        with a variation selector grants voice to that occupant.
        """
        yield self.romeo.join(ROOM, "Romeo")
        reply = yield self.romeo.configure(ROOM, "<field var='muc#roomconfig_moderatedroom'><value>1</value></field>")
        self.assertEqual(reply.getAttribute("type"), "result")
        yield self.juliet.join(ROOM, "Juliet")
        self.romeo.send(
            "<message xmlns='%s' to='%s'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
            "<field var='muc#role'><value>participant</value></field>"
            "<field var='muc#roomnick'><value>Juliet%s</value></field>"
            "<field var='muc#request_allow'><value>true</value></field></x></message>" % (NS_CLIENT, ROOM, VS16))
        granted = yield self.juliet.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == ROOM + "/Juliet")
        item = firstChild(firstChild(granted, "http://jabber.org/protocol/muc#user", "x"), name="item")
        self.assertEqual(item.getAttribute("role"), "participant")
