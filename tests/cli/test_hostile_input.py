"""Issue 15, "Hostile input", through the real ``newsletter`` command on both databases.

Each test plays one attack from the probe: a formula name that must not be live in the
exported CSV, Rich markup in names and titles, a ``javascript:`` post URL, a 50 MB post
file, and a send whose outbox folder is missing or cannot be made.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.db.database import open_database
from newsletter.db.models import Edition
from newsletter.errors import RenderError
from newsletter.mail.render import render_edition
from tests.support.cli import NewsletterCli
from tests.support.posts import make_post
from tests.support.settings import make_settings
from tests.support.system import NEWSLETTER_SCRIPT

FORMULA_NAMES = (
    '=HYPERLINK("http://evil.example","Klik")',
    "+31 6 1234",
    "-2+3",
    "@SUM(A1:A2)",
    "'=quoted already",
    "''",
)
MARKUP = ("[/bold]", "[link=https://evil.example]click[/link]", "[bold red]boo[/bold red]")
POST_BODY = "# {title}\n\nEen alinea over rust, ruimte en wat er gebeurt als je stilstaat.\n"


@pytest.fixture
def newsletter(database_url: str, tmp_path: Path) -> NewsletterCli:
    return NewsletterCli(database_url, tmp_path)


# 1. Formula injection in `subscribers export`


def test_export_csv_neutralises_formulas_and_import_restores_them(
    newsletter: NewsletterCli, tmp_path: Path
) -> None:
    for number, name in enumerate(FORMULA_NAMES):
        newsletter.ok("subscribers", "add", f"lezer{number}@example.org", "--name", name)
    newsletter.ok("subscribers", "add", "=cmd@example.org", "--name", "Gewoon")

    exported = newsletter.ok("subscribers", "export")
    rows = list(csv.DictReader(io.StringIO(exported)))
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(dangerous), f"{column} is live in a spreadsheet: {cell!r}"
    names = {row["email"]: row["name"] for row in rows}
    assert names["lezer0@example.org"] == "'" + FORMULA_NAMES[0]
    assert names["lezer4@example.org"] == "''=quoted already"
    assert "'=cmd@example.org" in names

    # The JSON export stays exact.
    exact = {
        row["email"]: row["name"]
        for row in json.loads(newsletter.ok("subscribers", "export", "--format", "json"))
    }
    assert exact["lezer0@example.org"] == FORMULA_NAMES[0]

    # Round trip: the exported file into an empty database restores every name.
    fresh = NewsletterCli(f"sqlite:///{tmp_path}/roundtrip.db", tmp_path)
    fresh.ok("db", "upgrade")
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert "added 7" in fresh.ok("subscribers", "import", str(tmp_path / "export.csv"))
    restored = {
        row["email"]: row["name"]
        for row in json.loads(fresh.ok("subscribers", "export", "--format", "json"))
    }
    assert restored == exact


# 2. Rich markup injection in CLI tables


def test_hostile_names_titles_and_replies_are_shown_literally(
    newsletter: NewsletterCli, tmp_path: Path
) -> None:
    for number, name in enumerate(MARKUP):
        newsletter.ok("subscribers", "add", f"markup{number}@example.org", "--name", name)
    listed = newsletter.ok("subscribers", "list")
    for name in MARKUP:
        assert name in listed
    assert "\x1b]8;" not in listed  # no hidden terminal hyperlink

    newsletter.ok(
        "posts",
        "import",
        str(newsletter.post_file("rust.md", POST_BODY.format(title="Rust [/i] en ruimte"))),
        str(
            newsletter.post_file(
                "slug.md", '+++\nslug = "[bold]vet[/bold]"\n+++\n' + POST_BODY.format(title="Vet")
            )
        ),
    )
    posts = newsletter.ok("posts", "list")
    assert "Rust [/i] en ruimte" in posts
    assert "[bold]vet[/bold]" in posts

    # The slug in the editions table, the addresses in the deliveries table.
    newsletter.ok("send", "[bold]vet[/bold]", "--yes", "--skip-check")
    assert "[bold]vet[/bold]" in newsletter.ok("editions", "list")
    assert "markup1@example.org" in newsletter.ok("deliveries", "1")


def test_control_characters_in_a_title_never_reach_the_queue(newsletter: NewsletterCli) -> None:
    """A raw escape sequence would reach the terminal as a hidden hyperlink, and the subject
    line of every email: the parser drops control characters before anything is stored."""
    # TOML escapes: ESC ] 8 ;; URL ESC \\ text ESC ] 8 ;; ESC \\ (OSC 8, a terminal hyperlink)
    title = r"Rust \u001b]8;;https://evil.example\u001b\\klik\u001b]8;;\u001b\\"
    post = newsletter.post_file("esc.md", f'+++\ntitle = "{title}"\n+++\n' + POST_BODY)
    newsletter.ok("posts", "import", str(post))
    listed = newsletter.ok("posts", "list")
    assert "\x1b" not in listed
    assert "Rust ]8;;https://evil.example" in listed
    subject = newsletter.ok("preview", "--format", "eml").split("\nSubject: ", 1)[1]
    assert subject.startswith("Rust ]8;;https://evil.example") and "\x1b" not in subject


# 5. Post URLs other than http(s)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "//evil.example/pad",
        "https://",
    ],
)
def test_a_post_url_that_is_not_http_is_refused_at_import(
    newsletter: NewsletterCli, url: str
) -> None:
    front = f"+++\nurl = {json.dumps(url)}\n+++\n" + POST_BODY.format(title="Lees verder")
    post = newsletter.post_file("post.md", front)
    error = newsletter.fails("posts", "import", str(post))
    assert "url" in error and "http" in error
    assert newsletter.ok("posts", "list", "--json").strip() == "[]"
    newsletter.fails("posts", "parse", str(post))


def test_a_feed_link_that_is_not_http_is_refused(newsletter: NewsletterCli) -> None:
    feed = newsletter.post_file(
        "feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
        "<item><title>Rust</title><link>javascript:alert(1)</link>"
        "<description>&lt;p&gt;Een alinea over rust.&lt;/p&gt;</description></item>"
        "</channel></rss>",
    )
    error = newsletter.fails("posts", "import", str(feed))
    assert "javascript" in error


def test_the_renderer_refuses_a_post_url_that_is_not_http() -> None:
    """Import refuses such a URL; a post that got past it (a row stored before the rule)
    still cannot put it in front of a reader."""
    settings = make_settings(newsletter={"content": "excerpt"})
    safe = make_post(url="https://example.org/rust")
    assert 'href="https://example.org/rust"' in render_edition(safe, settings.newsletter).html
    for url in ("javascript:alert(1)", "data:text/html,x", "java\nscript:alert(1)"):
        with pytest.raises(RenderError, match="not an http"):
            render_edition(replace(safe, url=url), settings.newsletter)


# 6. A post file of 50 MB


def test_a_huge_post_file_is_refused_before_parsing(newsletter: NewsletterCli) -> None:
    huge = newsletter.workdir / "huge.txt"
    line = ("Rust en ruimte in jezelf. " * 40 + "\n").encode()
    with huge.open("wb") as out:
        out.write(b"Een titel\n\n")
        while out.tell() < 50 * 1024 * 1024:
            out.write(line * 100)

    tracemalloc.start()
    try:
        error = newsletter.fails("posts", "import", str(huge))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "huge.txt" in error and "larger than" in error and "posts.max_post_bytes" in error
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB for a refused file"
    newsletter.fails("posts", "parse", str(huge))
    assert newsletter.ok("posts", "list", "--json").strip() == "[]"

    # The limit is one setting for every source: a directory and a feed file alike.
    newsletter.fails("posts", "import", str(newsletter.workdir))
    small = newsletter.post_file("small.md", POST_BODY.format(title="Klein"))
    newsletter.fails("posts", "import", str(small), NEWSLETTER_POSTS__MAX_POST_BYTES="20")
    assert "klein: added" in newsletter.ok("posts", "import", str(small))
    feed = newsletter.post_file(
        "feed.rss",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><item>'
        "<title>Lang</title><description>&lt;p&gt;" + "Rust. " * 100 + "&lt;/p&gt;</description>"
        "</item></channel></rss>",
    )
    error = newsletter.fails("posts", "import", str(feed), NEWSLETTER_POSTS__MAX_POST_BYTES="200")
    assert "feed entry 1" in error and "posts.max_post_bytes" in error


# 7. `send` with a missing outbox folder


def test_send_creates_a_missing_outbox_outside_data(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    newsletter = NewsletterCli(database_url, tmp_path)
    del newsletter.env["NEWSLETTER_SMTP__MAILDIR"]  # the default: data/outbox, no ./data yet
    newsletter.ok("subscribers", "add", "lezer@example.org")
    newsletter.ok(
        "posts", "import", str(newsletter.post_file("rust.md", POST_BODY.format(title="Rust")))
    )
    assert "sent 1" in newsletter.ok("send", "--next", "--yes")
    assert len(list((work / "data" / "outbox" / "new").iterdir())) == 1


def test_a_transport_that_cannot_start_makes_no_edition(
    newsletter: NewsletterCli, database_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    newsletter.ok("subscribers", "add", "lezer@example.org")
    newsletter.ok(
        "posts", "import", str(newsletter.post_file("rust.md", POST_BODY.format(title="Rust")))
    )
    error = newsletter.fails(
        "send", "--next", "--yes", NEWSLETTER_SMTP__MAILDIR=str(blocker / "outbox")
    )
    assert "maildir" in error
    database = open_database(database_url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Edition)) == 0
    finally:
        database.dispose()
    assert json.loads(newsletter.ok("posts", "list", "--json"))[0]["status"] == "queued"


def test_a_reader_that_goes_away_ends_the_command_quietly(
    newsletter: NewsletterCli, tmp_path: Path
) -> None:
    """``newsletter subscribers export | head``: no "Broken pipe" error, exit as on SIGPIPE."""
    rows = "".join(f"lezer{n}@example.org,Lezer {n}\n" for n in range(3000))
    newsletter.ok(
        "subscribers", "import", str(newsletter.post_file("many.csv", "email,name\n" + rows))
    )
    export = subprocess.Popen(
        [str(NEWSLETTER_SCRIPT), "subscribers", "export", "--format", "json"],
        env={**os.environ, **newsletter.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    assert export.stdout.read(100).startswith(b"[")
    export.stdout.close()
    assert export.wait(timeout=60) == 141
    assert export.stderr.read() == b""
    export.stderr.close()
