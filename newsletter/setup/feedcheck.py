"""The ``feeds`` check: each configured feed answers and parses, as the daemon's polls see it.

It reads each feed with the polls' own :func:`newsletter.feeds.poll.read_feed`, so a feed
the doctor passes is a feed ``posts fetch`` reads; it imports nothing and touches no
database. An entry the polls would skip (no title, no text, ...) is a warning naming it:
the rest of the feed is read.
"""

from __future__ import annotations

from newsletter.config import hide_password
from newsletter.errors import NewsletterError
from newsletter.feeds.poll import read_feed
from newsletter.setup.checkup import Checkup, Finding


def check_feeds(checkup: Checkup) -> Finding | None:
    """Not a check without feeds; a fail naming every feed that cannot be read, a warning
    naming every entry the polls would skip, else ok."""
    posts = checkup.settings.posts
    if not posts.feeds:
        return None
    read: list[str] = []
    broken: list[str] = []
    skipped: list[str] = []
    for url in posts.feeds:
        shown = hide_password(url)
        try:
            _, entries = read_feed(url, posts)
        except NewsletterError as exc:
            reason = str(exc).removeprefix(f"{shown}: ").splitlines()[0]
            broken.append(f"{shown} ({reason})")
            continue
        if entries is None:  # asked without validators: the blog's server is wrong
            broken.append(f"{shown} (it answered 304 Not Modified to a plain GET)")
            continue
        count = len(entries.items)
        read.append(f"{shown}: {count} {'post' if count == 1 else 'posts'}")
        skipped += [f"{entry.describe()} of {shown} ({entry.reason})" for entry in entries.skipped]
    if broken:
        return Finding(
            "fail",
            f"cannot read the feed {', '.join(broken)}: check the address in posts.feeds "
            "(open it in a browser) or remove it",
        )
    if skipped:
        return Finding(
            "warn",
            f"{'; '.join(read)}; the polls skip {', '.join(skipped)}: fix that post on the "
            "blog (or raise posts.max_post_bytes for one that is too large)",
        )
    return Finding("ok", "; ".join(read))
