"""
Ban reasons: the reason given when someone is made an outcast (XEP-0045
9.1, C{<item affiliation='outcast' jid='...'><reason>...</reason></item>})
is kept with the room (C{room.extra["banReasons"]}, so it survives a
restart) and returned with the item in the outcast list (9.5), as Prosody
keeps it in the affiliation's data.  The reason is forgotten when the ban
is lifted, and replaced (or dropped) when the ban is given again.
"""

from xmuc.muc import hooks

#: The key of C{room.extra}: C{{bare JID str: reason}}.
EXTRA_KEY = "banReasons"


def banReason(room, bare):
    """
    @return: the reason C{bare} was banned with, or L{None}.
    """
    return room.extra.get(EXTRA_KEY, {}).get(bare)


def recordReason(room, bare, new, reason, **kw):
    """
    C{affiliation-recorded}: keep the reason of a ban; forget it when the
    affiliation is anything else.
    """
    reasons = room.extra.get(EXTRA_KEY, {})
    if new == "outcast" and reason:
        reasons = dict(reasons)
        reasons[bare] = reason
    elif bare in reasons:
        reasons = {key: value for key, value in reasons.items() if key != bare}
    else:
        return
    if reasons:
        room.extra[EXTRA_KEY] = reasons
    else:
        room.extra.pop(EXTRA_KEY, None)


def listReason(room, item, bare, affiliation, **kw):
    """
    C{affiliation-list-item}: an outcast's item carries its ban reason.
    """
    if affiliation == "outcast":
        reason = banReason(room, bare)
        if reason is not None:
            item.addElement("reason", content=reason)


def install(service):
    service.hooks.add(hooks.AFFILIATION_RECORDED, recordReason)
    service.hooks.add(hooks.AFFILIATION_LIST_ITEM, listReason)
