"""
Storage of accounts, rosters, rooms, tombstones and room history.

L{xmuc.storage.interfaces} says what a backend offers; the backends shipped
are L{memory}, L{sqlite} and L{postgresql}, chosen by name in tap.conf
(C{[storage] backend}) through the plugins in L{xmuc.plugins.xmuc_storage}.
"""
