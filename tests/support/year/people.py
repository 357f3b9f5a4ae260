"""What readers and their mail providers do during the simulated year, by real routes:
sign-ups, confirmations, pauses and unsubscribes over HTTP against the web app, and
bounces and complaints delivered over SMTP to the inbound listener days after the send.

Each visitor comes from an address of its own (the web app trusts loopback as its proxy),
so the sign-up rate limit sees many people, as it would.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from newsletter.web.unsubscribe import ONE_CLICK_FIELD, ONE_CLICK_VALUE
from tests.support.returned import deliver_bounce, returned, sent_to
from tests.support.smtp import ReceivedMail
from tests.support.system import wait_until

from .checks import Record
from .world import World

BOUNCE = "postfix_hard.eml"
COMPLAINT = "yahoo_arf.eml"


@dataclass(frozen=True)
class Return:
    """A report that will come back for ``reader``'s copy of an edition."""

    due: datetime
    reader: str
    edition_id: int
    corpus: str


class People:
    def __init__(self, world: World, record: Record, rng: random.Random) -> None:
        self.world = world
        self.record = record
        self.rng = rng
        self.signed_up = 0
        self.returns: list[Return] = []

    def _visitor(self) -> dict[str, str]:
        return {"X-Forwarded-For": f"198.51.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"}

    def _mail_to(self, reader: str, path: str) -> ReceivedMail | None:
        """The latest mail to ``reader`` that carries a link to ``path``."""
        with self.world.relay.handler.lock:
            mails = [m for m in self.world.relay.handler.received if reader in m.recipients]
        return next((m for m in reversed(mails) if path in m.text()), None)

    def _post(self, url: str, data: dict[str, str]) -> None:
        response = self.world.web.post(urlsplit(url).path, data=data, headers=self._visitor())
        assert response.status_code < 400, (url, response.status_code, response.text[:200])

    def sign_up(self) -> str:
        """Sign up on the form, then follow the link in the confirmation mail."""
        self.signed_up += 1
        address = f"nieuw{self.signed_up}@voorbeeld.nl"
        self._post("/subscribe", {"email": address, "name": f"Nieuw {self.signed_up}"})
        wait_until(lambda: self._mail_to(address, "/confirm/"), timeout=20, what="confirmation")
        mail = self._mail_to(address, "/confirm/")
        assert mail is not None
        self._post(mail.link("/confirm/"), {})
        return address

    def recent_readers(self) -> list[str]:
        """Readers who got an edition and have not left."""
        with self.world.relay.handler.lock:
            mails = list(self.world.relay.handler.received)
        seen = {r for m in mails if "/unsubscribe/" in m.text() for r in m.recipients}
        return sorted(seen - set(self.record.stopped))

    def pause(self, reader: str) -> None:
        mail = self._mail_to(reader, "/manage/")
        assert mail is not None
        self._post(mail.link("/manage/") + "/pause", {"weeks": "2"})

    def unsubscribe(self, reader: str) -> None:
        """RFC 8058's one click; from then on the reader must get nothing."""
        mail = self._mail_to(reader, "/unsubscribe/")
        assert mail is not None
        self._post(mail.link("/unsubscribe/"), {ONE_CLICK_FIELD: ONE_CLICK_VALUE})
        self.record.stopped[reader] = self.world.relay.handler.count()

    def plan_returns(
        self, edition_id: int, sent: datetime, bounces: int, delays: tuple[float, ...]
    ) -> None:
        """Choose the readers whose copy comes back, once each, ``delays`` days after
        ``sent``: ``bounces`` hard bounces, the rest complaints."""
        chosen = self.rng.sample(self.recent_readers(), len(delays))
        for n, (reader, days) in enumerate(zip(chosen, delays, strict=True)):
            corpus = BOUNCE if n < bounces else COMPLAINT
            self.returns.append(Return(sent + timedelta(days=days), reader, edition_id, corpus))

    def deliver_returns(self, now: datetime) -> tuple[int, int]:
        """Hand the listener every report due by ``now``: (bounces, complaints) delivered."""
        due = [r for r in self.returns if r.due <= now]
        self.returns = [r for r in self.returns if r.due > now]
        counts = [0, 0]
        for report in due:
            if report.reader in self.record.stopped:
                continue
            server = self.world.relay.server
            try:
                _, return_path = sent_to(
                    server, self.world.database, report.edition_id, report.reader
                )
            except (AssertionError, ValueError):
                continue  # the copy never went out (paused, skipped) or went out twice
            raw = returned(
                server, self.world.database, report.edition_id, report.reader, report.corpus
            )
            code = asyncio.run(deliver_bounce(self.world.wiring.listener_port, raw, return_path))
            assert code == 250, code
            self.record.stopped[report.reader] = self.world.relay.handler.count()
            counts[report.corpus == COMPLAINT] += 1
        return counts[0], counts[1]
