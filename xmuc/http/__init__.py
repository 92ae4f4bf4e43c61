"""
The HTTP side of xmuc: one C{twisted.web} site (C{[http] listen}) whose
root resource the parts served over HTTP attach their children to: XMPP
over WebSocket (RFC 7395), endpoint discovery (XEP-0156).
"""
