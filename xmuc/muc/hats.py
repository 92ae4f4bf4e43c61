"""
Hats (XEP-0317): roles of a room's own choosing ("Host", "Presenter"...)
that users wear beside their affiliation, shown in their occupant presence
as Prosody's C{hats.lib.lua} shows them:
C{<hats xmlns='urn:xmpp:hats:0'><hat uri='...' title='...' hue='...'/></hats>},
and the same without C{hue} in Prosody 0.12's namespace
(C{xmpp:prosody.im/protocol/hats:1}) for the clients that read that one.
Hats a client puts in its own presence are not relayed
(L{xmuc.muc.occupant.ROOM_WRITTEN}).

Each room keeps its list of hats (URI, title, optional hue) and who wears
which (by real bare JID), stored with the room (C{room.extra["hats"]}).
They are managed with the ad-hoc commands of XEP-0317
(L{xmuc.muc.commands}), all-or-nothing and stored before the result:

 - C{urn:xmpp:hats:commands:create} defines a hat or changes its title or
   hue; C{...:destroy} removes it from the list and from everyone wearing
   it; both announce the change to occupants with status 104;
 - C{...:assign} and C{...:unassign} put a hat of the list on a user or
   take it off; occupants of that user get their presence again;
 - C{...:list} lists the hats (anyone may), C{...:list-assigned} who wears
   which.

Owners and admins (and server administrators) run the commands that change
hats or show who wears them; anyone else gets C{forbidden}.  The room's
disco#info has the C{urn:xmpp:hats:0} feature and, while there are hats,
a C{hats#hash} of the list in its C{muc#roominfo} form.
"""

import hashlib

from twisted.words.xish import domish

from xmuc.muc import hooks, presence
from xmuc.muc.commands import roomCommand, serviceCommand
from xmuc.muc.configform import notifyCodes
from xmuc.xmpp import adhoc, forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID

#: The C{FORM_TYPE} of the commands' forms; the nodes of the commands
#: start with it too.
FORM_TYPE = ns.HATS_COMMANDS
COMMAND_NODE = ns.HATS_COMMANDS + ":"

#: The key of C{room.extra}: C{{"defined": {uri: {"title": str, "hue":
#: str}}, "worn": {bare JID: [uri...]}}}.
EXTRA_KEY = "hats"


def hatsOf(room):
    """
    @return: the room's hats state (see L{EXTRA_KEY}), created empty in
        C{room.extra} if needed (callers change it inside a stored change
        only).
    """
    state = room.extra.get(EXTRA_KEY)
    if state is None:
        state = room.extra[EXTRA_KEY] = {"defined": {}, "worn": {}}
    return state


def wornBy(room, bare):
    """
    @return: C{[(uri, definition)]} of the hats C{bare} wears in C{room}.
    """
    state = room.extra.get(EXTRA_KEY)
    if not state:
        return []
    defined = state["defined"]
    return [(uri, defined[uri]) for uri in state["worn"].get(bare, ()) if uri in defined]


# -- Presence -------------------------------------------------------------------


def addHats(room, occupant, presence, **kw):
    """
    C{presence-build}: the hats the occupant's user wears.
    """
    worn = wornBy(room, occupant.bare)
    if not worn:
        return
    hats = presence.addElement((ns.HATS, "hats"))
    legacy = domish.Element((ns.HATS_LEGACY, "hats"))
    for uri, definition in worn:
        hat = hats.addElement("hat")
        hat["uri"] = uri
        hat["title"] = definition["title"]
        if definition.get("hue"):
            hat["hue"] = definition["hue"]
        hat = legacy.addElement("hat")
        hat["uri"] = uri
        hat["title"] = definition["title"]
    presence.addChild(legacy)


def showNewHats(room, bares):
    """
    Occupants of the users C{bares} get their presence again (hats changed).
    """
    for bare in bares:
        for occupant in room.occupantsOf(bare):
            occupant.presenceChanged()
            presence.broadcastPresence(room, occupant)


