"""
Contact addresses (XEP-0157) in the server's disco#info, from the
C{[server] contact_*} keys.
"""

from twisted.internet import defer
from twisted.trial import unittest

from xmuc.config import ConfigError, validate
from xmuc.xmpp import ns

from tests.support.account import signIn, startAccountServer

DISCO = "<iq type='get' id='d' to='localhost'><query xmlns='%s'/></iq>" % (ns.DISCO_INFO,)


def forms(info):
    return [x for x in info.query.elements() if x.uri == ns.DATA_FORMS and x.name == "x"]


def fields(form):
    return {
        field["var"]: [str(v) for v in field.elements() if v.name == "value"]
        for field in form.elements()
        if field.name == "field"
    }


class ContactInfoTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_addressesInDiscoInfo(self):
        running = yield startAccountServer(
            self,
            {
                "server": {
                    "contact_admin": "xmpp:admin@localhost, mailto:admin@example.org",
                    "contact_abuse": "mailto:abuse@example.org",
                    "contact_security": "https://example.org/security",
                }
            },
        )
        client = yield signIn(self, running, "romeo", "garden", available=False)
        info = yield client.iq(DISCO)
        (form,) = forms(info)
        self.assertEqual(form["type"], "result")
        self.assertEqual(
            fields(form),
            {
                "FORM_TYPE": [ns.SERVERINFO],
                "abuse-addresses": ["mailto:abuse@example.org"],
                "admin-addresses": ["xmpp:admin@localhost", "mailto:admin@example.org"],
                "security-addresses": ["https://example.org/security"],
            },
        )

    @defer.inlineCallbacks
    def test_noAddressesNoForm(self):
        running = yield startAccountServer(self)
        client = yield signIn(self, running, "romeo", "garden", available=False)
        info = yield client.iq(DISCO)
        self.assertEqual(forms(info), [])

    def test_notAURI(self):
        error = self.assertRaises(
            ConfigError, validate, {"server": {"contact_support": "support@example.org"}}, "tap.conf"
        )
        self.assertIn("contact_support", str(error))
        self.assertIn("URI", str(error))
