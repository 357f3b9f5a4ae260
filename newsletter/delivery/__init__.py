"""Delivery: editions, the per-recipient ledger, the engine that sends them, single mails.

``editions`` makes an edition and its recipient snapshot, ``ledger`` claims and records
work, ``compose`` makes each message, ``transport`` opens the way out (``smtp`` or
``maildir``), ``throttle`` paces it and ``engine`` ties them together in
:func:`send_edition`. ``single`` sends one message outside the ledger. ``slots`` says
when an edition is due: the weekly slots, pure calendar arithmetic over ``[schedule]``.
"""

from newsletter.delivery.engine import SendOptions, SendSummary, send_edition

__all__ = ["SendOptions", "SendSummary", "send_edition"]
