"""
The third-party backend itself (test fixture): the memory store keeping
the configuration it was built with.
"""

from xmuc.storage.memory import MemoryStorage


class ThirdPartyStorage(MemoryStorage):
    name = "thirdparty"

    def __init__(self, config):
        MemoryStorage.__init__(self)
        self.config = config


def fromConfig(config):
    """
    @param config: the L{xmuc.config.Config}.
    @return: a L{ThirdPartyStorage}.
    """
    return ThirdPartyStorage(config)
