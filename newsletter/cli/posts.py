"""``newsletter posts``: parse, import and order the posts the newsletter is made of."""

from __future__ import annotations

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json, print_table
from newsletter.db import post_queue
from newsletter.db.models import utcnow
from newsletter.errors import InputError
from newsletter.feeds.poll import poll_feeds
from newsletter.feeds.sources import load_posts


@click.group()
def posts() -> None:
    """Parse and import posts; show and change the send queue."""


@posts.command("parse")
@click.argument("location")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed post as JSON.")
@pass_app
def parse(app: AppContext, location: str, as_json: bool) -> None:
    """Parse LOCATION (a file or feed URL) and print the result; the database is not touched."""
    parsed = load_posts(location, max_post_bytes=app.settings.posts.max_post_bytes)
    if as_json:
        print_json(parsed[0].to_json() if len(parsed) == 1 else [p.to_json() for p in parsed])
        return
    for post in parsed:
        click.echo("\n".join(post.outline()))


@posts.command("import")
@click.argument("locations", nargs=-1, required=True)
@pass_app
def import_(app: AppContext, locations: tuple[str, ...]) -> None:
    """Import posts from files, directories or feed URLs (idempotent).

    Every location is parsed before anything is written: one bad post writes nothing.
    A post that was already sent is never changed.
    """
    limit = app.settings.posts.max_post_bytes
    parsed = [post for location in locations for post in load_posts(location, max_post_bytes=limit)]
    with app.database.session() as session:
        results = post_queue.import_posts(session, parsed)
    for slug, action in results:
        click.echo(f"{slug}: {action}")


@posts.command("fetch")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per feed.")
@pass_app
def fetch(app: AppContext, as_json: bool) -> None:
    """Fetch the feeds of `[posts] feeds` once and bring the queue up to date.

    Every feed is handled, whatever happens to the others; exit 1 with one line per failed
    feed when any failed. An entry that cannot be a post (no title, no text, ...) is
    skipped with one `warning:` line; the feed's other posts are queued and the exit status
    stays 0. A post that was already sent is never changed.
    """
    settings = app.settings
    if not settings.posts.feeds:
        raise InputError(
            "no feeds configured: set [posts] feeds in the config file "
            "(or NEWSLETTER_POSTS__FEEDS as a JSON array)"
        )
    reports = poll_feeds(app.database, settings, utcnow())
    if as_json:
        print_json([report.to_json() for report in reports])
    else:
        for report in reports:
            if report.error is None:
                counts = (
                    f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged"
                    + (f", {len(report.skipped)} skipped" if report.skipped else "")
                )
                click.echo(f"{report.url}: " + ("not modified" if report.not_modified else counts))
    for report in reports:
        for line in report.skip_lines():
            click.echo(f"warning: feed {line}", err=True)
    failed = [report for report in reports if report.error is not None]
    for report in failed:
        click.echo(f"error: feed {report.error}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


@posts.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of posts in send order.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """The queue in send order, with status (queued/skipped/sent) and edition."""
    with app.database.session() as session:
        entries = post_queue.entries(session)
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    print_table(
        ("#", "slug", "title", "status", "edition"),
        ((i, e.slug, e.title, e.status, e.edition_id) for i, e in enumerate(entries, start=1)),
    )


@posts.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="The stored post as JSON.")
@pass_app
def show(app: AppContext, slug: str, as_json: bool) -> None:
    """Show one post: its queue status and parsed content."""
    with app.database.session() as session:
        entry = post_queue.entry(session, slug)
        post = post_queue.document(post_queue.get(session, slug))
    if as_json:
        print_json({**post.to_json(), **entry.to_json()})
        return
    click.echo(
        f"status: {entry.status}" + (f" (edition {entry.edition_id})" if entry.edition_id else "")
    )
    click.echo("\n".join(post.outline()))


@posts.command("next")
@click.option("--json", "as_json", is_flag=True, help="The next post as a JSON object (or null).")
@pass_app
def next_(app: AppContext, as_json: bool) -> None:
    """The post the next edition will be made of."""
    with app.database.session() as session:
        row = post_queue.next_unsent(session)
        entry = post_queue.entry(session, row.slug) if row else None
    if as_json:
        print_json(entry.to_json() if entry else None)
    elif entry is None:
        click.echo("the queue is empty: import posts with `newsletter posts import`")
    else:
        click.echo(f"{entry.slug}: {entry.title}")


@posts.command("skip")
@click.argument("slug")
@pass_app
def skip(app: AppContext, slug: str) -> None:
    """Leave SLUG out of the queue (until `unskip`)."""
    _set_skipped(app, slug, skipped=True)


@posts.command("unskip")
@click.argument("slug")
@pass_app
def unskip(app: AppContext, slug: str) -> None:
    """Put a skipped post back in the queue, in its old place."""
    _set_skipped(app, slug, skipped=False)


def _set_skipped(app: AppContext, slug: str, *, skipped: bool) -> None:
    with app.database.session() as session:
        entry = post_queue.set_skipped(session, slug, skipped)
    click.echo(f"{entry.slug}: {entry.status}")


@posts.command("move")
@click.argument("slug")
@click.option("--before", "other", required=True, help="The slug SLUG should go before.")
@pass_app
def move(app: AppContext, slug: str, other: str) -> None:
    """Move SLUG right before another post in the send order."""
    with app.database.session() as session:
        entries = post_queue.move_before(session, slug, other)
    for number, entry in enumerate((e for e in entries if e.status != "sent"), start=1):
        click.echo(f"{number:>3}. {entry.slug} ({entry.status})")
