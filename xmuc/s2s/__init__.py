"""
Federation: server-to-server streams (RFC 6120), so that users and rooms
of other XMPP servers reach this one's and the other way round.

L{xmuc.s2s.manager.S2SManager} is the service: it listens for servers,
opens streams to them on demand (L{xmuc.s2s.resolver} finds where), keeps
stanzas waiting meanwhile and bounces them when a domain cannot be
reached.  L{xmuc.s2s.stream} holds the streams of both directions,
L{xmuc.s2s.certificates} TLS and the certificate checks (XEP-0178),
L{xmuc.s2s.dialback} Server Dialback keys (XEP-0220, XEP-0185) and
L{xmuc.s2s.check} the operator's connectivity check.
"""
