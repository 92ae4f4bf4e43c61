"""
A MUC session the way an aioxmpp client does it, through aioxmpp's own
APIs: log in over STARTTLS (trusting only the test certificate, host name
checked), create a room and configure it with C{MUCClient.get_room_config}
and C{ConfigurationForm} (which refuses a form whose field types differ
from XEP-0045's registry), a second client joins, groupchat both ways,
private messages both ways, the occupant list as C{Room.members} shows it,
and a voice request approved through C{on_muc_role_request} (aioxmpp reads
the approval form with the strict C{VoiceRequestForm}).

Run by tests/clients/test_aioxmpp.py with the arguments C{port
certificate}; prints C{CHECK <name>} per verified expectation and C{DONE}
at the end (see tests/clients/common.py for the convention).
"""

import asyncio
import sys

import aioxmpp
import aioxmpp.connector
import aioxmpp.dispatcher
import aioxmpp.forms
import aioxmpp.muc
import aioxmpp.muc.xso
import aioxmpp.security_layer
import service_identity.pyopenssl

ROOM = aioxmpp.JID.fromstr("aioroom@conference.localhost")
TIMEOUT = 10


def check(name, condition, detail=""):
    """
    Record a verified expectation, or fail the script.
    """
    if not condition:
        raise AssertionError("%s: %s" % (name, detail))
    print("CHECK", name, flush=True)


class TestCertificateVerifier(aioxmpp.security_layer.CertificateVerifier):
    """
    OpenSSL's chain verification against the trust store of the context
    (only the test certificate), then the host name checked with
    service_identity.  aioxmpp's own PKIX verifier reads the certificate
    with C{X509.get_extension}, which current pyOpenSSL no longer has.
    """

    def verify_callback(self, connection, x509, errno, depth, returncode):
        return returncode

    async def post_handshake(self, transport):
        service_identity.pyopenssl.verify_hostname(transport.get_extra_info("ssl_object"), "localhost")


def makeClient(jid, password, port, certificate):
    """
    @return: an aioxmpp client for C{jid} that connects to 127.0.0.1:C{port}
        with STARTTLS and trusts only the certificate in the file
        C{certificate}, for the host name C{localhost}.
    """

    def contextFactory():
        context = aioxmpp.security_layer.default_ssl_context()
        context.load_verify_locations(certificate)
        return context

    security = aioxmpp.make_security_layer(password, ssl_context_factory=contextFactory)._replace(
        certificate_verifier_factory=TestCertificateVerifier
    )
    return aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr(jid),
        security,
        override_peer=[("127.0.0.1", port, aioxmpp.connector.STARTTLSConnector())],
    )


class Inbox:
    """
    What a client receives, queued so the script can await it.
    """

    def __init__(self, client):
        self.groupchat = asyncio.Queue()
        self.chat = asyncio.Queue()
        self.roleRequests = asyncio.Queue()
        dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
        dispatcher.register_callback(aioxmpp.MessageType.CHAT, None, self.chat.put_nowait)

    def watchRoom(self, room):
        room.on_message.connect(lambda message, member, source, **kw: self.groupchat.put_nowait((message, member)))
        room.on_muc_role_request.connect(lambda form, future: self.roleRequests.put_nowait((form, future)))

    @staticmethod
    async def next(queue):
        return await asyncio.wait_for(queue.get(), TIMEOUT)


def occupants(room):
    """
    @return: C{{nick: (affiliation, role)}} of C{room.members}.
    """
    return {member.nick: (member.affiliation, member.role) for member in room.members}


