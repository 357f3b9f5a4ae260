"""Scheduling: when an edition is due (``slots``, pure) and the daemon's jobs (``jobs``)."""
