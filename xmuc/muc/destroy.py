"""
Destroying a room (XEP-0045 10.9): every occupant gets its unavailable
presence with C{<destroy/>} (reason, alternate venue and its password),
the room leaves the service and storage; features forget it through
C{room-destroyed} (history, archive, tombstones).
"""

from twisted.words.xish import domish

from xmuc.muc import hooks, presence, removal
from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID


def destroy(room, reason=None, alternate=None, password=None):
    """
    Destroy the room (XEP-0045 10.9): every occupant gets unavailable
    presence with C{<destroy/>}; the room leaves the service and storage.

    @return: a Deferred firing once storage forgot it and the files its
        messages linked to are deleted (L{removal.destroyed}).
    """
    element = domish.Element((ns.MUC_USER, "destroy"))
    if alternate:
        element["jid"] = alternate
    if reason:
        element.addElement("reason", content=reason)
    if password:
        element.addElement("password", content=password)
    leaving = presence.PresenceChange(unavailable=True, payload=(), before=(element,))
    room.destroyed = True
    for occupant in list(room.occupants.values()):
        # Everyone is out at once: each gets only its own presence
        # (as Prosody), not the others leaving.
        occupant.role = "none"
        presence.sendToOwnSessions(room, occupant, leaving)
        room.forgetOccupant(occupant)
    # Read before the room-destroyed handlers purge history and archive.
    removed = removal.destroyed(room)
    room.hooks.fire(hooks.ROOM_DESTROYED, room=room, reason=reason, alternate=alternate)
    forgotten = room.service.forgetRoom(room)
    return forgotten.addCallback(lambda _: removed)


def destroyRequest(room, stanza, request):
    """
    XEP-0045 10.9: destroy with optional reason, alternate venue and its
    password; the result comes once storage forgot the room.
    """
    alternate = request.getAttribute("jid")
    if alternate is not None:
        parsed = parseJID(alternate)
        if parsed is None:
            raise StanzaError("jid-malformed", text="Invalid alternate venue")
        alternate = parsed.full()
    reason = password = None
    for child in request.elements():
        if child.name == "reason":
            reason = str(child)
        elif child.name == "password":
            password = str(child)
    d = destroy(room, reason, alternate, password)

    def done(_):
        room.reply(stanza)
        return True

    return d.addCallback(done)
