"""
The room configuration form (XEP-0045 10.2, C{muc#roomconfig}).

The form is assembled from the C{config-form} hook and a submission is
read by the C{config-submitted} hook, so each feature module owns its
fields; L{configField} registers both for a field bound to one
L{xmuc.muc.roomconfig.RoomConfig} attribute, and fires
C{config-submitted:<var>} when that field is submitted (as Prosody's
C{muc-config-submitted/<var>}).  Fields without a module of their own
(name, description, language, persistence, public listing, logging) are
declared here.
"""

from xmuc.muc import hooks
from xmuc.muc.roomconfig import declareSettings
from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.stanza import newStanza

#: Settings whose change is announced by their own status codes only.
PRIVACY_SETTINGS = frozenset(["whois", "logging"])


#: The settings without a module of their own: C{name}
#: (C{muc#roomconfig_roomname}), C{description}, C{lang}, C{persistent} (the
#: room survives its last occupant), C{public} (listed in the service's
#: disco#items; Prosody: not by default) and C{logging} (the room is
#: publicly logged, status 170).
SETTINGS = {"name": "", "description": "", "lang": "", "persistent": False, "public": False, "logging": False}


def configField(service, var, attribute, type, label, priority, options=None, maximum=None, desc=None):
    """
    Declare a configuration form field bound to C{room.config.<attribute>}.

    @param var: the field name (C{muc#roomconfig_...}).
    @param type: see L{xmuc.xmpp.forms.parseValue}.  An C{'integer'} is
        sent as text-single, or as list-single when it has C{options}
        (what XEP-0045's form registry asks of C{muc#roomconfig_maxusers});
        its value 0 is then sent as C{none}, and any number up to
        C{maximum} is accepted, not only the options.
    @param options: C{[(value, label)]} for list fields, or a callable of
        the room returning them (choices that depend on the room).
    @param priority: position in the form (higher comes first).
    """
    allowed = [value for value, _ in options] if options and not callable(options) else None

    def addField(room, form, **kw):
        value = getattr(room.config, attribute)
        shown = options(room) if callable(options) else (options or ())
        sentType = type
        if type == "boolean":
            values = ["1" if value else "0"]
        elif type == "list-multi":
            values = list(value)
        elif type == "integer" and shown:
            sentType = "list-single"
            values = [str(value) if value else "none"]
        elif type == "integer":
            sentType = "text-single"
            values = [str(value)]
        else:
            values = [value] if value != "" else []
        form.add(var, sentType, label, values, options=shown, desc=desc)

    def readField(room, values, changes, **kw):
        limit = maximum(room) if callable(maximum) else maximum
        changes[attribute] = forms.parseValue(type, var, values, allowed, limit)

    def fieldSubmitted(room, fields, **kw):
        if var in fields:
            room.hooks.fire(hooks.CONFIG_FIELD_SUBMITTED + var, room=room, values=fields[var], fields=fields, **kw)

    service.hooks.add(hooks.CONFIG_FORM, addField, priority=priority)
    # In the order of the form: the first bad field is the one named.
    service.hooks.add(hooks.CONFIG_SUBMITTED, fieldSubmitted, priority=priority)
    service.hooks.add(hooks.CONFIG_FIELD_SUBMITTED + var, readField)


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
    room.hooks.fire(hooks.CONFIG_FORM, room=room, form=form, actor=actor)
    return form


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
        # A new room stays locked rather than destroyed: its owner may
        # still configure it.
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

    def record():
        # Read against the room as it is when the change is applied: an
        # earlier change may have been stored meanwhile (persistence
        # applies the changes of a room one at a time).
        room.hooks.fire(hooks.CONFIG_SUBMITTED, room=room, fields=fields, changes=changes, actor=actor)
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
        room.hooks.fire(hooks.CONFIG_CHANGED, room=room, changes=changes, old=old, codes=codes, actor=actor)

    def effects(_):
        if not room.destroyed:
            room.hooks.fire(hooks.CONFIG_STORED, room=room, changes=changes, old=old, codes=codes, actor=actor)
        room.reply(stanza)
        if codes and not room.destroyed:
            notifyCodes(room, codes)
        return True

    return room.store.change(room, record, effects)


def notifyCodes(room, codes):
    """
    Tell every occupant about a configuration change (status codes).
    """
    message = newStanza("message", type="groupchat", **{"from": room.jidStr})
    x = message.addElement((ns.MUC_USER, "x"))
    for code in sorted(codes):
        x.addElement("status")["code"] = code
    room.broadcast(message)


def install(service):
    declareSettings(service, SETTINGS)
    configField(service, "muc#roomconfig_roomname", "name", "text-single", "Title", 100)
    configField(service, "muc#roomconfig_roomdesc", "description", "text-single", "Description", 95)
    configField(service, "muc#roomconfig_lang", "lang", "text-single", "Language tag for room (e.g. 'en', 'de', 'fr')", 90)
    configField(service, "muc#roomconfig_persistentroom", "persistent", "boolean",
                "Persistent (room should remain even when it is not occupied)", 85)
    configField(service, "muc#roomconfig_publicroom", "public", "boolean", "Include room information in public lists", 80)
    configField(service, "muc#roomconfig_enablelogging", "logging", "boolean", "Enable public logging (room is archived)", 10)
    service.hooks.add(hooks.CONFIG_CHANGED, loggingCodes)


def loggingCodes(room, changes, codes, **kw):
    """
    Status 170/171 when logging is switched on/off.
    """
    if "logging" in changes:
        codes.add("170" if changes["logging"] else "171")
