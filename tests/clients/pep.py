"""
Personal eventing (XEP-0163) as slixmpp's plugins use it (xep_0115 caps,
xep_0163, xep_0172 nicknames, xep_0060, XEP-0402 bookmarks): Alice and Bob
subscribe to each other; Bob's caps ask for nick notifications, so he gets
Alice's last nick when his presence comes and each new one after; Alice's
whitelisted bookmarks stay hers, and her older XEP-0048 plugin (private
storage) sees and changes the same rooms.  While Bob's client says it is
inactive (xep_0352), Alice's presence changes wait and only the last one
comes, with her next message.
"""

import asyncio

from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0048 import Bookmarks

from common import PLUGINS, Bot, check, run

PEP_PLUGINS = PLUGINS + ("xep_0048", "xep_0060", "xep_0115", "xep_0163", "xep_0172", "xep_0352", "xep_0402")
NICK = "http://jabber.org/protocol/nick"
BOOKMARKS = "urn:xmpp:bookmarks:1"
ALICE = JID("alice@localhost")
BOB = JID("bob@localhost")


async def subscribed(bot, contact, timeout=10):
    """
    Wait until C{bot}'s roster has C{contact} with subscription both.
    """
    for _ in range(int(timeout / 0.1)):
        if bot.client_roster[contact]["subscription"] == "both":
            return True
        await asyncio.sleep(0.1)
    return False


