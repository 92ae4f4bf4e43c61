"""
Tests for roster management (RFC 6121 section 2) and the subscription state
machine (section 3) in L{xmuc.session}, both directions between local users.
"""

from twisted.internet import defer
from twisted.trial import unittest

from test_sm_support import SMHarness, stanza
from test_sm import errorCondition


def rosterItems(iq):
    """
    @return: C{{jid: (subscription, ask, name, groups)}} from a roster
        result or push.
    """
    found = {}
    for item in iq.query.elements():
        found[item["jid"]] = (
            item.getAttribute("subscription"),
            item.getAttribute("ask"),
            item.getAttribute("name"),
            [str(g) for g in item.elements() if g.name == "group"],
        )
    return found


class RosterIQTests(unittest.TestCase):
    def setUp(self):
        self.h = SMHarness()
        self.one = self.h.connect("juliet@localhost", "one")
        self.two = self.h.connect("juliet@localhost", "two")
        self.quiet = self.h.connect("juliet@localhost", "quiet", roster=False)

    def getRoster(self, session):
        self.h.send(session, "<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>")
        (result,) = session.take("iq")
        self.assertEqual(result["type"], "result")
        return rosterItems(result)

    def test_emptyRoster(self):
        self.assertEqual(self.getRoster(self.one), {})

    def test_setPushesAndStores(self):
        self.h.send(
            self.one,
            "<iq type='set' id='s1'><query xmlns='jabber:iq:roster'>"
            "<item jid='Romeo@Localhost' name='Romeo'><group>Friends</group><group>Lovers</group></item>"
            "</query></iq>",
        )
        result, push = self.one.take("iq")
        self.assertEqual((result["type"], result["id"]), ("result", "s1"))
        self.assertEqual(push["type"], "set")
        self.assertEqual(push["to"], "juliet@localhost/one")
        self.assertFalse(push.hasAttribute("from"))
        expected = {"romeo@localhost": ("none", None, "Romeo", ["Friends", "Lovers"])}
        self.assertEqual(rosterItems(push), expected)
        (push2,) = self.two.take("iq")
        self.assertEqual(rosterItems(push2), expected)
        # Only resources that requested the roster get pushes.
        self.assertEqual(self.quiet.take("iq"), [])
        self.assertEqual(self.getRoster(self.two), expected)
        self.assertEqual(self.h.roster("juliet@localhost")["romeo@localhost"]["groups"], ["Friends", "Lovers"])

    def test_updateKeepsSubscription(self):
        self.h.sm.unbind(self.one)
        self.h.sm.unbind(self.two)
        self.h.sm.unbind(self.quiet)
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both", name="R")
        # Not available: her probe would be answered 'unsubscribed' (Romeo
        # has no roster) and that would rightly cancel the 'to' half.
        session = self.h.connect("juliet@localhost", "x", available=False)
        self.h.send(
            session,
            "<iq type='set' id='s'><query xmlns='jabber:iq:roster'>"
            "<item jid='romeo@localhost' name='Romeo' subscription='none' ask='subscribe'/></query></iq>",
        )
        self.assertEqual(len(session.take("iq")), 2)
        self.assertEqual(
            self.getRoster(session), {"romeo@localhost": ("both", None, "Romeo", [])}
        )

    def test_remove(self):
        self.h.send(self.one, "<iq type='set' id='a'><query xmlns='jabber:iq:roster'><item jid='romeo@localhost'/></query></iq>")
        self.one.take()
        self.two.take()
        self.h.send(
            self.one,
            "<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='romeo@localhost' subscription='remove'/></query></iq>",
        )
        result, push = self.one.take("iq")
        self.assertEqual(result["type"], "result")
        self.assertEqual(rosterItems(push), {"romeo@localhost": ("remove", None, None, [])})
        self.assertEqual(len(self.two.take("iq")), 1)
        self.assertEqual(self.getRoster(self.one), {})
        self.h.send(
            self.one,
            "<iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item jid='romeo@localhost' subscription='remove'/></query></iq>",
        )
        (error,) = self.one.take("iq")
        self.assertEqual(errorCondition(error), "item-not-found")

    def test_badSets(self):
        cases = [
            ("<item jid='a@localhost'/><item jid='b@localhost'/>", "bad-request"),
            ("", "bad-request"),
            ("<item jid='a@localhost'><group>g</group><group>g</group></item>", "bad-request"),
            ("<item jid='a@localhost'><group/></item>", "not-acceptable"),
            ("<item jid='a@@localhost'/>", "jid-malformed"),
            ("<item jid='juliet@localhost'/>", "not-allowed"),
        ]
        for payload, condition in cases:
            self.h.send(self.one, "<iq type='set' id='b'><query xmlns='jabber:iq:roster'>%s</query></iq>" % payload)
            (error,) = self.one.take("iq")
            self.assertEqual(errorCondition(error), condition, payload)
        self.assertEqual(self.getRoster(self.one), {})


