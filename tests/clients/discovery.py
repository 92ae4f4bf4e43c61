"""
Service discovery the way clients find and show rooms (XEP-0030, XEP-0045
6): disco#items of the server lists the MUC service, its disco#info says
conference/text with the MUC feature, its disco#items lists public rooms,
a room's disco#info has features and a muc#roominfo form that slixmpp's
xep_0004 parses, a room's disco#items answers.
"""

import asyncio

from slixmpp import JID
from slixmpp.plugins.xep_0004.stanza import Form

from common import DOMAIN, MUC, Bot, check, run

ROOM = JID("lounge@" + MUC)
HIDDEN = JID("hideout@" + MUC)
NS_DATA = "jabber:x:data"
NS_MUC = "http://jabber.org/protocol/muc"


async def makeRoom(bot, room, nick, values):
    muc = bot.plugin["xep_0045"]
    await muc.join_muc_wait(room, nick, maxstanzas=0, timeout=10)
    form = await muc.get_room_config(room)
    form.set_values(values)
    await muc.set_room_config(room, form)


def roomInfoForm(info):
    """
    @return: the slixmpp L{Form} of the muc#roominfo extension of a
        disco#info result (XEP-0128), or L{None}.
    """
    for element in info["disco_info"].xml.findall("{%s}x" % (NS_DATA,)):
        form = Form(xml=element)
        formType = form.get_fields()["FORM_TYPE"]["value"]
        if formType in (NS_MUC + "#roominfo", [NS_MUC + "#roominfo"]):
            return form
    return None


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole")
    bob = Bot("bob@localhost/conversations", "can we fix it")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    await makeRoom(
        alice,
        ROOM,
        "Alice",
        {
            "muc#roomconfig_roomname": "The Lounge",
            "muc#roomconfig_roomdesc": "Tea and talk",
            "muc#roomconfig_persistentroom": True,
            "muc#roomconfig_publicroom": True,
        },
    )
    await makeRoom(alice, HIDDEN, "Alice", {"muc#roomconfig_publicroom": False})
    alice.plugin["xep_0045"].set_subject(ROOM, "Darjeeling")
    await asyncio.sleep(0.2)
    disco = bob["xep_0030"]

    # --- the server points at the MUC service
    items = await disco.get_items(jid=JID(DOMAIN), timeout=10)
    jids = [item[0] for item in items["disco_items"]["items"]]
    check("server-items", JID(MUC) in jids, items)
    serverInfo = await disco.get_info(jid=JID(DOMAIN), timeout=10)
    check("server-info", ("server", "im") in [i[:2] for i in serverInfo["disco_info"]["identities"]], serverInfo)

    # --- the service is a conference service speaking MUC
    info = await disco.get_info(jid=JID(MUC), timeout=10)
    identities = [i[:2] for i in info["disco_info"]["identities"]]
    check("service-identity", ("conference", "text") in identities, info)
    check("service-muc-feature", NS_MUC in info["disco_info"]["features"], info)

    # --- the service lists public rooms only, with their names
    items = await disco.get_items(jid=JID(MUC), timeout=10)
    listed = {item[0]: item[2] for item in items["disco_items"]["items"]}
    check("rooms-listed", listed.get(ROOM) == "The Lounge", listed)
    check("hidden-not-listed", HIDDEN not in listed, listed)

    # --- a room seen by a stranger: features and muc#roominfo
    info = await disco.get_info(jid=ROOM, timeout=10)
    identities = info["disco_info"]["identities"]
    check("room-identity", [i[:2] for i in identities] == [("conference", "text")], identities)
    check("room-name", list(identities)[0][3] == "The Lounge", identities)
    features = set(info["disco_info"]["features"])
    for feature in (NS_MUC, "muc_public", "muc_persistent", "muc_open", "muc_unmoderated", "muc_unsecured", "muc_semianonymous"):
        check("room-feature " + feature, feature in features, sorted(features))
    form = roomInfoForm(info)
    check("roominfo-form", form is not None and form["type"] == "result", info)
    values = form.get_values()
    check("roominfo-occupants", values.get("muc#roominfo_occupants") == "1", values)
    check("roominfo-description", values.get("muc#roominfo_description") == "Tea and talk", values)
    check("roominfo-subject", values.get("muc#roominfo_subject") == "Darjeeling", values)
    hidden = await disco.get_info(jid=HIDDEN, timeout=10)
    check("hidden-feature", "muc_hidden" in hidden["disco_info"]["features"], hidden)

    # --- disco#items of a room answers (an empty list, as Prosody)
    strangers = await disco.get_items(jid=ROOM, timeout=10)
    check("room-items-stranger", strangers["type"] == "result", strangers)
    mine = await alice["xep_0030"].get_items(jid=ROOM, timeout=10)
    check("room-items-occupant", mine["type"] == "result", mine)

    # --- a room that does not exist
    try:
        await disco.get_info(jid=JID("nowhere@" + MUC), timeout=10)
    except Exception as e:
        condition = e.iq["error"]["condition"] if hasattr(e, "iq") else repr(e)
        check("missing-room", condition == "item-not-found", condition)
    else:
        check("missing-room", False, "answered")

    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors, alice.streamErrors + bob.streamErrors)
    await asyncio.gather(alice.logout(), bob.logout())


run(main)
