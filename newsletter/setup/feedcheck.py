"""The ``feeds`` check: each configured feed answers and parses, as the daemon's polls see it.

It fetches and parses with the polls' own code (``newsletter.content.fetch`` and
``newsletter.content.feed``, strictly, with ``[posts]`` limits), so a feed the doctor passes
is a feed ``posts fetch`` reads; it imports nothing and touches no database.
"""

from __future__ import annotations

from newsletter.content.feed import parse_feed_items
from newsletter.content.fetch import fetch_feed
from newsletter.errors import NewsletterError
from newsletter.setup.checkup import Checkup, Finding


def check_feeds(checkup: Checkup) -> Finding | None:
    """Not a check without feeds; a fail naming every feed that cannot be read, else ok."""
    posts = checkup.settings.posts
    if not posts.feeds:
        return None
    read: list[str] = []
    broken: list[str] = []
    for url in posts.feeds:
        try:
            fetched = fetch_feed(url, read_timeout=posts.fetch_timeout_seconds)
            body = fetched.body or b""
            items = parse_feed_items(
                body, source=url, max_entry_bytes=posts.max_post_bytes, strict=True
            )
        except NewsletterError as exc:
            reason = str(exc).removeprefix(f"{url}: ").splitlines()[0]
            broken.append(f"{url} ({reason})")
            continue
        read.append(f"{url}: {len(items)} {'post' if len(items) == 1 else 'posts'}")
    if broken:
        return Finding(
            "fail",
            f"cannot read the feed {', '.join(broken)}: check the address in posts.feeds "
            "(open it in a browser) or remove it",
        )
    return Finding("ok", "; ".join(read))
