"""
A deployed server (twistd) as users meet it, in two acts separated by a
restart of the process:

C{first}: two users create their accounts in-band (XEP-0077, as Gajim's
account wizard does), log in, one creates a persistent public room, the
other joins, they chat.

C{second} (after the restart): the accounts still log in, the room is still
listed with its name and configuration, its owner is still its owner.
"""

import asyncio
import sys

from slixmpp import JID

from common import MUC, PLUGINS, Bot, check, run

ROOM = JID("deployed@" + MUC)


class Registering(Bot):
    """
    A bot that creates its account in-band before logging in.
    """

    def __init__(self, jid, password):
        Bot.__init__(self, jid, password, PLUGINS + ("xep_0077",))
        self["xep_0077"].force_registration = True
        self.add_event_handler("register", self.register)

    async def register(self, form):
        request = self.Iq()
        request["type"] = "set"
        request["register"]["username"] = self.boundjid.user
        request["register"]["password"] = self.password
        await request.send(timeout=10)


async def first(port, certificate):
    alice = Registering("alice@localhost/gajim", "rabbit hole")
    bob = Registering("bob@localhost/dino", "can we fix it")
    for bot in (alice, bob):
        bot.watch("groupchat_message")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    check("registered-and-logged-in", alice.boundjid.bare == "alice@localhost" and bob.boundjid.bare == "bob@localhost", "")
    muc = alice["xep_0045"]
    presence, _, _, _ = await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    check("created", 201 in presence["muc"]["status_codes"], presence)
    form = await muc.get_room_config(ROOM)
    form.set_values(
        {
            "muc#roomconfig_roomname": "Deployed",
            "muc#roomconfig_persistentroom": True,
            "muc#roomconfig_publicroom": True,
        }
    )
    await muc.set_room_config(ROOM, form)
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    alice.send_message(ROOM, "it works", mtype="groupchat")
    got = await bob.next("groupchat_message")
    check("chat", got["body"] == "it works", got)
    await asyncio.gather(alice.logout(), bob.logout())


async def second(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole")
    bob = Bot("bob@localhost/dino", "can we fix it")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    check("accounts-survive", True)
    items = await bob["xep_0030"].get_items(jid=JID(MUC), timeout=10)
    listed = {item[0]: item[2] for item in items["disco_items"]["items"]}
    check("room-listed", listed.get(ROOM) == "Deployed", listed)
    info = await bob["xep_0030"].get_info(jid=ROOM, timeout=10)
    check("room-persistent", "muc_persistent" in info["disco_info"]["features"], info)
    presence, _, _, _ = await alice["xep_0045"].join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    check("owner-survives", presence["muc"]["affiliation"] == "owner" and 201 not in presence["muc"]["status_codes"], presence)
    await asyncio.gather(alice.logout(), bob.logout())


run({"first": first, "second": second}[sys.argv[3]])
