"""
The other occupant of the browser's room: a slixmpp client joins the room,
receives what the browser (Converse.js, tests/clients/browser/room.mjs)
says, answers, and downloads the picture the browser shares through HTTP
File Upload, byte for byte.

Arguments: C{port certificate room browserText answer imagePath}; the
browser's messages come from the nickname C{Alice}.
"""

import asyncio
import ssl
import sys
import urllib.request

from slixmpp import JID

from common import Bot, check, run

NS_OOB = "jabber:x:oob"
BROWSER_NICK = "Alice"

#: Long enough for Chromium to start, discover, log in and upload.
WAIT = 120


def download(url, certificate):
    """
    GET C{url}, trusting only the test certificate (host name checked).

    @return: C{(status, headers, body)}.
    """
    context = ssl.create_default_context(cafile=certificate)
    with urllib.request.urlopen(url, context=context, timeout=30) as response:
        return response.status, response.headers, response.read()


def oobURL(message):
    """
    @return: the XEP-0066 C{<x xmlns='jabber:x:oob'><url/>} of a message,
        or L{None}.
    """
    url = message.xml.find("{%s}x/{%s}url" % (NS_OOB, NS_OOB))
    return None if url is None else (url.text or "").strip()


async def main(port, certificate):
    room = JID(sys.argv[3])
    browserText, answer, imagePath = sys.argv[4], sys.argv[5], sys.argv[6]
    with open(imagePath, "rb") as f:
        image = f.read()
    bob = Bot("bob@localhost/slixmpp", "can we fix it")
    bob.watch("groupchat_message")
    await bob.login(port, certificate)
    check("login", True)
    muc = bob.plugin["xep_0045"]
    # History too: the browser may have spoken before this client joined.
    presence, subject, occupants, history = await muc.join_muc_wait(room, "Bob", maxstanzas=20, timeout=30)
    check("joined", 110 in set(presence["muc"]["status_codes"]), presence)

    def fromBrowser(message):
        return message["from"].bare == room and message["from"].resource == BROWSER_NICK

    said = [m for m in history if fromBrowser(m) and m["body"] == browserText]
    if not said:
        said = [
            await bob.next(
                "groupchat_message", WAIT, lambda m: fromBrowser(m) and m["body"] == browserText
            )
        ]
    check("browser-message", said[0]["type"] == "groupchat", said[0])

    bob.send_message(mto=room, mbody=answer, mtype="groupchat")
    check("answered", True)

    shared = await bob.next(
        "groupchat_message", WAIT, lambda m: fromBrowser(m) and m["body"].startswith("https://")
    )
    url = shared["body"].strip()
    # Converse.js sends the URL as the body and as XEP-0066 out-of-band data.
    check("upload-url-oob", oobURL(shared) == url, shared)
    status, headers, body = await asyncio.to_thread(download, url, certificate)
    check("downloaded", status == 200, status)
    check("same-bytes", body == image, "%d bytes, expected %d" % (len(body), len(image)))
    check("content-type", headers.get_content_type() == "image/png", headers.get("Content-Type"))
    await bob.logout()


if __name__ == "__main__":
    run(main)
