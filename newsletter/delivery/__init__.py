"""Delivery: editions, the per-recipient ledger and the engine that sends them.

``editions`` makes an edition and its recipient snapshot, ``ledger`` claims and records
work, ``compose`` makes each message, ``smtp``/``maildir`` carry it, ``throttle`` paces
it and ``engine`` ties them together in :func:`send_edition`.
"""

from .engine import SendOptions, SendSummary, send_edition, send_test_copy

__all__ = ["SendOptions", "SendSummary", "send_edition", "send_test_copy"]
