"""
A whole MUC session the way a slixmpp bot does it (XEP-0045 through the
xep_0045 plugin): create and configure a room, a second bot joins, both
chat, a private message, subject, nick change, voice, kick, ban,
affiliation lists, leave.
"""

import asyncio

from slixmpp import JID
from slixmpp.exceptions import IqError, PresenceError

from common import MUC, Bot, check, run

ROOM = JID("lounge@" + MUC)
NS_SID = "urn:xmpp:sid:0"


def codes(presence):
    return set(presence["muc"]["status_codes"])


def stanzaID(message):
    """
    @return: the C{by} and C{id} of the message's XEP-0359 stanza-id.
    """
    element = message.xml.find("{%s}stanza-id" % (NS_SID,))
    if element is None:
        return None, None
    return element.get("by"), element.get("id")


async def main(port, certificate):
    alice = Bot("alice@localhost/bot", "rabbit hole")
    bob = Bot("bob@localhost/bot", "can we fix it")
    presenceEvent = "muc::%s::presence" % (ROOM,)
    for bot in (alice, bob):
        bot.watch("groupchat_message", presenceEvent, "groupchat_subject", "message")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    check("login", True)
    muc = alice.plugin["xep_0045"]

    # --- creation (XEP-0045 10.1): the room is new and we own it.
    presence, subject, occupants, history = await muc.join_muc_wait(ROOM, "Alice", maxstanzas=0, timeout=10)
    check("create-110-201", {110, 201} <= codes(presence), presence)
    check("create-owner", (presence["muc"]["affiliation"], presence["muc"]["role"]) == ("owner", "moderator"), presence)
    check("create-subject", not subject["subject"] and subject["from"] == ROOM, subject)
    others = [p["from"] for p in occupants if p["from"] != presence["from"]]
    check("create-alone", others == [] and history == [], (occupants, history))

    # --- configuration (10.1.3 / 10.2)
    form = await muc.get_room_config(ROOM)
    fields = form.get_fields()
    for var in (
        "FORM_TYPE",
        "muc#roomconfig_roomname",
        "muc#roomconfig_persistentroom",
        "muc#roomconfig_membersonly",
        "muc#roomconfig_publicroom",
        "muc#roomconfig_moderatedroom",
        "muc#roomconfig_whois",
    ):
        check("config-field " + var, var in fields, sorted(fields))
    # slixmpp reads a hidden field's value as a list
    formType = fields["FORM_TYPE"]["value"]
    check("config-form-type", formType in ("http://jabber.org/protocol/muc#roomconfig", ["http://jabber.org/protocol/muc#roomconfig"]), formType)
    form.set_values(
        {
            "muc#roomconfig_roomname": "The Lounge",
            "muc#roomconfig_persistentroom": True,
            "muc#roomconfig_membersonly": False,
            "muc#roomconfig_publicroom": True,
        }
    )
    await muc.set_room_config(ROOM, form)
    form = await muc.get_room_config(ROOM)
    values = form.get_values()
    check(
        "config-applied",
        (
            values["muc#roomconfig_roomname"],
            values["muc#roomconfig_persistentroom"],
            values["muc#roomconfig_membersonly"],
            values["muc#roomconfig_publicroom"],
        )
        == ("The Lounge", True, False, True),
        values,
    )
    info = await alice["xep_0030"].get_info(jid=ROOM, timeout=10)
    features = set(info["disco_info"]["features"])
    check("config-disco", {"muc_persistent", "muc_public", "muc_open"} <= features, features)

    # --- a second bot joins
    alice.drain(presenceEvent)
    presence, subject, occupants, history = await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=20, timeout=10)
    check("join-110", 110 in codes(presence) and 201 not in codes(presence), presence)
    check("join-participant", (presence["muc"]["affiliation"], presence["muc"]["role"]) == ("none", "participant"), presence)
    others = [p["from"] for p in occupants if p["from"] != presence["from"]]
    check("join-sees-owner", others == [JID(ROOM.bare + "/Alice")], occupants)
    # The others' presence first, one's own last (XEP-0045 7.2.3).
    check("join-order", [p["from"] for p in occupants][-1] == presence["from"], occupants)
    seen = await alice.next(presenceEvent, predicate=lambda p: p["from"].resource == "Bob")
    check("owner-sees-join", seen["muc"]["role"] == "participant" and seen["type"] != "unavailable", seen)
    check("roster-plugin", set(muc.get_roster(ROOM)) == {"Alice", "Bob"}, muc.get_roster(ROOM))

    # --- groupchat both ways, with the echo (7.2.2) carrying a stanza-id
    sent = alice.make_message(ROOM, "hello room", mtype="groupchat")
    sent.send()
    echo = await alice.next("groupchat_message")
    check("echo", (echo["from"], echo["body"], echo["id"]) == (JID(ROOM.bare + "/Alice"), "hello room", sent["id"]), echo)
    check("echo-stanza-id", stanzaID(echo)[0] == ROOM.bare and stanzaID(echo)[1], echo)
    got = await bob.next("groupchat_message")
    check("bob-got", (got["from"], got["body"]) == (JID(ROOM.bare + "/Alice"), "hello room"), got)
    check("same-stanza-id", stanzaID(got) == stanzaID(echo), (got, echo))
    bob["xep_0045"].xmpp.send_message(ROOM, "hi alice", mtype="groupchat")
    got = await alice.next("groupchat_message")
    check("alice-got", (got["from"], got["body"]) == (JID(ROOM.bare + "/Bob"), "hi alice"), got)
    echo = await bob.next("groupchat_message")
    check("bob-echo", echo["body"] == "hi alice", echo)

    # --- private message between occupants (7.5)
    alice.drain("message")
    bob.drain("message")
    alice.send_message(JID(ROOM.bare + "/Bob"), "psst", mtype="chat")
    private = await bob.next("message", predicate=lambda m: m["type"] == "chat")
    check("pm", (private["from"], private["body"]) == (JID(ROOM.bare + "/Alice"), "psst"), private)
    check("pm-muc-user-x", private.xml.find("{http://jabber.org/protocol/muc#user}x") is not None, private)
    bob.send_message(JID(ROOM.bare + "/Alice"), "yes?", mtype="chat")
    private = await alice.next("message", predicate=lambda m: m["type"] == "chat")
    check("pm-reply", (private["from"], private["body"]) == (JID(ROOM.bare + "/Bob"), "yes?"), private)

    # --- subject (8.1)
    muc.set_subject(ROOM, "Tea time")
    for bot in (alice, bob):
        change = await bot.next("groupchat_subject", predicate=lambda m: m["subject"])
        check("subject", (change["from"], change["subject"]) == (JID(ROOM.bare + "/Alice"), "Tea time"), change)

    # --- nick change (7.6)
    alice.drain(presenceEvent)
    nick = await bob["xep_0045"].set_self_nick(ROOM, "Robert", timeout=10)
    check("nick-change", nick == "Robert", nick)
    gone = await alice.next(presenceEvent)
    check("nick-303", gone["type"] == "unavailable" and 303 in codes(gone) and gone["muc"]["item_nick"] == "Robert", gone)
    back = await alice.next(presenceEvent)
    check("nick-new", back["from"] == JID(ROOM.bare + "/Robert") and back["type"] != "unavailable", back)
    check("nick-roster", set(muc.get_roster(ROOM)) == {"Alice", "Robert"}, muc.get_roster(ROOM))

    # --- voice (8.3 / 8.4): revoke, a visitor cannot speak, grant again
    bob.drain(presenceEvent)
    await muc.set_role(ROOM, "Robert", "visitor", reason="shh")
    seen = await bob.next(presenceEvent, predicate=lambda p: p["from"].resource == "Robert")
    check("revoke-voice", seen["muc"]["role"] == "visitor", seen)
    bob.watch("groupchat_message_error")
    bob.send_message(ROOM, "can I speak?", mtype="groupchat")
    error = await bob.next("groupchat_message_error")
    check("visitor-refused", error["error"]["condition"] == "forbidden", error)
    await muc.set_role(ROOM, "Robert", "participant")
    seen = await bob.next(presenceEvent, predicate=lambda p: p["from"].resource == "Robert")
    check("grant-voice", seen["muc"]["role"] == "participant", seen)

    # --- affiliations (9.3) and their lists
    await muc.set_affiliation(ROOM, "member", jid=JID("bob@localhost"))
    seen = await bob.next(presenceEvent, predicate=lambda p: p["from"].resource == "Robert")
    check("member", seen["muc"]["affiliation"] == "member", seen)
    # By nick too (XEP-0045 9.3 allows either; slixmpp offers both).
    await muc.set_affiliation(ROOM, "none", nick="Robert")
    seen = await bob.next(presenceEvent, predicate=lambda p: p["from"].resource == "Robert")
    check("affiliation-by-nick", seen["muc"]["affiliation"] == "none", seen)
    await muc.set_affiliation(ROOM, "member", jid=JID("bob@localhost"))
    seen = await bob.next(presenceEvent, predicate=lambda p: p["from"].resource == "Robert")
    members = await muc.get_affiliation_list(ROOM, "member")
    check("member-list", members == [JID("bob@localhost")], members)
    owners = await muc.get_affiliation_list(ROOM, "owner")
    check("owner-list", owners == [JID("alice@localhost")], owners)
    try:
        await bob["xep_0045"].get_affiliation_list(ROOM, "owner")
    except IqError as e:
        check("member-cannot-list-owners", e.iq["error"]["condition"] == "forbidden", e.iq)
    else:
        check("member-cannot-list-owners", False, "answered")

    # --- kick (8.2)
    bob.drain(presenceEvent)
    alice.drain(presenceEvent)
    await muc.set_role(ROOM, "Robert", "none", reason="out")
    kicked = await bob.next(presenceEvent, predicate=lambda p: p["type"] == "unavailable")
    check("kicked-self", {110, 307} <= codes(kicked), kicked)
    seen = await alice.next(presenceEvent, predicate=lambda p: p["type"] == "unavailable")
    check("kicked-seen", 307 in codes(seen) and seen["from"].resource == "Robert", seen)
    check("kicked-roster", muc.get_roster(ROOM) == ["Alice"], muc.get_roster(ROOM))

    # --- ban (9.1)
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=10)
    bob.drain(presenceEvent)
    await muc.set_affiliation(ROOM, "outcast", jid=JID("bob@localhost"), reason="bye")
    banned = await bob.next(presenceEvent, predicate=lambda p: p["type"] == "unavailable")
    check("banned-self", {110, 301} <= codes(banned), banned)
    outcasts = await muc.get_affiliation_list(ROOM, "outcast")
    check("outcast-list", outcasts == [JID("bob@localhost")], outcasts)
    try:
        await bob["xep_0045"].join_muc_wait(ROOM, "Bob", timeout=10)
    except PresenceError as e:
        check("banned-rejoin", e.condition == "forbidden", e.presence)
    else:
        check("banned-rejoin", False, "joined")

    # --- leave (7.14)
    # The plugin forgets the room as it sends the presence, so its
    # room events stop: the generic one still sees the answer.
    alice.watch("groupchat_presence")
    muc.leave_muc(ROOM, "Alice", "bye")
    left = await alice.next("groupchat_presence", predicate=lambda p: p["from"].resource == "Alice")
    check("leave", left["type"] == "unavailable" and 110 in codes(left), left)

    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors, alice.streamErrors + bob.streamErrors)
    await asyncio.gather(alice.logout(), bob.logout())


run(main)
