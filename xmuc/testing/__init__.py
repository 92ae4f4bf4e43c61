"""
Tools for testing xmuc end to end: the scansion script runner
(L{xmuc.testing.scansion}), an in-process server
(L{xmuc.testing.server}), and the MUC service at the component level with
memory storage (L{xmuc.testing.muc}).
"""
