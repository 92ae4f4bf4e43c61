"""
Malformed and hostile requests to the MUC service over real sockets (joins,
nicks, owner and admin forms, registration, MAM queries): each gets a
stanza error (or an empty result), and the room keeps working for the
client watching it.
"""

from twisted.internet import defer

from tests.support.client import errorCondition
from tests.support.watchedserver import MUC, MUC_ADMIN, MUC_OWNER, ROOM, WatchedServerTestCase


class MUCGarbageTests(WatchedServerTestCase):
    """
    Garbage to the MUC service: stanza errors, the room keeps working.
    """

    @defer.inlineCallbacks
    def joined(self, nick="evil"):
        client = yield self.loggedIn(nick)
        client.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (ROOM, nick, MUC))
        yield self.until(client, lambda e: e.name == "message" and e.subject is not None)
        return client

    @defer.inlineCallbacks
    def test_malformedJoins(self):
        client = yield self.loggedIn("evil")
        for n, x in enumerate(
            (
                "<password><nested><deeper/></nested>secret</password>",
                "<history maxstanzas='-5' maxchars='-1' seconds='abc'/>",
                "<history since='not a date' maxstanzas='99999999999999999999999'/>",
                "<history maxchars='1e9999'/><history/><history/>",
                "<password/><password/>",
                "<foo xmlns='urn:x'/>",
            )
        ):
            nick = "n%d" % (n,)
            client.send("<presence to='%s/%s' id='j%d'><x xmlns='%s'>%s</x></presence>" % (ROOM, nick, n, MUC, x))
            element = yield self.until(
                client,
                lambda e: (e.name == "presence" and e.getAttribute("from") == "%s/%s" % (ROOM, nick))
                or (e.name == "message" and e.subject is not None),
            )
            if element.name == "presence" and element.getAttribute("type") == "error":
                self.assertIsNotNone(errorCondition(element))
                continue
            client.send("<presence to='%s/%s' type='unavailable'/>" % (ROOM, nick))
            yield self.until(
                client,
                lambda e: e.name == "presence" and e.getAttribute("type") == "unavailable"
                and e.getAttribute("from") == "%s/%s" % (ROOM, nick),
            )
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_badNicknames(self):
        client = yield self.loggedIn("evil")
        for n, to in enumerate(
            (ROOM + "/", ROOM + "/" + "x" * 2000, ROOM + "/\u0000".replace("\u0000", "&#x1;"))
        ):
            client.send("<presence to='%s' id='b%d'><x xmlns='%s'/></presence>" % (to, n, MUC))
        # &#x1; is not a legal XML character: the stream ends.
        yield self.assertStreamError(client, "not-well-formed")
        client = yield self.loggedIn("evil")
        for n, to in enumerate((ROOM + "/", ROOM + "/" + "x" * 2000, ROOM + "/\u2028\u200b")):
            client.send("<presence to='%s' id='c%d'><x xmlns='%s'/></presence>" % (to, n, MUC))
            element = yield self.until(client, lambda e: e.getAttribute("id") == "c%d" % (n,) or (
                e.name == "message" and e.subject is not None))
            if element.name == "presence":
                self.assertEqual(element["type"], "error", element.toXml())
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_ownerFormGarbage(self):
        """
        Owner forms with wrong field types and values, from the owner: an
        error or a result, and the room still works.
        """
        for n, fields in enumerate(
            (
                "<field var='muc#roomconfig_maxusers'><value>-3</value></field>",
                "<field var='muc#roomconfig_maxusers'><value>lots</value></field>",
                "<field var='muc#roomconfig_persistentroom'><value>maybe</value></field>",
                "<field var='muc#roomconfig_roomadmins'><value>@@@</value><value></value></field>",
                "<field var='muc#roomconfig_whois'><value>everyone</value></field>",
                "<field var='muc#roomconfig_roomname'><value><b>x</b></value><value>y</value></field>",
                "<field var='muc#roomconfig_presencebroadcast'><value>nobody</value></field>",
                "<field var='muc#roomconfig_publicroom' type='jid-multi'/>",
                "<field/><field var=''/><value>x</value>",
                "<field var='muc#roomconfig_historylength'><value>999999999999999999999</value></field>",
            )
        ):
            reply = yield self.answered(
                self.watcher,
                "<iq type='set' id='o%d' to='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>%s</x></query></iq>"
                % (n, ROOM, MUC_OWNER, fields),
                "o%d" % (n,),
            )
            if reply["type"] == "error":
                self.assertIn(errorCondition(reply), ("not-acceptable", "bad-request"), fields)
        for n, query in enumerate(
            (
                "<x xmlns='jabber:x:data' type='bogus'/>",
                "<x xmlns='jabber:x:data'/>",
                "<destroy jid='@@@'><reason><b/></reason></destroy><x xmlns='jabber:x:data' type='submit'/>",
                "<foo/>",
            )
        ):
            reply = yield self.answered(
                self.watcher,
                "<iq type='set' id='q%d' to='%s'><query xmlns='%s'>%s</query></iq>" % (n, ROOM, MUC_OWNER, query),
                "q%d" % (n,),
            )
            self.assertEqual(reply["type"], "error", reply.toXml())
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_adminGarbage(self):
        for n, items in enumerate(
            (
                "<item/>",
                "<item affiliation='emperor' jid='x@localhost'/>",
                "<item role='god' nick='watcher'/>",
                "<item affiliation='member' jid='@@@'/>",
                "<item affiliation='member' jid=''/>",
                "<item role='visitor' nick=''/>",
                "<item role='visitor' nick='nobody-here'/>",
                "<item affiliation='outcast' jid='%s'/>" % ("x" * 3100,),
                "<item affiliation='member'><reason><nested/></reason></item>" * 3,
                "<foo/>",
            )
        ):
            reply = yield self.answered(
                self.watcher,
                "<iq type='set' id='a%d' to='%s'><query xmlns='%s'>%s</query></iq>" % (n, ROOM, MUC_ADMIN, items),
                "a%d" % (n,),
            )
            self.assertEqual(reply["type"], "error", (items, reply.toXml()))
        for n, items in enumerate(("<item/>", "<item affiliation='nope'/>", "<item role='x'/>", "")):
            reply = yield self.answered(
                self.watcher,
                "<iq type='get' id='ag%d' to='%s'><query xmlns='%s'>%s</query></iq>" % (n, ROOM, MUC_ADMIN, items),
                "ag%d" % (n,),
            )
            self.assertEqual(reply["type"], "error", (items, reply.toXml()))
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_registerGarbage(self):
        client = yield self.loggedIn("evil")
        for n, query in enumerate(
            (
                "<x xmlns='jabber:x:data' type='submit'/>",
                "<x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'/></x>",
                "<x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'><value>a</value><value>b</value></field></x>",
                "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:wrong</value></field></x>",
                "<username>x</username><password>y</password>",
                "<remove/>",
            )
        ):
            reply = yield self.answered(
                client,
                "<iq type='set' id='r%d' to='%s'><query xmlns='jabber:iq:register'>%s</query></iq>" % (n, ROOM, query),
                "r%d" % (n,),
            )
            self.assertEqual(reply["type"], "error", (query, reply.toXml()))
        for n, query in enumerate(("<x xmlns='jabber:x:data' type='submit'/>", "<remove/><remove/>", "<username/>")):
            reply = yield self.answered(
                client,
                "<iq type='set' id='s%d'><query xmlns='jabber:iq:register'>%s</query></iq>" % (n, query),
                "s%d" % (n,),
            )
            self.assertIn(reply["type"], ("error", "result"))
            if reply["type"] == "result":
                # In-band removal of the account worked; log in again.
                yield client.waitClosed()
                client = yield self.loggedIn("evil")
        yield self.assertHealthy()

    @defer.inlineCallbacks
    def test_mamGarbage(self):
        """
        MAM queries to a room and to one's own archive with bad forms and
        RSM values: item-not-found / bad-request / not-acceptable, or an
        empty result.
        """
        client = yield self.joined()
        for to in (ROOM, None):
            for n, body in enumerate(
                (
                    "<x xmlns='jabber:x:data' type='submit'><field var='start'><value>yesterday</value></field></x>",
                    "<x xmlns='jabber:x:data' type='submit'><field var='end'><value>9999-99-99T99:99:99Z</value></field></x>",
                    "<x xmlns='jabber:x:data' type='submit'><field var='with'><value>@@@</value></field></x>",
                    "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:nope</value></field><field var='bogus'><value>1</value></field></x>",
                    "<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>",
                    "<set xmlns='http://jabber.org/protocol/rsm'><max>abc</max><after>nonexistent-id</after></set>",
                    "<set xmlns='http://jabber.org/protocol/rsm'><max>99999999999999999999</max><before>zzz</before></set>",
                    "<set xmlns='http://jabber.org/protocol/rsm'><index>-4</index></set>",
                    "<x xmlns='jabber:x:data' type='submit'><field var='start'><value>2020-01-01T00:00:00Z</value><value>2021-01-01T00:00:00Z</value></field></x>",
                )
            ):
                id = "mam%s%d" % ("r" if to else "u", n)
                reply = yield self.answered(
                    client,
                    "<iq type='set' id='%s'%s><query xmlns='urn:xmpp:mam:2' queryid='q'>%s</query></iq>"
                    % (id, " to='%s'" % (to,) if to else "", body),
                    id,
                )
                if reply["type"] == "error":
                    self.assertIn(
                        errorCondition(reply),
                        ("bad-request", "item-not-found", "not-acceptable", "feature-not-implemented", "service-unavailable"),
                        body,
                    )
        yield self.assertHealthy()
