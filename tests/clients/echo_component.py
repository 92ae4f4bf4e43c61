"""
An external component written with slixmpp's C{ComponentXMPP}: an echo
bot that is also a small gateway into rooms.  Run as
C{echo_component.py PORT DOMAIN SECRET} against a server accepting
components; it prints C{READY} once its handshake succeeded, then:

 - answers each chat or normal message with C{echo: <body>}, from the
   address the message was sent to;
 - on C{join ROOM NICK}, has C{gateway@DOMAIN/gw} join C{ROOM} as C{NICK}
   and, once in, say C{hello room}; it prints C{JOINED ROOM};
 - prints C{GROUPCHAT <nick> <body>} for what others say in the room;
 - on C{quit}, answers C{bye}, disconnects and prints C{DONE}.
"""

import asyncio
import sys

from slixmpp.componentxmpp import ComponentXMPP

MUC_USER = "http://jabber.org/protocol/muc#user"


class EchoComponent(ComponentXMPP):
    def __init__(self, domain, secret, port):
        ComponentXMPP.__init__(self, domain, secret, "127.0.0.1", port)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.user = "gateway@%s/gw" % (domain,)
        self.rooms = {}
        self.finished = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", lambda event: print("READY", flush=True))
        self.add_event_handler("message", self.onMessage)
        self.add_event_handler("groupchat_message", self.onGroupchat)
        self.add_event_handler("presence", self.onPresence)
        self.add_event_handler("disconnected", lambda event: self.finished.done() or self.finished.set_result(None))

    def onMessage(self, message):
        if message["type"] not in ("chat", "normal"):
            return
        body = message["body"]
        words = body.split()
        if words[:1] == ["join"] and len(words) == 3:
            room, nick = words[1], words[2]
            self.rooms[room] = nick
            presence = self.make_presence(pto="%s/%s" % (room, nick), pfrom=self.user)
            presence.enable("muc_join")
            presence.send()
            return
        reply = self.make_message(mto=message["from"], mfrom=message["to"], mbody=(
            "bye" if body == "quit" else "echo: " + body), mtype=message["type"])
        reply.send()
        if body == "quit":
            self.disconnect()

    def onPresence(self, presence):
        room = presence["from"].bare
        nick = self.rooms.get(room)
        if nick is None or presence["from"].resource != nick or presence["type"] == "unavailable":
            return
        codes = [status.get("code") for status in presence.xml.iter("{%s}status" % (MUC_USER,))]
        if "110" in codes:
            print("JOINED", room, flush=True)
            self.make_message(mto=room, mfrom=self.user, mbody="hello room", mtype="groupchat").send()

    def onGroupchat(self, message):
        room = message["from"].bare
        nick = message["from"].resource
        if nick and nick != self.rooms.get(room) and message["body"]:
            print("GROUPCHAT", nick, message["body"], flush=True)


async def main(port, domain, secret):
    component = EchoComponent(domain, secret, port)
    component.connect()
    await component.finished


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    asyncio.get_event_loop().run_until_complete(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    print("DONE", flush=True)
