"""
Presence broadcast by role (C{muc#roomconfig_presencebroadcast}) and the
presence of offline members.

The room shows others the presence of an occupant only when its role is
in C{room.config.presenceBroadcast} (everyone always sees its own).  The
unavailable presence of someone leaving goes to the others when the role
it had was broadcast.  When the list changes, occupants whose role became
broadcast are announced, and those whose role stopped being broadcast are
seen leaving (unavailable presence); a role change that hides an occupant
does the same.

With C{'none'} in the list, a joiner gets, after the occupants, an
unavailable presence for every member (owner, admin, member) who is not
in the room: from C{room/reserved nick} (from the room's JID when the
member reserved none), with the affiliation, role C{'none'}, the nick,
and the real JID when the joiner may see real JIDs.  Members without a
reserved nick are only shown to joiners who may see real JIDs.
"""

from xmuc.muc import hooks
from xmuc.muc.configform import configField
from xmuc.muc.presence import PresenceChange, broadcastPresence, buildPresence
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import ns
from xmuc.xmpp.serialized import Serialized
from xmuc.xmpp.stanza import newStanza

MEMBERS = ("owner", "admin", "member")

#: C{presenceBroadcast}: the roles whose presence is broadcast.
SETTINGS = {"presenceBroadcast": ["moderator", "participant", "visitor"]}

ROLE_OPTIONS = [("moderator", "Moderator"), ("participant", "Participant"), ("visitor", "Visitor")]


def broadcastsRole(room, role):
    return role in room.config.presenceBroadcast


def shownRole(occupant):
    """
    @return: the role others last saw for C{occupant}: its role, or for
        someone leaving (role 'none') the role it had in the room.
    """
    if occupant.role != "none":
        return occupant.role
    return _stateOf(occupant).lastRole


class _ShownRole:
    """
    @ivar lastRole: the last role others saw for an occupant (not
        C{'none'}), C{'none'} before any.
    """

    lastRole = "none"


def _stateOf(occupant):
    return occupant.state(__name__, _ShownRole)


def rememberRole(occupant, role):
    if role != "none":
        _stateOf(occupant).lastRole = role


def isVisible(room, occupant, **kw):
    """
    C{occupant-presence-visible}: only occupants whose role is broadcast are seen.
    """
    if broadcastsRole(room, shownRole(occupant)):
        return None
    return False


def onListSent(room, occupant, **kw):
    rememberRole(occupant, occupant.role)
    if "none" in room.config.presenceBroadcast:
        sendOfflineMembers(room, occupant, kw.get("to"))


def onRoleChanged(room, occupant, old, new, **kw):
    if new == "none":
        return
    rememberRole(occupant, new)
    if broadcastsRole(room, old) and not broadcastsRole(room, new):
        sendUnavailableToOthers(room, occupant)


def sendUnavailableToOthers(room, occupant):
    """
    Others see C{occupant} leave, although it stays (its role is no longer
    broadcast).  Another session of the same user keeps seeing it.
    """
    variants = {}
    for other in list(room.occupants.values()):
        if other is occupant or other.bare == occupant.bare:
            continue
        kind = "full" if room.canSeeRealJIDs(other) else "anon"
        serialized = variants.get(kind)
        if serialized is None:
            presence = buildPresence(room, occupant, kind, PresenceChange(unavailable=True, payload=()))
            serialized = variants[kind] = Serialized(presence)
        for to in tuple(other.sessions):
            serialized.sendTo(room.router, to)


def offlineMemberPresence(room, bare, affiliation, nick, withJID):
    """
    @return: the unavailable presence standing for member C{bare}.
    """
    presence = newStanza("presence", type="unavailable", **{"from": room.jidStr + "/" + nick if nick else room.jidStr})
    x = presence.addElement((ns.MUC_USER, "x"))
    item = x.addElement("item")
    item["affiliation"] = affiliation
    item["role"] = "none"
    if nick:
        item["nick"] = nick
    if withJID:
        item["jid"] = bare
    return presence


def sendOfflineMembers(room, joiner, to=None):
    """
    Send C{joiner} (its session C{to}, default: the primary one) the
    presence of every member not in the room.
    """
    present = {occupant.bare for occupant in room.occupants.values()}
    withJID = room.canSeeRealJIDs(joiner)
    for bare, affiliation in sorted(room.affiliations.items()):
        if affiliation not in MEMBERS or bare in present:
            continue
        nick = room.reservedNicks.get(bare)
        if nick is None and not withJID:
            continue
        presence = offlineMemberPresence(room, bare, affiliation, nick, withJID)
        presence["to"] = to or joiner.realJID
        room.route(presence)


def onConfigChanged(room, changes, old, **kw):
    """
    The broadcast list changed: announce the occupants now broadcast, and
    show as gone those that are not any more.
    """
    if "presenceBroadcast" not in changes:
        return
    before = set(old.get("presenceBroadcast", ()))
    after = set(changes["presenceBroadcast"])
    for occupant in list(room.occupants.values()):
        if occupant.role in after and occupant.role not in before:
            broadcastPresence(room, occupant, toSelf=False)
        elif occupant.role in before and occupant.role not in after:
            sendUnavailableToOthers(room, occupant)


def install(service):
    declareSettings(service, SETTINGS)
    configField(service, "muc#roomconfig_presencebroadcast", "presenceBroadcast", "list-multi",
                "Only show participants with roles", 20, options=ROLE_OPTIONS + [("none", "None (offline members)")])
    service.hooks.add(hooks.OCCUPANT_PRESENCE_VISIBLE, isVisible)
    service.hooks.add(hooks.OCCUPANT_LIST_SENT, onListSent)
    service.hooks.add(hooks.ROLE_CHANGED, onRoleChanged)
    service.hooks.add(hooks.CONFIG_STORED, onConfigChanged)
