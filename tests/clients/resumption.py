"""
XEP-0198 with a real client (slixmpp's xep_0198): Alice enables stream
management with resumption, joins a room, her connection dies; Bob's
message to the room while she is away reaches her once slixmpp has resumed
the session on a new connection, and the room never saw her leave.
"""

import asyncio

from slixmpp import JID

from common import MUC, PLUGINS, Bot, check, run

ROOM = JID("resumption@" + MUC)


def occupant(nick):
    return JID("%s/%s" % (ROOM.bare, nick))


async def main(port, certificate):
    alice = Bot("alice@localhost/conversations", "rabbit hole", plugins=PLUGINS + ("xep_0198",))
    bob = Bot("bob@localhost/gajim", "can we fix it")
    alice.watch("sm_enabled", "session_resumed", "sm_failed", "disconnected", "groupchat_message")
    bob.watch("groupchat_presence", "groupchat_message")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    enabled = await alice.next("sm_enabled")
    check("sm-enabled", bool(enabled["id"]) and enabled["resume"], enabled)

    muc = alice["xep_0045"]
    await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    await muc.set_room_config(ROOM, await muc.get_room_config(ROOM))
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)

    # --- the network goes away under Alice's feet
    alice.abort()
    await alice.next("disconnected")
    await asyncio.sleep(0.3)
    bob.send_message(ROOM, "while you were away", mtype="groupchat")
    await bob.next("groupchat_message", predicate=lambda m: m["body"] == "while you were away")

    # --- she comes back: slixmpp resumes instead of binding
    alice.connect("127.0.0.1", port)
    resumed = await alice.next("session_resumed", timeout=15)
    check("resumed", resumed["previd"] == enabled["id"], resumed)
    got = await alice.next("groupchat_message", predicate=lambda m: m["body"] == "while you were away")
    check("queued-message-delivered", got["from"] == occupant("Bob"), got)

    alice.send_message(ROOM, "back again", mtype="groupchat")
    echo = await bob.next("groupchat_message", predicate=lambda m: m["body"] == "back again")
    check("still-in-room", echo["from"] == occupant("Alice"), echo)
    left = []
    while not bob.events["groupchat_presence"].empty():
        p = bob.events["groupchat_presence"].get_nowait()
        if p["from"] == occupant("Alice") and p["type"] == "unavailable":
            left.append(p)
    check("room-never-saw-her-leave", not left, left)
    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors, alice.streamErrors + bob.streamErrors)
    await asyncio.gather(alice.logout(), bob.logout())


if __name__ == "__main__":
    run(main)
