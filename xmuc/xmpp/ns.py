"""
XML namespaces used across xmuc: the one place they are spelled.
"""

# Streams and stanzas (RFC 6120, RFC 6121).
CLIENT = "jabber:client"
COMPONENT = "jabber:component:accept"
STREAMS = "http://etherx.jabber.org/streams"
XMPP_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
XMPP_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
TLS = "urn:ietf:params:xml:ns:xmpp-tls"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
SESSION = "urn:ietf:params:xml:ns:xmpp-session"
ROSTER = "jabber:iq:roster"
#: The stream feature of roster versioning (XEP-0237).
ROSTER_VERSIONING = "urn:xmpp:features:rosterver"
#: The C{xml:} prefix (C{xml:lang}).
XML = "http://www.w3.org/XML/1998/namespace"

# Accounts and service discovery.
REGISTER = "jabber:iq:register"
REGISTER_FEATURE = "http://jabber.org/features/iq-register"
# FORM_TYPE of the password change form (XEP-0077 section 3.3).
REGISTER_CHANGE_PASSWORD = REGISTER + ":changepassword"
VERSION = "jabber:iq:version"
PING = "urn:xmpp:ping"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
CAPS = "http://jabber.org/protocol/caps"
VCARD_TEMP = "vcard-temp"
VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"
#: The PEP node of the vCard4 (XEP-0292).
VCARD4_NODE = "urn:xmpp:vcard4"
#: The avatar hash in presence (XEP-0153).
VCARD_UPDATE = "vcard-temp:x:update"
#: User avatars (XEP-0084) and their conversion with the vCard (XEP-0398).
AVATAR_DATA = "urn:xmpp:avatar:data"
AVATAR_METADATA = "urn:xmpp:avatar:metadata"
PEP_VCARD_CONVERSION = "urn:xmpp:pep-vcard-conversion:0"

# What an account offers its owner and its contacts: blocking (XEP-0191),
# private XML storage (XEP-0049), last activity (XEP-0012), entity time
# (XEP-0202), contact addresses (XEP-0157).
BLOCKING = "urn:xmpp:blocking"
BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
PRIVATE = "jabber:iq:private"
#: Bookmarks: XEP-0402 (a PEP node) and XEP-0048 (private storage or PEP).
BOOKMARKS = "urn:xmpp:bookmarks:1"
BOOKMARKS_LEGACY = "storage:bookmarks"
#: XEP-0402 before version 0.4 (one item for every room).
BOOKMARKS_OLD = "urn:xmpp:bookmarks:0"
#: XEP-0411, which older clients look for.
BOOKMARKS_CONVERSION = "urn:xmpp:bookmarks-conversion:0"
LAST = "jabber:iq:last"
TIME = "urn:xmpp:time"
SERVERINFO = "http://jabber.org/network/serverinfo"

# Data forms (XEP-0004, XEP-0122) and result set management (XEP-0059).
DATA_FORMS = "jabber:x:data"
XDATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"
RSM = "http://jabber.org/protocol/rsm"

# Stream management (XEP-0198).
STREAM_MANAGEMENT = "urn:xmpp:sm:3"
#: Client State Indication (XEP-0352).
CSI = "urn:xmpp:csi:0"
#: Jingle Message Initiation (XEP-0353), a call coming.
JINGLE_MESSAGE_0 = "urn:xmpp:jingle-message:0"
JINGLE_MESSAGE_1 = "urn:xmpp:jingle-message:1"

# Message payloads: delays, ids, forwarding, hints, states, receipts.
DELAY = "urn:xmpp:delay"
STANZA_ID = "urn:xmpp:sid:0"
FORWARD = "urn:xmpp:forward:0"
HINTS = "urn:xmpp:hints"
CHATSTATES = "http://jabber.org/protocol/chatstates"
RECEIPTS = "urn:xmpp:receipts"
CHAT_MARKERS = "urn:xmpp:chat-markers:0"
EME = "urn:xmpp:eme:0"
JINGLE_MESSAGE = ("urn:xmpp:jingle-message:0", "urn:xmpp:jingle-message:1")
FASTEN = "urn:xmpp:fasten:0"
FALLBACK = "urn:xmpp:fallback:0"
MESSAGE_RETRACT_0 = "urn:xmpp:message-retract:0"
MESSAGE_RETRACT_1 = "urn:xmpp:message-retract:1"
MESSAGE_MODERATE_0 = "urn:xmpp:message-moderate:0"
MESSAGE_MODERATE_1 = "urn:xmpp:message-moderate:1"

# Archives (XEP-0313) and message carbons (XEP-0280).
MAM = "urn:xmpp:mam:2"
MAM_EXTENDED = MAM + "#extended"
CARBONS = "urn:xmpp:carbons:2"
#: Advertised by Prosody: which copying rules the server follows.
CARBONS_RULES = "urn:xmpp:carbons:rules:0"

# Publish-subscribe (XEP-0060, XEP-0163).
PUBSUB = "http://jabber.org/protocol/pubsub"
PUBSUB_OWNER = PUBSUB + "#owner"
PUBSUB_EVENT = PUBSUB + "#event"
PUBSUB_ERRORS = PUBSUB + "#errors"
PUBSUB_NODE_CONFIG = PUBSUB + "#node_config"

# Multi-user chat (XEP-0045 and the XEPs around it).
MUC = "http://jabber.org/protocol/muc"
MUC_USER = MUC + "#user"
MUC_ADMIN = MUC + "#admin"
MUC_OWNER = MUC + "#owner"
MUC_ROOMCONFIG = MUC + "#roomconfig"
MUC_ROOMINFO = MUC + "#roominfo"
MUC_REGISTER = MUC + "#register"
MUC_REQUEST = MUC + "#request"
MUC_UNIQUE = MUC + "#unique"
MUC_STABLE_ID = MUC + "#stable_id"
MUC_SELF_PING = MUC + "#self-ping-optimization"
OCCUPANT_ID = "urn:xmpp:occupant-id:0"
CONFERENCE = "jabber:x:conference"

# Ad-hoc commands (XEP-0050) and hats (XEP-0317).
COMMANDS = "http://jabber.org/protocol/commands"
HATS = "urn:xmpp:hats:0"
HATS_COMMANDS = "urn:xmpp:hats:commands"
#: The namespace of hats before XEP-0317 chose one, which Prosody 0.12
#: sends and clients of its time read.
HATS_LEGACY = "xmpp:prosody.im/protocol/hats:1"

# Server-to-server streams (RFC 6120), Server Dialback (XEP-0220).
SERVER = "jabber:server"
DIALBACK = "jabber:server:dialback"
DIALBACK_FEATURE = "urn:xmpp:features:dialback"
# XMPP over WebSocket (RFC 7395) and its discovery (XEP-0156).
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
ALT_CONNECTIONS_WEBSOCKET = "urn:xmpp:alt-connections:websocket"
XRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0"

# HTTP File Upload (XEP-0363).
HTTP_UPLOAD = "urn:xmpp:http:upload:0"
