"""
What real clients send right after login and while idle (slixmpp, Gajim,
Conversations, poezio): each iq gets an answer (result or a sensible
error, never silence), keepalives and caps presence are harmless, and the
stream survives all of it.
"""

import asyncio
import sys
import xml.etree.ElementTree as ET

from slixmpp import JID
from slixmpp.exceptions import IqError, IqTimeout

from common import DOMAIN, MUC, PLUGINS, Bot, check, run

EXTRA = ("xep_0115", "xep_0280", "xep_0049", "xep_0048", "xep_0054", "xep_0092")

#: Acceptable error conditions for things xmuc does not implement.
UNSUPPORTED = ("service-unavailable", "feature-not-implemented")


async def ask(bot, payload, to=None, kind="get", timeout=5):
    """
    Send an iq with the raw XML C{payload}.

    @return: C{(type, error condition or None, reply)}; C{("timeout", None,
        None)} when nothing came back.
    """
    iq = bot.make_iq(itype=kind, ito=to)
    if payload is not None:
        iq.append(ET.fromstring(payload))
    try:
        reply = await iq.send(timeout=timeout)
    except IqError as e:
        return "error", e.iq["error"]["condition"], e.iq
    except IqTimeout:
        return "timeout", None, None
    return reply["type"], None, reply


def answered(name, outcome, allowed=UNSUPPORTED, mustSucceed=False):
    """
    Check that a request got a result or one of the C{allowed} errors.
    """
    kind, condition, reply = outcome
    # On stderr, shown when the test fails: what the server answered.
    print("ANSWER", name, kind, condition, file=sys.stderr, flush=True)
    if mustSucceed:
        check(name, kind == "result", outcome)
    else:
        check(name, kind == "result" or (kind == "error" and condition in allowed), outcome)


