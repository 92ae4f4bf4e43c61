"""
The session manager: RFC 6120/6121 for the users of the local hosts.

L{manager.SessionManager} owns the bound client sessions and local
delivery; each feature is a module with an C{install(sm)} function
(L{manager.FEATURES}): presence (L{presence}), the roster and
subscriptions (L{roster}, L{subscription}, L{rosters}), service discovery
(L{disco}), the host's own small iqs (L{serveriq}), carbons (L{carbons}),
the personal archive (L{mam}), personal eventing (L{pep}, L{caps}) and
offline messages (L{offline}).  Iqs reach the features through the events
of L{hooks}.
"""
