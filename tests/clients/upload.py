"""
Sharing a file in a room the way a slixmpp client does it: xep_0363 finds
the upload service through disco, reads its size limit, gets a slot and
PUTs the file (aiohttp); the link goes to the room with an out-of-band URL
(xep_0066); the other occupant downloads it byte for byte; the owner
retracts the message (xep_0425) and the file is gone.
"""

import asyncio
import io
import os

import aiohttp
from slixmpp import JID
from slixmpp.plugins.xep_0363 import FileTooBig

from common import MUC, PLUGINS, Bot, check, run

ROOM = JID("photos@" + MUC)
NS_SID = "urn:xmpp:sid:0"
NS_OOB = "jabber:x:oob"
UPLOAD_PLUGINS = PLUGINS + ("xep_0066", "xep_0363", "xep_0425")


async def fetch(url):
    """
    @return: C{(status, body, headers)} of a GET.
    """
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status, await response.read(), response.headers


async def main(port, certificate):
    alice = Bot("alice@localhost/bot", "rabbit hole", plugins=UPLOAD_PLUGINS)
    bob = Bot("bob@localhost/bot", "can we fix it", plugins=UPLOAD_PLUGINS)
    bob.watch("groupchat_message")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    for bot, nick in ((alice, "Alice"), (bob, "Bob")):
        await bot.plugin["xep_0045"].join_muc_wait(ROOM, nick, maxstanzas=0, timeout=10)
    check("joined", True)

    upload = alice.plugin["xep_0363"]
    data = os.urandom(200000)
    url = await upload.upload_file("photo.png", size=len(data), content_type="image/png",
                                   input_file=io.BytesIO(data), timeout=10)
    check("service-found", upload.upload_service == JID("upload.localhost"), upload.upload_service)
    check("max-file-size", upload.max_file_size == 1000000, upload.max_file_size)
    check("uploaded", url.startswith("http://127.0.0.1:") and url.endswith("/photo.png"), url)
    try:
        await upload.upload_file("big.bin", size=1000001, input_file=io.BytesIO(b""), timeout=10)
    except FileTooBig:
        check("too-big-refused", True)

    message = alice.make_message(mto=ROOM, mbody=url, mtype="groupchat")
    message["oob"]["url"] = url
    message.send()
    received = await bob.next("groupchat_message", predicate=lambda m: m["mucnick"] == "Alice")
    check("oob-received", received["oob"]["url"] == url, received)
    status, body, headers = await fetch(received["oob"]["url"])
    check("downloaded", status == 200 and body == data, (status, len(body)))
    check("type", headers.get("Content-Type") == "image/png", headers)

    sid = received.xml.find("{%s}stanza-id" % (NS_SID,))
    await alice.plugin["xep_0425"].moderate(ROOM, sid.get("id"), "spam", timeout=10)
    check("moderated", True)
    status, _, _ = await fetch(url)
    check("gone", status == 404, status)

    for bot in (alice, bob):
        check("no-stream-errors", not bot.streamErrors, bot.streamErrors)
        await bot.logout()


if __name__ == "__main__":
    run(main)
