"""
SCRAM (RFC 5802, RFC 7677) as pure functions, and SASLprep (RFC 4013).

Nothing here does I/O or keeps state: the SASL state machine lives in
L{xmuc.c2s.sasl}, stored credentials in L{xmuc.auth.internal}.  Only the
non channel-binding variants are supported (no C{-PLUS}), so a client
asking for channel binding (gs2 flag C{p=}) is refused.

Binary values (salts, keys, proofs) are L{bytes}; what goes on the wire or
into storage is base64 text.
"""

import base64
import binascii
import hashlib
import hmac
import os
import stringprep

from twisted.words.protocols.jabber import xmpp_stringprep

#: SASL mechanism suffix -> hashlib name.
HASHES = {"SHA-1": "sha1", "SHA-256": "sha256"}

#: RFC 5802 says at least 4096 iterations.
MIN_ITERATIONS = 4096

#: The iteration count of new credentials unless C{[auth] scram_iterations}
#: says otherwise (Prosody's default).
DEFAULT_ITERATIONS = 10000

#: Salt length in bytes for new credentials.
SALT_LENGTH = 16


class ScramError(Exception):
    """
    A SCRAM message that cannot be accepted.

    @ivar condition: the RFC 6120 SASL failure condition to send
        (C{'malformed-request'}, C{'invalid-authzid'}, C{'not-authorized'}...).
    """

    def __init__(self, condition, reason=""):
        Exception.__init__(self, condition, reason)
        self.condition = condition
        self.reason = reason


# --- SASLprep (RFC 4013) on top of Twisted's stringprep profiles.

_mapNonAsciiSpace = xmpp_stringprep.MappingTableFromFunction(
    lambda c: " " if stringprep.in_table_c12(c) else c
)

_saslprepProfile = xmpp_stringprep.Profile(
    mappings=[_mapNonAsciiSpace, xmpp_stringprep.B_1],
    prohibiteds=[
        xmpp_stringprep.C_12,
        xmpp_stringprep.C_21,
        xmpp_stringprep.C_22,
        xmpp_stringprep.C_3,
        xmpp_stringprep.C_4,
        xmpp_stringprep.C_5,
        xmpp_stringprep.C_6,
        xmpp_stringprep.C_7,
        xmpp_stringprep.C_8,
        xmpp_stringprep.C_9,
    ],
)


def saslprep(text):
    """
    Prepare a user name or password (RFC 4013, "stored strings" rules).

    @param text: a L{str}.
    @return: the prepared L{str}.
    @raise UnicodeError: for prohibited or unassigned characters, or a
        bidirectional violation.
    """
    if text.isascii() and text.isprintable():
        # The common case: printable ASCII maps to itself.
        return text
    return _saslprepProfile.prepare(text)


# --- The key derivation.


def _hashName(hashName):
    try:
        return HASHES[hashName]
    except KeyError:
        raise ValueError("unsupported SCRAM hash %r" % (hashName,))


def H(hashName, data):
    return hashlib.new(_hashName(hashName), data).digest()


def HMAC(hashName, key, data):
    return hmac.new(key, data, _hashName(hashName)).digest()


def saltedPassword(hashName, password, salt, iterations):
    """
    Hi(Normalize(password), salt, i) of RFC 5802.

    @param password: the password (L{str}), SASLprep applied here.
    @param salt: L{bytes}.
    @param iterations: L{int}.
    @return: L{bytes}.
    """
    return hashlib.pbkdf2_hmac(
        _hashName(hashName), saslprep(password).encode("utf-8"), salt, iterations
    )


def clientKey(hashName, salted):
    return HMAC(hashName, salted, b"Client Key")


def serverKey(hashName, salted):
    return HMAC(hashName, salted, b"Server Key")


def storedKey(hashName, key):
    """
    @param key: the client key.
    """
    return H(hashName, key)


def xor(left, right):
    """
    @return: the byte-wise exclusive or of two byte strings of equal length.
    """
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def clientSignature(hashName, stored, authMessage):
    return HMAC(hashName, stored, authMessage)


def clientProof(hashName, key, stored, authMessage):
    """
    @param key: the client key.
    @param stored: the stored key.
    @param authMessage: L{bytes}.
    """
    return xor(key, clientSignature(hashName, stored, authMessage))


def serverSignature(hashName, server, authMessage):
    return HMAC(hashName, server, authMessage)


def verifyProof(hashName, stored, authMessage, proof):
    """
    Check a client proof against the stored key, in constant time.

    @return: L{bool}.
    """
    signature = clientSignature(hashName, stored, authMessage)
    if len(proof) != len(signature):
        return False
    return hmac.compare_digest(H(hashName, xor(proof, signature)), stored)


def makeCredentials(hashName, password, salt=None, iterations=DEFAULT_ITERATIONS):
    """
    Derive what a server stores for a password.

    @param password: the password (L{str}).
    @param salt: L{bytes}, random when L{None}.
    @return: C{dict(salt=, iterations=, stored_key=, server_key=)} with
        L{bytes} values (and an L{int} count).
    """
    if salt is None:
        salt = os.urandom(SALT_LENGTH)
    salted = saltedPassword(hashName, password, salt, iterations)
    return dict(
        salt=salt,
        iterations=iterations,
        stored_key=storedKey(hashName, clientKey(hashName, salted)),
        server_key=serverKey(hashName, salted),
    )


def encodeCredentials(credentials):
    """
    @return: the credentials with base64 text instead of bytes (for storage).
    """
    return {
        key: b64encode(value) if isinstance(value, bytes) else value
        for key, value in credentials.items()
    }


