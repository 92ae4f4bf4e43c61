"""
The base layer: XMPP building blocks shared by every part of the server.
It imports nothing else from xmuc (the import contract in setup.cfg checks
it).

 - L{ns}: every XML namespace;
 - L{jid}: parsing JIDs;
 - L{stanza}: building, copying and parsing stanzas, iq results;
 - L{serialized}: serialize once, deliver to many, splice delays;
 - L{forms}: XEP-0004 data forms;
 - L{datetime}: XEP-0082 timestamps;
 - L{errors}: stanza errors and error replies;
 - L{mam}: the protocol of message archives (XEP-0313);
 - L{xml}: the XML layer every stream writes through.

Importing this package installs L{xmuc.xmpp.xml.EscapingSerializer} as
domish's serializer, so no element serialized anywhere in xmuc can write
markup its sender smuggled into a namespace name.
"""

from xmuc.xmpp import xml as _xml

_xml.install()
