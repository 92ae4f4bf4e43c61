"""
A private group chat the way Conversations makes one (the kind OMEMO needs):
a unique room name from the service (XEP-0045 10.1.4), a members-only,
non-anonymous, persistent, hidden room, members added in one affiliation
delta, a direct invitation (XEP-0249) to each, members join and see real
JIDs, a non-member cannot.
"""

import asyncio
import xml.etree.ElementTree as ET

from slixmpp import JID
from slixmpp.exceptions import PresenceError

from common import MUC, Bot, check, run

NS_UNIQUE = "http://jabber.org/protocol/muc#unique"
NS_CONFERENCE = "jabber:x:conference"


async def main(port, certificate):
    alice = Bot("alice@localhost/conversations", "rabbit hole")
    bob = Bot("bob@localhost/conversations", "can we fix it")
    carol = Bot("carol@localhost/gajim", "sweet caroline")
    bots = (alice, bob, carol)
    for bot in bots:
        bot.watch("groupchat_presence")
        bot.watchAllMessages()
    await asyncio.gather(*(bot.login(port, certificate) for bot in bots))
    muc = alice["xep_0045"]

    # --- a unique name from the service
    request = alice.make_iq_get(ito=JID(MUC))
    request.append(ET.Element("{%s}unique" % (NS_UNIQUE,)))
    reply = await request.send(timeout=5)
    unique = reply.xml.find("{%s}unique" % (NS_UNIQUE,))
    check("unique-name", unique is not None and unique.text, reply)
    room = JID("%s@%s" % (unique.text.lower(), MUC))

    # --- create and configure as a private group chat
    presence, _, _, _ = await muc.join_muc_wait(room, "Alice", maxstanzas=0, timeout=10)
    check("created", 201 in presence["muc"]["status_codes"], presence)
    form = await muc.get_room_config(room)
    form.set_values(
        {
            "muc#roomconfig_roomname": "Family",
            "muc#roomconfig_membersonly": True,
            "muc#roomconfig_whois": "anyone",
            "muc#roomconfig_persistentroom": True,
            "muc#roomconfig_publicroom": False,
        }
    )
    await muc.set_room_config(room, form)
    info = await alice["xep_0030"].get_info(jid=room, timeout=5)
    features = set(info["disco_info"]["features"])
    check("private-features", {"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden"} <= features, features)

    # --- members in one delta, then the member list
    await muc.send_affiliation_list(room, [(JID("bob@localhost"), "member"), (JID("carol@localhost"), "member")])
    members = await muc.get_affiliation_list(room, "member")
    check("member-list", sorted(str(j) for j in members) == ["bob@localhost", "carol@localhost"], members)

    # --- direct invitation (XEP-0249): a plain message between users
    invitation = alice.make_message(JID("bob@localhost"))
    invitation.xml.append(ET.Element("{%s}x" % (NS_CONFERENCE,), {"jid": room.bare, "reason": "family chat"}))
    invitation.send()
    got = await bob.next("any_message", predicate=lambda m: m.xml.find("{%s}x" % (NS_CONFERENCE,)) is not None)
    check("direct-invitation", got.xml.find("{%s}x" % (NS_CONFERENCE,)).get("jid") == room.bare, got)

    # --- members join and see real JIDs (status 100 to themselves)
    presence, _, occupants, _ = await bob["xep_0045"].join_muc_wait(room, "Bob", maxstanzas=0, timeout=10)
    codes = set(presence["muc"]["status_codes"])
    check("non-anonymous-100", {100, 110} <= codes, presence)
    owner = [p for p in occupants if p["from"].resource == "Alice"]
    check("real-jid-visible", owner and owner[0]["muc"]["jid"] == alice.boundjid, occupants)
    seen = await alice.next("groupchat_presence", predicate=lambda p: p["from"].resource == "Bob")
    check("member-jid-visible", seen["muc"]["jid"] == bob.boundjid and seen["muc"]["affiliation"] == "member", seen)

    # --- once carol's membership is revoked she cannot join
    await muc.set_affiliation(room, "none", jid=JID("carol@localhost"))
    try:
        await carol["xep_0045"].join_muc_wait(room, "Carol", timeout=10)
    except PresenceError as e:
        check("non-member-refused", e.condition == "registration-required", e.presence)
    else:
        check("non-member-refused", False, "joined")

    check("no-stream-errors", not any(bot.streamErrors for bot in bots), [bot.streamErrors for bot in bots])
    await asyncio.gather(*(bot.logout() for bot in bots))


run(main)