# -- Discovery --------------------------------------------------------------------


def addFeature(room, features, **kw):
    features.add(ns.HATS)


def addHashField(room, form, **kw):
    """
    C{room-disco-roominfo}: a hash of the list of hats (XEP-0317 leaves
    its computation to the service: the SHA-1 of the sorted URIs with
    their titles and hues), so clients know when to list them again.
    """
    defined = room.extra.get(EXTRA_KEY, {}).get("defined")
    if defined:
        text = "\n".join("%s\t%s\t%s" % (uri, d["title"], d.get("hue", "")) for uri, d in sorted(defined.items()))
        form.add("hats#hash", "text-single", "Hats hash", [hashlib.sha1(text.encode("utf-8")).hexdigest()])


# -- Commands ---------------------------------------------------------------------


def managesHats(room, requester):
    return requester is not None and room.getAffiliation(requester) in ("owner", "admin")


def anyone(room, requester):
    return True


def _form(title, instructions, *fields):
    form = forms.Form("form", FORM_TYPE, title=title, instructions=instructions)
    for field in fields:
        form.fields.append(field)
    return form.toElement()


def _hatOptions(room):
    defined = room.extra.get(EXTRA_KEY, {}).get("defined", {})
    return [(uri, d["title"]) for uri, d in sorted(defined.items())]


def _value(request, var, required=True):
    """
    @return: the single value of field C{var} of the submitted form.
    @raise StanzaError: C{bad-request} when a required one is missing.
    """
    if request.formType is not None and request.formType != FORM_TYPE:
        raise StanzaError("bad-request", text="Expected a form of type %s" % (FORM_TYPE,))
    value = forms.single(request.form.get(var, []))
    if required and not value:
        raise StanzaError("bad-request", text="%s is required" % (var,))
    return value


def _bareOf(request):
    jid = parseJID(_value(request, "hats#jid"))
    if jid is None:
        raise StanzaError("jid-malformed", text="Invalid hats#jid")
    return jid.userhost()


def _storeThen(room, request, record, shown, codes=False):
    """
    Record a change of the hats, store the room, then show the users
    C{shown()} their new presence (and tell occupants with 104).

    @return: a Deferred firing with the completed command.
    """

    def effects(_):
        if not room.destroyed:
            showNewHats(room, shown())
            if codes:
                notifyCodes(room, {"104"})
        return adhoc.commandResponse(request, "completed")

    return room.store.change(room, record, effects)


def createForm(room):
    return _form("Creating a Hat", "Fill out this form to create a hat.",
                 forms.Field("hats#title", "text-single", "Hat Title", required=True),
                 forms.Field("hats#uri", "text-single", "Hat URI", required=True),
                 forms.Field("hats#hue", "text-single", "Hat Hue"))


def create(room, request, requester, stanza):
    """
    Define a hat, or change the title or hue of one.
    """
    title = _value(request, "hats#title")
    uri = _value(request, "hats#uri")
    hue = _value(request, "hats#hue", required=False)
    if hue:
        try:
            angle = float(hue)
        except ValueError:
            angle = -1
        if not 0 <= angle < 360:
            raise StanzaError("not-acceptable", text="hats#hue is an angle from 0 to 360")
    definition = {"title": title}
    if hue:
        definition["hue"] = hue

    def record():
        hatsOf(room)["defined"][uri] = definition

    return _storeThen(room, request, record, lambda: wearers(room, uri), codes=True)


def wearers(room, uri):
    return [bare for bare, uris in room.extra.get(EXTRA_KEY, {}).get("worn", {}).items() if uri in uris]


def destroyForm(room):
    return _form("Destroying a Hat", "Fill out this form to destroy a hat.",
                 forms.Field("hats#uri", "list-single", "The role", options=_hatOptions(room), required=True))


