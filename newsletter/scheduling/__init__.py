"""Scheduling: the daemon's jobs (``jobs``), run at the slots ``delivery.slots`` computes."""
