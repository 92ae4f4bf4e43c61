"""
The settings of one room (what the owner's C{muc#roomconfig} form edits).
"""

class RoomConfig:
    """
    Room settings with Prosody's defaults.  Every attribute is
    JSON-serialisable; L{toDict} is what storage keeps, L{update} applies
    it back (or a submitted form's changes).

    @ivar name: room name (C{muc#roomconfig_roomname}).
    @ivar description: C{muc#roomconfig_roomdesc}.
    @ivar lang: C{muc#roomconfig_lang}.
    @ivar persistent: the room survives its last occupant.
    @ivar public: listed in the service's disco#items (Prosody: not by
        default).
    @ivar moderated: only participants and moderators may speak.
    @ivar membersOnly: only members (and above) may join.
    @ivar password: the room secret, C{''} for none.
    @ivar whois: C{'moderators'} (semi-anonymous) or C{'anyone'}.
    @ivar maxUsers: occupant limit, 0 for none.
    @ivar changeSubject: participants may change the subject.
    @ivar allowInvites: members (not only admins) may invite to a
        members-only room.
    @ivar allowPM: who may send private messages: C{'anyone'},
        C{'participants'}, C{'moderators'}, C{'none'}.
    @ivar presenceBroadcast: roles whose presence is broadcast.
    @ivar historyLength: messages of history sent to joiners.
    @ivar logging: the room is publicly logged (status 170).
    """

    def __init__(self, historyLength=20, maxUsers=0):
        self.name = ""
        self.description = ""
        self.lang = ""
        self.persistent = False
        self.public = False
        self.moderated = False
        self.membersOnly = False
        self.password = ""
        self.whois = "moderators"
        self.maxUsers = maxUsers
        self.changeSubject = False
        self.allowInvites = False
        self.allowPM = "anyone"
        self.presenceBroadcast = ["moderator", "participant", "visitor"]
        self.historyLength = historyLength
        self.logging = False

    @property
    def nonAnonymous(self):
        return self.whois == "anyone"

    def toDict(self):
        """
        @return: a JSON-serialisable dict of every setting.
        """
        return {key: (list(value) if isinstance(value, list) else value) for key, value in vars(self).items()}

    def update(self, values):
        """
        Apply stored or submitted settings; unknown keys are ignored (they
        come from a newer version).
        """
        for key, value in values.items():
            if hasattr(self, key) and not key.startswith("_"):
                setattr(self, key, list(value) if isinstance(value, list) else value)
