"""
Entity capabilities (XEP-0115) as far as personal eventing needs them: the
C{<c/>} of an available presence, and the verification string of a
disco#info result, so that a client's features are asked for once per
C{ver} and a client cannot poison the cache for others.
"""

import base64
import hashlib

from xmuc.xmpp import ns



class Caps:
    """
    The capabilities announced in a presence.

    @ivar key: what identifies the feature set: the C{ver} of a sha-1
        hash, or C{node#ver#ext} of legacy (hash-less) caps.
    @ivar queryNode: the disco#info node to ask (C{node#ver}).
    @ivar ver: the announced verification string (sha-1 caps), or L{None}
        for legacy caps, which cannot be verified.
    """

    def __init__(self, key, queryNode, ver):
        self.key = key
        self.queryNode = queryNode
        self.ver = ver


def fromPresence(stanza):
    """
    The capabilities of an available presence, as Prosody's mod_pep reads
    them: a sha-1 C{<c/>} with C{node} and C{ver}, or legacy caps (no
    C{hash}).

    @param stanza: an available presence.
    @return: a L{Caps}, or L{None} when there is no usable C{<c/>}.
    """
    for child in stanza.elements():
        if child.name != "c" or child.uri != ns.CAPS:
            continue
        node = child.getAttribute("node")
        ver = child.getAttribute("ver")
        if not node or not ver:
            return None
        algorithm = child.getAttribute("hash")
        if algorithm is None:
            ext = child.getAttribute("ext") or ""
            return Caps("%s#%s#%s" % (node, ver, ext), "%s#%s" % (node, ver), None)
        if algorithm != "sha-1":
            return None
        return Caps(ver, "%s#%s" % (node, ver), ver)
    return None


def _formString(form):
    """
    The part of the verification string for one extended form
    (XEP-0115 5.4 step 7), or L{None} when it has no FORM_TYPE.
    """
    formType = None
    fields = []
    for field in form.elements():
        if field.name != "field":
            continue
        var = field.getAttribute("var")
        values = sorted(str(v) for v in field.elements() if v.name == "value")
        if var == "FORM_TYPE":
            formType = values[0] if values else ""
        elif var is not None:
            fields.append((var, values))
    if formType is None:
        return None
    parts = [formType]
    for var, values in sorted(fields):
        parts.append(var)
        parts.extend(values)
    return "<".join(parts) + "<"


def verification(query):
    """
    The sha-1 verification string of a disco#info result (XEP-0115 5.1).

    @param query: the C{<query xmlns='http://jabber.org/protocol/disco#info'/>}.
    @return: the base64 string.
    """
    identities = []
    features = []
    forms = []
    for child in query.elements():
        if child.name == "identity":
            identities.append(
                "/".join(
                    (
                        child.getAttribute("category", ""),
                        child.getAttribute("type", ""),
                        child.getAttribute((ns.XML, "lang"), ""),
                        child.getAttribute("name", ""),
                    )
                )
            )
        elif child.name == "feature" and child.getAttribute("var") is not None:
            features.append(child["var"])
        elif child.name == "x" and child.uri == ns.DATA_FORMS:
            text = _formString(child)
            if text is not None:
                forms.append(text)
    text = "".join(i + "<" for i in sorted(identities))
    text += "".join(f + "<" for f in sorted(features))
    text += "".join(sorted(forms))
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")




def notifyNodes(query):
    """
    @param query: a disco#info result's C{<query/>}.
    @return: frozenset of the nodes whose C{<node>+notify} feature it lists.
    """
    nodes = set()
    for child in query.elements():
        if child.name == "feature":
            var = child.getAttribute("var") or ""
            if var.endswith("+notify") and len(var) > len("+notify"):
                nodes.add(var[: -len("+notify")])
    return frozenset(nodes)