async def main(port, certificate):
    alice = Bot("alice@localhost/gajim", "rabbit hole", PLUGINS + EXTRA)
    bob = Bot("bob@localhost/conversations", "can we fix it", PLUGINS + EXTRA)
    alice.watch("presence", "disconnected")
    await asyncio.gather(alice.login(port, certificate), bob.login(port, certificate))
    me = JID(alice.boundjid.bare)

    # --- what a client asks right after binding
    answered("disco-info-server", await ask(alice, "<query xmlns='http://jabber.org/protocol/disco#info'/>", DOMAIN), mustSucceed=True)
    answered("disco-items-server", await ask(alice, "<query xmlns='http://jabber.org/protocol/disco#items'/>", DOMAIN), mustSucceed=True)
    answered("disco-info-account", await ask(alice, "<query xmlns='http://jabber.org/protocol/disco#info'/>", me), mustSucceed=True)
    answered("disco-items-account", await ask(alice, "<query xmlns='http://jabber.org/protocol/disco#items'/>", me), mustSucceed=True)
    answered("roster-get", await ask(alice, "<query xmlns='jabber:iq:roster'/>"), mustSucceed=True)
    # Roster versioning is not advertised, but some clients send 'ver'
    # anyway: the full roster comes back (RFC 6121 2.6.3).
    kind, condition, reply = await ask(alice, "<query xmlns='jabber:iq:roster' ver='abc123'/>")
    check("roster-get-ver", kind == "result" and reply.xml.find("{jabber:iq:roster}query") is not None, (kind, condition, reply))
    answered("roster-get-empty-ver", await ask(alice, "<query xmlns='jabber:iq:roster' ver=''/>"), mustSucceed=True)
    roster = await alice.get_roster(timeout=5)
    check("roster-plugin", roster["type"] == "result", roster)

    # Carbons (XEP-0280) are supported: enabling them succeeds, raw and
    # through the plugin.
    answered("carbons-enable", await ask(alice, "<enable xmlns='urn:xmpp:carbons:2'/>", kind="set"), mustSucceed=True)
    try:
        await alice["xep_0280"].enable(timeout=5)
        carbons = "result"
    except IqError as e:
        carbons = e.iq["error"]["condition"]
    except IqTimeout:
        carbons = "timeout"
    check("carbons-plugin", carbons == "result", carbons)

    # vCard (XEP-0054) of oneself: to the bare JID, without 'to', and of
    # the server.
    vcardAllowed = UNSUPPORTED + ("item-not-found",)
    answered("vcard-own-bare", await ask(alice, "<vCard xmlns='vcard-temp'/>", me), vcardAllowed)
    answered("vcard-no-to", await ask(alice, "<vCard xmlns='vcard-temp'/>"), vcardAllowed)
    answered("vcard-server", await ask(alice, "<vCard xmlns='vcard-temp'/>", DOMAIN), vcardAllowed)
    answered("vcard-contact", await ask(alice, "<vCard xmlns='vcard-temp'/>", JID("bob@localhost")), vcardAllowed)
    answered("vcard-set", await ask(alice, "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>", kind="set"), vcardAllowed)

    # Bookmarks: private XML storage (XEP-0049, Gajim's fallback), PEP
    # (XEP-0402/0048 over pubsub, Conversations), with the plugin too.
    answered("private-bookmarks-get", await ask(alice, "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>"))
    answered(
        "private-bookmarks-set",
        await ask(alice, "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>", kind="set"),
    )
    answered("private-empty-get", await ask(alice, "<query xmlns='jabber:iq:private'/>"), UNSUPPORTED + ("bad-request", "not-acceptable"))
    try:
        await alice["xep_0048"].get_bookmarks(method="xep_0049", timeout=5)
        bookmarks = "result"
    except IqError as e:
        bookmarks = e.iq["error"]["condition"]
    except IqTimeout:
        bookmarks = "timeout"
    check("bookmarks-plugin", bookmarks in ("result",) + UNSUPPORTED, bookmarks)
    answered(
        "pep-bookmarks",
        await ask(
            alice,
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>",
            me,
        ),
        UNSUPPORTED + ("item-not-found",),
    )
    answered("blocklist", await ask(alice, "<blocklist xmlns='urn:xmpp:blocking'/>"))
    answered("mam-query", await ask(alice, "<query xmlns='urn:xmpp:mam:2'/>", me, kind="set"))
    answered("privacy-lists", await ask(alice, "<query xmlns='jabber:iq:privacy'/>"))
    answered("last-activity-server", await ask(alice, "<query xmlns='jabber:iq:last'/>", DOMAIN))
    answered("version-server", await ask(alice, "<query xmlns='jabber:iq:version'/>", DOMAIN), mustSucceed=True)
    answered("time-server", await ask(alice, "<time xmlns='urn:xmpp:time'/>", DOMAIN))
    answered("unknown-namespace", await ask(alice, "<query xmlns='urn:example:nothing'/>", DOMAIN))
    answered("unknown-namespace-muc", await ask(alice, "<query xmlns='urn:example:nothing'/>", MUC))

    # Malformed iqs are refused, not dropped.
    answered("iq-no-payload", await ask(alice, None, DOMAIN), ("bad-request",))
    kind, condition, reply = await ask(alice, "<query xmlns='jabber:iq:version'/>", DOMAIN, kind="set")
    check("version-set", kind == "error" and condition in UNSUPPORTED + ("bad-request", "not-allowed"), (kind, condition))

    # --- initial presence with entity caps (XEP-0115): broadcast back to
    # oneself with the caps element intact.
    alice.send_presence(pstatus="here")
    own = await alice.next("presence", predicate=lambda p: p["from"] == alice.boundjid and p["type"] != "unavailable")
    check("caps-presence", own.xml.find("{http://jabber.org/protocol/caps}c") is not None, own)
    # A second one, written by hand the way Gajim does it.
    alice.send_raw(
        "<presence><show>away</show><priority>5</priority>"
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' ver='abc='/></presence>"
    )
    own = await alice.next("presence", predicate=lambda p: p["from"] == alice.boundjid and p["type"] != "unavailable")
    caps = own.xml.find("{http://jabber.org/protocol/caps}c")
    check("caps-raw", own["show"] == "away" and caps is not None and caps.get("ver") == "abc=", own)

    # An empty caps element (no hash, node or ver) is passed on as is.
    alice.send_raw("<presence><status>bare caps</status><c xmlns='http://jabber.org/protocol/caps'/></presence>")
    own = await alice.next("presence", predicate=lambda p: p["from"] == alice.boundjid and p["status"] == "bare caps")
    check("caps-empty", own.xml.find("{http://jabber.org/protocol/caps}c") is not None, own)

    # --- keepalives: whitespace between stanzas, and pings.
    for _ in range(3):
        alice.send_raw(" ")
        alice.send_raw("\n")
        await asyncio.sleep(0.05)
    rtt = await alice["xep_0199"].ping(jid=JID(DOMAIN), timeout=5)
    check("ping-server", rtt is not None, rtt)
    answered("ping-no-to", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>"), mustSucceed=True)
    answered("ping-own-bare", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", me), UNSUPPORTED)
    answered("ping-muc-service", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", MUC), mustSucceed=True)
    answered("ping-other-bare", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", JID("bob@localhost")), UNSUPPORTED)
    answered("ping-other-full", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", bob.boundjid), mustSucceed=True)
    answered(
        "ping-offline-full",
        await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", JID("bob@localhost/gone")),
        ("service-unavailable", "recipient-unavailable", "item-not-found"),
    )
    answered(
        "ping-unknown-user",
        await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", JID("nobody@localhost")),
        ("service-unavailable", "item-not-found"),
    )

    # Still the same stream, still working.
    answered("still-alive", await ask(alice, "<ping xmlns='urn:xmpp:ping'/>", DOMAIN), mustSucceed=True)
    check("no-disconnect", alice.events["disconnected"].empty(), "disconnected")
    check("no-stream-errors", not alice.streamErrors and not bob.streamErrors, alice.streamErrors + bob.streamErrors)
    await asyncio.gather(alice.logout(), bob.logout())


run(main)
