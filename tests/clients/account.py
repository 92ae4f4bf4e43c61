"""
What a client expects from its account, as slixmpp's plugins use it:
blocking (xep_0191), vCard and avatar hash (xep_0054, xep_0153), bookmarks
in private XML storage (xep_0048 over xep_0049), last activity (xep_0012)
and entity time (xep_0202).
"""

import asyncio
import hashlib

from slixmpp import JID
from slixmpp.exceptions import IqError

from common import PLUGINS, Bot, check, run

PLUGINS_ACCOUNT = PLUGINS + ("xep_0191", "xep_0054", "xep_0153", "xep_0048", "xep_0049", "xep_0012", "xep_0202")
AVATAR = b"\x89PNG\r\n\x1a\n a small avatar"


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole", PLUGINS_ACCOUNT)
    bob = Bot("bob@localhost/dino", "can we fix it", PLUGINS_ACCOUNT)
    alice.watch("blocked", "unblocked")
    bob.watchAllMessages()
    bob.watch("presence_available")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))

    info = await alice["xep_0030"].get_info(jid=JID("localhost"), timeout=5)
    features = info["disco_info"]["features"]
    check("features", all(f in features for f in ("urn:xmpp:blocking", "vcard-temp", "jabber:iq:private", "jabber:iq:last", "urn:xmpp:time")), features)

    # Blocking.
    blocked = await alice["xep_0191"].get_blocked_jids(timeout=5)
    check("blocklist-empty", blocked == set(), blocked)
    await alice["xep_0191"].block(JID("bob@localhost"), timeout=5)
    push = await alice.next("blocked")
    check("block-pushed", [item["jid"] for item in push["block"]] == [JID("bob@localhost")], push)
    bob.send_message(mto=JID("alice@localhost"), mbody="let me in", mtype="chat")
    bounced = await bob.next("any_message")
    check("blocked-bounced", bounced["type"] == "error" and bounced["error"]["condition"] == "service-unavailable", bounced)
    blocked = await alice["xep_0191"].get_blocked_jids(timeout=5)
    check("blocklist-read", blocked == {JID("bob@localhost")}, blocked)
    await alice["xep_0191"].unblock(JID("bob@localhost"), timeout=5)
    await alice.next("unblocked")
    check("unblocked", (await alice["xep_0191"].get_blocked_jids(timeout=5)) == set())

    # vCard and avatar: slixmpp reads the vCard, sets the photo, publishes.
    await alice["xep_0153"].set_avatar(avatar=AVATAR, mtype="image/png", timeout=5)
    result = await bob["xep_0054"].get_vcard(JID("alice@localhost"), timeout=5)
    check("vcard-read", result["vcard_temp"]["PHOTO"]["BINVAL"] == AVATAR, result)
    alice.send_presence(pto=bob.boundjid)
    presence = await bob.next("presence_available", predicate=lambda p: p["from"] == alice.boundjid)
    check(
        "avatar-hash",
        presence["vcard_temp_update"]["photo"] == hashlib.sha1(AVATAR).hexdigest(),
        presence,
    )

    # Bookmarks in private XML storage.
    bookmarks = alice["xep_0048"].stanza.Bookmarks()
    bookmarks.add_conference("lounge@conference.localhost", "Alice", name="Lounge", autojoin=True)
    await alice["xep_0048"].set_bookmarks(bookmarks, method="xep_0049", timeout=5)
    got = await alice["xep_0048"].get_bookmarks(method="xep_0049", timeout=5)
    conferences = got["private"]["bookmarks"]["conferences"]
    check("bookmarks-private", [c["jid"] for c in conferences] == [JID("lounge@conference.localhost")], got)

    # Uptime and time of the server.
    last = await alice["xep_0012"].get_last_activity(JID("localhost"), timeout=5)
    check("uptime", last["last_activity"]["seconds"] >= 0, last)
    now = await alice["xep_0202"].get_entity_time(JID("localhost"), timeout=5)
    # (slixmpp's own 'utc' getter adds a second Z to the XEP-0082 value.)
    utc = now["entity_time"].xml.find("{urn:xmpp:time}utc")
    check("entity-time", utc is not None and utc.text.endswith("Z"), now)

    # Another user's vCard is read-only.
    try:
        card = bob["xep_0054"].make_vcard()
        card["FN"] = "Mallory"
        await bob["xep_0054"].publish_vcard(card, jid=JID("alice@localhost"), timeout=5)
        check("vcard-not-writable", False, "set accepted")
    except IqError as e:
        check("vcard-not-writable", e.iq["error"]["condition"] == "service-unavailable", e.iq)

    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors)
    await asyncio.gather(alice.logout(), bob.logout())


run(main)
