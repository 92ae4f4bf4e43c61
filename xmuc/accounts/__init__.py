"""
Accounts of the local hosts, apart from their secrets (which the
authentication backend keeps).

L{manager.AccountManager} registers, changes passwords and deletes;
L{tombstones} holds the rule of how long a deleted account (or a
destroyed room) keeps its name; L{inband} answers in-band registration
(XEP-0077) before and after login; L{watch} applies the tombstones another
process (C{xmucctl}) wrote while the server runs.
"""
