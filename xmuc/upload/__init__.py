"""
HTTP File Upload (XEP-0363): a service domain handing out upload slots over
XMPP, and the HTTP resource that takes the PUT and serves the GET.
"""
