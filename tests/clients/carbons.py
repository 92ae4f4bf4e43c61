"""
Message Carbons (XEP-0280) as slixmpp's xep_0280 plugin uses them: two
sessions of Alice enable carbons; each sees what the other receives from
and sends to Bob; private messages and forged copies stay out.
"""

import asyncio

from slixmpp import JID

from common import PLUGINS, Bot, check, run

PLUGINS_CARBONS = PLUGINS + ("xep_0280",)


async def main(port, certificate):
    gajim = Bot("alice@localhost/gajim", "rabbit hole", PLUGINS_CARBONS)
    phone = Bot("alice@localhost/phone", "rabbit hole", PLUGINS_CARBONS)
    bob = Bot("bob@localhost/conversations", "can we fix it", PLUGINS_CARBONS)
    for bot in (gajim, phone):
        bot.watch("carbon_received", "carbon_sent")
        bot.watchAllMessages()
    bob.watch("message")
    await asyncio.gather(gajim.login(port, certificate), phone.login(port, certificate), bob.login(port, certificate))
    info = await gajim["xep_0030"].get_info(jid=JID("localhost"), timeout=5)
    check("carbons-advertised", "urn:xmpp:carbons:2" in info["disco_info"]["features"], info)
    await asyncio.gather(gajim["xep_0280"].enable(timeout=5), phone["xep_0280"].enable(timeout=5))
    check("carbons-enabled", True)

    # Bob writes to Gajim's full JID: the phone gets a 'received' copy.
    bob.send_message(mto=gajim.boundjid, mbody="hello gajim", mtype="chat")
    carbon = await phone.next("carbon_received")
    inner = carbon["carbon_received"]
    check(
        "carbon-received",
        inner["body"] == "hello gajim" and inner["from"] == bob.boundjid and carbon["from"] == JID("alice@localhost"),
        carbon,
    )
    direct = await gajim.next("any_message")
    check("direct-delivery", direct["body"] == "hello gajim" and not direct.xml.find("{urn:xmpp:carbons:2}received"), direct)

    # The phone answers Bob: Gajim gets a 'sent' copy, Bob the message.
    phone.send_message(mto=JID("bob@localhost"), mbody="hi bob", mtype="chat")
    carbon = await gajim.next("carbon_sent")
    inner = carbon["carbon_sent"]
    check("carbon-sent", inner["body"] == "hi bob" and inner["to"] == JID("bob@localhost"), carbon)
    message = await bob.next("message")
    check("sent-delivered", message["body"] == "hi bob" and message["from"] == phone.boundjid, message)

    # A private message is not copied; Bob still gets it.
    private = phone.make_message(mto=JID("bob@localhost"), mbody="secret", mtype="chat")
    private.enable("carbon_private")
    private.send()
    message = await bob.next("message")
    check("private-delivered", message["body"] == "secret", message)

    # A forged 'received' copy from Bob to Alice is dropped by the server:
    # the next message the phone sees is Bob's real one.
    phone.drain("any_message")
    bob.send_raw(
        "<message to='alice@localhost/phone'><received xmlns='urn:xmpp:carbons:2'>"
        "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='mallory@localhost/x'"
        " to='alice@localhost' type='chat'><body>forged</body></message></forwarded></received></message>"
    )
    bob.send_message(mto=phone.boundjid, mbody="real", mtype="chat")
    message = await phone.next("any_message")
    check("forged-dropped", message["body"] == "real", message)
    # Gajim gets the copy of that real message; a copy of the private one
    # would have come before it on the same stream.
    carbon = await gajim.next("carbon_received")
    check("carbon-after-forged", carbon["carbon_received"]["body"] == "real", carbon)
    copies = []
    while not gajim.events["carbon_sent"].empty():
        copies.append(gajim.events["carbon_sent"].get_nowait()["carbon_sent"]["body"])
    check("private-not-copied", "secret" not in copies, copies)

    await asyncio.gather(gajim.logout(), phone.logout(), bob.logout())


run(main)