def destroy(room, request, requester, stanza):
    """
    Remove a hat from the list and from everyone wearing it.
    """
    uri = _value(request, "hats#uri")
    removedFrom = []

    def record():
        state = hatsOf(room)
        if uri not in state["defined"]:
            raise StanzaError("item-not-found", text="No such hat")
        del state["defined"][uri]
        for bare, uris in list(state["worn"].items()):
            if uri in uris:
                removedFrom.append(bare)
                uris.remove(uri)
                if not uris:
                    del state["worn"][bare]

    return _storeThen(room, request, record, lambda: removedFrom, codes=True)


def listHats(room, request, requester, stanza):
    defined = room.extra.get(EXTRA_KEY, {}).get("defined", {})
    rows = [{"hats#title": d["title"], "hats#uri": uri, "hats#hue": d.get("hue")} for uri, d in sorted(defined.items())]
    table = adhoc.resultTable("Hats List", [("hats#title", "Title"), ("hats#uri", "URI"), ("hats#hue", "Hue")], rows)
    return adhoc.commandResponse(request, "completed", form=table)


def assignForm(room, title="Assigning a Hat", instructions="Fill out this form to assign a hat."):
    return _form(title, instructions,
                 forms.Field("hats#jid", "jid-single", "User Address", required=True),
                 forms.Field("hats#uri", "list-single", "The role", options=_hatOptions(room), required=True))


def assign(room, request, requester, stanza):
    """
    Put a hat of the list on a user.
    """
    bare = _bareOf(request)
    uri = _value(request, "hats#uri")

    def record():
        state = hatsOf(room)
        if uri not in state["defined"]:
            raise StanzaError("item-not-found", text="No such hat")
        worn = state["worn"].setdefault(bare, [])
        if uri not in worn:
            worn.append(uri)

    return _storeThen(room, request, record, lambda: [bare])


def unassignForm(room):
    return assignForm(room, "Removing a Hat", "Fill out this form to remove a hat.")


def unassign(room, request, requester, stanza):
    """
    Take a hat off a user.
    """
    bare = _bareOf(request)
    uri = _value(request, "hats#uri")

    def record():
        worn = hatsOf(room)["worn"]
        if uri not in worn.get(bare, ()):
            raise StanzaError("item-not-found", text="That user does not wear that hat")
        worn[bare].remove(uri)
        if not worn[bare]:
            del worn[bare]

    return _storeThen(room, request, record, lambda: [bare])


def listAssigned(room, request, requester, stanza):
    state = room.extra.get(EXTRA_KEY, {"defined": {}, "worn": {}})
    rows = []
    for bare in sorted(state["worn"]):
        for uri, definition in wornBy(room, bare):
            rows.append({"hats#jid": bare, "hats#uri": uri, "hats#title": definition["title"],
                         "hats#hue": definition.get("hue")})
    table = adhoc.resultTable("Assigned Hats List", [("hats#jid", "JID"), ("hats#uri", "URI"),
                                                     ("hats#title", "Title"), ("hats#hue", "Hue")], rows)
    return adhoc.commandResponse(request, "completed", form=table)


# -- Prosody's commands on the service (mod_muc_hats_adhoc) ----------------------

#: The nodes of Prosody's commands, run by server administrators on the
#: service's domain with the room named in the form.
PROSODY_NODE = "http://prosody.im/protocol/hats#"


def serverAdmin(service, requester):
    return requester is not None and service.isAdmin(requester)


def _prosodyForm(title, instructions, fields=("title", "uri")):
    form = forms.Form("form", title=title, instructions=instructions)
    form.add("user", "jid-single", "User JID", required=True)
    form.add("room", "jid-single", "Room JID", required=True)
    if "title" in fields:
        form.add("title", "text-single", "Hat title")
    if "uri" in fields:
        form.add("uri", "text-single", "Hat URI", required=True)
    return form.toElement()


