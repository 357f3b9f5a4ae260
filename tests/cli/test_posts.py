"""`newsletter posts …` end to end on SQLite and PostgreSQL, with the real example posts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.db.database import open_database
from newsletter.db.models import Edition, EditionStatus
from newsletter.db.post_queue import get
from tests.support.system import EXAMPLE_POSTS as EXAMPLES

POST_KEYS = {
    "slug",
    "title",
    "short_title",
    "category",
    "reading_minutes",
    "lead",
    "questions",
    "blocks",
    "faq",
}


@pytest.fixture
def run(database_url: str):  # type: ignore[no-untyped-def]
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={"NEWSLETTER_DATABASE__URL": database_url})

    return invoke


def test_parse_prints_the_post_shape_without_a_database(tmp_path: Path) -> None:
    env = {"NEWSLETTER_DATABASE__URL": f"sqlite:///{tmp_path}/never.db"}
    result = CliRunner().invoke(
        cli, ["posts", "parse", str(next(EXAMPLES.glob("000_*.txt"))), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    post = json.loads(result.stdout)
    assert set(post) >= POST_KEYS
    assert post["reading_minutes"] == 13
    assert len(post["questions"]) == 3
    assert not (tmp_path / "never.db").exists()


def test_import_list_next_skip_move(run) -> None:  # type: ignore[no-untyped-def]
    first = run("posts", "import", str(EXAMPLES))
    assert first.exit_code == 0, first.output
    assert first.stdout.count(": added") == 5
    assert run("posts", "import", str(EXAMPLES)).stdout.count(": unchanged") == 5

    listed = json.loads(run("posts", "list", "--json").stdout)
    assert [p["status"] for p in listed] == ["queued"] * 5
    assert {"slug", "title", "status"} <= set(listed[0])
    slugs = [p["slug"] for p in listed]

    assert json.loads(run("posts", "next", "--json").stdout)["slug"] == slugs[0]
    assert run("posts", "skip", slugs[0]).stdout == f"{slugs[0]}: skipped\n"
    assert json.loads(run("posts", "next", "--json").stdout)["slug"] == slugs[1]
    assert run("posts", "unskip", slugs[0]).exit_code == 0

    moved = run("posts", "move", slugs[4], "--before", slugs[0])
    assert moved.exit_code == 0, moved.output
    assert [p["slug"] for p in json.loads(run("posts", "list", "--json").stdout)] == (
        [slugs[4], *slugs[:4]]
    )
    shown = json.loads(run("posts", "show", slugs[4], "--json").stdout)
    assert shown["slug"] == slugs[4] and shown["status"] == "queued" and shown["blocks"]
    described = run("posts", "show", slugs[4]).stdout.splitlines()
    assert described[:2] == ["status: queued", f"{slugs[4]}: {shown['title']}"]
    assert described[2].endswith(f"{len(shown['blocks'])} blocks, {len(shown['faq'])} FAQ entries")


def test_sent_post_is_frozen_and_reported(run, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "post.txt"
    shutil.copy(next(EXAMPLES.glob("002_*.txt")), source)
    run("posts", "import", str(source))
    slug = json.loads(run("posts", "list", "--json").stdout)[0]["slug"]
    database = open_database(database_url)
    with database.session() as session:
        row = get(session, slug)
        session.add(Edition(post_id=row.id, status=EditionStatus.SENT, subject=row.title))
    database.dispose()
    text = source.read_text(encoding="utf-8")
    assert "Zelfkritiek voelt vaak vertrouwd." in text
    source.write_text(text.replace("vaak vertrouwd.", "soms vertrouwd."), encoding="utf-8")
    again = run("posts", "import", str(source))
    assert again.stdout == f"{slug}: sent, not changed\n"
    listed = json.loads(run("posts", "list", "--json").stdout)
    assert listed[0]["status"] == "sent" and listed[0]["edition"] == 1


def test_one_bad_file_writes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "posts"
    folder.mkdir()
    shutil.copy(next(EXAMPLES.glob("000_*.txt")), folder / "a.txt")
    (folder / "b.md").write_text("+++\ntitle = \n+++\nTekst\n", encoding="utf-8")
    result = run("posts", "import", str(folder))
    assert result.exit_code == 1
    assert "b.md" in result.stderr and "Traceback" not in result.output
    assert json.loads(run("posts", "list", "--json").stdout) == []


def test_unknown_slug_is_one_line(run) -> None:  # type: ignore[no-untyped-def]
    result = run("posts", "skip", "bestaat-niet")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: no post with slug 'bestaat-niet' (see `newsletter posts list`)\n"
    )
    assert run("posts", "next").stdout.startswith("the queue is empty")


DRAFTS = {
    "toml.md": '+++\ntitle = "Nog niet af"\ndraft = true\n+++\n\nEen alinea.\n',
    "yaml.md": "---\ntitle: Ook niet af\npublished: false\n---\n\nEen alinea.\n",
}


def test_a_draft_is_passed_over_in_a_folder_and_refused_by_name(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    shutil.copy(next(EXAMPLES.glob("000_*.txt")), folder / "a.txt")
    for name, text in DRAFTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "klaar.md").write_text(
        "---\ntitle: Wel af\ndraft: false\npublished: true\n---\n\nEen alinea.\n", "utf-8"
    )
    imported = run("posts", "import", str(folder))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.count(": added") == 2 and "niet-af" not in imported.stdout
    assert [p["slug"] for p in json.loads(run("posts", "list", "--json").stdout)] == [
        "innerlijke-kracht-voelen-wat-klopt-en-hoe-dat-rust-en-ruimte-in-jezelf-brengt",
        "wel-af",
    ]

    for name, (key, line) in {
        "toml.md": ("draft = true", 3),
        "yaml.md": ("published = false", 3),
    }.items():
        refused = run("posts", "import", str(folder / name))
        assert refused.exit_code == 1
        assert refused.stderr == (
            f"error: {folder / name}:{line}: a draft ({key}): not imported until it is ready\n"
        )
    bad = folder / "raar.md"
    bad.write_text('+++\ntitle = "Raar"\ndraft = "ja"\n+++\n\nEen alinea.\n', "utf-8")
    refused = run("posts", "import", str(folder))
    assert refused.exit_code == 1
    assert "raar.md:3: front matter key 'draft' must be true or false" in refused.stderr
