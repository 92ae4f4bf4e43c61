"""
Owner use cases (XEP-0045 section 10, C{muc#owner}): the room
configuration form (get, submit, cancel) and room destruction.

The form is assembled from the C{config-form} hook and a submission is
parsed by the C{config-submitted} hook, so each feature module owns its
fields; L{configField} registers both for a field bound to one
L{xmuc.muc.roomconfig.RoomConfig} attribute.  Fields without a module of
their own (name, description, language, persistence, public listing,
logging, presence broadcast, member list access) are declared here.
"""

from twisted.words.xish import domish

from xmuc.muc import persistence
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.jid import parseJID
from xmuc.xmpp.stanza import newStanza

#: Settings whose change is announced by their own status codes only.
PRIVACY_SETTINGS = frozenset(["whois", "logging"])

ROLE_OPTIONS = [("moderator", "Moderator"), ("participant", "Participant"), ("visitor", "Visitor")]


def configField(service, var, attribute, type, label, priority, options=None, maximum=None, desc=None):
    """
    Declare a configuration form field bound to C{room.config.<attribute>}.

    @param var: the field name (C{muc#roomconfig_...}).
    @param type: see L{xmuc.xmpp.forms.parseValue}; C{'integer'} is sent as text-single.
    @param options: C{[(value, label)]} for list fields.
    @param priority: position in the form (higher comes first).
    """
    allowed = [value for value, _ in options] if options else None

    def addField(room, form, **kw):
        value = getattr(room.config, attribute)
        if type == "boolean":
            values = ["1" if value else "0"]
        elif type == "list-multi":
            values = list(value)
        elif type == "integer":
            values = [str(value)]
        else:
            values = [value] if value != "" else []
        form.add(var, "text-single" if type == "integer" else type, label, values,
                 options=options or (), desc=desc)

    def readField(room, fields, changes, **kw):
        if var in fields:
            limit = maximum(room) if callable(maximum) else maximum
            changes[attribute] = forms.parseValue(type, var, fields[var], allowed, limit)

    service.hooks.add("config-form", addField, priority=priority)
    service.hooks.add("config-submitted", readField, priority=priority)


def isOwner(room, stanza):
    sender = parseJID(stanza.getAttribute("from", ""))
    return sender is not None and room.getAffiliation(sender.userhost()) == "owner"


def configForm(room, actor=None):
    """
    @return: the C{muc#roomconfig} L{forms.Form} of C{room}.
    """
    form = forms.Form(
        "form",
        ns.MUC_ROOMCONFIG,
        title="Configuration for " + room.jidStr,
        instructions="Complete and submit this form to configure the room.",
    )
    room.hooks.fire("config-form", room=room, form=form, actor=actor)
    return form


def getConfig(room, stanza, **kw):
    if not isOwner(room, stanza):
        raise StanzaError("forbidden", text="Only owners can configure rooms")
    query = domish.Element((ns.MUC_OWNER, "query"))
    query.addChild(configForm(room, stanza.getAttribute("from")).toElement())
    return query


def setConfig(room, stanza, **kw):
    if not isOwner(room, stanza):
        raise StanzaError("forbidden", text="Only owners can configure rooms")
    query = stanza.firstChildElement()
    for child in query.elements():
        if child.uri == ns.DATA_FORMS and child.name == "x":
            return submitForm(room, stanza, child)
        if child.uri == ns.MUC_OWNER and child.name == "destroy":
            return destroyRoom(room, stanza, child)
    raise StanzaError("bad-request")


