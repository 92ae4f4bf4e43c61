"""
Finding backends (storage, authentication) by name among the plugins.

A backend is offered by a plugin object that provides L{IPlugin} and one of
the factory interfaces below.  tap.conf names it (C{[storage] backend =
sqlite}); L{findBackend} looks it up in the L{xmuc.plugins} package.
"""

from zope.interface import Attribute, Interface, implementer
from twisted.plugin import IPlugin, getPlugins


class IStorageBackendFactory(Interface):
    """
    A plugin that builds a storage backend.
    """

    name = Attribute("The name used in tap.conf ([storage] backend).")
    description = Attribute("One line for humans.")

    def build(config):
        """
        Build the storage.

        May check synchronously that the backend is usable (this runs before
        the reactor starts) and raise L{xmuc.config.ConfigError} if not.

        @param config: the L{xmuc.config.Config}.
        @return: an L{xmuc.storage.interfaces.IStorage} provider.
        """


class IAuthBackendFactory(Interface):
    """
    A plugin that builds an authentication backend.
    """

    name = Attribute("The name used in tap.conf ([auth] backend).")
    description = Attribute("One line for humans.")

    def build(config, storage):
        """
        @param config: the L{xmuc.config.Config}.
        @param storage: the L{xmuc.storage.interfaces.IStorage} in use.
        @return: an L{xmuc.auth.interfaces.IAuthBackend} provider.
        @raise xmuc.config.ConfigError: if it may not run with this config.
        """


class BackendPlugin:
    """
    A plugin object naming the class that implements the backend; the module
    is imported only when the backend is chosen, so unused backends (and
    their drivers) cost nothing.

    @ivar name: the name used in tap.conf.
    @ivar description: one line for humans.
    @ivar factoryPath: dotted name of a callable taking the same arguments as
        C{build}.
    """

    def __init__(self, name, description, factoryPath):
        self.name = name
        self.description = description
        self.factoryPath = factoryPath

    def build(self, *args):
        from twisted.python.reflect import namedAny

        return namedAny(self.factoryPath)(*args)


@implementer(IPlugin, IStorageBackendFactory)
class StorageBackendPlugin(BackendPlugin):
    pass


@implementer(IPlugin, IAuthBackendFactory)
class AuthBackendPlugin(BackendPlugin):
    pass


def availableBackends(interface):
    """
    @return: C{{name: plugin}} of every plugin providing C{interface}.
    """
    import xmuc.plugins

    found = {}
    for plugin in getPlugins(interface, xmuc.plugins):
        found.setdefault(plugin.name, plugin)
    return found


def findBackend(interface, name):
    """
    @return: the plugin named C{name} providing C{interface}.
    @raise KeyError: with the names known, when there is none.
    """
    found = availableBackends(interface)
    if name not in found:
        raise KeyError(
            "unknown backend %r (known: %s)" % (name, ", ".join(sorted(found)) or "none")
        )
    return found[name]
