"""
Tests for presence in L{xmuc.session} (RFC 6121 section 4): broadcast, probes,
directed presence, unavailable presence when sessions end, and what happens
to the contacts of a deleted account.
"""

from twisted.trial import unittest

from test_sm import errorCondition
from test_sm_support import SMHarness, stanza

from xmuc.hooks import ACCOUNT_DELETED


def types(stanzas):
    return [s.getAttribute("type") for s in stanzas]


class BroadcastTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        for a, b, sub in [
            ("juliet@localhost", "romeo@localhost", "both"),
            ("romeo@localhost", "juliet@localhost", "both"),
            ("juliet@localhost", "nurse@localhost", "from"),
            ("nurse@localhost", "juliet@localhost", "to"),
            ("juliet@localhost", "benvolio@localhost", "to"),
            ("benvolio@localhost", "juliet@localhost", "from"),
        ]:
            self.h.setRoster(a, b, subscription=sub)
            self.h.createAccount(a)
        self.romeo = self.h.connect("romeo@localhost", "orchard")
        self.nurse = self.h.connect("nurse@localhost", "kitchen")
        self.benvolio = self.h.connect("benvolio@localhost", "street")
        self.stranger = self.h.connect("tybalt@localhost", "street")

    def test_initialPresence(self):
        other = self.h.connect("juliet@localhost", "chamber")
        for session in (self.romeo, self.nurse):
            session.take()
        juliet = self.h.connect("juliet@localhost", "balcony", available=False)
        self.h.send(juliet, "<presence><show>chat</show><priority>2</priority></presence>")
        self.assertEqual(juliet.priority, 2)
        # Contacts with 'from'/'both' see it, to their bare JID.
        for contact in (self.romeo, self.nurse):
            (seen,) = contact.take("presence")
            self.assertEqual(seen["from"], "juliet@localhost/balcony")
            self.assertEqual(str(seen.show), "chat")
        self.assertEqual(self.benvolio.take("presence"), [])
        self.assertEqual(self.stranger.take(), [])
        # So do all her resources, the sender included.
        (seen,) = other.take("presence")
        self.assertEqual(seen["to"], "juliet@localhost/chamber")
        received = juliet.take("presence")
        senders = sorted(p["from"] for p in received)
        # Her own reflection, her other resource, and the answers to the
        # probes sent to 'to'/'both' contacts (Romeo and Benvolio).
        self.assertEqual(
            senders,
            [
                "benvolio@localhost/street",
                "juliet@localhost/balcony",
                "juliet@localhost/chamber",
                "romeo@localhost/orchard",
            ],
        )
        self.assertEqual(set(p["to"] for p in received), {"juliet@localhost/balcony"})

    def test_probeAnswerWhenContactOffline(self):
        self.h.sm.unbind(self.romeo)
        juliet = self.h.connect("juliet@localhost", "balcony", available=False)
        self.h.send(juliet, "<presence/>")
        unavailable = [p for p in juliet.take("presence") if p.getAttribute("type") == "unavailable"]
        self.assertEqual([p["from"] for p in unavailable], ["romeo@localhost"])

    def test_presenceUpdateAndUnavailable(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.romeo.take()
        self.nurse.take()
        self.h.send(juliet, "<presence><show>away</show></presence>")
        self.assertEqual(len(self.romeo.take("presence")), 1)
        self.assertEqual(len(self.nurse.take("presence")), 1)
        # An update sends no probes: only her own reflection comes back.
        self.assertEqual([p["from"] for p in juliet.take("presence")], ["juliet@localhost/balcony"])
        self.h.send(juliet, "<presence type='unavailable'><status>bye</status></presence>")
        (gone,) = self.romeo.take("presence")
        self.assertEqual(gone["type"], "unavailable")
        self.assertEqual(str(gone.status), "bye")
        self.assertEqual(types(self.nurse.take("presence")), ["unavailable"])
        self.assertIsNone(juliet.presence)
        # Unavailable again: nothing more to say.
        juliet.take()
        self.h.send(juliet, "<presence type='unavailable'/>")
        self.assertEqual(self.romeo.take(), [])

    def test_unbindBroadcastsUnavailable(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        other = self.h.connect("juliet@localhost", "chamber")
        self.romeo.take()
        juliet.take()
        self.h.sm.unbind(other)
        (gone,) = self.romeo.take("presence")
        self.assertEqual((gone["type"], gone["from"]), ("unavailable", "juliet@localhost/chamber"))
        (gone,) = juliet.take("presence")
        self.assertEqual(gone["to"], "juliet@localhost/balcony")
        self.assertEqual(self.benvolio.take(), [])

    def test_unbindWithoutPresence(self):
        juliet = self.h.connect("juliet@localhost", "balcony", available=False)
        self.h.sm.unbind(juliet)
        self.assertEqual(self.romeo.take(), [])

    def test_presenceToOfflineResourceDropped(self):
        self.h.send(self.stranger, "<presence to='romeo@localhost/gone'/>")
        self.assertEqual(self.romeo.take(), [])
        self.assertEqual(self.stranger.take(), [])

    def test_presenceToBareJIDGoesToAvailableResources(self):
        hidden = self.h.connect("romeo@localhost", "hidden", available=False)
        self.h.send(self.stranger, "<presence to='romeo@localhost'/>")
        self.assertEqual(len(self.romeo.take("presence")), 1)
        self.assertEqual(hidden.take(), [])

    def test_presenceToUnknownUserDropped(self):
        self.h.send(self.stranger, "<presence to='nobody@localhost'/>")
        self.h.send(self.stranger, "<presence to='nobody@localhost' type='unsubscribe'/>")
        self.assertEqual(self.stranger.take(), [])

    def test_probeFromClientDropped(self):
        self.h.send(self.stranger, "<presence to='romeo@localhost' type='probe'/>")
        self.assertEqual(self.romeo.take(), [])
        self.assertEqual(self.stranger.take(), [])

    def test_probes(self):
        """
        Probes are answered from the roster: presence for subscribers,
        'unsubscribed' for the others, 'unsubscribed' for unknown users.
        """
        juliet = self.h.connect("juliet@localhost", "balcony")
        juliet.take()
        self.romeo.take()
        probe = "<presence type='probe' from='%s' to='%s'/>"
        self.h.router.route(stanza(probe % ("romeo@localhost/orchard", "juliet@localhost")))
        (answer,) = self.romeo.take("presence")
        self.assertEqual((answer["from"], answer["to"]), ("juliet@localhost/balcony", "romeo@localhost/orchard"))
        self.assertIsNone(answer.getAttribute("type"))
        # Tybalt is not subscribed: he learns nothing, and the
        # 'unsubscribed' answer changes nothing in his (empty) roster.
        self.h.router.route(stanza(probe % ("tybalt@localhost/street", "juliet@localhost")))
        self.assertEqual(self.stranger.take(), [])
        # He believes he is subscribed: the answer corrects his roster.
        self.h.setRoster("tybalt@localhost", "juliet@localhost", subscription="to")
        self.h.setRoster("tybalt@localhost", "nobody@localhost", subscription="to")
        self.h.router.route(stanza(probe % ("tybalt@localhost/street", "juliet@localhost")))
        self.h.router.route(stanza(probe % ("tybalt@localhost/street", "nobody@localhost")))
        answers = self.stranger.take("presence")
        self.assertEqual(types(answers), ["unsubscribed", "unsubscribed"])
        self.assertEqual([a["from"] for a in answers], ["juliet@localhost", "nobody@localhost"])
        for contact in ("juliet@localhost", "nobody@localhost"):
            self.assertEqual(self.h.roster("tybalt@localhost")[contact]["subscription"], "none")
        self.assertEqual(juliet.take(), [])


class DirectedPresenceTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.romeo = self.h.connect("romeo@localhost", "orchard")

    def test_directedPresenceTrackedAndEndedOnUnbind(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(juliet, "<presence to='room@conference.localhost/Jul'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        self.h.send(juliet, "<presence to='other@conference.localhost/J'/>")
        self.h.send(juliet, "<presence to='romeo@localhost/orchard'/>")
        self.assertEqual(len(self.romeo.take("presence")), 1)
        self.assertEqual(
            juliet.directedPresence,
            {"room@conference.localhost/Jul", "other@conference.localhost/J", "romeo@localhost/orchard"},
        )
        # Leaving one room explicitly stops tracking it.
        self.h.send(juliet, "<presence to='other@conference.localhost/J' type='unavailable'/>")
        self.assertNotIn("other@conference.localhost/J", juliet.directedPresence)
        del self.h.routed[:]
        self.h.sm.unbind(juliet)
        (left,) = self.h.routed
        self.assertEqual(left["type"], "unavailable")
        self.assertEqual((left["from"], left["to"]), ("juliet@localhost/balcony", "room@conference.localhost/Jul"))
        (gone,) = self.romeo.take("presence")
        self.assertEqual((gone["type"], gone["to"]), ("unavailable", "romeo@localhost/orchard"))

    def test_directedPresenceWithoutBroadcast(self):
        """
        A session that never sent broadcast presence (a bot joining a room)
        still leaves its rooms when it disconnects.
        """
        bot = self.h.connect("bot@localhost", "x", available=False)
        self.h.send(bot, "<presence to='room@conference.localhost/bot'/>")
        (join,) = self.h.routed
        self.assertEqual(join["from"], "bot@localhost/x")
        self.assertIsNone(bot.presence)
        self.h.sm.unbind(bot)
        self.assertEqual(types(self.h.routed), [None, "unavailable"])

    def test_broadcastUnavailableEndsDirectedPresence(self):
        juliet = self.h.connect("juliet@localhost", "balcony")
        self.h.send(juliet, "<presence to='room@conference.localhost/Jul'/>")
        self.h.send(juliet, "<presence type='unavailable'/>")
        self.assertEqual(types(self.h.routed), [None, "unavailable"])
        self.assertEqual(juliet.directedPresence, set())
        self.h.sm.unbind(juliet)
        self.assertEqual(len(self.h.routed), 2)

    def test_roomPresenceReachesNonAvailableSession(self):
        bot = self.h.connect("bot@localhost", "x", available=False)
        self.h.router.route(stanza("<presence from='room@conference.localhost/bot' to='bot@localhost/x'/>"))
        self.assertEqual(len(bot.take("presence")), 1)


class AccountDeletedTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both")
        self.h.setRoster("romeo@localhost", "juliet@localhost", subscription="both")
        self.h.setRoster("juliet@localhost", "nurse@localhost", subscription="from")
        self.h.setRoster("nurse@localhost", "juliet@localhost", subscription="to")
        self.h.setRoster("juliet@localhost", "paris@localhost", pending_in=True)
        self.h.setRoster("paris@localhost", "juliet@localhost", ask="subscribe")
        self.h.createAccount("juliet@localhost")
        self.romeo = self.h.connect("romeo@localhost", "orchard")
        self.nurse = self.h.connect("nurse@localhost", "kitchen")
        self.paris = self.h.connect("paris@localhost", "castle")
        self.juliet = self.h.connect("juliet@localhost", "balcony")
        for session in (self.romeo, self.nurse, self.paris):
            session.take()

    def deleteJuliet(self):
        """
        What the account removal does: the account goes, a tombstone is
        left, the event is fired, the session is closed.
        """
        self.h.storage.accounts.delete("juliet@localhost")
        self.h.storage.tombstones.add("juliet@localhost", "account")
        d = self.h.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost")
        self.successResultOf(d)
        self.h.sm.unbind(self.juliet)

    def test_contactsLoseSubscriptions(self):
        self.deleteJuliet()
        # Each contact sees her go and loses the subscriptions both ways.
        self.assertEqual(
            types(self.romeo.take("presence")), ["unavailable", "unsubscribed", "unsubscribe"]
        )
        # Each one is told only what changes something for them.
        self.assertEqual(types(self.nurse.take("presence")), ["unavailable", "unsubscribed"])
        self.assertEqual(types(self.paris.take("presence")), ["unsubscribed"])
        for owner in ("romeo@localhost", "nurse@localhost", "paris@localhost"):
            item = self.h.roster(owner)["juliet@localhost"]
            self.assertEqual((item["subscription"], item["ask"], item["pending_in"]), ("none", None, False), owner)
        self.assertEqual(self.h.roster("juliet@localhost"), {})
        # Their clients were told (roster pushes).
        self.assertEqual(len(self.romeo.take("iq")), 2)

    def test_probeToDeletedAccount(self):
        self.deleteJuliet()
        self.romeo.take()
        # Romeo still believes he is subscribed (he missed the news).
        self.h.setRoster("romeo@localhost", "juliet@localhost", subscription="to")
        self.h.router.route(stanza("<presence type='probe' from='romeo@localhost/orchard' to='juliet@localhost' id='p'/>"))
        error, unsubscribed = self.romeo.take("presence")
        self.assertEqual(error["type"], "error")
        self.assertEqual(error["from"], "juliet@localhost")
        self.assertEqual(errorCondition(error), "gone")
        self.assertEqual(unsubscribed["type"], "unsubscribed")
        self.assertEqual(unsubscribed["to"], "romeo@localhost")
        self.assertEqual(self.h.roster("romeo@localhost")["juliet@localhost"]["subscription"], "none")

    def test_subscribeToDeletedAccount(self):
        self.deleteJuliet()
        self.romeo.take()
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='subscribe'/>")
        self.assertEqual(types(self.romeo.take("presence")), ["error", "unsubscribed"])
        item = self.h.roster("romeo@localhost")["juliet@localhost"]
        self.assertEqual(item["ask"], None)

    def test_deletedWhileOffline(self):
        self.h.sm.unbind(self.juliet)
        self.romeo.take()
        self.nurse.take()
        self.h.storage.accounts.delete("juliet@localhost")
        self.successResultOf(self.h.hooks.fireAll(ACCOUNT_DELETED, jid="juliet@localhost"))
        self.assertEqual(types(self.romeo.take("presence")), ["unsubscribed", "unsubscribe"])
        self.assertEqual(self.h.roster("juliet@localhost"), {})
