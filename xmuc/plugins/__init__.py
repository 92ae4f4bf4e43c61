"""
Plugin package for xmuc backends (storage, authentication).

Any directory named C{xmuc/plugins} on C{sys.path} contributes plugin modules
here, the way C{twisted/plugins} works for Twisted: a third party ships a
module such as C{xmuc/plugins/mybackend.py} defining objects that provide
L{xmuc.backends.IStorageBackendFactory} (or L{IAuthBackendFactory}), and
selects it by name in tap.conf.
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))
__all__ = []
