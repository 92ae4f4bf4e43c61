"""
Named extension points of the session manager: the catalogue of the events
fired on L{xmuc.session.manager.SessionManager.hooks} (an
L{xmuc.hooks.HookRegistry} bound to L{SESSION_EVENTS}).

Each feature of the session manager (roster, carbons, archive, personal
eventing, disco, the server's own iqs...) is a module of L{xmuc.session}
with an C{install(sm)} function that registers its handlers here, as
Prosody's modules hook C{iq-get/bare/<namespace>}.  Messages and presence
do not go through hooks: their path stays direct calls.

Iq events are families: the name is the family followed by the namespace
of the iq's payload, e.g. C{IQ_GET_HOST + "urn:xmpp:ping"} is
C{"iq-get/host:urn:xmpp:ping"}.  The session manager fires one iq event
per get or set iq, found by one dictionary lookup per addressee tried;
when no family has a handler, the iq gets C{service-unavailable}.  The
addressees, tried in this order:

C{iq-get/self:<ns>}, C{iq-set/self:<ns>} (L{IQ_GET_SELF}, L{IQ_SET_SELF})
    An iq from one of an account's own sessions, without C{to} or to the
    account's bare JID: the account's own data (roster, carbons, archive,
    its PEP service).
C{iq-get/host:<ns>}, C{iq-set/host:<ns>} (L{IQ_GET_HOST}, L{IQ_SET_HOST})
    An iq to a local host, or without C{to} when no C{self} handler
    takes the namespace (service discovery of the server, ping, version,
    registration).  C{session} is L{None} for an iq routed from elsewhere
    (a component).
C{iq-get/bare:<ns>}, C{iq-set/bare:<ns>} (L{IQ_GET_BARE}, L{IQ_SET_BARE})
    An iq to a local account's bare JID that no C{self} handler took:
    from the account's own session (C{session} set) or from anyone else
    (C{session} L{None}; the account is known to exist).  RFC 6120
    10.5.3.3: the server answers on the account's behalf.

Every iq handler is called with the keyword arguments C{iq} (the
L{domish.Element}), C{child} (its only payload element), C{reply} (a
callable sending a stanza back to the requester), C{session} (the
requesting L{xmuc.interfaces.ISession} or L{None}) and C{bare} (the
account concerned: the requester's for C{self} and C{host} iqs from a
session, the addressee's for C{bare} iqs; L{None} for a routed iq to a
host), and answers the iq itself.

Other events:

C{iq-response(iq)} (L{IQ_RESPONSE})
    A result or error iq addressed to a local host or to an account's bare
    JID: the answer to a query the server sent (personal eventing's caps
    queries).  Fired with L{xmuc.hooks.HookRegistry.fire}.
C{pep-item-published(owner, node, itemID, payload)} (L{PEP_ITEM_PUBLISHED})
    An item was published on an account's PEP node (by the account or by
    the server on its behalf), stored and notified: C{payload} is its
    L{domish.Element}.  The vCard follows the avatar through it
    (XEP-0398).  Fired with L{xmuc.hooks.HookRegistry.fire}.
"""

IQ_GET_SELF = "iq-get/self:"
IQ_SET_SELF = "iq-set/self:"
IQ_GET_HOST = "iq-get/host:"
IQ_SET_HOST = "iq-set/host:"
IQ_GET_BARE = "iq-get/bare:"
IQ_SET_BARE = "iq-set/bare:"
IQ_RESPONSE = "iq-response"
PEP_ITEM_PUBLISHED = "pep-item-published"

SESSION_EVENTS = frozenset(
    {
        IQ_GET_SELF,
        IQ_SET_SELF,
        IQ_GET_HOST,
        IQ_SET_HOST,
        IQ_GET_BARE,
        IQ_SET_BARE,
        IQ_RESPONSE,
        PEP_ITEM_PUBLISHED,
    }
)

#: The iq families by addressee, then by iq type.
SELF = {"get": IQ_GET_SELF, "set": IQ_SET_SELF}
HOST = {"get": IQ_GET_HOST, "set": IQ_SET_HOST}
BARE = {"get": IQ_GET_BARE, "set": IQ_SET_BARE}


def addIQHandler(hooks, families, namespace, handler):
    """
    Register C{handler} for the iqs whose payload is in C{namespace}, in
    each of C{families} (e.g. C{(IQ_GET_SELF, IQ_SET_SELF)}).
    """
    for family in families:
        hooks.add(family + namespace, handler)
