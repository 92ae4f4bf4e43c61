"""
The authentication backends shipped with xmuc.
"""

from xmuc.backends import AuthBackendPlugin

internal = AuthBackendPlugin(
    "internal",
    "accounts in the configured storage, SCRAM salted hashes only",
    "xmuc.auth.internal.fromConfig",
)

insecure = AuthBackendPlugin(
    "insecure",
    "TESTS ONLY: any password accepted, accounts created on first login",
    "xmuc.auth.insecure.fromConfig",
)