def decodeCredentials(stored):
    """
    The reverse of L{encodeCredentials}.
    """
    return dict(
        salt=base64.b64decode(stored["salt"]),
        iterations=int(stored["iterations"]),
        stored_key=base64.b64decode(stored["stored_key"]),
        server_key=base64.b64decode(stored["server_key"]),
    )


# --- Messages.


def b64encode(data):
    return base64.b64encode(data).decode("ascii")


def b64decode(text):
    """
    Strict base64 decoding.

    @raise ScramError: C{malformed-request} when not valid base64.
    """
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ScramError("malformed-request", "bad base64")


def escapeName(name):
    """
    Escape C{,} and C{=} in a SCRAM user name (RFC 5802 5.1).
    """
    return name.replace("=", "=3D").replace(",", "=2C")


def unescapeName(name):
    """
    @raise ScramError: for a C{=} not followed by C{2C} or C{3D}.
    """
    parts = name.split("=")
    result = [parts[0]]
    for part in parts[1:]:
        if part.startswith("2C"):
            result.append("," + part[2:])
        elif part.startswith("3D"):
            result.append("=" + part[2:])
        else:
            raise ScramError("malformed-request", "bad escape in name")
    return "".join(result)


def parseAttributes(text):
    """
    Split C{a=1,b=2} into pairs, in order.

    @return: a list of C{(name, value)}.
    @raise ScramError: when an item is not C{letter=value}.
    """
    pairs = []
    for item in text.split(","):
        if len(item) < 2 or item[1] != "=" or not item[0].isalpha():
            raise ScramError("malformed-request", "bad attribute")
        pairs.append((item[0], item[2:]))
    return pairs


class ClientFirst:
    """
    A parsed client-first-message.

    @ivar gs2Header: the GS2 header, as text (C{'n,,'}), echoed in C{c=}.
    @ivar authzid: the authorization identity or L{None}.
    @ivar username: the SASLprep'ed user name.
    @ivar nonce: the client nonce.
    @ivar bare: the client-first-message-bare, for the auth message.
    """

    def __init__(self, gs2Header, authzid, username, nonce, bare):
        self.gs2Header = gs2Header
        self.authzid = authzid
        self.username = username
        self.nonce = nonce
        self.bare = bare


def _decodeUTF8(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScramError("malformed-request", "not UTF-8")


def parseClientFirst(data):
    """
    Parse a client-first-message.

    @param data: L{bytes}.
    @return: a L{ClientFirst}.
    @raise ScramError: C{malformed-request} for bad syntax or a channel
        binding request (C{p=}; only non-PLUS mechanisms are offered).
    """
    text = _decodeUTF8(data)
    parts = text.split(",", 2)
    if len(parts) != 3:
        raise ScramError("malformed-request", "no GS2 header")
    flag, authzidPart, bare = parts
    if flag.startswith("p="):
        raise ScramError("malformed-request", "channel binding not supported")
    if flag not in ("n", "y"):
        raise ScramError("malformed-request", "bad GS2 flag")
    authzid = None
    if authzidPart:
        if not authzidPart.startswith("a="):
            raise ScramError("malformed-request", "bad authzid")
        authzid = unescapeName(authzidPart[2:])
    attributes = parseAttributes(bare)
    if len(attributes) < 2 or attributes[0][0] != "n" or attributes[1][0] != "r":
        raise ScramError("malformed-request", "expected n= and r=")
    if any(name == "m" for name, _ in attributes):
        raise ScramError("malformed-request", "mandatory extension not supported")
    try:
        username = saslprep(unescapeName(attributes[0][1]))
    except UnicodeError:
        raise ScramError("malformed-request", "bad user name")
    nonce = attributes[1][1]
    if not username or not nonce or not nonce.isprintable() or "," in nonce:
        raise ScramError("malformed-request", "empty user name or nonce")
    return ClientFirst(flag + "," + authzidPart + ",", authzid, username, nonce, bare)


def serverFirst(nonce, salt, iterations):
    """
    @param nonce: the combined client and server nonce.
    @param salt: L{bytes}.
    @return: the server-first-message (L{str}).
    """
    return "r=%s,s=%s,i=%d" % (nonce, b64encode(salt), iterations)


class ClientFinal:
    """
    A parsed client-final-message.

    @ivar channelBinding: the decoded C{c=} value (L{bytes}).
    @ivar nonce: the nonce.
    @ivar proof: the decoded proof (L{bytes}).
    @ivar withoutProof: the client-final-message-without-proof (L{str}).
    """

    def __init__(self, channelBinding, nonce, proof, withoutProof):
        self.channelBinding = channelBinding
        self.nonce = nonce
        self.proof = proof
        self.withoutProof = withoutProof


def parseClientFinal(data):
    """
    Parse a client-final-message.

    @param data: L{bytes}.
    @return: a L{ClientFinal}.
    @raise ScramError: C{malformed-request}.
    """
    text = _decodeUTF8(data)
    withoutProof, separator, proofText = text.rpartition(",p=")
    if not separator:
        raise ScramError("malformed-request", "no proof")
    attributes = parseAttributes(withoutProof)
    if len(attributes) < 2 or attributes[0][0] != "c" or attributes[1][0] != "r":
        raise ScramError("malformed-request", "expected c= and r=")
    return ClientFinal(
        b64decode(attributes[0][1]), attributes[1][1], b64decode(proofText), withoutProof
    )


def authMessage(clientFirstBare, serverFirstMessage, clientFinalWithoutProof):
    """
    @return: the AuthMessage (L{bytes}) signed by both sides.
    """
    return ",".join(
        (clientFirstBare, serverFirstMessage, clientFinalWithoutProof)
    ).encode("utf-8")


def serverFinal(signature):
    """
    @return: the server-final-message (L{str}) carrying C{signature}.
    """
    return "v=" + b64encode(signature)
