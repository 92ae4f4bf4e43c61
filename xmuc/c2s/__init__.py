"""
Client-to-server streams (RFC 6120): stream negotiation (L{stream}), SASL
(L{sasl}), in-band registration (L{register}).
"""
