"""db/subscriptions: what a subscriber's own links change, and the address they are shown."""

from __future__ import annotations

from newsletter.db.subscriptions import mask_address


def test_mask_address() -> None:
    assert mask_address("anna@example.nl") == "a•••@example.nl"
    assert mask_address("x@y.nl") == "x•••@y.nl"
