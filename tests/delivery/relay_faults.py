"""A relay that misbehaves by count, as real ones do under load: every Nth RCPT refused,
every Nth DATA dropped halfway, ``421`` at MAIL for a stretch of transactions.

Built on the delivery tests' aiosmtpd server; the handler remembers what it did to whom,
so a test can check each reader's end state against the fault that reader met.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.delivery import editions

from .conftest import (
    Faults,
    FaultySMTP,
    RecordingHandler,
    SmtpServer,
    add_post,
    add_subscribers,
)

GREYLISTED = "451 4.7.1 Greylisted, please try again later"
LOCAL_ERROR = "451 4.3.0 Temporary local problem, please try again"
USER_UNKNOWN = "550 5.1.1 Recipient address rejected: User unknown"
SLOW_DOWN = "421 4.7.0 Too many messages, slow down"


@dataclass
class CountedFaults(Faults):
    """``rcpt_every``: N -> reply for every Nth RCPT (the first N that divides wins);
    ``drop_data_every``: hang up after the first line of every Nth message text;
    ``mail_421``: MAIL commands numbered ``first <= n < last`` get 421 and a hang-up;
    ``rcpt_script``: address -> the replies its next RCPTs get, one each, then accepted."""

    rcpt_every: dict[int, str] = field(default_factory=dict)
    data_seconds: float = 0.0  # per message, so that a send lasts long enough to interrupt
    rcpt_script: dict[str, list[str]] = field(default_factory=dict)
    drop_data_every: int = 0
    mail_421: tuple[int, int] = (0, 0)


class CountingHandler(RecordingHandler):
    def __init__(self, faults: CountedFaults) -> None:
        super().__init__(faults)
        self.counted = faults
        self.rcpts = 0
        self.mails = 0
        self.datas = 0
        self.refused: dict[str, list[str]] = {}
        self.dropped: list[str] = []
        self.pushed_back = 0
        self.accepted_at: list[float] = []  # monotonic time of every accepted message

    def _refuse(self, address: str, reply: str) -> str:
        self.refused.setdefault(address, []).append(reply)
        return reply

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.lock:
            self.rcpts += 1
            number = self.rcpts
            for every, reply in self.counted.rcpt_every.items():
                if number % every == 0:
                    return self._refuse(address, reply)
            if self.counted.rcpt_script.get(address):
                return self._refuse(address, self.counted.rcpt_script[address].pop(0))
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.counted.data_seconds:
            await asyncio.sleep(self.counted.data_seconds)
        reply = await super().handle_DATA(server, session, envelope)
        with self.lock:
            self.accepted_at.append(time.monotonic())
        return reply


class CountingSMTP(FaultySMTP):
    @property
    def counting(self) -> CountingHandler:
        handler = self.event_handler
        assert isinstance(handler, CountingHandler)
        return handler

    async def smtp_MAIL(self, arg: str) -> None:
        handler = self.counting
        with handler.lock:
            handler.mails += 1
            first, last = handler.counted.mail_421
            refuse = first <= handler.mails < last
            handler.pushed_back += refuse
        if refuse:
            await self.push(SLOW_DOWN)
            self.transport.close()
            return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.counting
        every = handler.counted.drop_data_every
        with handler.lock:
            handler.datas += 1
            drop = bool(every) and handler.datas % every == 0 and bool(self.envelope.rcpt_tos)
            if drop:
                handler.dropped.extend(self.envelope.rcpt_tos)
        if drop:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class CountingServer(SmtpServer):
    protocol = CountingSMTP

    def __init__(self, faults: CountedFaults) -> None:
        super().__init__(faults)
        self.handler = self.counting = CountingHandler(faults)


def assert_states_add_up(database: Database, edition_id: int) -> dict[str, int]:
    """sent + deferred + failed + skipped + waiting = recipients; returns that tally."""
    with database.session() as session:
        info = editions.describe_edition(session, edition_id)
    tally = info.tally()
    assert sum(tally.values()) == info.recipients, (tally, info.recipients)
    return tally


def assert_each_got_one(server: SmtpServer, addresses: Iterable[str]) -> None:
    """Exactly these readers got the edition, and none of them twice."""
    received = server.handler.per_address()
    assert set(received) == set(addresses), "a reader was lost, or mailed who should not be"
    assert set(received.values()) == {1}, "a reader got the edition twice"


def make_edition(database: Database, subscribers: int) -> tuple[int, list[str]]:
    """``subscribers`` readers and an edition of the small post for them."""
    addresses = add_subscribers(database, subscribers)
    slug = add_post(database)
    with database.session() as session:
        return editions.create_edition(session, post_queue.get(session, slug), "Rust"), addresses


def states(database: Database, edition_id: int) -> dict[str, str]:
    with database.session() as session:
        return {
            row.email: row.status
            for row in editions.iterate_deliveries(session, edition_id)
            if row.email
        }
