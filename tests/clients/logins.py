"""
Logging in the ways clients do: slixmpp's own choice of SASL mechanism,
SCRAM-SHA-1 and PLAIN (older clients, always over TLS here), a wrong
password answered with a SASL failure (not a hang), the same full JID
logging in twice (the old session is replaced, as Prosody does by
default), and a server-assigned resource.
"""

import asyncio

from common import Bot, check, run


async def loginFails(bot, port, certificate):
    """
    @return: whether slixmpp reported failed authentication.
    """
    failed = asyncio.get_running_loop().create_future()
    bot.add_event_handler("failed_all_auth", lambda event: failed.done() or failed.set_result(True))
    bot.ssl_context = __import__("ssl").create_default_context(cafile=certificate)
    bot.connect("127.0.0.1", port)
    try:
        return await asyncio.wait_for(failed, 10)
    finally:
        bot.abort()


async def main(port, certificate):
    default = Bot("alice@localhost/default", "rabbit hole", mechanism=None)
    await default.login(port, certificate)
    chosen = default["feature_mechanisms"].mech.name
    check("default-mechanism", chosen.startswith("SCRAM-SHA-"), chosen)
    sha1 = Bot("alice@localhost/sha1", "rabbit hole", mechanism="SCRAM-SHA-1")
    await sha1.login(port, certificate)
    check("scram-sha-1", sha1.boundjid.full == "alice@localhost/sha1", sha1.boundjid)
    plain = Bot("alice@localhost/plain", "rabbit hole", mechanism="PLAIN")
    await plain.login(port, certificate)
    check("plain", plain.boundjid.full == "alice@localhost/plain", plain.boundjid)

    wrong = Bot("bob@localhost/x", "not the password")
    check("wrong-password", await loginFails(wrong, port, certificate), "no failure")

    # Resource assigned by the server (bare JID login, as Conversations
    # does).
    bare = Bot("bob@localhost", "can we fix it")
    await bare.login(port, certificate)
    check("server-resource", bare.boundjid.bare == "bob@localhost" and bare.boundjid.resource, bare.boundjid)

    # The same full JID again: the new session wins, the old one is told.
    old = Bot("carol@localhost/same", "sweet caroline")
    old.watch("disconnected")
    await old.login(port, certificate)
    new = Bot("carol@localhost/same", "sweet caroline")
    await new.login(port, certificate)
    check("replaced-new-bound", new.boundjid.full == "carol@localhost/same", new.boundjid)
    await old.next("disconnected", timeout=10)
    check("replaced-old-told", [e["condition"] for e in old.streamErrors] == ["conflict"], old.streamErrors)
    rtt = await new["xep_0199"].ping(timeout=5)
    check("replaced-new-works", rtt is not None, rtt)

    for bot in (default, sha1, plain, bare, new):
        await bot.logout()


run(main)
