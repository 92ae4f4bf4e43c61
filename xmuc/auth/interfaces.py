"""
The contract between the client streams (SASL, XEP-0077) and the place
where accounts and their secrets live.
"""

from zope.interface import Attribute, Interface


class IAuthBackend(Interface):
    """
    Checks credentials and manages accounts.

    User names given to these methods are already prepared (SASLprep for
    SASL, nodeprep for JIDs); bare JIDs are C{'user@host'} strings.
    Passwords are L{str} and never logged.
    """

    name = Attribute("The backend name used in tap.conf ([auth] backend).")

    def mechanisms(encrypted):
        """
        @param encrypted: whether the stream is protected by TLS.
        @return: the SASL mechanism names to offer, preferred first
            (C{'SCRAM-SHA-256'}, C{'SCRAM-SHA-1'}, C{'PLAIN'}).
        """

    def checkPassword(username, host, password):
        """
        @return: Deferred firing with L{True} when the password is right.
        """

    def getScramCredentials(username, host, hashName):
        """
        @param hashName: C{'SHA-1'} or C{'SHA-256'}.
        @return: Deferred firing with C{dict(salt=bytes, iterations=int,
            stored_key=bytes, server_key=bytes)}, or L{None} when there is
            no such account.
        """

    def createAccount(bare, password):
        """
        @return: Deferred firing with L{True} when created, L{False} when the
            account already exists.
        """

    def setPassword(bare, password):
        """
        @return: Deferred firing with L{True}, or L{False} when there is no
            such account.
        """

    def deleteAccount(bare):
        """
        @return: Deferred firing with L{True} when an account was deleted.
        """

    def userExists(bare):
        """
        @return: Deferred firing with a L{bool}.
        """
