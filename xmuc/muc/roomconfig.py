"""
The settings of one room (what the owner's C{muc#roomconfig} form edits),
as a generic store: each feature module declares its own settings with
their defaults (L{declareSettings}, e.g. C{password.SETTINGS}), and every
room gets a L{RoomConfig} holding them.
"""


def declareSettings(service, settings):
    """
    Declare settings of every room of C{service} with their defaults.

    @param settings: C{{attribute name: default}}; every value is
        JSON-serialisable (lists are copied for each room).
    @raise ValueError: when a setting is declared twice.
    """
    for name in settings:
        if name in service.roomSettings:
            raise ValueError("room setting %r declared twice" % (name,))
    service.roomSettings.update(settings)


class RoomConfig:
    """
    The settings of one room, one attribute per declared setting (see the
    C{SETTINGS} of the feature modules).  Every attribute is
    JSON-serialisable; L{toDict} is what storage keeps, L{update} applies
    it back (or a submitted form's changes).
    """

    def __init__(self, defaults):
        """
        @param defaults: C{{attribute name: default}} of every declared
            setting (L{declareSettings}).
        """
        for key, value in defaults.items():
            setattr(self, key, list(value) if isinstance(value, list) else value)

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
        Apply stored or submitted settings; keys that are not settings are
        ignored (a newer version's, or a removed feature's).
        """
        for key, value in values.items():
            if hasattr(self, key) and not key.startswith("_"):
                setattr(self, key, list(value) if isinstance(value, list) else value)
