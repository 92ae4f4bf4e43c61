"""
XMPP building blocks shared by the server parts: namespaces, errors, JIDs,
and the XML layer every stream writes through.

Importing this package installs L{xmuc.xmpp.xml.EscapingSerializer} as
domish's serializer, so no element serialized anywhere in xmuc can write
markup its sender smuggled into a namespace name.
"""

from xmuc.xmpp import xml as _xml

_xml.install()
