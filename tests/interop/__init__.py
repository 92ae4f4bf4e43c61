"""
Differential testing against a real Prosody: a private Prosody instance for
tests (L{interop.prosody}) and a stanza recorder (L{interop.record}).
"""
