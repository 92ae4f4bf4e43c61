"""
Anonymous unique occupant identifiers (XEP-0421), enabled by default in
Prosody: every presence and message of an occupant carries
C{<occupant-id xmlns='urn:xmpp:occupant-id:0' id=.../>}, the same for a
real bare JID across joins and nick changes, derived from a per-room secret
salt (kept with the room's state) so it reveals nothing about the JID.
Ids sent by clients are dropped by the core (forgery).
"""

import base64
import hashlib
import hmac
import uuid

from xmuc.muc import hooks
from xmuc.xmpp import ns

ns.OCCUPANT_ID = "urn:xmpp:occupant-id:0"


def occupantID(room, bare):
    """
    @return: the occupant id of real bare JID C{bare} in C{room}.
    """
    salt = room.extra.get("occupantIdSalt")
    if salt is None:
        salt = room.extra["occupantIdSalt"] = str(uuid.uuid4())
    digest = hmac.new(bare.encode("utf-8"), salt.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def giveSalt(room, **kw):
    """
    C{room-created} / C{room-loaded}: the salt is part of the room's state
    before any change is applied, so a change failing to be stored (which
    puts C{room.extra} back as it was, L{xmuc.muc.persistence}) cannot take
    back a salt occupant ids were already derived from.
    """
    room.extra.setdefault("occupantIdSalt", str(uuid.uuid4()))


def occupantIDOf(room, occupant):
    """
    @return: the occupant id of C{occupant}, computed once per occupant.
    """
    return occupant.state(__name__, occupantID, room, occupant.bare)


def _add(room, occupant, stanza):
    stanza.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = occupantIDOf(room, occupant)


def addToPresence(room, occupant, presence, **kw):
    _add(room, occupant, presence)


def addToMessage(room, occupant, message, **kw):
    _add(room, occupant, message)


def addFeature(room, features, **kw):
    features.add(ns.OCCUPANT_ID)


def addServiceFeature(service, features, **kw):
    features.add(ns.OCCUPANT_ID)


def install(service):
    service.hooks.add(hooks.ROOM_CREATED, giveSalt)
    service.hooks.add(hooks.ROOM_LOADED, giveSalt)
    service.hooks.add(hooks.PRESENCE_BUILD, addToPresence)
    service.hooks.add(hooks.MESSAGE_BUILD, addToMessage)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.SERVICE_DISCO_FEATURES, addServiceFeature)
