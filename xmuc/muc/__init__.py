"""
Multi-User Chat (XEP-0045): the MUC service, its rooms, and one module per
room feature, plugged in through the events of L{xmuc.muc.hooks}.
"""
