"""
Contact addresses for the service (XEP-0157), as Prosody's
mod_server_contact_info: the C{[server] contact_*} keys become an extended
form (XEP-0128, C{FORM_TYPE} C{http://jabber.org/network/serverinfo}) in
the disco#info of every local host.  Without any such key, there is no
form.
"""

from xmuc.xmpp import ns
from xmuc.xmpp.forms import Form

#: C{[server]} key -> the form field of XEP-0157 section 3, in the
#: registered order.
FIELDS = (
    ("contact_abuse", "abuse-addresses"),
    ("contact_admin", "admin-addresses"),
    ("contact_feedback", "feedback-addresses"),
    ("contact_sales", "sales-addresses"),
    ("contact_security", "security-addresses"),
    ("contact_status", "status-addresses"),
    ("contact_support", "support-addresses"),
)


def contactForm(config):
    """
    @param config: the L{xmuc.config.Config}.
    @return: the form element, or L{None} when no address is configured.
    """
    form = Form("result", formType=ns.SERVERINFO)
    for key, var in FIELDS:
        addresses = config.get("server", key)
        if addresses:
            form.add(var, "list-multi", values=addresses)
    if not form.fields:
        return None
    return form.toElement()


def install(sm):
    """
    Add the contact addresses to the hosts' disco#info.
    """
    form = contactForm(sm.server.config)
    if form is not None:
        sm.serverInfoForms.append(form)
