"""``newsletter send``: the admin's door onto sending (``editions`` and ``deliveries`` are in
``newsletter.cli.editions``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json
from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.models import Post as PostRow
from newsletter.db.models import utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import SendSummary, send_edition
from newsletter.delivery.publish import (
    PreparedEdition,
    Preview,
    build_preview,
    deliverability_report,
    prepare_edition,
    send_test_copy,
)
from newsletter.delivery.send_loop import Progress as SendProgress
from newsletter.errors import CheckFailedError, DeliveryError, InputError
from newsletter.runtime.alerts import after_manual_send


@click.command("send")
@click.argument("slug", required=False)
@click.option("--next", "next_post", is_flag=True, help="Send the next post in the queue.")
@click.option(
    "--resume", type=int, metavar="N", help="Continue edition N (also retries due deferrals)."
)
@click.option(
    "--dry-run", is_flag=True, help="Show post, recipients and size; send and write nothing."
)
@click.option("--to", "test_address", metavar="EMAIL", help="Send one [TEST] copy to EMAIL only.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Send a post that already went out in an edition.")
@click.option(
    "--skip-check",
    is_flag=True,
    help="Send even when the deliverability check fails (recorded in the events log).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def send(
    app: AppContext,
    slug: str | None,
    next_post: bool,
    resume: int | None,
    dry_run: bool,
    test_address: str | None,
    yes: bool,
    force: bool,
    skip_check: bool,
    as_json: bool,
) -> None:
    """Send post SLUG (or --next) to every active subscriber, or --resume edition N.

    The post is checked as `newsletter check` does first; a failing check sends nothing.
    """
    _check_options(slug, next_post, resume, dry_run, test_address, force, skip_check)
    if resume is not None:
        _report(_send_with_progress(app, resume), as_json)
        return
    post, recipients, earlier = _chosen_post(app, slug)
    if test_address:
        _send_test_copy(app.settings, _preview(app, post), test_address)
        return
    if dry_run:
        _show_dry_run(app.settings, post, _preview(app, post), recipients, earlier)
        return
    if earlier is not None and not force:
        raise editions.already_sent(post.slug, earlier)
    prepared = _prepare(app, post, recipients, force=force, skip_check=skip_check, yes=yes)
    _report(_send_with_progress(app, prepared.edition_id, prepared), as_json)


def _check_options(
    slug: str | None,
    next_post: bool,
    resume: int | None,
    dry_run: bool,
    test_address: str | None,
    force: bool,
    skip_check: bool,
) -> None:
    """Refuse option sets that name two things to send, or a real send's flags on a rehearsal."""
    chosen = [bool(slug), next_post, resume is not None]
    if sum(chosen) != 1:
        raise InputError("name exactly one of: a post SLUG, --next or --resume N")
    if resume is not None and (dry_run or test_address or force or skip_check):
        raise InputError(
            "--resume cannot be combined with --dry-run, --to, --force or --skip-check"
        )
    if skip_check and (dry_run or test_address):
        raise InputError("--skip-check goes with a real send, not with --dry-run or --to")


def _chosen_post(app: AppContext, slug: str | None) -> tuple[PostRow, int, int | None]:
    """The post to send (SLUG, or the next unsent one), how many would get it, and the
    edition it already went out in, if any."""
    with app.database.session() as session:
        post_row = post_queue.get(session, slug) if slug else post_queue.next_unsent(session)
        if post_row is None:
            raise InputError("no unsent post in the queue (see `newsletter posts list`)")
        recipients = editions.active_subscriber_count(session)
        earlier = editions.previous_edition(session, post_row.id)
    return post_row, recipients, earlier


def _preview(app: AppContext, post: PostRow) -> Preview:
    """The post as its edition would show it, with the cards the queue chooses now."""
    with app.database.session() as session:
        return build_preview(session, app.settings, post.slug)


def _send_test_copy(settings: Settings, sample: Preview, test_address: str) -> None:
    handed = send_test_copy(settings, sample.edition, test_address)
    if handed.problem is not None:
        raise DeliveryError(f"test copy to {test_address} not sent: {handed.problem}")
    click.echo(f"test copy of {sample.edition.post_slug!r} sent to {test_address}: {handed.reply}")


