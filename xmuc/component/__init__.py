"""
The Jabber Component Protocol (XEP-0114): the link between a server and an
external component, built on Twisted Words' component authenticators.

L{xmuc.component.connect} is the component's end: it connects to a host
server and keeps the link up.
"""
