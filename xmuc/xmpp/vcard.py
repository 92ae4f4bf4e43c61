"""
vCard-temp (XEP-0054) pieces shared by whoever keeps a vCard (accounts,
rooms): the XEP-0153 hash of its photo.
"""

import base64
import binascii
import hashlib

from xmuc.xmpp import ns


def photoHash(vcard):
    """
    The XEP-0153 hash of a vCard's photo: the SHA-1 of its binary value.

    @param vcard: the C{<vCard/>} element.
    @return: the hex digest, or C{''} when there is no binary photo.
    @raise ValueError: when C{BINVAL} is not base64.
    """
    for photo in vcard.elements(ns.VCARD_TEMP, "PHOTO"):
        for value in photo.elements(ns.VCARD_TEMP, "BINVAL"):
            text = "".join(str(value).split())
            if not text:
                return ""
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("the photo is not base64")
            return hashlib.sha1(data).hexdigest()
    return ""