async def waitFor(condition):
    """
    Wait (a bounded number of turns of the loop) for C{condition()}.
    """
    for _ in range(TIMEOUT * 20):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def session(port, certificate):
    alice = makeClient("alice@localhost/aioxmpp", "rabbit hole", port, certificate)
    bob = makeClient("bob@localhost/aioxmpp", "can we fix it", port, certificate)
    aliceInbox, bobInbox = Inbox(alice), Inbox(bob)
    aliceMUC = alice.summon(aioxmpp.MUCClient)
    bobMUC = bob.summon(aioxmpp.MUCClient)
    async with alice.connected(), bob.connected():
        check("login-starttls", alice.established and bob.established)

        # --- creation: aioxmpp joins, the room is new (201) and ours
        room, joined = aliceMUC.join(ROOM, "Alice", history=aioxmpp.muc.xso.History(maxstanzas=0))
        aliceInbox.watchRoom(room)
        await asyncio.wait_for(joined, TIMEOUT)
        check("create-owner", (room.me.affiliation, room.me.role) == ("owner", "moderator"), occupants(room))

        # --- configuration through aioxmpp's own template (strict types)
        data = await aliceMUC.get_room_config(ROOM)
        form = aioxmpp.muc.ConfigurationForm.from_xso(data)
        check("config-form-parsed", form.roomname is not None)
        form.roomname.value = "aioxmpp room"
        form.persistentroom.value = True
        form.publicroom.value = True
        form.membersonly.value = False
        form.moderatedroom.value = False
        await aliceMUC.set_room_config(ROOM, form.render_reply())
        form = aioxmpp.muc.ConfigurationForm.from_xso(await aliceMUC.get_room_config(ROOM))
        check(
            "config-applied",
            (form.roomname.value, form.persistentroom.value, form.publicroom.value) == ("aioxmpp room", True, True),
            (form.roomname.value, form.persistentroom.value, form.publicroom.value),
        )
        check("config-maxusers", form.maxusers.value is not None and form.maxusers.options, form.maxusers.options)

        # --- a second client joins; both see the same occupant list
        bobRoom, joined = bobMUC.join(ROOM, "Bob", history=aioxmpp.muc.xso.History(maxstanzas=0))
        bobInbox.watchRoom(bobRoom)
        await asyncio.wait_for(joined, TIMEOUT)
        expected = {"Alice": ("owner", "moderator"), "Bob": ("none", "participant")}
        check("bob-occupants", occupants(bobRoom) == expected, occupants(bobRoom))
        check("alice-occupants", await waitFor(lambda: occupants(room) == expected), occupants(room))

        # --- groupchat both ways (aioxmpp tracks its own echo)
        message = aioxmpp.Message(type_=aioxmpp.MessageType.GROUPCHAT)
        message.body[None] = "hello from aioxmpp"
        room.send_message(message)
        got, member = await Inbox.next(bobInbox.groupchat)
        check("bob-got-groupchat", (got.body.any(), member.nick) == ("hello from aioxmpp", "Alice"), got)
        echo, member = await Inbox.next(aliceInbox.groupchat)
        check("alice-echo", (echo.body.any(), member) == ("hello from aioxmpp", room.me), echo)
        message = aioxmpp.Message(type_=aioxmpp.MessageType.GROUPCHAT)
        message.body[None] = "hi alice"
        bobRoom.send_message(message)
        got, member = await Inbox.next(aliceInbox.groupchat)
        check("alice-got-groupchat", (got.body.any(), member.nick) == ("hi alice", "Bob"), got)
        await Inbox.next(bobInbox.groupchat)

        # --- private messages through the room, both ways (XEP-0045 7.5)
        private = aioxmpp.Message(type_=aioxmpp.MessageType.CHAT, to=ROOM.replace(resource="Bob"))
        private.body[None] = "psst bob"
        private.xep0045_muc_user = aioxmpp.muc.xso.UserExt()
        await alice.send(private)
        got = await Inbox.next(bobInbox.chat)
        check("pm-received", (got.from_, got.body.any()) == (ROOM.replace(resource="Alice"), "psst bob"), got)
        reply = aioxmpp.Message(type_=aioxmpp.MessageType.CHAT, to=got.from_)
        reply.body[None] = "psst alice"
        reply.xep0045_muc_user = aioxmpp.muc.xso.UserExt()
        await bob.send(reply)
        got = await Inbox.next(aliceInbox.chat)
        check("pm-reply", (got.from_, got.body.any()) == (ROOM.replace(resource="Bob"), "psst alice"), got)

        # --- voice: in the room now moderated, Alice makes Bob a visitor;
        # his request reaches her as a form aioxmpp parses with
        # VoiceRequestForm
        form = aioxmpp.muc.ConfigurationForm.from_xso(await aliceMUC.get_room_config(ROOM))
        form.moderatedroom.value = True
        await aliceMUC.set_room_config(ROOM, form.render_reply())
        await room.muc_set_role("Bob", "visitor", reason="quiet please")
        check("bob-visitor", await waitFor(lambda: bobRoom.me.role == "visitor"), occupants(bobRoom))
        # aioxmpp has no call for the request itself: the form of 7.13
        request = aioxmpp.forms.Data(aioxmpp.forms.DataType.SUBMIT)
        request.fields.append(aioxmpp.forms.Field(
            var="FORM_TYPE", type_=aioxmpp.forms.FieldType.HIDDEN, values=[aioxmpp.muc.VoiceRequestForm.FORM_TYPE]))
        request.fields.append(aioxmpp.forms.Field(
            var="muc#role", type_=aioxmpp.forms.FieldType.LIST_SINGLE, values=["participant"]))
        message = aioxmpp.Message(type_=aioxmpp.MessageType.NORMAL, to=ROOM)
        message.xep0004_data.append(request)
        await bob.send(message)
        approval, answer = await Inbox.next(aliceInbox.roleRequests)
        check("voice-request-form", (approval.roomnick.value, approval.role.value) == ("Bob", "participant"),
              (approval.roomnick.value, approval.role.value))
        approval.request_allow.value = True
        answer.set_result(approval.render_reply())
        check("voice-granted", await waitFor(lambda: bobRoom.me.role == "participant"), occupants(bobRoom))

        # --- leave
        await asyncio.wait_for(bobRoom.leave(), TIMEOUT)
        check("alice-sees-leave", await waitFor(lambda: set(occupants(room)) == {"Alice"}), occupants(room))
        await asyncio.wait_for(room.leave(), TIMEOUT)
        check("left", True)


def main():
    port, certificate = int(sys.argv[1]), sys.argv[2]
    asyncio.run(session(port, certificate))
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