class SubscriptionTests(unittest.TestCase):
    """
    Juliet and Romeo go through the whole RFC 6121 section 3 dance.
    """

    def setUp(self):
        self.h = SMHarness()
        self.juliet = self.h.connect("juliet@localhost", "balcony")
        self.romeo = self.h.connect("romeo@localhost", "orchard")

    def item(self, owner, contact):
        return self.h.roster(owner).get(contact)

    def state(self, owner, contact):
        item = self.item(owner, contact)
        return None if item is None else (item["subscription"], item["ask"], item["pending_in"])

    def pushes(self, session):
        return [rosterItems(iq) for iq in session.take("iq")]

    def test_fullStateMachine(self):
        # Romeo asks to see Juliet's presence.
        self.h.send(self.romeo, "<presence to='juliet@localhost/whatever' type='subscribe'><status>hi</status></presence>")
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("none", "subscribe", None, [])}])
        (request,) = self.juliet.take("presence", "subscribe")
        self.assertEqual(request["from"], "romeo@localhost")
        self.assertEqual(request["to"], "juliet@localhost")
        self.assertEqual(str(request.status), "hi")
        # The request is not in Juliet's visible roster, but it is stored.
        self.assertEqual(self.pushes(self.juliet), [])
        self.assertEqual(self.state("juliet@localhost", "romeo@localhost"), ("none", None, True))

        # Juliet approves: she gets 'from', he gets 'to' and her presence.
        self.h.send(self.juliet, "<presence to='romeo@localhost' type='subscribed'/>")
        self.assertEqual(self.pushes(self.juliet), [{"romeo@localhost": ("from", None, None, [])}])
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("to", None, None, [])}])
        (subscribed,) = self.romeo.take("presence", "subscribed")
        self.assertEqual(subscribed["from"], "juliet@localhost")
        (current,) = self.romeo.take("presence", "available")
        self.assertEqual(current["from"], "juliet@localhost/balcony")
        self.assertEqual(self.state("juliet@localhost", "romeo@localhost"), ("from", None, False))
        self.assertEqual(self.state("romeo@localhost", "juliet@localhost"), ("to", None, False))

        # Juliet asks back: Romeo approves, both become 'both'.
        self.h.send(self.juliet, "<presence to='romeo@localhost' type='subscribe'/>")
        self.assertEqual(self.pushes(self.juliet), [{"romeo@localhost": ("from", "subscribe", None, [])}])
        self.assertEqual(len(self.romeo.take("presence", "subscribe")), 1)
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='subscribed'/>")
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("both", None, None, [])}])
        self.assertEqual(self.pushes(self.juliet), [{"romeo@localhost": ("both", None, None, [])}])
        self.assertEqual(
            [p.getAttribute("type") for p in self.juliet.take("presence")], ["subscribed", None]
        )

        # A repeated subscribe is answered by Juliet's server for her, and
        # the answer is ignored by Romeo's as nothing changes (RFC 6121
        # 3.1.3, 3.1.6).
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='subscribe'/>")
        self.assertEqual(self.juliet.take(), [])
        self.assertEqual(self.romeo.take(), [])

        # Presence now flows both ways.
        self.h.send(self.juliet, "<presence><show>away</show></presence>")
        (update,) = self.romeo.take("presence", "available")
        self.assertEqual(update["from"], "juliet@localhost/balcony")
        self.assertEqual(update["to"], "romeo@localhost")
        # RFC 6121 4.4.2: her own resources (the sender too) get it.
        (own,) = self.juliet.take("presence")
        self.assertEqual(own["to"], "juliet@localhost/balcony")

        # Romeo unsubscribes from Juliet's presence.
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='unsubscribe'/>")
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("from", None, None, [])}])
        self.assertEqual(self.pushes(self.juliet), [{"romeo@localhost": ("to", None, None, [])}])
        self.assertEqual(len(self.juliet.take("presence", "unsubscribe")), 1)
        (gone,) = self.romeo.take("presence", "unavailable")
        self.assertEqual(gone["from"], "juliet@localhost/balcony")

        # Juliet cancels Romeo's... no: Romeo cancels Juliet's subscription.
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='unsubscribed'/>")
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("none", None, None, [])}])
        self.assertEqual(self.pushes(self.juliet), [{"romeo@localhost": ("none", None, None, [])}])
        self.assertEqual(len(self.juliet.take("presence", "unsubscribed")), 1)
        (gone,) = self.juliet.take("presence", "unavailable")
        self.assertEqual(gone["from"], "romeo@localhost/orchard")
        self.assertEqual(self.state("juliet@localhost", "romeo@localhost"), ("none", None, False))
        self.assertEqual(self.state("romeo@localhost", "juliet@localhost"), ("none", None, False))

        # Nothing left: more unsubscribes change and deliver nothing.
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='unsubscribed'/>")
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='unsubscribe'/>")
        self.assertEqual([s.toXml() for s in self.juliet.take()], [])
        self.assertEqual(self.romeo.take("iq"), [])

    def test_denyRequest(self):
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='subscribe'/>")
        self.juliet.take()
        self.romeo.take()
        self.h.send(self.juliet, "<presence to='romeo@localhost' type='unsubscribed'/>")
        self.assertEqual(self.pushes(self.juliet), [])
        self.assertIsNone(self.item("juliet@localhost", "romeo@localhost"))
        self.assertEqual(self.pushes(self.romeo), [{"juliet@localhost": ("none", None, None, [])}])
        self.assertEqual(len(self.romeo.take("presence", "unsubscribed")), 1)

    def test_subscribedWithoutRequestIgnored(self):
        self.h.send(self.juliet, "<presence to='romeo@localhost' type='subscribed'/>")
        self.assertEqual(self.romeo.take(), [])
        self.assertEqual(self.juliet.take(), [])
        self.assertIsNone(self.item("juliet@localhost", "romeo@localhost"))
        self.assertIsNone(self.item("romeo@localhost", "juliet@localhost"))

    def test_pendingRequestDeliveredAtNextLogin(self):
        self.h.sm.unbind(self.juliet)
        self.h.send(self.romeo, "<presence to='juliet@localhost' type='subscribe'/>")
        self.assertEqual(self.state("juliet@localhost", "romeo@localhost"), ("none", None, True))
        self.assertEqual(self.romeo.take("presence"), [])
        juliet = self.h.connect("juliet@localhost", "later", available=False)
        # Not visible in the roster...
        self.h.send(juliet, "<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>")
        (result,) = juliet.take("iq")
        self.assertEqual(rosterItems(result), {})
        # ...but delivered with initial presence, every login until answered.
        self.h.send(juliet, "<presence/>")
        (request,) = juliet.take("presence", "subscribe")
        self.assertEqual(request["from"], "romeo@localhost")
        self.h.sm.unbind(juliet)
        juliet = self.h.connect("juliet@localhost", "again", available=False)
        self.h.send(juliet, "<presence/>")
        self.assertEqual(len(juliet.take("presence", "subscribe")), 1)
        self.h.send(juliet, "<presence to='romeo@localhost' type='subscribed'/>")
        self.h.sm.unbind(juliet)
        juliet = self.h.connect("juliet@localhost", "third", available=False)
        self.h.send(juliet, "<presence/>")
        self.assertEqual(juliet.take("presence", "subscribe"), [])

    def test_subscribeToUnknownUser(self):
        self.h.send(self.romeo, "<presence to='nobody@localhost' type='subscribe'/>")
        self.romeo.take("iq")
        (answer,) = self.romeo.take("presence")
        self.assertEqual(answer["type"], "unsubscribed")
        self.assertEqual(answer["from"], "nobody@localhost")
        # The pending 'ask' was cancelled by the answer.
        self.assertEqual(self.state("romeo@localhost", "nobody@localhost"), ("none", None, False))

    def test_rosterRemoveCancelsBothWays(self):
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both")
        self.h.setRoster("romeo@localhost", "juliet@localhost", subscription="both")
        self.h.sm.unbind(self.juliet)
        self.h.sm.unbind(self.romeo)
        juliet = self.h.connect("juliet@localhost", "balcony")
        romeo = self.h.connect("romeo@localhost", "orchard")
        juliet.take()
        self.h.send(
            romeo,
            "<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='juliet@localhost' subscription='remove'/></query></iq>",
        )
        self.assertIsNone(self.item("romeo@localhost", "juliet@localhost"))
        self.assertEqual(self.state("juliet@localhost", "romeo@localhost"), ("none", None, False))
        kinds = sorted(p.getAttribute("type") for p in juliet.take("presence"))
        self.assertEqual(kinds, ["unavailable", "unsubscribe", "unsubscribed"])
        self.assertEqual(self.pushes(juliet), [
            {"romeo@localhost": ("to", None, None, [])},
            {"romeo@localhost": ("none", None, None, [])},
        ])


