"""1,000 bad tokens: mutated, truncated, other purpose, other key, random. All get the same 400.

The generator is seeded, so a failure names a token that fails again on the next run.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from urllib.parse import quote

import httpx

from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.mail.tokens import TokenPurpose, make_token
from tests.support.db import add_subscriber, subscriber_row
from tests.support.settings import SECRET

ADDRESS = "geheim.adres@example.nl"
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_."
TOTAL = 1_000


def bad_tokens(subscriber_id: int, seed: int = 8058) -> Iterator[tuple[str, str]]:
    """(kind, token) pairs; none of them is a valid unsubscribe token for anyone."""
    rng = random.Random(seed)
    valid = make_token(SECRET, "unsubscribe", subscriber_id)
    kinds = ["mutated", "truncated", "purpose", "foreign key", "random", "garbage"]
    for index in range(TOTAL):
        kind = kinds[index % len(kinds)]
        if kind == "mutated":
            # Not the last character: its low bits are base64 padding, which decode to the
            # same signature bytes (an equivalent spelling, not a forgery).
            position = rng.randrange(len(valid) - 1)
            replacement = rng.choice(TOKEN_ALPHABET.replace(valid[position], ""))
            yield kind, valid[:position] + replacement + valid[position + 1 :]
        elif kind == "truncated":
            yield kind, valid[: rng.randrange(1, len(valid))]
        elif kind == "purpose":
            purpose: TokenPurpose = rng.choice(["confirm", "resubscribe"])
            yield kind, make_token(SECRET, purpose, rng.choice([subscriber_id, rng.randrange(99)]))
        elif kind == "foreign key":
            other_key = "".join(rng.choices(string.ascii_letters, k=24))
            yield kind, make_token(other_key, "unsubscribe", subscriber_id)
        elif kind == "random":
            yield kind, "".join(rng.choices(TOKEN_ALPHABET, k=rng.randrange(1, 120)))
        else:
            text = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
            yield kind, quote(text, safe="")


async def test_forged_tokens_are_rejected_and_reveal_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS, name="Geheime Naam")
    failures = []
    reference: str | None = None
    for index, (kind, token) in enumerate(bad_tokens(subscriber_id)):
        if index % 3 == 0:
            response = await client.get(f"/unsubscribe/{token}")
        elif index % 3 == 1:
            response = await client.post(f"/unsubscribe/{token}")
        else:
            response = await client.post(
                f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
            )
        reference = reference or response.text
        if (
            response.status_code != 400
            or response.text != reference
            or "•••" in response.text
            or "example.nl" in response.text
            or "Geheime" in response.text
        ):
            failures.append((kind, token, response.status_code))

    assert failures == []
    assert reference is not None and "Deze link werkt niet" in reference
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.ACTIVE
