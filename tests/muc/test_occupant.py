"""
What an occupant keeps of its presence (L{xmuc.muc.occupant.presencePayload}):
the elements others see, detached from the stanza they came in and shared
between occupants whose presence carries the same ones.
"""

from twisted.trial import unittest

from xmuc.muc import occupant
from xmuc.xmpp.stanza import parseElement

CAPS = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
UPDATE = "<x xmlns='vcard-temp:x:update'><photo/></x>"


def presence(payload):
    return parseElement("<presence xmlns='jabber:client' to='room@muc.example/nick'>%s"
                        "<x xmlns='http://jabber.org/protocol/muc'/></presence>" % (payload,))


class PresencePayloadTests(unittest.TestCase):
    def test_detached(self):
        """
        The kept elements have no parent: they do not keep the client's
        presence alive.
        """
        kept = occupant.presencePayload(presence("<show>away</show><status>%s</status>" % ("x" * 600,) + CAPS))
        self.assertEqual([(child.name, child.parent) for child in kept], [("show", None), ("status", None), ("c", None)])

    def test_sharedBetweenOccupants(self):
        """
        The same element in two presences is kept once; different ones and
        long ones are kept as they came.
        """
        first = occupant.presencePayload(presence("<show>away</show>" + CAPS + UPDATE))
        second = occupant.presencePayload(presence("<show>dnd</show>" + CAPS + UPDATE))
        self.assertEqual([a is b for a, b in zip(first, second)], [False, True, True])
        self.assertEqual(str(second[0]), "dnd")
        status = "<status>%s</status>" % ("x" * occupant.SHARED_PAYLOAD_LENGTH,)
        long1, long2 = (occupant.presencePayload(presence(status))[0] for _ in range(2))
        self.assertIsNot(long1, long2)

    def test_bounded(self):
        """
        At most L{occupant.SHARED_PAYLOAD_SIZE} distinct elements are
        shared at once.
        """
        for n in range(occupant.SHARED_PAYLOAD_SIZE + 10):
            occupant.presencePayload(presence("<status>%d</status>" % (n,)))
            self.assertLessEqual(len(occupant._sharedPayload), occupant.SHARED_PAYLOAD_SIZE)
