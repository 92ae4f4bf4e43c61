"""
What an operator reads about client connections, at C{info} and above:
why each connection ended, and every refused login, each in one format.

A refused login (a wrong password, any SASL failure, a refusal by a
failed-login limit) is always logged by L{failedLogin}, at C{warn}::

    [xmuc.c2s.connectionlog#warn] failed login from 203.0.113.7 port 51234: account alice@localhost (not-authorized, SCRAM-SHA-256)

so that fail2ban-style tools can act on it with one filter
(C{contrib/fail2ban/filter.d/xmuc.conf}).  The peer address comes right
after fixed words, before anything the client chose (the account name), so
that no account name can pass for an address; passwords and SASL payloads
are never logged.
"""

from twisted.internet import address
from twisted.logger import Logger

log = Logger()


def describePeer(peer):
    """
    @param peer: the L{twisted.internet.interfaces.IAddress} of a client
        connection (C{transport.getPeer()}), or L{None}.
    @return: C{'203.0.113.7 port 51234'} for an IP address, C{'unix
        socket'} or C{'unknown peer'} otherwise.
    """
    if isinstance(peer, (address.IPv4Address, address.IPv6Address)):
        return "%s port %d" % (peer.host, peer.port)
    if isinstance(peer, address.UNIXAddress):
        return "unix socket"
    return "unknown peer"


def printable(text):
    """
    @param text: a name a client chose.
    @return: C{text} with spaces and unprintable characters escaped
        (C{\\x20}), so that it stays one word of one log line.
    """
    return "".join(
        c if c.isprintable() and not c.isspace() else "\\x%02x" % (ord(c),)
        if ord(c) < 0x100 else "\\u%04x" % (ord(c),)
        for c in text
    )


def failedLogin(peer, account, reason):
    """
    Log a refused login.

    @param peer: the client's L{twisted.internet.interfaces.IAddress}.
    @param account: the account the client tried (C{user@host}, or the
        name as sent when it is no valid one), or L{None} when unknown.
    @param reason: why it was refused (the SASL condition and mechanism,
        or the limit that refused it).
    """
    log.warn(
        "failed login from {peer}: account {account} ({reason})",
        peer=describePeer(peer),
        host=getattr(peer, "host", None),
        account=printable(account) if account else "unknown",
        reason=reason,
    )


def connectionEnded(peer, who, why):
    """
    Log the end of a client connection.

    @param peer: the client's L{twisted.internet.interfaces.IAddress}.
    @param who: the session's JID, or what is known of the client.
    @param why: why it ended (the client closed its stream, a stream error
        sent with its condition, a TLS handshake failure, a timeout...).
    """
    log.info(
        "client connection from {peer} ({who}) ended: {why}",
        peer=describePeer(peer),
        who=who,
        why=why,
    )
