"""
How real users' clients come and go in a room: the echo keeps origin-id,
a client re-sends its join presence after a reconnect (desync rejoin),
clients disappear without leaving (aborted connection, closed stream) and
come back.
"""

import asyncio

from slixmpp import JID

from common import MUC, Bot, check, run

ROOM = JID("sessions@" + MUC)
NS_ORIGIN = "urn:xmpp:sid:0"


def occupant(nick):
    return JID("%s/%s" % (ROOM.bare, nick))


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole")
    bob = Bot("bob@localhost/phone", "can we fix it")
    carol = Bot("carol@localhost/poezio", "sweet caroline")
    bots = (alice, bob, carol)
    presenceEvent = "groupchat_presence"
    for bot in bots:
        bot.watch(presenceEvent, "groupchat_message", "groupchat_subject")
    await asyncio.gather(*(bot.login(port, certificate) for bot in bots))
    muc = alice["xep_0045"]
    await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    await muc.set_room_config(ROOM, await muc.get_room_config(ROOM))
    muc.set_subject(ROOM, "Sessions")
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Bob"))

    # --- the echo keeps the client's origin-id (XEP-0359), which Gajim and
    # Conversations use to recognise their own messages
    sent = bob.make_message(ROOM, "from my phone", mtype="groupchat")
    sent.xml.append(sent.xml.makeelement("{%s}origin-id" % (NS_ORIGIN,), {"id": "origin-42"}))
    sent.send()
    for name, bot in (("bob", bob), ("alice", alice)):
        got = await bot.next("groupchat_message", predicate=lambda m: m["body"] == "from my phone")
        element = got.xml.find("{%s}origin-id" % (NS_ORIGIN,))
        check("origin-id " + name, element is not None and element.get("id") == "origin-42", got)

    # --- a client re-sends its join after a reconnection it did not
    # notice: it gets the room again (occupants, its presence, subject)
    presence, subject, occupants, history = await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    check("rejoin-self-presence", 110 in presence["muc"]["status_codes"], presence)
    check("rejoin-subject", subject["subject"] == "Sessions", subject)
    check("rejoin-occupants", occupant("Alice") in [p["from"] for p in occupants], occupants)
    check("rejoin-roster", set(muc.get_roster(ROOM)) == {"Alice", "Bob"}, muc.get_roster(ROOM))

    # --- a status change in the room (poezio's /status, Gajim's away)
    alice.drain(presenceEvent)
    bob.send_presence(pto=occupant("Bob"), pshow="away", pstatus="lunch")
    # (The rejoin above may still be on its way to alice: wait for the
    # status change itself.)
    update = await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Bob") and p["status"])
    check("status-update", (update["type"], update["show"], update["status"]) == ("away", "away", "lunch"), update)

    # --- a client that goes offline properly (broadcast unavailable
    # presence, RFC 6121 4.6.2) but keeps its stream: the server tells the
    # rooms it sent directed presence to
    await carol["xep_0045"].join_muc_wait(ROOM, "Carol", maxstanzas=0, timeout=10)
    await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Carol"))
    carol.send_presence(ptype="unavailable")
    left = await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Carol"))
    check("offline-leaves", left["type"] == "unavailable", left)

    # --- a client whose connection dies without leaving: the others see
    # it go (its server sends unavailable presence to the room)
    alice.drain(presenceEvent)
    bob.abort()
    left = await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Bob"))
    check("aborted-leaves", left["type"] == "unavailable", left)

    # --- a client that closes its stream without leaving the room
    await carol["xep_0045"].join_muc_wait(ROOM, "Carol", maxstanzas=0, timeout=10)
    await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Carol"))
    await carol.logout()
    left = await alice.next(presenceEvent, predicate=lambda p: p["from"] == occupant("Carol"))
    check("closed-leaves", left["type"] == "unavailable", left)
    check("roster-after", muc.get_roster(ROOM) == ["Alice"], muc.get_roster(ROOM))

    # --- and they can come back
    again = Bot("bob@localhost/phone", "can we fix it")
    await again.login(port, certificate)
    presence, subject, occupants, history = await again["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    check("back-again", presence["type"] != "error" and 110 in presence["muc"]["status_codes"], presence)

    check("no-stream-errors", not alice.streamErrors and not again.streamErrors, alice.streamErrors)
    await asyncio.gather(alice.logout(), again.logout())


run(main)
