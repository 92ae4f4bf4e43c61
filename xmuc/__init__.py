"""
xmuc: an XMPP server built around Multi-User Chat (XEP-0045), on Twisted.
"""

__version__ = "0.1.0"
