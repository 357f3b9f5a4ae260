"""The run's queue of claimed deliveries, shared by the lanes, with a head for pushback.

A message the relay refused because we send too fast (its pushback, see ``attempt.py``)
says nothing about the reader: it goes back to the head of this run's queue and is tried
again as soon as the throttle allows, instead of becoming a deferral retried minutes
later. Only a message pushed back ``limit`` times in one run (a relay that never takes
anything at all) is let through to be recorded as deferred, so a run always ends. The
limit is high: while a relay's window is closed the lanes' next claims are refused over
and over (with Postfix's anvil, 100 times each within the first 10 s was seen).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Sequence

from newsletter.delivery.outcomes import Claim

PUSHBACKS_PER_CLAIM = 1000


class ClaimQueue:
    """The claims in order, ``None`` telling a lane to stop; put-back claims come first."""

    def __init__(self, limit: int = PUSHBACKS_PER_CLAIM) -> None:
        self._queue: asyncio.Queue[Claim | None] = asyncio.Queue()
        self._head: deque[Claim] = deque()
        self._pushed_back: Counter[int] = Counter()
        self._limit = limit

    def extend(self, claims: Sequence[Claim | None]) -> None:
        for claim in claims:
            self._queue.put_nowait(claim)

    async def get(self) -> Claim | None:
        # The lane that puts a claim back takes from the head before it can stop, so no
        # claim is left behind there while the lanes stop.
        if self._head:
            return self._head.popleft()
        return await self._queue.get()

    def put_back(self, claim: Claim) -> bool:
        """Put a pushed-back claim at the head; False when it was pushed back too often."""
        self._pushed_back[claim.delivery_id] += 1
        if self._pushed_back[claim.delivery_id] > self._limit:
            return False
        self._head.append(claim)
        return True

    def drain(self) -> list[Claim]:
        """Every claim still waiting (the run stops): they go back to the ledger's queue."""
        claims = list(self._head)
        self._head.clear()
        while not self._queue.empty():
            claim = self._queue.get_nowait()
            if claim is not None:
                claims.append(claim)
        return claims