def _prosodyTarget(service, request):
    """
    @return: C{(room, user's bare JID)} named by a submitted form.
    @raise StanzaError: C{bad-request} (missing field), C{jid-malformed},
        C{item-not-found} (no such room).
    """
    values = {}
    for var in ("user", "room"):
        values[var] = forms.single(request.form.get(var, []))
        if not values[var]:
            raise StanzaError("bad-request", text="%s is required" % (var,))
    user, roomJID = parseJID(values["user"]), parseJID(values["room"])
    if user is None or roomJID is None:
        raise StanzaError("jid-malformed", text="Invalid JID")
    room = service.rooms.get(roomJID.userhost())
    if room is None:
        raise StanzaError("item-not-found", text="No such room")
    return room, user.userhost()


def prosodyAdd(service, request, requester, stanza):
    """
    Put a hat on a user, defining it when the room has no such hat (its
    title: the one given, else the URI).
    """
    room, bare = _prosodyTarget(service, request)
    uri = forms.single(request.form.get("uri", []))
    if not uri:
        raise StanzaError("bad-request", text="uri is required")
    title = forms.single(request.form.get("title", []))

    def record():
        state = hatsOf(room)
        definition = state["defined"].setdefault(uri, {"title": title or uri})
        if title:
            definition["title"] = title
        worn = state["worn"].setdefault(bare, [])
        if uri not in worn:
            worn.append(uri)

    def effects(_):
        if not room.destroyed:
            showNewHats(room, wearers(room, uri))
        return adhoc.commandResponse(request, "completed", note="The hat has been added successfully")

    return room.store.change(room, record, effects)


def prosodyRemove(service, request, requester, stanza):
    """
    Take a hat off a user.
    """
    room, bare = _prosodyTarget(service, request)
    uri = forms.single(request.form.get("uri", []))

    def record():
        worn = hatsOf(room)["worn"]
        if uri not in worn.get(bare, ()):
            raise StanzaError("item-not-found", text="That user does not wear that hat")
        worn[bare].remove(uri)
        if not worn[bare]:
            del worn[bare]

    def effects(_):
        if not room.destroyed:
            showNewHats(room, [bare])
        return adhoc.commandResponse(request, "completed", note="The hat has been removed successfully")

    return room.store.change(room, record, effects)


def prosodyList(service, request, requester, stanza):
    """
    The hats a user wears in a room.
    """
    room, bare = _prosodyTarget(service, request)
    rows = [{"uri": uri, "title": definition["title"]} for uri, definition in wornBy(room, bare)]
    table = adhoc.resultTable("%s's hats" % (bare,), [("uri", "Hat URI"), ("title", "Hat title")], rows)
    return adhoc.commandResponse(request, "completed", form=table)


def install(service):
    service.hooks.add(hooks.PRESENCE_BUILD, addHats)
    service.hooks.add(hooks.ROOM_DISCO_FEATURES, addFeature)
    service.hooks.add(hooks.ROOM_DISCO_ROOMINFO, addHashField)
    roomCommand(service, COMMAND_NODE + "create", "Create a hat", createForm, create, managesHats)
    roomCommand(service, COMMAND_NODE + "destroy", "Destroy a hat", destroyForm, destroy, managesHats)
    roomCommand(service, COMMAND_NODE + "list", "List hats", None, listHats, anyone)
    roomCommand(service, COMMAND_NODE + "assign", "Assign a hat", assignForm, assign, managesHats)
    roomCommand(service, COMMAND_NODE + "unassign", "Remove a hat", unassignForm, unassign, managesHats)
    roomCommand(service, COMMAND_NODE + "list-assigned", "List assigned hats", None, listAssigned, managesHats)
    serviceCommand(service, PROSODY_NODE + "add", "Add hat to user",
                   lambda service: _prosodyForm("Add a hat", "Assign a hat to a room member"), prosodyAdd, serverAdmin)
    serviceCommand(service, PROSODY_NODE + "remove", "Remove hat from user",
                   lambda service: _prosodyForm("Remove a hat", "Remove a hat from a room member", ("uri",)), prosodyRemove,
                   serverAdmin)
    serviceCommand(service, PROSODY_NODE + "list", "List a user's hats",
                   lambda service: _prosodyForm("List a user's hats", "List a user's hats in a room", ()),
                   prosodyList, serverAdmin)
