"""
L{SessionManager.undelivered}: what becomes of the stanzas a session never
acknowledged once it ended, as Prosody's mod_smacks with mod_offline.
"""

from twisted.trial import unittest

from xmuc.xmpp import ns

from test_sm_support import SMHarness, stanza

JULIET = "juliet@localhost"
ROMEO = "romeo@localhost"


class UndeliveredTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.romeo = self.h.connect(ROMEO, "r")
        self.juliet = self.h.connect(JULIET, "phone")
        self.h.sm.unbind(self.juliet)
        self.romeo.take()

    def stored(self):
        return self.h.successResultOf(self.h.storage.offline.count(JULIET))

    def test_messagesKept(self):
        """
        Chat and normal messages (a missing type is normal) go to offline
        storage, with nothing bounced.
        """
        self.h.sm.undelivered(self.juliet, [
            stanza("<message from='%s/r' to='%s/phone' type='chat'><body>1</body></message>" % (ROMEO, JULIET)),
            stanza("<message from='%s/r' to='%s/phone'><body>2</body></message>" % (ROMEO, JULIET)),
        ])
        self.assertEqual(self.stored(), 2)
        self.assertEqual(self.romeo.take(), [])

    def test_noAnswerNeeded(self):
        """
        Presence, groupchat, errors and iq results are dropped.
        """
        self.h.sm.undelivered(self.juliet, [
            stanza("<presence from='%s/r' to='%s/phone'/>" % (ROMEO, JULIET)),
            stanza("<message from='room@conference.localhost/n' to='%s/phone' type='groupchat'/>" % (JULIET,)),
            stanza("<message from='%s/r' to='%s/phone' type='error'/>" % (ROMEO, JULIET)),
            stanza("<iq from='%s/r' to='%s/phone' type='result' id='1'/>" % (ROMEO, JULIET)),
        ])
        self.assertEqual(self.stored(), 0)
        self.assertEqual(self.romeo.take(), [])

    def test_othersBounced(self):
        """
        An iq get and a headline are bounced with C{recipient-unavailable}.
        """
        self.h.sm.undelivered(self.juliet, [
            stanza("<iq from='%s/r' to='%s/phone' type='get' id='v'><query xmlns='%s'/></iq>"
                   % (ROMEO, JULIET, ns.VERSION)),
            stanza("<message from='%s/r' to='%s/phone' type='headline'/>" % (ROMEO, JULIET)),
        ])
        bounced = self.romeo.take()
        self.assertEqual([s.name for s in bounced], ["iq", "message"])
        for element in bounced:
            self.assertEqual(element["type"], "error")
            (error,) = [child for child in element.elements() if child.name == "error"]
            conditions = [c.name for c in error.elements() if c.uri == ns.XMPP_STANZAS]
            self.assertEqual(conditions, ["recipient-unavailable"])
        self.assertEqual(self.stored(), 0)

    def test_fetchableFromTheArchive(self):
        """
        Archive results, and messages carrying the stanza-id of the
        account's archive when its client queried it, are not kept.
        """
        archived = ("<message from='%s/r' to='%s/phone' type='chat'><body>a</body>"
                    "<stanza-id xmlns='%s' by='%s' id='x'/></message>" % (ROMEO, JULIET, ns.STANZA_ID, JULIET))
        result = ("<message from='%s' to='%s/phone'><result xmlns='urn:xmpp:mam:2' id='r'/></message>"
                  % (JULIET, JULIET))
        self.h.sm.undelivered(self.juliet, [stanza(result), stanza(archived)])
        # Not queried: only the archive result is dropped.
        self.assertEqual(self.stored(), 1)
        self.juliet.mamRequested = True
        self.h.sm.undelivered(self.juliet, [stanza(archived)])
        self.assertEqual(self.stored(), 1)
