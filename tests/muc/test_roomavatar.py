"""
Room avatars (XEP-0486, L{xmuc.muc.roomavatar}): an owner sets the room's
vCard photo; anyone reads the vCard at the room's bare JID; the room's
disco#info has the C{vcard-temp} feature and the photo's hash in
C{muc#roominfo_avatarhash}; occupants are told of a change (a presence of
the room with the hash, status 104) and joiners get the hash; the vCard is
stored with the room.  Over real sockets, on an SQLite file for the
restart.
"""

import base64
import hashlib
import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.client import errorCondition, firstChild
from tests.support.database import (
    NS_DISCO_INFO,
    ROOM,
    ServerOnDatabase,
    assertResult,
    field,
    formFields,
    statusCodes,
)

NS_VCARD = "vcard-temp"
NS_VCARD_UPDATE = "vcard-temp:x:update"

PHOTO = b"\x89PNG\r\n\x1a\n the balcony at night"
HASH = hashlib.sha1(PHOTO).hexdigest()


def vcard(photo=PHOTO, name="The Balcony"):
    """
    @return: the XML of a vCard with C{name} and C{photo} (bytes or
        L{None}).
    """
    parts = "<FN>%s</FN>" % (name,)
    if photo is not None:
        parts += "<PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL></PHOTO>" % (base64.b64encode(photo).decode("ascii"),)
    return "<vCard xmlns='%s'>%s</vCard>" % (NS_VCARD, parts)


def isAvatarPresence(stanza):
    return stanza.name == "presence" and stanza.getAttribute("from") == ROOM and firstChild(stanza, NS_VCARD_UPDATE, "x") is not None


def presenceHash(stanza):
    return str(firstChild(firstChild(stanza, NS_VCARD_UPDATE, "x"), name="photo"))


class RoomAvatarTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        storage = {"backend": "sqlite", "path": os.path.abspath(self.mktemp()) + ".sqlite"}
        self.server = ServerOnDatabase(self, storage, {"muc": {"lock_new_rooms": "false"}, "server": {"vcard_max_size": "2048"}})
        yield self.server.start()
        yield self.server.register("romeo", "juliet", "nurse")
        self.romeo = yield self.server.login("romeo")
        self.juliet = yield self.server.login("juliet")
        yield self.romeo.join(ROOM, "Romeo")
        assertResult((yield self.romeo.configure(ROOM, field("muc#roomconfig_persistentroom", "1"))))
        yield self.juliet.join(ROOM, "Juliet")

    @defer.inlineCallbacks
    def roomInfo(self, client):
        """
        @return: Deferred firing with C{(features, roominfo fields)}.
        """
        reply = yield client.iq(ROOM, "get", "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        assertResult(reply)
        query = firstChild(reply, NS_DISCO_INFO, "query")
        return [f.getAttribute("var") for f in query.elements(NS_DISCO_INFO, "feature")], formFields(query)

    @defer.inlineCallbacks
    def photoOf(self, client):
        """
        @return: Deferred firing with the decoded photo of the room's vCard
            and its FN, or L{None} for an empty vCard.
        """
        reply = yield client.iq(ROOM, "get", "<vCard xmlns='%s'/>" % (NS_VCARD,))
        assertResult(reply)
        card = firstChild(reply, NS_VCARD, "vCard")
        photo = firstChild(card, NS_VCARD, "PHOTO")
        if photo is None:
            return None
        return base64.b64decode(str(firstChild(photo, NS_VCARD, "BINVAL"))), str(firstChild(card, NS_VCARD, "FN"))

    @defer.inlineCallbacks
    def test_ownerSetsAvatar(self):
        """
        Before: an empty vCard, no hash in disco#info.  An owner's vCard
        set: occupants get the room's presence with the hash and a status
        104 message; anyone (not an occupant) reads the photo; disco#info
        lists the hash.
        """
        features, fields = yield self.roomInfo(self.juliet)
        self.assertIn(NS_VCARD, features)
        self.assertNotIn("muc#roominfo_avatarhash", fields)
        self.assertIsNone((yield self.photoOf(self.juliet)))

        assertResult((yield self.romeo.iq(ROOM, "set", vcard())))
        announced = yield self.juliet.waitFor(isAvatarPresence)
        self.assertEqual(presenceHash(announced), HASH)
        notice = yield self.juliet.waitFor(lambda s: s.name == "message" and s.getAttribute("from") == ROOM)
        self.assertEqual(statusCodes(notice), ["104"])

        nurse = yield self.server.login("nurse")
        self.assertEqual((yield self.photoOf(nurse)), (PHOTO, "The Balcony"))
        features, fields = yield self.roomInfo(nurse)
        self.assertEqual(fields["muc#roominfo_avatarhash"], [HASH])

    @defer.inlineCallbacks
    def test_refused(self):
        """
        A non-owner gets C{forbidden}, a vCard above C{[server]
        vcard_max_size} C{not-acceptable}, a photo not in base64
        C{bad-request}; the room keeps no avatar.
        """
        reply = yield self.juliet.iq(ROOM, "set", vcard())
        self.assertEqual(errorCondition(reply), "forbidden")
        reply = yield self.romeo.iq(ROOM, "set", vcard(photo=b"x" * 2048))
        self.assertEqual(errorCondition(reply), "not-acceptable")
        reply = yield self.romeo.iq(ROOM, "set", "<vCard xmlns='%s'><PHOTO><BINVAL>not base64!</BINVAL></PHOTO></vCard>" % (NS_VCARD,))
        self.assertEqual(errorCondition(reply), "bad-request")
        self.assertIsNone((yield self.photoOf(self.juliet)))
        features, fields = yield self.roomInfo(self.juliet)
        self.assertNotIn("muc#roominfo_avatarhash", fields)

    @defer.inlineCallbacks
    def test_keptAcrossRestart(self):
        """
        The vCard is stored with the room: after a restart it is served,
        its hash is in disco#info, and a joiner gets the room's presence
        with the hash.
        """
        assertResult((yield self.romeo.iq(ROOM, "set", vcard())))
        yield self.server.stop()
        yield self.server.start()
        nurse = yield self.server.login("nurse")
        self.assertEqual((yield self.photoOf(nurse)), (PHOTO, "The Balcony"))
        features, fields = yield self.roomInfo(nurse)
        self.assertEqual(fields["muc#roominfo_avatarhash"], [HASH])
        yield nurse.join(ROOM, "Nurse")
        announced = yield nurse.waitFor(isAvatarPresence)
        self.assertEqual(presenceHash(announced), HASH)

    @defer.inlineCallbacks
    def test_avatarRemoved(self):
        """
        A vCard without a photo removes the avatar: occupants get an empty
        C{<photo/>}, disco#info has no hash any more.
        """
        assertResult((yield self.romeo.iq(ROOM, "set", vcard())))
        yield self.juliet.waitFor(isAvatarPresence)
        assertResult((yield self.romeo.iq(ROOM, "set", vcard(photo=None))))
        announced = yield self.juliet.waitFor(isAvatarPresence)
        self.assertEqual(presenceHash(announced), "")
        features, fields = yield self.roomInfo(self.juliet)
        self.assertNotIn("muc#roominfo_avatarhash", fields)
        self.assertIsNone((yield self.photoOf(self.juliet)))
