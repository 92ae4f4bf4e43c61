"""
XEP-0082 date and time profiles: the C{DateTime} of delays, archives and
subjects.
"""

import datetime

_UTC = datetime.timezone.utc


def stamp(when):
    """
    @param when: POSIX time.
    @return: the XEP-0082 DateTime of C{when} in UTC, to the second
        (C{CCYY-MM-DDThh:mm:ssZ}).
    """
    return datetime.datetime.fromtimestamp(when, _UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parseStamp(text):
    """
    @param text: an XEP-0082 DateTime; without a time zone it is taken as
        UTC.
    @return: its POSIX time, or L{None} when C{text} is not one.
    """
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.timestamp()
