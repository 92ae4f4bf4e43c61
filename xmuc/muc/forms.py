"""
XEP-0004 data forms: building forms and reading submissions.
"""

from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

TRUE_VALUES = ("1", "true")
FALSE_VALUES = ("0", "false")


class Field:
    """
    One field of a form.

    @ivar var: the field name.
    @ivar type: XEP-0004 field type (C{'text-single'}, C{'boolean'}...).
    @ivar values: list of str values.
    @ivar options: list of C{(value, label)} for list fields.
    """

    def __init__(self, var, type="text-single", label=None, values=(), options=(), required=False, desc=None):
        self.var = var
        self.type = type
        self.label = label
        self.values = [str(v) for v in values]
        self.options = list(options)
        self.required = required
        self.desc = desc

    def toElement(self):
        field = domish.Element((ns.DATA_FORMS, "field"))
        if self.type:
            field["type"] = self.type
        if self.label:
            field["label"] = self.label
        if self.var:
            field["var"] = self.var
        if self.desc:
            field.addElement("desc", content=self.desc)
        if self.required:
            field.addElement("required")
        for value in self.values:
            field.addElement("value", content=value)
        for value, label in self.options:
            option = field.addElement("option")
            if label:
                option["label"] = label
            option.addElement("value", content=value)
        return field


class Form:
    """
    A data form to send.

    @ivar formType: the value of the hidden C{FORM_TYPE} field, or L{None}.
    @ivar fields: list of L{Field}.
    """

    def __init__(self, type="form", formType=None, title=None, instructions=None):
        self.type = type
        self.formType = formType
        self.title = title
        self.instructions = instructions
        self.fields = []

    def add(self, var, type="text-single", label=None, values=(), **kw):
        """
        Append a field.

        @return: the new L{Field}.
        """
        field = Field(var, type, label, values, **kw)
        self.fields.append(field)
        return field

    def get(self, var):
        for field in self.fields:
            if field.var == var:
                return field
        return None

    def toElement(self):
        """
        @return: the C{<x xmlns='jabber:x:data'/>} element.
        """
        x = domish.Element((ns.DATA_FORMS, "x"))
        x["type"] = self.type
        if self.title:
            x.addElement("title", content=self.title)
        if self.instructions:
            x.addElement("instructions", content=self.instructions)
        if self.formType:
            x.addChild(Field("FORM_TYPE", "hidden", values=[self.formType]).toElement())
        for field in self.fields:
            x.addChild(field.toElement())
        return x


def findForm(parent):
    """
    @return: the first C{jabber:x:data} child of C{parent}, or L{None}.
    """
    for child in parent.elements(ns.DATA_FORMS, "x"):
        return child
    return None


def parseForm(x):
    """
    Read a submitted form.

    @param x: the C{<x xmlns='jabber:x:data'/>} element.
    @return: C{(type, formType, fields)} with C{fields} a dict C{{var:
        [str values]}} (C{FORM_TYPE} excluded); C{formType} is L{None} when
        absent.
    @raise StanzaError: C{bad-request} for a field without C{var}.
    """
    fields = {}
    formType = None
    for field in x.elements(ns.DATA_FORMS, "field"):
        var = field.getAttribute("var")
        if not var:
            raise StanzaError("bad-request", text="Form field without var")
        values = [str(v).strip() if v.children else "" for v in field.elements(ns.DATA_FORMS, "value")]
        if var == "FORM_TYPE":
            formType = values[0] if values else ""
        else:
            fields[var] = values
    return x.getAttribute("type", "form"), formType, fields


def boolean(values, var):
    """
    @param values: the values of a boolean field.
    @return: the boolean (an absent value counts as false).
    @raise StanzaError: C{not-acceptable} naming C{var} for anything else.
    """
    value = values[0].lower() if values else "0"
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES or value == "":
        return False
    raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))


def single(values):
    """
    @return: the single value of a text field ('' when absent).
    """
    return values[0] if values else ""
