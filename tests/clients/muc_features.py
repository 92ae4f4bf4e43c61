"""
More of XEP-0045 as slixmpp drives it: history on join (XEP-0203 delay
from the room), instant rooms, mediated invitations, password-protected
and members-only rooms, moderated rooms with a voice request, message
payloads clients rely on (corrections, chat states), the reserved-nick
query, a stranger's message refused, role lists, destruction.
"""

import asyncio
import datetime
import xml.etree.ElementTree as ET

from slixmpp import JID
from slixmpp.exceptions import IqError, PresenceError
from slixmpp.plugins.xep_0004.stanza import Form

from common import MUC, Bot, check, run

ROOM = JID("features@" + MUC)
SECRET = JID("secret@" + MUC)
CLUB = JID("club@" + MUC)
STAGE = JID("stage@" + MUC)
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_DELAY = "urn:xmpp:delay"


def occupant(room, nick):
    return JID("%s/%s" % (room.bare, nick))


async def configure(bot, room, nick, values=None):
    """
    Create C{room}, and configure it: with C{values} through the form
    (get, fill, submit), as an instant room (empty submit) otherwise.
    """
    muc = bot["xep_0045"]
    presence, _, _, _ = await muc.join_muc_wait(room, nick, maxstanzas=0, timeout=10)
    if values is None:
        form = Form()
        form["type"] = "submit"
    else:
        form = await muc.get_room_config(room)
        form.set_values(values)
    await muc.set_room_config(room, form)
    return presence


async def presenceError(coroutine):
    try:
        await coroutine
    except PresenceError as e:
        return e.condition
    return None