def _show_dry_run(
    settings: Settings,
    post: PostRow,
    sample: Preview,
    recipients: int,
    earlier: int | None,
) -> None:
    report = deliverability_report(sample, settings.newsletter.signature)
    click.echo(f"post:       {post.slug}: {post.title}")
    click.echo(
        f"subject:    {sample.edition.subject}{' (excerpt)' if sample.edition.excerpt else ''}"
    )
    if sample.edition.card_slugs:
        click.echo(f"cards:      {', '.join(sample.edition.card_slugs)}")
    click.echo(f"recipients: {recipients}")
    click.echo(f"message:    {len(sample.message):,} bytes; transport {settings.transport}")
    failed = [finding.line() for finding in report.findings if finding.status == "fail"]
    click.echo(f"check:      {'passed' if report.ok else 'FAILED; send would refuse'}")
    for line in failed:
        click.echo(f"  {line}")
    if earlier is not None:
        click.echo(f"note:       already sent in edition {earlier}; needs --force")
    click.echo("dry run: nothing sent, nothing written")


def _prepare(
    app: AppContext, post: PostRow, recipients: int, *, force: bool, skip_check: bool, yes: bool
) -> PreparedEdition:
    """The edition, made once the check passes and the admin said yes (or --yes); a failed
    check prints its report before the one-line error."""
    settings = app.settings

    def confirm() -> None:
        click.confirm(
            f"Send {post.title!r} to {recipients} subscribers via {settings.transport}?",
            abort=True,
        )

    try:
        with app.database.session() as session:
            return prepare_edition(
                session,
                settings,
                post_queue.get(session, post.slug),
                actor="admin",
                on_failure="refuse",
                force=force,
                skip_check=skip_check,
                confirm=None if yes else confirm,
            )
    except CheckFailedError as failed:
        for line in failed.report_lines:
            click.echo(line)
        raise


def _send_with_progress(
    app: AppContext, edition_id: int, prepared: PreparedEdition | None = None
) -> SendSummary:
    """Send edition ``edition_id``; ``prepared``, when just made, saves rendering it again."""
    rendered = None if prepared is None else prepared.rendered
    with _progress_reporter(edition_id) as report:
        summary = send_edition(
            app.database, app.settings, edition_id, progress=report, rendered=rendered
        )
    # Too many addresses refused already: the owner is told, and the next edition held.
    after_manual_send(app.database, app.settings, summary, utcnow())
    return summary


@contextmanager
def _progress_reporter(edition_id: int) -> Iterator[Callable[[SendProgress], None]]:
    """A Rich bar with rate and ETA on a terminal; otherwise a log line every 5 %."""
    if sys.stderr.isatty():
        with Progress(
            TextColumn(f"edition {edition_id}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>7.0f} msgs/s"),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("send", total=None, rate=0.0)

            def update(progress: SendProgress) -> None:
                rate = progress.sent / progress.elapsed if progress.elapsed else 0.0
                bar.update(task, total=progress.total, completed=progress.done, rate=rate)

            yield update
        return
    next_step = [0]

    def log_line(progress: SendProgress) -> None:
        if not progress.total:
            return
        percent = progress.done * 100 // progress.total
        if percent < next_step[0]:
            return
        next_step[0] = percent - percent % 5 + 5
        rate = progress.sent / progress.elapsed if progress.elapsed else 0.0
        click.echo(
            f"{time.strftime('%H:%M:%S')} edition {edition_id}: {percent:3d}% "
            f"({progress.done}/{progress.total}), {rate:.0f} msgs/s",
            err=True,
        )

    yield log_line


def _report(summary: SendSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.to_json())
    else:
        click.echo(
            f"edition {summary.edition_id} ({summary.status}): sent {summary.sent}, "
            f"deferred {summary.deferred}, failed {summary.failed}, skipped {summary.skipped}"
            f"{f' ({summary.bounced} bounced)' if summary.bounced else ''} "
            f"in {summary.seconds:.1f} s, {summary.rate:.0f} msgs/s"
        )
        if summary.waiting is not None:
            click.echo(
                f"edition {summary.edition_id} is {summary.waiting.describe()}: the rest goes "
                f"out then, by the daemon or `newsletter send --resume {summary.edition_id}`"
            )
        elif summary.status == "sending" and not summary.relay_unavailable:
            click.echo(
                f"deferred messages are retried by `newsletter send --resume {summary.edition_id}`"
            )
    if summary.relay_unavailable:
        raise DeliveryError(
            f"the relay is unreachable; edition {summary.edition_id} is paused, "
            f"run `newsletter send --resume {summary.edition_id}` later"
        )
