"""
A storage backend plugin shipped outside xmuc, as a third party would: this
directory's C{xmuc/plugins} (with no C{__init__.py} in C{xmuc/} or
C{xmuc/plugins/}) joins the C{xmuc.plugins} package when it is on sys.path.

The plugin only names its factory; C{xmuc_thirdparty_backend} is imported
when the backend is chosen.
"""

from xmuc.backends import StorageBackendPlugin

thirdparty = StorageBackendPlugin(
    "thirdparty",
    "test fixture: the memory store under another name",
    "xmuc_thirdparty_backend.fromConfig",
)
