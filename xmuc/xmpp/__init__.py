"""
XMPP building blocks shared by the server parts: namespaces, errors, JIDs.
"""