def nickOf(message):
    return message["pubsub_event"]["items"]["item"]["nick"]["nick"]


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole", PEP_PLUGINS)
    bob = Bot("bob@localhost/conversations", "can we fix it", PEP_PLUGINS)
    bob.watch("user_nick_publish")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    # Roster pushes (the subscription states) go to sessions that asked.
    await asyncio.gather(alice.get_roster(timeout=5), bob.get_roster(timeout=5))
    alice.send_presence_subscription(pto=BOB)
    both = await asyncio.gather(subscribed(alice, BOB), subscribed(bob, ALICE))
    check("subscribed", all(both), both)
    # Bob goes away for a moment: Alice publishes while he is not there.
    bob.send_presence(ptype="unavailable")
    await asyncio.sleep(0.3)

    info = await bob["xep_0030"].get_info(jid=ALICE, timeout=5)
    identities = {(i[0], i[1]) for i in info["disco_info"]["identities"]}
    features = info["disco_info"]["features"]
    check("pep-identity", ("pubsub", "pep") in identities, identities)
    check("pep-features", "http://jabber.org/protocol/pubsub#publish-options" in features, features)

    # Alice's nickname, before Bob is there to see it.
    result = await alice["xep_0172"].publish_nick("Alice", timeout=5)
    check("nick-published", result["pubsub"]["publish"]["item"]["id"] == "current", result)

    # Bob's available presence carries caps with nick+notify: the server
    # asks his client's features, then sends him Alice's last nick.
    bob.send_presence()
    message = await bob.next("user_nick_publish", predicate=lambda m: m["from"] == ALICE)
    check("last-item-on-presence", nickOf(message) == "Alice", message)

    await alice["xep_0172"].publish_nick("Alice in Wonderland", timeout=5)
    message = await bob.next("user_nick_publish", predicate=lambda m: m["from"] == ALICE)
    check("notification", nickOf(message) == "Alice in Wonderland" and message["type"] == "headline", message)

    items = await bob["xep_0060"].get_items(jid=ALICE, node=NICK, timeout=5)
    found = [item["payload"].find("{%s}nick" % NICK) for item in items["pubsub"]["items"]]
    found = [e if e is not None else item["payload"] for e, item in zip(found, items["pubsub"]["items"])]
    check("items-retrieved", [e.text for e in found] == ["Alice in Wonderland"], items)

    # Explicit subscriptions (XEP-0060 6.1) besides those of caps.
    result = await bob["xep_0060"].subscribe(ALICE, NICK, timeout=5)
    check("explicit-subscribe", result["pubsub"]["subscription"]["subscription"] == "subscribed", result)
    listed = await bob["xep_0060"].get_subscriptions(ALICE, timeout=5)
    nodes = [e.get("node") for e in listed.xml.iter("{http://jabber.org/protocol/pubsub}subscription")]
    check("subscriptions-listed", nodes == [NICK], listed)
    owned = await alice["xep_0060"].get_affiliations(ALICE, timeout=5)
    affiliations = {e.get("node"): e.get("affiliation") for e in owned.xml.iter("{http://jabber.org/protocol/pubsub}affiliation")}
    check("affiliations-listed", affiliations.get(NICK) == "owner", owned)
    await bob["xep_0060"].unsubscribe(ALICE, NICK, timeout=5)

    # XEP-0402 bookmarks: whitelist node, one item per room.
    conference = alice["xep_0402"].stanza.Conference()
    conference["name"] = "Tea party"
    conference["autojoin"] = True
    conference["nick"] = "alice"
    form = alice["xep_0004"].make_form("submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="pubsub#persist_items", value="true")
    form.add_field(var="pubsub#access_model", value="whitelist")
    form.add_field(var="pubsub#max_items", value="max")
    form.add_field(var="pubsub#send_last_published_item", value="never")
    await alice["xep_0060"].publish(None, BOOKMARKS, id="tea@conference.localhost", payload=conference.xml, options=form, timeout=5)
    items = await alice["xep_0060"].get_items(jid=None, node=BOOKMARKS, timeout=5)
    ids = [item["id"] for item in items["pubsub"]["items"]]
    check("bookmarks-stored", ids == ["tea@conference.localhost"], items)
    try:
        await bob["xep_0060"].get_items(jid=ALICE, node=BOOKMARKS, timeout=5)
        refused = None
    except IqError as e:
        refused = e.iq["error"]["condition"]
    check("bookmarks-private", refused == "forbidden", refused)

    # The same rooms through XEP-0048 in private storage, as older clients
    # keep them; what they set there is the XEP-0402 list.
    legacy = await alice["xep_0048"].get_bookmarks(method="xep_0049", timeout=5)
    rooms = [c.get("jid") for c in legacy.xml.iter("{storage:bookmarks}conference")]
    check("bookmarks-compat-read", rooms == ["tea@conference.localhost"], rooms)
    storage = Bookmarks()
    storage.add_conference("tea@conference.localhost", "alice", name="Tea party", autojoin=True)
    storage.add_conference("croquet@conference.localhost", "alice", name="Croquet")
    await alice["xep_0048"].set_bookmarks(storage, method="xep_0049", timeout=5)
    items = await alice["xep_0060"].get_items(jid=None, node=BOOKMARKS, timeout=5)
    ids = sorted(item["id"] for item in items["pubsub"]["items"])
    check("bookmarks-compat-write", ids == ["croquet@conference.localhost", "tea@conference.localhost"], items)

    # Other options on the same node: precondition-not-met.
    other = alice["xep_0004"].make_form("submit")
    other.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    other.add_field(var="pubsub#access_model", value="open")
    try:
        await alice["xep_0060"].publish(None, BOOKMARKS, id="x@conference.localhost", payload=conference.xml, options=other, timeout=5)
        condition = None
    except IqError as e:
        condition = e.iq["error"]["condition"]
        app = e.iq.xml.find("{jabber:client}error/{http://jabber.org/protocol/pubsub#errors}precondition-not-met")
    check("precondition-not-met", condition == "conflict" and app is not None, condition)

    # Client State Indication: Bob's client goes to the background.
    check("csi-offered", bob["xep_0352"].enabled)
    shows = []
    bob.add_event_handler("changed_status", lambda p: p["from"] == alice.boundjid and shows.append(p["show"]))
    bob.watch("message")
    bob["xep_0352"].send_inactive()
    await bob["xep_0199"].ping(jid="localhost", timeout=5)
    for show in ("away", "xa", "dnd"):
        alice.send_presence(pshow=show)
    await alice["xep_0199"].ping(jid="localhost", timeout=5)
    alice.send_message(mto=bob.boundjid, mbody="Are you there?", mtype="chat")
    message = await bob.next("message", predicate=lambda m: m["body"] == "Are you there?")
    check("csi-collapsed", shows == ["dnd"], shows)
    bob["xep_0352"].send_active()

    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors)

    await asyncio.gather(alice.logout(), bob.logout())


run(main)
