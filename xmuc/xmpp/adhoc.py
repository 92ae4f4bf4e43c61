"""
Ad-hoc commands (XEP-0050): reading a command request and building the
answers, for entities whose commands are stateless (each stage carries
everything needed: the first stage answers with a form, the submission of
that form runs the command, whatever the C{sessionid}).
"""

import uuid

from twisted.words.xish import domish

from xmuc.xmpp import forms, ns
from xmuc.xmpp.errors import StanzaError

#: The actions a requester may ask for (XEP-0050 section 4.4).
ACTIONS = ("execute", "cancel", "prev", "next", "complete")


def commandError(condition, specific, text=None):
    """
    @param specific: the XEP-0050 condition (C{'bad-action'},
        C{'malformed-action'}, C{'bad-sessionid'}, C{'session-expired'}).
    @return: a L{StanzaError} with it as application condition.
    """
    return StanzaError(condition, text=text, appCondition=domish.Element((ns.COMMANDS, specific)))


class CommandRequest:
    """
    A C{<command/>} iq set, parsed.

    @ivar node: the command's node.
    @ivar action: one of L{ACTIONS} (C{'execute'} when none is given).
    @ivar sessionid: the C{sessionid} sent, or L{None}.
    @ivar form: the submitted C{jabber:x:data} form's fields (C{{var:
        [values]}}), or L{None} when there is no submitted form.
    @ivar formType: the submitted form's C{FORM_TYPE}, or L{None}.
    """

    def __init__(self, node, action, sessionid, form, formType):
        self.node = node
        self.action = action
        self.sessionid = sessionid
        self.form = form
        self.formType = formType


def parseCommand(iq):
    """
    @param iq: an iq set whose child is C{<command xmlns='...commands'/>}.
    @return: a L{CommandRequest}.
    @raise StanzaError: C{bad-request} (C{malformed-action}) for an unknown
        action, C{bad-request} for a command without node or a form that is
        not a submission.
    """
    command = iq.firstChildElement()
    node = command.getAttribute("node")
    if not node:
        raise StanzaError("bad-request", text="A command needs a node")
    action = command.getAttribute("action", "execute")
    if action not in ACTIONS:
        raise commandError("bad-request", "malformed-action", "Unknown action")
    x = forms.findForm(command)
    fields = formType = None
    if x is not None:
        kind, formType, fields = forms.parseForm(x)
        if kind == "cancel":
            action = "cancel"
        elif kind != "submit":
            raise StanzaError("bad-request", text="Expected a form of type submit")
    return CommandRequest(node, action, command.getAttribute("sessionid"), fields, formType)


def commandResponse(request, status, form=None, note=None, noteType="info"):
    """
    The C{<command/>} of the result iq.

    @param request: the L{CommandRequest} answered.
    @param status: C{'executing'}, C{'completed'} or C{'canceled'}.
    @param form: an element to include (a form to fill, or a result form).
    @param note: text of a C{<note/>}, or L{None}.
    @return: the element.
    """
    command = domish.Element((ns.COMMANDS, "command"))
    command["node"] = request.node
    command["sessionid"] = request.sessionid or str(uuid.uuid4())
    command["status"] = status
    if status == "executing":
        # Single-stage: the only next step is to complete (XEP-0050 4.4).
        actions = command.addElement("actions")
        actions["execute"] = "complete"
        actions.addElement("complete")
    if note is not None:
        element = command.addElement("note", content=note)
        element["type"] = noteType
    if form is not None:
        command.addChild(form)
    return command


def resultTable(title, columns, rows):
    """
    A result form with a table (XEP-0004 3.4: C{<reported/>} and
    C{<item/>}s).

    @param columns: C{[(var, label)]}.
    @param rows: C{[{var: value}]}; a value L{None} is left out.
    @return: the C{<x type='result'/>} element.
    """
    x = forms.Form("result", title=title).toElement()
    reported = x.addElement("reported")
    for var, label in columns:
        reported.addChild(forms.Field(var, "text-single", label).toElement())
    for row in rows:
        item = x.addElement("item")
        for var, _ in columns:
            if row.get(var) is not None:
                item.addChild(forms.Field(var, None, values=[row[var]]).toElement())
    return x


def commandItems(jid, commands):
    """
    The disco#items of the commands node (XEP-0050 2.2).

    @param jid: the JID executing the commands (str).
    @param commands: C{[(node, name)]}.
    @return: the C{<query/>} element.
    """
    query = domish.Element((ns.DISCO_ITEMS, "query"))
    query["node"] = ns.COMMANDS
    for node, name in commands:
        item = query.addElement("item")
        item["jid"] = jid
        item["node"] = node
        item["name"] = name
    return query


def commandInfo(node, name):
    """
    The disco#info of one command's node (XEP-0050 2.3).

    @return: the C{<query/>} element.
    """
    query = domish.Element((ns.DISCO_INFO, "query"))
    query["node"] = node
    identity = query.addElement("identity")
    identity["category"] = "automation"
    identity["type"] = "command-node"
    identity["name"] = name
    for feature in (ns.COMMANDS, ns.DATA_FORMS):
        query.addElement("feature")["var"] = feature
    return query
