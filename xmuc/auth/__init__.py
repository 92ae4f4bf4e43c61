"""
Authentication: the L{interfaces.IAuthBackend} contract, the backends
(L{internal}, L{insecure}) and the SCRAM arithmetic (L{scram}).
"""
