"""
Shared pieces of the wire tests of what an account offers (roster
versioning, blocking, vCards, the small iqs): a server where any password
works, and signed-in clients.
"""

from twisted.internet import defer

from tests.support.client import connectTestClient, startTestServer

#: Any user may sign in with any password: the account features are the
#: point, not authentication.
INSECURE = {"auth": {"backend": "insecure", "allow_insecure": "true"}}


def startAccountServer(testCase, overrides=None):
    """
    L{startTestServer} without TLS and with insecure authentication.

    @param overrides: more C{{section: {key: raw}}}.
    """
    sections = {section: dict(values) for section, values in INSECURE.items()}
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    return startTestServer(testCase, sections, tls=False)


@defer.inlineCallbacks
def signIn(testCase, running, user, resource, available=True):
    """
    A client signed in as C{user}@localhost/C{resource}; when C{available},
    it sent its initial presence and got it back.

    @return: Deferred firing with the L{tests.support.client.XMPPTestClient}.
    """
    client = yield connectTestClient(testCase, running)
    yield client.login(user, "pw", resource)
    if available:
        client.send("<presence/>")
        own = yield client.receiveStanza()
        testCase.assertEqual((own.name, own.getAttribute("from")), ("presence", client.jid))
    return client


@defer.inlineCallbacks
def nextStanza(client, name):
    """
    @return: Deferred firing with the next stanza named C{name} that
        C{client} receives, skipping the others.
    """
    while True:
        element = yield client.receiveStanza()
        if element.name == name:
            return element


def child(element, uri, name):
    """
    @return: the first child of C{element} named C{name} in C{uri}, or
        L{None}.
    """
    for found in element.elements():
        if found.uri == uri and found.name == name:
            return found
    return None
