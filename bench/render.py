"""How long rendering takes: once per edition, and per recipient when sending.

    .venv/bin/python bench/render.py [--rounds 5] [--recipients 2000]

Parses the five example posts (examples/posts/*.txt), then prints the mean time of
render_edition per post (templates + premailer), and the per-recipient costs the delivery
engine pays: recipient_for (signing the unsubscribe token), personalise (placeholder
splicing) and build_message (MIME + quoted-printable + serialisation).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from newsletter.config import NewsletterSection, Secret, Settings
from newsletter.content.scraped import parse_scraped
from newsletter.mail.message import build_message
from newsletter.mail.render import personalise, recipient_for, render_edition

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="renders per post (after a warm-up)")
    parser.add_argument("--recipients", type=int, default=2000, help="recipients per timing loop")
    args = parser.parse_args()

    settings = Settings(
        newsletter=NewsletterSection(
            base_url="https://nieuwsbrief.gerritvanderheide.com",
            from_address="nieuwsbrief@gerritvanderheide.com",
            list_id="nieuwsbrief.gerritvanderheide.com",
        ),
        secret_key=Secret("bench-secret"),
    )
    paths = sorted((REPO / "examples" / "posts").glob("*.txt"))
    posts = [parse_scraped(p.read_text(encoding="utf-8"), source=str(p)) for p in paths]
    render_edition(posts[0], settings.newsletter)  # warm-up: compiles the templates once

    per_post_ms = []
    for post in posts:
        started = time.perf_counter()
        for _ in range(args.rounds):
            edition = render_edition(post, settings.newsletter)
        per_post_ms.append((time.perf_counter() - started) / args.rounds * 1000)
        html_kb, text_kb = len(edition.html.encode()) / 1000, len(edition.text.encode()) / 1000
        excerpt = "  (excerpt)" if edition.excerpt else ""
        print(
            f"  {post.slug[:48]:<48} {per_post_ms[-1]:6.1f} ms"
            f"  {html_kb:5.1f} kB HTML  {text_kb:5.1f} kB text{excerpt}"
        )
    mean_ms = statistics.mean(per_post_ms)
    print(f"render_edition: {mean_ms:.1f} ms per edition (mean of {len(posts)} posts)")

    edition = render_edition(posts[0], settings.newsletter)
    ids = range(1, args.recipients + 1)
    base_url, secret = settings.newsletter.base_url, settings.signing_key()
    started = time.perf_counter()
    recipients = [
        recipient_for(
            base_url,
            secret,
            i,
            f"lezer{i}@example.nl",
            f"Lezer {i}",
            post_slug=edition.post_slug,
        )
        for i in ids
    ]
    print(
        f"recipient_for:  {_micros(started, len(recipients)):.1f} µs per recipient (signs a token)"
    )

    started = time.perf_counter()
    for recipient in recipients:
        personalise(edition, recipient)
    print(f"personalise:    {_micros(started, len(recipients)):.1f} µs per recipient")

    now = datetime.now(UTC)
    started = time.perf_counter()
    for recipient in recipients:
        build_message(edition, recipient, settings.newsletter, now=now)
    per_message = _micros(started, len(recipients))
    print(f"build_message:  {per_message:.1f} µs per message (incl. personalise)")


def _micros(started: float, count: int) -> float:
    return (time.perf_counter() - started) / count * 1_000_000


if __name__ == "__main__":
    main()
