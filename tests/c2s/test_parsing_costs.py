"""
What parsing a client's input may cost the server, over real sockets to a
real in-process server: memory that does not grow with the number of
distinct addresses a client writes.
"""

from twisted.internet import defer
from twisted.words.protocols.jabber import jid as jidmod

from tests.support.watchedserver import WatchedServerTestCase
from xmuc.xmpp.jid import CACHE_SIZE, cachedAddresses


def internedJIDs():
    """
    @return: how many JIDs Twisted's C{internJID} keeps (it never forgets
        one).
    """
    return len(vars(jidmod)["__internJIDs"])


class AddressMemoryTests(WatchedServerTestCase):
    @defer.inlineCallbacks
    def test_distinctAddressesNotKept(self):
        """
        Stanzas to twice as many distinct (long) addresses as the address
        cache holds leave it at its bound and add nothing to Twisted's
        interning cache; the server keeps serving.
        """
        client = yield self.loggedIn("spender")
        before = internedJIDs()
        resource = "r" * 100
        client.send(
            "".join(
                "<iq type='result' id='x%d' to='nobody%d@localhost/%s'/>" % (i, i, resource)
                for i in range(2 * CACHE_SIZE)
            )
        )
        # A generous timeout: thousands of stanzas on a busy machine.
        reply = yield client.iq(
            "<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>", timeout=60
        )
        self.assertEqual(reply["type"], "result")
        self.assertEqual(internedJIDs(), before)
        self.assertLessEqual(cachedAddresses(), CACHE_SIZE)
        yield self.assertHealthy()
