"""
L{xmuc.xmpp.forms}: XEP-0004 forms built and read, values typed.
"""

from twisted.trial import unittest

from xmuc.xmpp import ns
from xmuc.xmpp.errors import StanzaError
from xmuc.xmpp.forms import (
    Form,
    boolean,
    findForm,
    parseBoolean,
    parseForm,
    parseValue,
    single,
    submittedFields,
)
from xmuc.xmpp.stanza import parseElement


def submitted(fields, type="submit"):
    return parseElement("<x xmlns='jabber:x:data' type='%s'>%s</x>" % (type, fields))


class BuildTests(unittest.TestCase):
    def test_toElement(self):
        """
        The form carries its type, title, instructions, hidden FORM_TYPE
        first, then its fields with their labels, values, options,
        required flag, description and datatype.
        """
        form = Form("form", "urn:example", title="T", instructions="I")
        form.add("a", "list-single", "Pick", values=["1"], options=[("1", "One"), ("2", None)], required=True,
                 desc="D")
        form.add("b", None, values=[3])
        form.add("c", datatype="xs:dateTime")
        self.assertIs(form.get("b"), form.fields[1])
        self.assertIsNone(form.get("z"))
        x = form.toElement()
        self.assertEqual((x.uri, x["type"]), (ns.DATA_FORMS, "form"))
        self.assertEqual(str(x.title), "T")
        self.assertEqual(str(x.instructions), "I")
        fields = list(x.elements(ns.DATA_FORMS, "field"))
        self.assertEqual([f.getAttribute("var") for f in fields], ["FORM_TYPE", "a", "b", "c"])
        self.assertEqual(fields[0]["type"], "hidden")
        self.assertEqual(str(fields[0].value), "urn:example")
        a = fields[1]
        self.assertEqual((a["type"], a["label"], str(a.desc), str(a.value)), ("list-single", "Pick", "D", "1"))
        self.assertIsNotNone(a.required)
        options = list(a.elements(ns.DATA_FORMS, "option"))
        self.assertEqual([(o.getAttribute("label"), str(o.value)) for o in options], [("One", "1"), (None, "2")])
        self.assertFalse(fields[2].hasAttribute("type"))
        self.assertEqual(str(fields[2].value), "3")
        [validate] = fields[3].elements(ns.XDATA_VALIDATE, "validate")
        self.assertEqual(validate["datatype"], "xs:dateTime")

    def test_roundTrip(self):
        """
        A built form reads back with L{parseForm}.
        """
        form = Form("submit", "urn:example")
        form.add("a", values=["x", "y"])
        self.assertEqual(parseForm(parseElement(form.toElement().toXml())),
                         ("submit", "urn:example", {"a": ["x", "y"]}))


class ReadTests(unittest.TestCase):
    def test_findForm(self):
        query = parseElement("<query xmlns='urn:q'><x xmlns='urn:other'/><x xmlns='jabber:x:data' type='submit'/></query>")
        self.assertEqual(findForm(query)["type"], "submit")
        self.assertIsNone(findForm(parseElement("<query xmlns='urn:q'/>")))

    def test_submittedFields(self):
        """
        Every field as sent: a missing var is L{None}, values unstripped.
        """
        x = submitted("<field var='a'><value> 1 </value><value/></field><field><value>v</value></field>")
        self.assertEqual(list(submittedFields(x)), [("a", [" 1 ", ""]), (None, ["v"])])

    def test_parseForm(self):
        """
        Values are stripped, FORM_TYPE set apart, the form type defaults to
        C{form}.
        """
        x = parseElement("<x xmlns='jabber:x:data'><field var='FORM_TYPE'><value>urn:t</value></field>"
                         "<field var='a'><value> 1 </value></field><field var='b'/></x>")
        self.assertEqual(parseForm(x), ("form", "urn:t", {"a": ["1"], "b": []}))
        self.assertEqual(parseForm(submitted(""))[1], None)

    def test_fieldWithoutVar(self):
        for fields in ("<field/>", "<field var=''/>"):
            error = self.assertRaises(StanzaError, parseForm, submitted(fields))
            self.assertEqual(error.condition, "bad-request")


class ValueTests(unittest.TestCase):
    def test_parseBoolean(self):
        """
        Only the four lexical forms of XEP-0004 are booleans.
        """
        self.assertEqual([parseBoolean(v) for v in ("1", "true", "0", "false")], [True, True, False, False])
        for text in ("", "TRUE", "yes"):
            self.assertRaises(ValueError, parseBoolean, text)

    def test_boolean(self):
        """
        A field's boolean: missing or empty is false, case is ignored,
        anything else is not-acceptable naming the field.
        """
        self.assertEqual([boolean(v, "f") for v in ([], [""], ["TRUE"], ["0"])], [False, False, True, False])
        error = self.assertRaises(StanzaError, boolean, ["maybe"], "f")
        self.assertEqual((error.condition, error.text), ("not-acceptable", "Invalid value for f"))

    def test_single(self):
        self.assertEqual((single([]), single(["a", "b"])), ("", "a"))

    def test_parseValue(self):
        self.assertEqual(parseValue("boolean", "f", ["1"]), True)
        self.assertEqual(parseValue("integer", "f", [" 7 "]), 7)
        self.assertEqual(parseValue("integer", "f", ["None"]), 0)
        self.assertEqual(parseValue("integer", "f", [""], maximum=5), 0)
        self.assertEqual(parseValue("list-single", "f", ["b"], options=["a", "b"]), "b")
        self.assertEqual(parseValue("list-multi", "f", ["b", "a", "b"], options=["a", "b"]), ["b", "a"])
        self.assertEqual(parseValue("text-single", "f", ["t", "u"]), "t")
        self.assertEqual(parseValue("text-private", "f", []), "")

    def test_parseValueRefused(self):
        for args in (("integer", "f", ["-1"]), ("integer", "f", ["x"]), ("integer", "f", ["6"], None, 5),
                     ("list-single", "f", ["c"], ["a"]), ("list-multi", "f", ["a", "c"], ["a"])):
            error = self.assertRaises(StanzaError, parseValue, *args)
            self.assertEqual((error.condition, error.text), ("not-acceptable", "Invalid value for f"))
