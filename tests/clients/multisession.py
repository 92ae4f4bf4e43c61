"""
The same account in a room from two devices under one nick (Prosody's
multi-session nicks; what Gajim on a laptop plus Conversations on a phone
do every day): the second join succeeds, both devices get the room's
messages, and the occupant leaves only when its last session does.
"""

import asyncio

from slixmpp import JID

from common import MUC, Bot, check, run

ROOM = JID("devices@" + MUC)


def occupant(nick):
    return JID("%s/%s" % (ROOM.bare, nick))


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole")
    phone = Bot("bob@localhost/phone", "can we fix it")
    laptop = Bot("bob@localhost/laptop", "can we fix it")
    bots = (alice, phone, laptop)
    for bot in bots:
        bot.watch("groupchat_presence", "groupchat_message")
    await asyncio.gather(*(bot.login(port, certificate) for bot in bots))
    muc = alice["xep_0045"]
    await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    await muc.set_room_config(ROOM, await muc.get_room_config(ROOM))
    await phone["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)

    presence, subject, occupants, history = await laptop["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    check("second-device-joins", 110 in presence["muc"]["status_codes"], presence)
    alice.send_message(ROOM, "hello both", mtype="groupchat")
    for name, bot in (("phone", phone), ("laptop", laptop)):
        got = await bot.next("groupchat_message", predicate=lambda m: m["body"] == "hello both")
        check("message " + name, got["from"] == occupant("Alice"), got)

    alice.drain("groupchat_presence")
    phone.abort()
    await asyncio.sleep(0.5)
    queued = list(alice.events["groupchat_presence"]._queue)
    check("one-device-gone-still-there", not [p for p in queued if p["type"] == "unavailable"], queued)
    # As Prosody, the others may have seen Bob's presence updated (one real
    # JID less): what follows the last device going is its leave.
    alice.drain("groupchat_presence")
    await laptop.logout()
    left = await alice.next("groupchat_presence", predicate=lambda p: p["from"] == occupant("Bob"))
    check("last-device-gone-leaves", left["type"] == "unavailable", left)
    await alice.logout()


run(main)
