"""
Voice requests (XEP-0045 7.13 and 8.6): a visitor of a moderated room
sends the room a C{muc#request} form asking for the participant role;
every moderator gets the approval form (requester's real JID and nick);
a moderator who submits it back with C{muc#request_allow} true grants
voice to that occupant (with the moderator as actor).
"""

from xmuc.muc import hooks
from xmuc.muc.nicks import occupantByNick
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza

ALLOW_FIELD = "muc#request_allow"
ROLE_OPTIONS = [("none", None), ("visitor", None), ("participant", None), ("moderator", None)]


def approvalForm(requester):
    """
    @param requester: the visitor's L{xmuc.muc.occupant.Occupant}.
    @return: the form a moderator gets (L{forms.Form}).
    """
    form = forms.Form("form", ns.MUC_REQUEST, title="Voice Request",
                      instructions="To approve this request for voice, select the \"Grant voice to this person?\" "
                                   "checkbox and click OK. To skip this request, click the cancel button.")
    form.add("muc#role", "list-single", "Requested role", ["participant"], options=ROLE_OPTIONS)
    form.add("muc#jid", "jid-single", "User ID", [requester.realJID], desc="The user's JID.")
    form.add("muc#roomnick", "text-single", "Room nickname", [requester.nick],
             desc="The user's nickname within the room.")
    form.add(ALLOW_FIELD, "boolean", "Grant voice to this person?", ["false"],
             desc="Specify whether this person should be able to speak in the room.")
    return form


def requestVoice(room, occupant):
    """
    Forward a visitor's request to every moderator (others already have
    voice: nothing to do).
    """
    if occupant.role != "visitor":
        return
    message = newStanza("message", **{"from": room.jidStr})
    message.addChild(approvalForm(occupant).toElement())
    room.broadcast(message, lambda other: other.role == "moderator")


def answerRequest(room, moderator, fields):
    """
    A moderator's answer: grant voice when allowed.
    """
    if moderator.role != "moderator":
        raise StanzaError("forbidden", text="Only moderators may approve voice requests")
    if not forms.boolean(fields.get(ALLOW_FIELD, []), ALLOW_FIELD):
        return
    target = None
    jid = forms.single(fields.get("muc#jid", []))
    if jid:
        target = room.occupantsByJID.get(jid)
    nick = forms.single(fields.get("muc#roomnick", []))
    if target is None and nick:
        target = occupantByNick(room, nick)
    if target is not None and target.role == "visitor":
        # The reason is Prosody's: clients show it with the role change.
        room.setRole(target, "participant", actor=moderator, reason="Voice granted")


def handleVoiceRequest(room, stanza, occupant, **kw):
    """
    C{room-message}: a C{muc#request} form (a request, or a moderator's
    answer when it has C{muc#request_allow}).
    """
    x = forms.findForm(stanza)
    if x is None:
        return None
    kind, formType, fields = forms.parseForm(x)
    if formType != ns.MUC_REQUEST:
        return None
    if occupant is None:
        raise StanzaError("not-acceptable", type="cancel", text="You are not currently connected to this chat")
    if kind != "submit":
        return True
    if ALLOW_FIELD in fields:
        answerRequest(room, occupant, fields)
    elif forms.single(fields.get("muc#role", [])) == "participant":
        requestVoice(room, occupant)
    else:
        raise StanzaError("bad-request", text="Only voice (participant) may be requested")
    return True


def addFeature(room, features, **kw):
    features.add(ns.MUC_REQUEST)


def install(service):
    service.hooks.add(hooks.ROOM_MESSAGE, handleVoiceRequest)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