class SlowRosterStore:
    """
    A roster store answering only when the test says so, as an SQL
    backend answers later from its thread pool.

    @ivar pending: the calls not answered yet.
    """

    def __init__(self, store):
        self.store = store
        self.pending = []

    def _later(self, method, *args):
        d = defer.Deferred()
        self.pending.append((d, method, args))
        return d

    def get(self, bare):
        return self._later(self.store.get, bare)

    def set(self, bare, contact, item):
        return self._later(self.store.set, bare, contact, item)

    def remove(self, bare, contact):
        return self._later(self.store.remove, bare, contact)

    def delete(self, bare):
        return self._later(self.store.delete, bare)

    def flush(self):
        """
        Answer every call, including those made while answering.
        """
        while self.pending:
            d, method, args = self.pending.pop(0)
            method(*args).chainDeferred(d)


class SlowStorageTests(unittest.TestCase):
    """
    With a storage that answers later, operations on one user's roster
    still happen one at a time and in order.
    """

    def setUp(self):
        self.h = SMHarness(wrapRosters=SlowRosterStore)
        self.store = self.h.storage.rosters
        self.h.setRoster("juliet@localhost", "romeo@localhost", subscription="both")
        self.h.setRoster("romeo@localhost", "juliet@localhost", subscription="both")
        for user in ("juliet", "romeo", "paris", "tybalt"):
            self.h.createAccount(user + "@localhost")
        self.store.flush()
        self.romeo = self.h.connect("romeo@localhost", "orchard", available=False, roster=False)
        self.store.flush()
        self.h.send(self.romeo, "<presence/>")
        self.store.flush()
        self.romeo.take()

    def roster(self, bare):
        return self.h.successResultOf(self.store.store.get(bare))

    def test_concurrentRequestsAllStored(self):
        for user in ("paris", "tybalt"):
            self.h.router.route(stanza(
                "<presence type='subscribe' from='%s@localhost' to='juliet@localhost'/>" % user
            ))
        self.store.flush()
        roster = self.roster("juliet@localhost")
        self.assertTrue(roster["paris@localhost"]["pending_in"])
        self.assertTrue(roster["tybalt@localhost"]["pending_in"])

    def test_requestThenCancelWhileOffline(self):
        """
        Romeo asks and at once cancels while Juliet is offline: the second
        stanza sees what the first one stored, so nothing stays pending.
        """
        for kind in ("subscribe", "unsubscribe"):
            self.h.router.route(stanza(
                "<presence type='%s' from='paris@localhost' to='juliet@localhost'/>" % (kind,)
            ))
        self.store.flush()
        self.assertNotIn("paris@localhost", self.roster("juliet@localhost"))

    def test_presenceOrderWhileRosterLoads(self):
        juliet = self.h.connect("juliet@localhost", "balcony", available=False, roster=False)
        self.h.send(juliet, "<presence><show>away</show></presence>")
        self.h.send(juliet, "<presence type='unavailable'/>")
        self.h.send(juliet, "<presence/>")
        self.assertEqual(self.romeo.take("presence"), [])
        self.store.flush()
        self.assertEqual(
            [p.getAttribute("type") for p in self.romeo.take("presence")],
            [None, "unavailable", None],
        )

    def test_rosterSetAndSubscribeTogether(self):
        juliet = self.h.connect("juliet@localhost", "balcony", available=False)
        self.store.flush()
        juliet.take()
        self.h.send(juliet, "<iq type='set' id='s'><query xmlns='jabber:iq:roster'><item jid='paris@localhost' name='Paris'/></query></iq>")
        self.h.send(juliet, "<presence to='paris@localhost' type='subscribe'/>")
        self.store.flush()
        item = self.roster("juliet@localhost")["paris@localhost"]
        self.assertEqual((item["name"], item["ask"]), ("Paris", "subscribe"))
