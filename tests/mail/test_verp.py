"""VERP return paths (pure) and the [bounces] settings."""

from __future__ import annotations

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from newsletter.mail.verp import ReturnPaths

PATHS = ReturnPaths("Bounces@Nieuwsbrief.example.org", "geheim")


@pytest.mark.parametrize("delivery_id", [1, 35, 36, 123_456, 2**40])
def test_a_return_path_names_its_delivery_and_survives_lower_and_upper_case(
    delivery_id: int,
) -> None:
    address = PATHS.for_delivery(delivery_id)
    local, _, domain = address.partition("@")
    assert domain == "nieuwsbrief.example.org"
    assert local.startswith("bounces+")
    # local-part and URL safe: lower-case letters, digits and one "-" after the "+"
    token = local.removeprefix("bounces+")
    assert token.replace("-", "").isalnum() and token == token.lower()
    assert len(address) < 64
    for seen_as in (address, address.upper(), f"<{address}>"):
        found = PATHS.token_of(seen_as)
        assert found is not None
        assert PATHS.delivery_of(found) == delivery_id


def test_forged_and_damaged_tokens_name_nothing() -> None:
    genuine = PATHS.token(42)
    other_key = ReturnPaths("bounces@nieuwsbrief.example.org", "ander-geheim").token(42)
    encoded, _, signature = genuine.partition("-")
    for token in (
        other_key,
        f"{int(encoded, 36) + 1:x}-{signature}",  # another id with this id's signature
        genuine[:-1],
        genuine + "a",
        "",
        "15-",
        "../../etc-passwd",
    ):
        assert PATHS.delivery_of(token) is None, token


def test_only_the_bounce_address_and_its_plus_forms_are_ours() -> None:
    assert PATHS.is_ours("bounces@nieuwsbrief.example.org")
    assert PATHS.token_of("bounces@nieuwsbrief.example.org") is None
    assert PATHS.is_ours("bounces+x@nieuwsbrief.example.org")
    assert not PATHS.is_ours("bouncesx@nieuwsbrief.example.org")
    assert not PATHS.is_ours("bounces@example.org")
    assert not PATHS.is_ours("nieuwsbrief@nieuwsbrief.example.org")


def test_the_bounce_address_is_checked_when_settings_load() -> None:
    env = {"NEWSLETTER_BOUNCES__ADDRESS": "bounces@nieuwsbrief.example.org"}
    assert load_settings(environ=env).bounces.address == "bounces@nieuwsbrief.example.org"
    with pytest.raises(ConfigError, match=r"NEWSLETTER_BOUNCES__ADDRESS: bounces.address must"):
        load_settings(environ={"NEWSLETTER_BOUNCES__ADDRESS": "bounces+x@example.org"})
    with pytest.raises(ConfigError, match=r"bounces.soft_limit must be between 1"):
        load_settings(environ={"NEWSLETTER_BOUNCES__SOFT_LIMIT": "9"})
    assert load_settings(environ={}).bounces.address == ""


def test_return_paths_already_sent_keep_verifying() -> None:
    """The MAC moved to newsletter.mail.signing (shared with our Message-IDs): the very same
    tokens as before, so the return paths of messages already out still name them."""
    assert PATHS.for_delivery(1) == "bounces+1-ckmvkimshexg4@nieuwsbrief.example.org"
    assert PATHS.for_delivery(123_456) == "bounces+2n9c-a43qhlem4ec7c@nieuwsbrief.example.org"
