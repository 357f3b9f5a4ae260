"""``newsletter run``: one process holding the weekly schedule and the web app in one loop.

The blocking work (rendering, the database, the delivery engine's own event loop) runs in
worker threads, so the web pages stay responsive while an edition goes out. On SIGTERM or
SIGINT the scheduler stops, the engine claims nothing more and gives unsent messages back
to the queue, and the process exits 0 within ``STOP_SECONDS``.

Several daemons may share one PostgreSQL database; see ``presence``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.errors import NewsletterError
from newsletter.returns.mailbox import fetch_mailbox
from newsletter.runtime.jobs import (
    build_scheduler,
    make_weekly_edition,
    send_due_work,
    watch,
)
from newsletter.runtime.owner_mail import mail_pending_alerts
from newsletter.runtime.servers import inbound_listener, web_server

log = logging.getLogger(__name__)

STOP_SECONDS = 12.0


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, stream: TextIO = sys.stderr) -> None:
    """One line per event: readable on a terminal, JSON for a log collector."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    quiet = ("uvicorn.access", "apscheduler", "alembic", "mail.log", "httpx", "httpcore")
    for noisy in quiet:
        logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclass
class Daemon:
    """The running process: scheduler jobs, web server and a way to stop them all."""

    settings: Settings
    database: Database
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.stop_requested = threading.Event()
        self._stopped = asyncio.Event()
        # Not the loop's default executor: asyncio.run() waits for that one without a time
        # limit, so a send stuck on a hanging relay would hold the exit past STOP_SECONDS.
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsletter-job")
        self._running_jobs: set[asyncio.Future[None]] = set()
        self._weekly_failed = False

    def weekly_job(self) -> None:
        """The slot's job; when it fails (database blip, check error), due work retries it
        every minute while the catch-up window lasts instead of waiting a week."""
        self._weekly_failed = False
        try:
            outcome = make_weekly_edition(
                self.database, self.settings, self.clock(), stop=self.stop_requested
            )
        except Exception:
            self._weekly_failed = True
            raise
        if outcome.action == "nothing due":
            return
        # "already made" too: after a restart the log says why nothing new went out.
        detail = outcome.detail or (
            f"(edition {outcome.edition_id})" if outcome.edition_id is not None else ""
        )
        log.info("weekly edition %s: %s %s", outcome.week_key, outcome.action, detail)

    def due_work_job(self) -> None:
        if self._weekly_failed:
            try:
                self.weekly_job()
            except Exception:
                log.exception("the weekly edition failed again; retrying in a minute")
        send_due_work(self.database, self.settings, self.clock(), stop=self.stop_requested)
        # Alerts recorded by the inbound listener, the webhooks or the bounce mailbox.
        mail_pending_alerts(self.database, self.settings, self.clock())

    def watch_job(self) -> None:
        """Feeds every ``poll_minutes``, and the owner's warnings that depend on the clock."""
        watch(self.database, self.settings, self.clock())

    def bounce_mailbox_job(self) -> None:
        """Read the bounce mailbox ([bounces.imap]); an unreachable one is tried next time."""
        try:
            fetched = fetch_mailbox(self.database, self.settings)
        except NewsletterError as exc:
            minutes = self.settings.bounces_imap.poll_minutes
            log.warning("bounce mailbox: %s; trying again in %g minutes", exc, minutes)
            return
        for item in fetched:
            if item.outcome is None and item.moved:
                log.warning("bounce mailbox: message uid %s %s", item.uid, item.problem)
        reports = sum(1 for item in fetched if item.outcome is not None and item.moved)
        if fetched:
            log.info("bounce mailbox: %d messages, %d bounces or complaints", len(fetched), reports)

    def resume_job(self) -> None:
        """The start-up due work: also takes back what a previous run died holding."""
        send_due_work(
            self.database, self.settings, self.clock(), stop=self.stop_requested, at_start=True
        )

    async def _in_thread(self, job: Callable[[], None]) -> None:
        running = asyncio.get_running_loop().run_in_executor(self._workers, job)
        self._running_jobs.add(running)
        try:
            await running
        except Exception:
            log.exception("job %s failed; the next run tries again", job.__name__)
        finally:
            self._running_jobs.discard(running)

    def _threaded(self, job: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self._in_thread(job)

        run.__name__ = run.__qualname__ = job.__name__
        return run

    def request_stop(self) -> None:
        if not self.stop_requested.is_set():
            log.info("stopping: no new work is claimed, unsent messages go back to the queue")
        self.stop_requested.set()
        self._stopped.set()

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT: catch up on start, then follow the timetable."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        scheduler = build_scheduler(
            self.settings,
            self._threaded(self.weekly_job),
            self._threaded(self.due_work_job),
            self._threaded(self.watch_job),
            bounce_mailbox=self._threaded(self.bounce_mailbox_job)
            if self.settings.bounces_imap.host
            else None,
        )
        web = web_server(
            self.settings,
            self.database,
            scheduler_alive=lambda: bool(scheduler.running),
            own_signals=False,
        )
        with inbound_listener(self.settings, self.database):
            await self._serve(scheduler, web)

    async def _serve(self, scheduler: AsyncIOScheduler, web: uvicorn.Server) -> None:
        scheduler.start()
        log.info(
            "newsletter running: web on http://%s:%d, weekly at %r (%s)",
            self.settings.web.host,
            self.settings.web.port,
            self.settings.schedule.cron,
            self.settings.schedule.timezone,
        )
        web_task = asyncio.create_task(web.serve())
        startup = asyncio.create_task(self._start_up())
        await self._stopped.wait()
        scheduler.shutdown(wait=False)
        web.should_exit = True
        # Every job in a worker thread gets the time to finish its in-flight messages and
        # give the rest back, the scheduled ones as much as the start-up one.
        await asyncio.wait({startup, web_task, *self._running_jobs}, timeout=STOP_SECONDS)
        # A job still running after STOP_SECONDS is left behind (the caller exits the
        # process); what it had claimed is taken back at the next start.
        self._workers.shutdown(wait=False, cancel_futures=True)
        log.info("stopped")

    async def _start_up(self) -> None:
        """Finish what a previous run left (editions in ``sending``), then a missed slot,
        then a first look at the feeds (the interval job's first run is a while off)."""
        await self._in_thread(self.resume_job)
        if not self.stop_requested.is_set():
            await self._in_thread(self.weekly_job)
        if not self.stop_requested.is_set():
            await self._in_thread(self.watch_job)
