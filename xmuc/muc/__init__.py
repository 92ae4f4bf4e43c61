"""
Multi-User Chat (XEP-0045): the conference service and its rooms.

L{xmuc.muc.service.MUCService} is a component owning the conference
domain; each L{xmuc.muc.room.Room} keeps its occupants, the entry points
of the stanzas it receives, joining and leaving, and the affiliation/role
model.  Everything else is a feature module of this package with an
C{install(service)} function that registers handlers on the service's
hooks (events catalogued in L{xmuc.muc.hooks}), as Prosody's MUC plugin
libraries do: C{password.py}, C{membersonly.py}, C{locking.py},
C{configform.py}...  A feature keeps its runtime state about a room in
C{room.state(...)} and its stored state in C{room.extra} or through
C{room-state-save}.
"""
