"""
Runtime state that a feature keeps about an object it does not own (the
service, a room, an occupant), declared in the feature's own module:
C{obj.state(key, factory)} returns the feature's state object, built by
C{factory} the first time.  Nothing here is stored: stored room state goes
in C{room.extra} or through C{room-state-save}.
"""


class FeatureState:
    """
    Mixin giving an object one namespace of runtime state per feature.
    The class sets C{self._featureState = {}} in its constructor.
    """

    def state(self, feature, factory, *args):
        """
        @param feature: the key of the feature's state: its module's name
            (C{__name__}) or a class of its own.
        @param factory: builds the state, C{factory(*args)}, the first time
            it is asked for.
        @return: the feature's state object, the same one each time.
        """
        try:
            return self._featureState[feature]
        except KeyError:
            state = self._featureState[feature] = factory(*args)
            return state
