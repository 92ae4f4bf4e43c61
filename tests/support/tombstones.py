"""
A server on an SQLite file with in-band registration open, rooms unlocked
and C{prince@localhost} as server administrator, for the tombstone tests:
Romeo's two persistent rooms where Juliet has a place, in-band
registration on a new stream, and C{xmucctl} on the server's tap.conf.
"""

import os
import sys

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.support.database import (
    NS_REGISTER,
    PASSWORD,
    SERVICE,
    ServerOnDatabase,
    assertResult,
    field,
)
from tests.support.client import NS_CLIENT, connectClient

ROOM = "capulet@" + SERVICE
QUIET = "crypt@" + SERVICE


def registerIQ(username, password):
    return ("<iq xmlns='%s' type='set' id='reg'><query xmlns='%s'><username>%s</username>"
            "<password>%s</password></query></iq>" % (NS_CLIENT, NS_REGISTER, username, password))


class TombstoneTestCase(unittest.TestCase):
    extra = {}

    def setUp(self):
        self.database = os.path.abspath(self.mktemp()) + ".sqlite"
        extra = {"c2s": {"allow_registration": "true"}, "muc": {"lock_new_rooms": "false"},
                 "server": {"admins": "prince@localhost"}}
        for section, values in self.extra.items():
            extra.setdefault(section, {}).update(values)
        self.server = ServerOnDatabase(self, {"backend": "sqlite", "path": self.database}, extra)

    @defer.inlineCallbacks
    def registerOverTheWire(self, username, password=PASSWORD):
        """
        @return: Deferred firing with the reply to an in-band registration
            on a new stream.
        """
        client = yield connectClient(self.server.running.c2sPort)
        self.server.clients.append(client)
        yield client.openStream()
        reply = yield client.iq(registerIQ(username, password))
        return reply

    def xmucctl(self, *arguments):
        """
        @return: Deferred firing with C{(out, err, code)} of xmucctl on our
            tap.conf.
        """
        xmucctl = os.path.join(os.path.dirname(sys.executable), "xmucctl")
        return utils.getProcessOutputAndValue(
            xmucctl, ("-c", self.server.path) + arguments, env=dict(os.environ))

    @defer.inlineCallbacks
    def makeRooms(self):
        """
        Romeo owns two persistent rooms where Juliet has a place: member
        (reserved nick) of the first, admin of the second, which nobody
        occupies.
        """
        romeo = yield self.server.login("romeo")
        for room, affiliation in ((ROOM, "member"), (QUIET, "admin")):
            yield romeo.join(room, "Romeo")
            assertResult((yield romeo.configure(room, field("muc#roomconfig_persistentroom", "1"))))
            assertResult((yield romeo.setAffiliation(room, "juliet@localhost", affiliation,
                                                     "Jules" if affiliation == "member" else None)))
        romeo.send("<presence xmlns='%s' to='%s/Romeo' type='unavailable'/>" % (NS_CLIENT, QUIET))
        yield romeo.waitFor(lambda s: s.name == "presence" and s.getAttribute("from") == QUIET + "/Romeo")
        return romeo

    @defer.inlineCallbacks
    def assertForgotten(self, romeo):
        """
        Juliet has no affiliation left in either room.
        """
        self.assertEqual((yield romeo.affiliationList(ROOM, "member")), {})
        self.assertEqual((yield romeo.affiliationList(QUIET, "admin")), {})
