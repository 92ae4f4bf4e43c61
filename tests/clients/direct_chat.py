"""
Two slixmpp clients (alice and bob of the harness accounts) exchange chat
messages: to bob's full JID, then to alice's bare JID.  Prints
C{<WHO> GOT <from> <body>} for each message received (tests/clients/test_direct_chat.py
reads those lines).
"""

import asyncio

from common import Bot, run


async def main(port, certificate):
    alice = Bot("alice@localhost/wonderland", "rabbit hole", plugins=())
    bob = Bot("bob@localhost/site", "can we fix it", plugins=())
    for bot in (alice, bob):
        bot.watch("message")
    # Logged in with available presence, so that a message to a bare JID
    # has a resource to go to (RFC 6121 8.5.2.1.1).
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    await asyncio.sleep(0.3)

    alice.send_message(mto="bob@localhost/site", mbody="hello bob", mtype="chat")
    message = await bob.next("message")
    print("BOB GOT", message["from"], message["body"], flush=True)

    bob.send_message(mto="alice@localhost", mbody="hello alice", mtype="chat")
    message = await alice.next("message")
    print("ALICE GOT", message["from"], message["body"], flush=True)

    await asyncio.gather(alice.logout(), bob.logout())


run(main)
