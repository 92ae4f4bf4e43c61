"""
The field types the XMPP registries give to standard data-form fields
(XEP-0068 field standardization), and a check of a form as a client
library reads it.

L{REGISTRY} is transcribed from the registrar sections of XEP-0045
(C{muc#register}, C{muc#request}, C{muc#roomconfig}, C{muc#roominfo}),
XEP-0077 (C{jabber:iq:register} and its cancel and change-password
forms) and XEP-0313 (C{urn:xmpp:mam:2}); L{xepRegistry} reads the same
from the XEP sources (C{../shared/xeps}) so a test can hold the two
together.  XEP-0060's C{pubsub#node_config} types come from aioxmpp's
C{NodeConfigForm}, generated from that registry.

L{formProblems} parses a form with aioxmpp's C{jabber:x:data} XSOs, and
with aioxmpp's strict form template where it has one
(C{ConfigurationForm.from_xso} refuses a field whose type differs from
the template's), and lists every way the form departs from the registry.
"""

import io
import os
import re
import xml.etree.ElementTree as ElementTree

import aioxmpp.forms
import aioxmpp.muc
import aioxmpp.pubsub.xso
import aioxmpp.xml

NS_DATA = "jabber:x:data"

MUC_REGISTER = "http://jabber.org/protocol/muc#register"
MUC_REQUEST = "http://jabber.org/protocol/muc#request"
MUC_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
MUC_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
REGISTER = "jabber:iq:register"
MAM = "urn:xmpp:mam:2"
PUBSUB_NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config"

#: {FORM_TYPE: {var: registered field type}} from the XEPs' registrar
#: sections.
REGISTRY = {
    MUC_REGISTER: {
        "muc#register_allow": "boolean",
        "muc#register_email": "text-single",
        "muc#register_faqentry": "text-multi",
        "muc#register_first": "text-single",
        "muc#register_last": "text-single",
        "muc#register_roomnick": "text-single",
        "muc#register_url": "text-single",
    },
    MUC_REQUEST: {
        "muc#role": "list-single",
        "muc#jid": "jid-single",
        "muc#roomnick": "text-single",
        "muc#request_allow": "boolean",
    },
    MUC_ROOMCONFIG: {
        "muc#maxhistoryfetch": "text-single",
        "muc#roomconfig_allowpm": "list-single",
        "muc#roomconfig_allowinvites": "boolean",
        "muc#roomconfig_changesubject": "boolean",
        "muc#roomconfig_enablelogging": "boolean",
        "muc#roomconfig_getmemberlist": "list-multi",
        "muc#roomconfig_lang": "text-single",
        "muc#roomconfig_pubsub": "text-single",
        "muc#roomconfig_maxusers": "list-single",
        "muc#roomconfig_membersonly": "boolean",
        "muc#roomconfig_moderatedroom": "boolean",
        "muc#roomconfig_passwordprotectedroom": "boolean",
        "muc#roomconfig_persistentroom": "boolean",
        "muc#roomconfig_presencebroadcast": "list-multi",
        "muc#roomconfig_publicroom": "boolean",
        "muc#roomconfig_roomadmins": "jid-multi",
        "muc#roomconfig_roomdesc": "text-single",
        "muc#roomconfig_roomname": "text-single",
        "muc#roomconfig_roomowners": "jid-multi",
        "muc#roomconfig_roomsecret": "text-private",
        "muc#roomconfig_whois": "list-single",
    },
    MUC_ROOMINFO: {
        "muc#maxhistoryfetch": "text-single",
        "muc#roominfo_contactjid": "jid-multi",
        "muc#roominfo_description": "text-single",
        "muc#roominfo_lang": "text-single",
        "muc#roominfo_ldapgroup": "text-single",
        "muc#roominfo_logs": "text-single",
        "muc#roominfo_occupants": "text-single",
        "muc#roominfo_subject": "text-single",
        "muc#roominfo_subjectmod": "boolean",
    },
    REGISTER: dict(
        [(var, "text-single") for var in (
            "username", "nick", "name", "first", "last", "email", "address", "city", "state", "zip", "phone",
            "url", "date", "misc", "text", "key")]
        + [("password", "text-private")]
    ),
    REGISTER + ":cancel": {"password": "text-private", "username": "text-single"},
    REGISTER + ":changepassword": {
        "old_password": "text-private",
        "password": "text-private",
        "username": "text-single",
    },
    MAM: {
        "with": "jid-single",
        "start": "text-single",
        "end": "text-single",
        "before-id": "text-single",
        "after-id": "text-single",
        "ids": "text-multi",
    },
}

