"""The demo: the whole product on embedded defaults, with a real email in the outbox at once.

``newsletter run --demo`` (what ``make demo`` runs) imports the example posts, adds one
demo reader, sends this week's edition right away to the local outbox (never to a relay,
whatever the configuration says) and then keeps running like the real daemon, so the
reader can open the email and click its unsubscribe link.
"""

from __future__ import annotations

import email
import email.policy
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newsletter.config import NewsletterSection, Secret, Settings
from newsletter.db import post_queue, subscribers
from newsletter.db.database import Database
from newsletter.db.models import Post as PostRow
from newsletter.delivery.publish import SAMPLE_READER
from newsletter.delivery.slots import week_key
from newsletter.errors import NotFoundError
from newsletter.feeds.sources import load_posts
from newsletter.files import make_private_folder, resource_dir, write_file
from newsletter.runtime.jobs import WeeklyOutcome, make_edition_for_week


def demo_settings(settings: Settings) -> Settings:
    """Local outbox only, links to this web server, and a signing key when none is set.

    The built-in ``base_url`` names 127.0.0.1:8080; when the demo's web server listens
    elsewhere (``NEWSLETTER_WEB__PORT=8081`` because 8080 is taken), the links in the demo
    email follow it, or the unsubscribe link would lead nowhere.
    """
    settings = replace(settings, smtp=replace(settings.smtp, transport="maildir"))
    if settings.newsletter.base_url == NewsletterSection().base_url:
        settings = replace(
            settings,
            newsletter=replace(settings.newsletter, base_url=_web_address(settings)),
        )
    if settings.secret_key is not None:
        return settings
    key_file = settings.data_dir / "demo-secret-key"
    if not key_file.exists():
        make_private_folder(key_file.parent)
        write_file(key_file, secrets.token_urlsafe(32))
    return replace(settings, secret_key=Secret(key_file.read_text().strip()))


def _web_address(settings: Settings) -> str:
    host = settings.web.host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (reading the setting, not binding)
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web.port}"


@dataclass(frozen=True)
class DemoResult:
    outcome: WeeklyOutcome
    reader: str
    unsubscribe_url: str
    outbox: Path


def run_demo_edition(database: Database, settings: Settings, now: datetime) -> DemoResult:
    """Seed posts and the demo reader if needed, then send this week's edition now."""
    with database.session() as session:
        if not session.scalar(select(func.count()).select_from(PostRow)):
            post_queue.import_posts(
                session,
                load_posts(
                    str(resource_dir("examples/posts")),
                    max_post_bytes=settings.posts.max_post_bytes,
                ),
            )
        address, name = SAMPLE_READER
        if subscribers.find(session, address) is None:
            subscribers.add(session, address, name, actor="demo")
    key = week_key(now, ZoneInfo(settings.schedule.timezone))
    outcome = make_edition_for_week(database, settings, key, now)
    link = _unsubscribe_link_in_outbox(settings.maildir_path, address)
    if link is None:
        raise NotFoundError(
            f"no demo email in {settings.maildir_path} ({outcome.action}): every post in the "
            "queue was sent; import more with `newsletter posts import`"
        )
    return DemoResult(outcome, address, link, settings.maildir_path)


def _unsubscribe_link_in_outbox(outbox: Path, address: str) -> str | None:
    """The https/http link of the newest message to ``address``: exactly what was sent."""
    newest: tuple[float, str] | None = None
    for path in (outbox / "new").glob("*"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        header = str(message.get("List-Unsubscribe", ""))
        if address in str(message.get("To", "")) and header.startswith("<http"):
            found = (path.stat().st_mtime, header[1 : header.index(">")])
            newest = max(newest, found) if newest else found
    return newest[1] if newest else None
