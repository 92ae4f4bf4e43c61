"""
Checks and conversions shared by every storage backend, so that they all
accept and return exactly the same values.
"""

import json
import time

from xmuc.storage.interfaces import SUBSCRIPTIONS

#: The kinds of tombstones.
TOMBSTONE_KINDS = ("account", "room")

#: Default number of archived messages kept per room.
DEFAULT_ARCHIVE_MAX = 1000

#: Default number of offline messages one user may have waiting.
DEFAULT_OFFLINE_LIMIT = 1000

#: Old messages are trimmed once every this many appends to a room, so the
#: archive holds at most C{maxPerRoom + ARCHIVE_TRIM_EVERY - 1} per room.
ARCHIVE_TRIM_EVERY = 50


def toJSON(value):
    """
    @return: the JSON text of C{value}.
    @raise TypeError: if C{value} is not JSON-serialisable.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def fromJSON(text):
    return json.loads(text)


def jsonCopy(value):
    """
    A deep copy made through JSON, so the memory backend gives back the same
    values (and refuses the same values) as the SQL ones.
    """
    return fromJSON(toJSON(value))


def hostOf(jid):
    """
    @return: the domain part of a bare JID string.
    """
    return jid.rpartition("@")[2]


def rosterItem(item):
    """
    Complete and check a roster item.

    @param item: a dict with some of C{name, subscription, ask, groups,
        pending_in}.
    @return: a new dict with all of them.
    @raise ValueError: for an unknown subscription or ask value.
    """
    subscription = item.get("subscription") or "none"
    if subscription not in SUBSCRIPTIONS:
        raise ValueError("unknown roster subscription %r" % (subscription,))
    ask = item.get("ask") or None
    if ask not in (None, "subscribe"):
        raise ValueError("unknown roster ask %r" % (ask,))
    name = item.get("name")
    return dict(
        name=None if name is None else str(name),
        subscription=subscription,
        ask=ask,
        groups=[str(group) for group in (item.get("groups") or [])],
        pending_in=bool(item.get("pending_in", False)),
    )


def tombstone(jid, kind, when):
    """
    Check and complete a tombstone.

    @return: C{dict(jid=, kind=, when=)}.
    @raise ValueError: for an unknown kind.
    """
    if kind not in TOMBSTONE_KINDS:
        raise ValueError("unknown tombstone kind %r" % (kind,))
    return dict(jid=jid, kind=kind, when=float(time.time() if when is None else when))


def pepMaxItems(config):
    """
    The number of items a PEP node keeps, from its configuration.

    @param config: the node's configuration dict, or L{None}.
    @return: a non-negative int, or L{None} for no bound (no configuration,
        no C{max_items}, or a value that is not a number, such as C{'max'}).
    """
    value = (config or {}).get("max_items")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
