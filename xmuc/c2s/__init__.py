"""
Client-to-server streams (RFC 6120): framing, the stream header, STARTTLS
and resource binding (L{stream}), SASL (L{sasl}), Stream Management and
the resumption decision (L{streammanagement}).
"""
