"""
The Jabber Component Protocol (XEP-0114): the link between a server and an
external component, built on Twisted Words' component authenticators.

L{xmuc.component.connect} is the component's end: it connects to a host
server and keeps the link up.  L{xmuc.component.accept} is the host's end:
xmuc accepting external components for the domains of C{[components]}.
L{xmuc.component.resumption} is Stream Management (XEP-0198) on the link
when xmuc is at both ends.
"""
