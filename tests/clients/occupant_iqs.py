"""
Iqs to occupant JIDs (XEP-0045 7.5, XEP-0410): a self-ping is answered by
the room when the sender is that occupant, refused with not-acceptable when
it is not one (Prosody); iqs to another occupant (ping, software version,
disco#info for caps, vCard) reach that occupant's client and its answer
comes back from the occupant JID.
"""

import asyncio

from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0410 import PingStatus

from common import MUC, PLUGINS, Bot, check, run

ROOM = JID("selfping@" + MUC)
EXTRA = ("xep_0092", "xep_0054", "xep_0410")


def occupant(nick):
    return JID("%s/%s" % (ROOM.bare, nick))


async def iqError(coroutine):
    """
    @return: the error iq a request got, or L{None} if it succeeded.
    """
    try:
        await coroutine
    except IqError as e:
        return e.iq
    return None


async def main(port, certificate):
    alice = Bot("alice@localhost/laptop", "rabbit hole", PLUGINS + EXTRA)
    bob = Bot("bob@localhost/phone", "can we fix it", PLUGINS + EXTRA)
    carol = Bot("carol@localhost/desk", "sweet caroline", PLUGINS + EXTRA)
    bob["xep_0092"].version = "4.2"
    await asyncio.gather(*(bot.login(port, certificate) for bot in (alice, bob, carol)))
    muc = alice["xep_0045"]
    await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    await muc.set_room_config(ROOM, await muc.get_room_config(ROOM))
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)

    # --- XEP-0410 self-ping by the occupant itself: answered
    status = await alice["xep_0410"].send_self_ping(occupant("Alice"), timeout=5)
    check("self-ping-joined", status == PingStatus.JOINED, status)
    reply = await alice["xep_0199"].send_ping(occupant("Alice"), timeout=5)
    check("self-ping-result", reply["type"] == "result" and reply["from"] == occupant("Alice"), reply)

    # --- by someone who is not an occupant: not-acceptable (cancel)
    error = await iqError(carol["xep_0199"].send_ping(occupant("Alice"), timeout=5))
    check(
        "stranger-ping-not-acceptable",
        error is not None and (error["error"]["type"], error["error"]["condition"]) == ("cancel", "not-acceptable"),
        error,
    )
    check("stranger-ping-from", error["from"] == occupant("Alice"), error)
    status = await carol["xep_0410"].send_self_ping(occupant("Carol"), timeout=5)
    check("stranger-self-ping-disconnected", status == PingStatus.DISCONNECTED, status)

    # --- to a nick nobody has, by an occupant: item-not-found
    error = await iqError(alice["xep_0199"].send_ping(occupant("Nobody"), timeout=5))
    check("ping-missing-nick", error is not None and error["error"]["condition"] == "item-not-found", error)

    # --- to a room that does not exist: item-not-found
    error = await iqError(alice["xep_0199"].send_ping(JID("nowhere@%s/Alice" % (MUC,)), timeout=5))
    check("ping-missing-room", error is not None and error["error"]["condition"] == "item-not-found", error)

    # --- iqs to another occupant reach its client; the answer comes back
    reply = await alice["xep_0199"].send_ping(occupant("Bob"), timeout=5)
    check("ping-other", reply["type"] == "result" and reply["from"] == occupant("Bob"), reply)
    version = await alice["xep_0092"].get_version(occupant("Bob"), timeout=5)
    check(
        "version-other",
        (version["from"], version["software_version"]["version"]) == (occupant("Bob"), "4.2"),
        version,
    )
    info = await alice["xep_0030"].get_info(jid=occupant("Bob"), timeout=5)
    check("disco-other", "urn:xmpp:ping" in info["disco_info"]["features"] and info["from"] == occupant("Bob"), info)
    # A vCard request goes to the occupant's bare JID (Prosody): the
    # answer, whatever it is, comes back from the occupant JID.
    try:
        vcard = await alice["xep_0054"].get_vcard(occupant("Bob"), local=False, cached=False, timeout=5)
    except IqError as e:
        vcard = e.iq
    check("vcard-other-answered", vcard["type"] in ("result", "error") and vcard["from"] == occupant("Bob"), vcard)

    # --- a stranger may not query occupants
    error = await iqError(carol["xep_0092"].get_version(occupant("Bob"), timeout=5))
    check("stranger-version-not-acceptable", error is not None and error["error"]["condition"] == "not-acceptable", error)

    # --- after a nick change the old occupant JID is gone, the new one answers
    await bob["xep_0045"].set_self_nick(ROOM, "Robert", timeout=10)
    error = await iqError(bob["xep_0199"].send_ping(occupant("Bob"), timeout=5))
    check("old-nick-item-not-found", error is not None and error["error"]["condition"] == "item-not-found", error)
    status = await bob["xep_0410"].send_self_ping(occupant("Robert"), timeout=5)
    check("new-nick-joined", status == PingStatus.JOINED, status)

    # --- after leaving, the self-ping says so
    bob["xep_0045"].leave_muc(ROOM, "Robert")
    await asyncio.sleep(0.3)
    status = await bob["xep_0410"].send_self_ping(occupant("Robert"), timeout=5)
    check("left-disconnected", status == PingStatus.DISCONNECTED, status)

    bots = (alice, bob, carol)
    check("no-stream-errors", not any(bot.streamErrors for bot in bots), [bot.streamErrors for bot in bots])
    await asyncio.gather(*(bot.logout() for bot in bots))


run(main)