#: Fields sent with another type than the registry's on purpose:
#: C{{(FORM_TYPE, var): (type sent, why)}}.
DEPARTURES = {
    (MAM, "ids"): (
        "list-multi",
        "XEP-0313 4.1.4's own example and Prosody send list-multi; the registry says text-multi",
    ),
}

#: Registries of the XEPs in L{REGISTRY} (XEP-0060's is not among them).
XEP_REGISTRIES = ("xep-0045.xml", "xep-0077.xml", "xep-0313.xml")

#: XEP-0060's node configuration registry, as aioxmpp generated it.
PUBSUB_REGISTRY = {
    var: descriptor.FIELD_TYPE.value
    for (_, var), descriptor in aioxmpp.pubsub.xso.NodeConfigForm.DESCRIPTOR_MAP.items()
}

#: The registries whose fields a form of a FORM_TYPE may carry: a room's
#: muc#roominfo may include any muc#roomconfig field (XEP-0045 6.4).
ALSO = {MUC_ROOMINFO: (MUC_ROOMCONFIG,)}

#: aioxmpp's strict form templates.
TEMPLATES = {
    MUC_ROOMCONFIG: aioxmpp.muc.ConfigurationForm,
    MUC_ROOMINFO: aioxmpp.muc.InfoForm,
    MUC_REQUEST: aioxmpp.muc.VoiceRequestForm,
    PUBSUB_NODE_CONFIG: aioxmpp.pubsub.xso.NodeConfigForm,
}


def registered(formType):
    """
    @return: C{{var: type}} of the fields a form of C{formType} may carry
        with a registered type.
    """
    fields = {}
    for name in (formType,) + ALSO.get(formType, ()):
        fields.update(PUBSUB_REGISTRY if name == PUBSUB_NODE_CONFIG else REGISTRY.get(name, {}))
    return fields


def xepRegistry(directory):
    """
    Read the registry submissions (C{<form_type/>}) of the XEP sources.

    @param directory: the folder of the C{xep-*.xml} files.
    @return: C{{FORM_TYPE: {var: type}}}.
    """
    found = {}
    for name in XEP_REGISTRIES:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            text = f.read()
        for block in re.findall(r"<form_type>.*?</form_type>", text, re.S):
            # The doc element may hold an XEP entity (&xep0313;).
            element = ElementTree.fromstring(re.sub(r"&\w+;", "", block))
            found[element.findtext("name").strip()] = {
                field.get("var"): field.get("type") for field in element.findall("field")
            }
    return found


def parseData(element):
    """
    @param element: a C{<x xmlns='jabber:x:data'/>} (domish).
    @return: the L{aioxmpp.forms.Data} aioxmpp reads from its XML.
    """
    return aioxmpp.xml.read_single_xso(io.BytesIO(element.toXml().encode("utf-8")), aioxmpp.forms.Data)


def formProblems(element):
    """
    Everything in a form that departs from its registry or that a client
    library refuses.

    @param element: a C{<x xmlns='jabber:x:data'/>} (domish) as received.
    @return: C{(FORM_TYPE, problems)}, C{problems} a list of str.
    """
    data = parseData(element)
    formType = data.get_form_type()
    problems = []
    if formType is None:
        problems.append("no hidden FORM_TYPE field")
    kind = data.type_.value
    types = registered(formType)
    for field in data.fields:
        if field.var == "FORM_TYPE" or field.type_ == aioxmpp.forms.FieldType.FIXED:
            continue
        if field.type_ is None and kind == "form":
            # XEP-0004 3.3: a field of a form SHOULD say its type.
            problems.append("%s: no type" % (field.var,))
        # XEP-0004 3.3: a field without a type is text-single.
        sent = field.type_.value if field.type_ is not None else "text-single"
        expected = types.get(field.var)
        departure = DEPARTURES.get((formType, field.var))
        if departure is not None:
            expected = departure[0]
        if expected is not None and sent != expected:
            problems.append("%s: %s, registered as %s" % (field.var, sent, expected))
        if kind == "form" and sent == "list-single" and field.options and field.values:
            if field.values[0] not in field.options:
                problems.append("%s: value %r is not among its options %r" % (
                    field.var, field.values[0], sorted(field.options)))
    template = TEMPLATES.get(formType)
    if template is not None:
        try:
            template.from_xso(data)
        except ValueError as e:
            problems.append("aioxmpp %s refuses it: %s" % (template.__name__, e))
    return formType, problems
