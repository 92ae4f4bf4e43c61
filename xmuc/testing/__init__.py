"""
Tools for testing xmuc end to end: the scansion script runner
(L{xmuc.testing.scansion}) and an in-process server
(L{xmuc.testing.server}).
"""
