"""
A busy room with many real clients: every bot joins, everyone talks at
once; each bot gets every message exactly once, all bots see them in the
same order with the same stanza-ids, and the joins all settle into the
same occupant roster.
"""

import asyncio
import sys

from slixmpp import JID

from common import MUC, Bot, check, run

ROOM = JID("crowd@" + MUC)
NS_SID = "urn:xmpp:sid:0"


def stanzaID(message):
    element = message.xml.find("{%s}stanza-id" % (NS_SID,))
    return None if element is None else element.get("id")


async def main(port, certificate):
    count = int(sys.argv[3])
    bots = [Bot("user%d@localhost/bot" % (n,), "password %d" % (n,)) for n in range(count)]
    for bot in bots:
        bot.watch("groupchat_message")
    await asyncio.gather(*(bot.login(port, certificate) for bot in bots))
    owner = bots[0]["xep_0045"]
    await owner.join_muc_wait(ROOM, "user0", maxstanzas=0, timeout=20)
    await owner.set_room_config(ROOM, await owner.get_room_config(ROOM))
    await asyncio.gather(
        *(bot["xep_0045"].join_muc_wait(ROOM, "user%d" % (n,), maxstanzas=0, timeout=30) for n, bot in enumerate(bots) if n)
    )
    await asyncio.sleep(0.5)
    rosters = {frozenset(bot["xep_0045"].get_roster(ROOM)) for bot in bots}
    check("same-roster", rosters == {frozenset("user%d" % (n,) for n in range(count))}, rosters)

    for n, bot in enumerate(bots):
        bot.send_message(ROOM, "message from %d" % (n,), mtype="groupchat")
    seen = []
    for bot in bots:
        got = [await bot.next("groupchat_message", timeout=30) for _ in range(count)]
        seen.append([(m["from"].resource, m["body"], stanzaID(m)) for m in got])
    everyone = sorted("message from %d" % (n,) for n in range(count))
    check("all-received", all(sorted(body for _, body, _ in s) == everyone for s in seen), seen[0])
    check("same-order", all(s == seen[0] for s in seen), seen)
    check("unique-stanza-ids", len({sid for _, _, sid in seen[0]}) == count and None not in {sid for _, _, sid in seen[0]}, seen[0])
    await asyncio.sleep(0.3)
    check("nothing-extra", all(bot.events["groupchat_message"].empty() for bot in bots), "duplicates")
    await asyncio.gather(*(bot.logout() for bot in bots))


run(main)