def submitForm(room, stanza, x):
    """
    Apply a submitted configuration form: every field is checked before
    anything changes (C{config-submitted}); the changes are applied in
    memory (C{config-changed}) and stored before their effects
    (C{config-stored}: kicks, presences), the iq result and the status
    message (104...).  When storage fails, the room goes back to its
    previous state and nothing was sent (the iq gets an error).
    """
    kind, formType, fields = forms.parseForm(x)
    if kind == "cancel":
        # A new room stays locked (the rule, not a destruction).
        room.reply(stanza)
        return True
    if kind != "submit":
        raise StanzaError("bad-request", text="Not a submitted form")
    if fields and formType is not None and formType != ns.MUC_ROOMCONFIG:
        raise StanzaError("bad-request", text="Form is not of type room configuration")
    actor = stanza.getAttribute("from")
    changes = {}
    old = {}
    codes = set()

    def apply():
        # Read against the room as it is when the change is applied: an
        # earlier change may have been stored meanwhile (persistence
        # applies the changes of a room one at a time).
        room.hooks.fire("config-submitted", room=room, fields=fields, changes=changes, actor=actor)
        for attribute in list(changes):
            current = getattr(room.config, attribute)
            if current == changes[attribute]:
                del changes[attribute]
            else:
                old[attribute] = current
        # Privacy changes have codes of their own (172/173, 170/171); like
        # Prosody, 104 is for the other ones.
        if set(changes) - PRIVACY_SETTINGS:
            codes.add("104")
        room.config.update(changes)
        room.hooks.fire("config-changed", room=room, changes=changes, old=old, codes=codes, actor=actor)

    d = persistence.saveChange(room, apply)

    def stored(_):
        if not room.destroyed:
            room.hooks.fire("config-stored", room=room, changes=changes, old=old, codes=codes, actor=actor)
        room.reply(stanza)
        if codes and not room.destroyed:
            notifyCodes(room, codes)
        return True

    return d.addCallback(stored)


def notifyCodes(room, codes):
    """
    Tell every occupant about a configuration change (status codes).
    """
    message = newStanza("message", type="groupchat", **{"from": room.jidStr})
    x = message.addElement((ns.MUC_USER, "x"))
    for code in sorted(codes):
        x.addElement("status")["code"] = code
    room.broadcast(message)


def destroyRoom(room, stanza, destroy):
    """
    XEP-0045 10.9: destroy with optional reason, alternate venue and its
    password; the result comes once storage forgot the room.
    """
    alternate = destroy.getAttribute("jid")
    if alternate is not None:
        parsed = parseJID(alternate)
        if parsed is None:
            raise StanzaError("jid-malformed", text="Invalid alternate venue")
        alternate = parsed.full()
    reason = password = None
    for child in destroy.elements():
        if child.name == "reason":
            reason = str(child)
        elif child.name == "password":
            password = str(child)
    d = room.destroy(reason, alternate, password)

    def done(_):
        room.reply(stanza)
        return True

    return d.addCallback(done)


def install(service):
    service.hooks.add("iq-get:" + ns.MUC_OWNER, getConfig)
    service.hooks.add("iq-set:" + ns.MUC_OWNER, setConfig)
    configField(service, "muc#roomconfig_roomname", "name", "text-single", "Title", 100)
    configField(service, "muc#roomconfig_roomdesc", "description", "text-single", "Description", 95)
    configField(service, "muc#roomconfig_lang", "lang", "text-single", "Language tag for room (e.g. 'en', 'de', 'fr')", 90)
    configField(service, "muc#roomconfig_persistentroom", "persistent", "boolean",
                "Persistent (room should remain even when it is not occupied)", 85)
    configField(service, "muc#roomconfig_publicroom", "public", "boolean", "Include room information in public lists", 80)
    configField(service, "muc#roomconfig_presencebroadcast", "presenceBroadcast", "list-multi",
                "Only show participants with roles", 20, options=ROLE_OPTIONS + [("none", "None (offline members)")])
    configField(service, "muc#roomconfig_enablelogging", "logging", "boolean", "Enable public logging (room is archived)", 10)
    service.hooks.add("config-changed", loggingCodes)


def loggingCodes(room, changes, codes, **kw):
    """
    Status 170/171 when logging is switched on/off.
    """
    if "logging" in changes:
        codes.add("170" if changes["logging"] else "171")
