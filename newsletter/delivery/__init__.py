"""Delivery: editions, the per-recipient ledger, the engine that sends them, single mails.

``editions`` makes an edition and its recipient snapshot, ``ledger`` claims and records
work, ``mail.compose`` makes each message and ``dkim`` signs it, ``transport`` opens the
way out (``smtp`` or ``maildir``), ``throttle`` paces it and ``engine`` ties them together
in :func:`~.engine.send_edition`. ``single`` sends one message outside the ledger. ``slots``
says when an edition is due: the weekly slots, pure calendar arithmetic over ``[schedule]``.

Each module is imported where it is used (this package re-exports nothing): the engine
loads aiosmtplib and the mail builders, which ``status`` and ``editions show``, reading
an edition through ``editions``, do not need.
"""
