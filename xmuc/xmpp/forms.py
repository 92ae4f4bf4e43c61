"""
XEP-0004 data forms: building forms, reading submissions, and turning
submitted values into typed values.

Used by the room configuration, room registration, voice requests, the
archive search form (XEP-0313) and PEP node configuration (XEP-0060).
"""

from twisted.words.xish import domish

from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError

#: The lexical forms of a boolean field (XEP-0004 section 3.3).
TRUE_VALUES = ("1", "true")
FALSE_VALUES = ("0", "false")


class Field:
    """
    One field of a form.

    @ivar var: the field name.
    @ivar type: XEP-0004 field type (C{'text-single'}, C{'boolean'}...), or
        L{None} to leave it out (text-single by default, XEP-0004 3.3).
    @ivar values: list of str values.
    @ivar options: list of C{(value, label)} for list fields.
    @ivar datatype: the XEP-0122 datatype of its values (C{'xs:dateTime'}),
        or L{None}.
    """

    def __init__(self, var, type="text-single", label=None, values=(), options=(), required=False, desc=None,
                 datatype=None):
        self.var = var
        self.type = type
        self.label = label
        self.values = [str(v) for v in values]
        self.options = list(options)
        self.required = required
        self.desc = desc
        self.datatype = datatype

    def toElement(self):
        """
        @return: the C{<field/>} element.
        """
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
        if self.datatype:
            field.addElement((ns.XDATA_VALIDATE, "validate"))["datatype"] = self.datatype
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
        """
        @return: the L{Field} named C{var}, or L{None}.
        """
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


def submittedFields(x):
    """
    The fields of a submitted form, as sent.

    @param x: the C{<x xmlns='jabber:x:data'/>} element.
    @return: an iterator of C{(var, values)}: C{var} as sent (L{None} when
        missing), C{values} the list of the text of its C{<value/>}s.
    """
    for field in x.elements(ns.DATA_FORMS, "field"):
        yield field.getAttribute("var"), [str(v) for v in field.elements(ns.DATA_FORMS, "value")]


def parseForm(x):
    """
    Read a submitted form.

    @param x: the C{<x xmlns='jabber:x:data'/>} element.
    @return: C{(type, formType, fields)} with C{fields} a dict C{{var:
        [str values]}} (values stripped, C{FORM_TYPE} excluded); C{formType}
        is L{None} when absent.
    @raise StanzaError: C{bad-request} for a field without C{var}.
    """
    fields = {}
    formType = None
    for var, values in submittedFields(x):
        if not var:
            raise StanzaError("bad-request", text="Form field without var")
        values = [value.strip() for value in values]
        if var == "FORM_TYPE":
            formType = values[0] if values else ""
        else:
            fields[var] = values
    return x.getAttribute("type", "form"), formType, fields


def parseBoolean(text):
    """
    @param text: the value of a boolean field.
    @return: the boolean it stands for.
    @raise ValueError: when C{text} is not one of the XEP-0004 forms.
    """
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise ValueError("not a boolean")


def boolean(values, var):
    """
    @param values: the values of a boolean field.
    @return: the boolean (an absent or empty value counts as false, and the
        case of the value is ignored).
    @raise StanzaError: C{not-acceptable} naming C{var} for anything else.
    """
    value = values[0].lower() if values else "0"
    if value == "":
        return False
    try:
        return parseBoolean(value)
    except ValueError:
        raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))


def single(values):
    """
    @return: the single value of a text field ('' when absent).
    """
    return values[0] if values else ""


def parseValue(type, var, values, options=None, maximum=None):
    """
    Turn the submitted C{values} of a field into a typed value.

    @param type: C{'boolean'}, C{'text-single'}, C{'text-private'},
        C{'integer'} (a non-negative number; empty or C{none} is 0),
        C{'list-single'} or C{'list-multi'} (values in submission order,
        without repeats).
    @param options: allowed values for list fields.
    @param maximum: upper bound for C{'integer'}.
    @raise StanzaError: C{not-acceptable} naming C{var}.
    """
    if type == "boolean":
        return boolean(values, var)
    if type == "integer":
        text = single(values).strip()
        if text.lower() in ("", "none"):
            return 0
        try:
            number = int(text)
        except ValueError:
            number = -1
        if number < 0 or (maximum and number > maximum):
            raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))
        return number
    if type == "list-single":
        value = single(values)
        if options is not None and value not in options:
            raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))
        return value
    if type == "list-multi":
        for value in values:
            if options is not None and value not in options:
                raise StanzaError("not-acceptable", text="Invalid value for %s" % (var,))
        return sorted(set(values), key=values.index)
    return single(values)