async def main(port, certificate):
    alice = Bot("alice@localhost/owner", "rabbit hole")
    bob = Bot("bob@localhost/guest", "can we fix it")
    carol = Bot("carol@localhost/stranger", "sweet caroline")
    bots = (alice, bob, carol)
    for bot in bots:
        bot.watch("groupchat_message", "groupchat_invite", "groupchat_presence", "message")
    await asyncio.gather(*(bot.login(port, certificate) for bot in bots))
    muc = alice["xep_0045"]

    # --- an instant room (empty submit, XEP-0045 10.1.2), and history
    presence = await configure(alice, ROOM, "Alice")
    check("instant-room-created", 201 in presence["muc"]["status_codes"], presence)
    alice.send_message(ROOM, "said before you came", mtype="groupchat")
    await alice.next("groupchat_message")
    presence, subject, occupants, history = await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=10, timeout=10)
    check("instant-room-open", presence["type"] != "error", presence)
    check("history", [m["body"] for m in history] == ["said before you came"], history)
    delay = history[0].xml.find("{%s}delay" % (NS_DELAY,))
    check("history-delay", delay is not None and delay.get("from") == ROOM.bare and delay.get("stamp"), history[0])

    # --- the other history requests clients make (7.2.14): Conversations
    # rejoins with 'since', others with 'seconds' or 'maxchars'
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    for label, request, expected in (
        ("history-since-past", {"since": past}, ["said before you came"]),
        ("history-since-future", {"since": future}, []),
        ("history-seconds", {"seconds": 300}, ["said before you came"]),
        ("history-maxchars-0", {"maxchars": 0}, []),
    ):
        bob["xep_0045"].leave_muc(ROOM, "Bob")
        await bob.next("groupchat_presence", predicate=lambda p: p["from"] == occupant(ROOM, "Bob") and p["type"] == "unavailable")
        _, _, _, history = await bob["xep_0045"].join_muc_wait(ROOM, "Bob", timeout=10, **request)
        check(label, [m["body"] for m in history] == expected, history)

    # --- payloads clients rely on pass through: correction, chat states
    bob.drain("groupchat_message")
    fixed = alice.make_message(ROOM, "said before you arrived", mtype="groupchat")
    fixed.xml.append(fixed.xml.makeelement("{%s}replace" % (NS_CORRECT,), {"id": "m1"}))
    fixed.send()
    got = await bob.next("groupchat_message")
    replace = got.xml.find("{%s}replace" % (NS_CORRECT,))
    check("correction-forwarded", replace is not None and replace.get("id") == "m1", got)
    bob.watchAllMessages()
    typing = alice.make_message(ROOM, mtype="groupchat")
    typing.xml.append(typing.xml.makeelement("{%s}composing" % (NS_CHATSTATES,), {}))
    typing.send()
    got = await bob.next("any_message", predicate=lambda m: m["type"] == "groupchat" and not m["body"])
    check("chatstate-forwarded", got.xml.find("{%s}composing" % (NS_CHATSTATES,)) is not None, got)

    # --- someone not in the room cannot speak in it
    carol.watch("groupchat_message_error")
    carol.send_message(ROOM, "let me in", mtype="groupchat")
    error = await carol.next("groupchat_message_error")
    check("stranger-message-refused", error["error"]["condition"] == "not-acceptable", error)

    # --- mediated invitation (7.8.2): the invitee's client sees it
    muc.invite(ROOM, JID("carol@localhost"), reason="join us")
    invite = await carol.next("groupchat_invite")
    check(
        "invite",
        # In a semi-anonymous room the inviter is shown by its occupant
        # JID (Prosody).
        invite["from"] == ROOM
        and invite["muc"]["invite"]["from"] in (JID("alice@localhost"), occupant(ROOM, "Alice"))
        and invite["muc"]["invite"]["reason"] == "join us",
        invite,
    )

    # --- the reserved-nick query (7.7.3): answered
    info = await carol["xep_0030"].get_info(jid=ROOM, node="x-roomuser-item", timeout=5)
    check("roomuser-item", info["type"] == "result", info)

    # --- what Gajim asks a room it just joined besides disco: its vCard
    # (room avatar), its version; a ping to the room itself: each answered
    for label, payload in (
        ("room-vcard", "<vCard xmlns='vcard-temp'/>"),
        ("room-version", "<query xmlns='jabber:iq:version'/>"),
        ("room-ping", "<ping xmlns='urn:xmpp:ping'/>"),
    ):
        request = bob.make_iq_get(ito=ROOM)
        request.append(ET.fromstring(payload))
        try:
            reply = await request.send(timeout=5)
            outcome = reply["type"]
        except IqError as e:
            outcome = e.iq["error"]["condition"]
        check(label, outcome in ("result", "service-unavailable", "feature-not-implemented", "item-not-found"), outcome)

    # --- role lists (9.x / 8.5)
    moderators = await muc.get_roles_list(ROOM, "moderator")
    check("moderator-list", moderators == ["Alice"], moderators)
    participants = await muc.get_roles_list(ROOM, "participant")
    check("participant-list", participants == ["Bob"], participants)

    # --- a configuration change is announced (status 104) so that clients
    # (Conversations, Gajim) fetch the room's disco#info again
    bob.watch("groupchat_config_status")
    form = await muc.get_room_config(ROOM)
    form.set_values({"muc#roomconfig_roomname": "Renamed"})
    await muc.set_room_config(ROOM, form)
    status = await bob.next("groupchat_config_status")
    check("config-change-104", status["from"] == ROOM and 104 in status["muc"]["status_codes"], status)
    info = await bob["xep_0030"].get_info(jid=ROOM, timeout=5)
    check("config-change-visible", [i[3] for i in info["disco_info"]["identities"]] == ["Renamed"], info)

    # --- a nick someone else has (7.2.9)
    condition = await presenceError(carol["xep_0045"].join_muc_wait(ROOM, "Bob", timeout=10))
    check("nick-conflict", condition == "conflict", condition)

    # --- a password-protected room (7.2.6)
    await configure(alice, SECRET, "Alice", {"muc#roomconfig_passwordprotectedroom": True, "muc#roomconfig_roomsecret": "sesame"})
    condition = await presenceError(carol["xep_0045"].join_muc_wait(SECRET, "Carol", timeout=10))
    check("password-required", condition == "not-authorized", condition)
    condition = await presenceError(carol["xep_0045"].join_muc_wait(SECRET, "Carol", password="wrong", timeout=10))
    check("password-wrong", condition == "not-authorized", condition)
    condition = await presenceError(carol["xep_0045"].join_muc_wait(SECRET, "Carol", password="sesame", timeout=10))
    check("password-right", condition is None, condition)

    # --- a members-only room (7.2.7)
    await configure(alice, CLUB, "Alice", {"muc#roomconfig_membersonly": True})
    condition = await presenceError(bob["xep_0045"].join_muc_wait(CLUB, "Bob", timeout=10))
    check("members-only-refused", condition == "registration-required", condition)
    await muc.set_affiliation(CLUB, "member", jid=JID("bob@localhost"))
    condition = await presenceError(bob["xep_0045"].join_muc_wait(CLUB, "Bob", timeout=10))
    check("members-only-member", condition is None, condition)

    # --- a moderated room: visitors ask for voice (7.13), moderators see
    # the request form
    presence = await configure(alice, STAGE, "Alice", {"muc#roomconfig_moderatedroom": True})
    presence, _, _, _ = await carol["xep_0045"].join_muc_wait(STAGE, "Carol", maxstanzas=0, timeout=10)
    check("moderated-visitor", presence["muc"]["role"] == "visitor", presence)
    alice.watchAllMessages()
    carol["xep_0045"].request_voice(STAGE, "participant")
    request = await alice.next("any_message", predicate=lambda m: m["from"] == STAGE and m.xml.find("{jabber:x:data}x") is not None)
    form = Form(xml=request.xml.find("{jabber:x:data}x"))
    values = form.get_values()
    check("voice-request", values.get("muc#roomnick") == "Carol" and "muc#request_allow" in values, values)

    # --- destruction (10.9): occupants are told
    bob.drain("groupchat_presence")
    await muc.destroy(ROOM, reason="closing time")
    gone = await bob.next("groupchat_presence", predicate=lambda p: p["from"] == occupant(ROOM, "Bob"))
    destroy = gone.xml.find("{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}destroy")
    check("destroyed", gone["type"] == "unavailable" and destroy is not None, gone)
    try:
        await carol["xep_0030"].get_info(jid=ROOM, timeout=5)
        check("destroyed-gone", False, "still answers")
    except IqError as e:
        check("destroyed-gone", e.iq["error"]["condition"] in ("item-not-found", "gone"), e.iq)

    check("no-stream-errors", not any(bot.streamErrors for bot in bots), [bot.streamErrors for bot in bots])
    await asyncio.gather(*(bot.logout() for bot in bots))


run(main)
