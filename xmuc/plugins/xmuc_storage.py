"""
The storage backends shipped with xmuc, chosen by C{[storage] backend}.

Each plugin names its factory by dotted path, so a backend's module (and its
database driver) is imported only when it is chosen.
"""

from xmuc.backends import StorageBackendPlugin

memory = StorageBackendPlugin(
    "memory",
    "in-process dicts; everything is lost on restart (tests)",
    "xmuc.storage.memory.fromConfig",
)

sqlite = StorageBackendPlugin(
    "sqlite",
    "one SQLite file ([storage] path)",
    "xmuc.storage.sqlite.fromConfig",
)

postgresql = StorageBackendPlugin(
    "postgresql",
    "a PostgreSQL database through psycopg2 ([storage] dsn)",
    "xmuc.storage.postgresql.fromConfig",
)
