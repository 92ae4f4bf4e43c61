"""
The session manager: RFC 6120/6121 for the users of the local hosts.

L{manager.SessionManager} owns the bound client sessions, implements
presence (L{presence}), the roster and subscriptions (L{roster},
L{subscription}, L{rosters}) and answers the iqs addressed to the server or
to an account (L{serveriq}).
"""
