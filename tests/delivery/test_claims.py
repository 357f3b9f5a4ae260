"""The run's queue: a pushed-back claim comes first, but not forever."""

from __future__ import annotations

import asyncio

from newsletter.delivery.claims import ClaimQueue
from newsletter.delivery.outcomes import Claim


def _claim(n: int) -> Claim:
    return Claim(n, n, f"lezer{n}@example.nl", None, 0)


def test_a_pushed_back_claim_is_tried_again_first_until_its_limit():
    async def scenario() -> list[int | None]:
        queue = ClaimQueue(limit=2)
        queue.extend([_claim(1), _claim(2), None])
        first = await queue.get()
        assert first is not None
        order: list[int | None] = []
        for _ in range(2):
            assert queue.put_back(first)
            again = await queue.get()
            order.append(again.delivery_id if again else None)
        assert not queue.put_back(first), "pushed back a third time: it is recorded instead"
        while (claim := await queue.get()) is not None:
            order.append(claim.delivery_id)
        return order

    assert asyncio.run(scenario()) == [1, 1, 2]


def test_drain_gives_back_the_head_and_the_rest_but_no_stop_marks():
    queue = ClaimQueue()
    queue.extend([_claim(1), _claim(2), None, None])
    assert queue.put_back(_claim(3))
    assert [claim.delivery_id for claim in queue.drain()] == [3, 1, 2]
