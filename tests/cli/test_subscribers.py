"""Every subscriber command end to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.db.database import open_database
from newsletter.db.models import Event, Subscriber
from tests.support.cli import NewsletterCli


@pytest.fixture
def newsletter(database_url: str, tmp_path: Path) -> NewsletterCli:
    return NewsletterCli(database_url, tmp_path)


def test_add_normalises_and_is_idempotent(newsletter: NewsletterCli) -> None:
    assert newsletter.ok("subscribers", "add", " Anna@Example.NL ", "--name", "Anna") == (
        "anna@example.nl: added\n"
    )
    assert newsletter.ok("subscribers", "add", "anna@example.nl") == (
        "anna@example.nl: already subscribed\n"
    )
    assert newsletter.ok("subscribers", "add", "ANNA@example.nl", "--name", "Anna de Vries") == (
        "anna@example.nl: updated\n"
    )
    rows = newsletter.subscribers()
    assert list(rows) == ["anna@example.nl"]
    assert rows["anna@example.nl"]["name"] == "Anna de Vries"
    assert rows["anna@example.nl"]["status"] == "active"


@pytest.mark.parametrize(
    "address", ["no-at-sign", "a@b", "two@@example.nl", "", "jürgen@example.nl"]
)
def test_add_invalid_address_is_one_line(newsletter: NewsletterCli, address: str) -> None:
    assert "invalid e-mail address" in newsletter.fails("subscribers", "add", address)
    assert newsletter.subscribers() == {}


def test_remove_then_add_is_refused_unless_resubscribe(newsletter: NewsletterCli) -> None:
    newsletter.ok("subscribers", "add", "bram@example.nl")
    assert newsletter.ok("subscribers", "remove", "Bram@example.nl") == (
        "bram@example.nl: unsubscribed\n"
    )
    row = newsletter.subscribers()["bram@example.nl"]
    assert row["status"] == "unsubscribed"
    assert row["unsubscribe_source"] == "admin"
    assert "their choice is respected" in newsletter.fails("subscribers", "add", "bram@example.nl")
    assert newsletter.subscribers()["bram@example.nl"]["status"] == "unsubscribed"
    assert newsletter.ok("subscribers", "add", "bram@example.nl", "--resubscribe") == (
        "bram@example.nl: resubscribed\n"
    )
    assert newsletter.subscribers()["bram@example.nl"]["status"] == "active"


def test_remove_unknown_address_fails(newsletter: NewsletterCli) -> None:
    assert "no subscriber" in newsletter.fails("subscribers", "remove", "ghost@example.nl")


def test_forget_erases_personal_data_and_blocks_reimport(
    newsletter: NewsletterCli, tmp_path: Path
) -> None:
    newsletter.ok("subscribers", "add", "cor@example.nl", "--name", "Cor")
    newsletter.ok("subscribers", "remove", "cor@example.nl", "--forget")
    assert newsletter.subscribers() == {}
    database = open_database(newsletter.database_url)
    with database.session() as session:
        row = session.scalars(select(Subscriber)).one()
        assert row.email is None and row.name is None
        assert row.forgotten_hash and "cor" not in row.forgotten_hash
        events = session.scalars(select(Event).order_by(Event.id)).all()
        assert [e.kind for e in events] == ["subscribe", "unsubscribe", "forget"]
        assert all("cor@example.nl" not in json.dumps(e.detail) for e in events)
    database.dispose()

    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name\nCOR@example.nl,Cor\nnew@example.nl,Nieuw\n", encoding="utf-8")
    result = newsletter("subscribers", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "added 1, updated 0, skipped 1, invalid 0" in result.stdout
    assert "line 2: skipped: this address was erased on request" in result.stderr
    assert list(newsletter.subscribers()) == ["new@example.nl"]
    assert "erased on request" in newsletter.fails("subscribers", "add", "cor@example.nl")
    newsletter.ok("subscribers", "add", "cor@example.nl", "--resubscribe")
    assert newsletter.subscribers()["cor@example.nl"]["status"] == "active"
    # Forgetting the same address a second time works too.
    newsletter.ok("subscribers", "remove", "cor@example.nl", "--forget")
    assert "cor@example.nl" not in newsletter.subscribers()


MIXED_CSV = """\
Naam;E-mail;Status
Anna;anna@example.nl;
Bram;not-an-address;
;
Cor;cor@example.nl;active
Anna again;ANNA@example.nl;
Dirk;dirk@example.nl;unsubscribed
Eva;eva@example.nl;sleeping
Gijs;gijs@example.nl
"""


def test_import_mixed_rows_reports_line_numbers(newsletter: NewsletterCli, tmp_path: Path) -> None:
    newsletter.ok("subscribers", "add", "gijs@example.nl")
    newsletter.ok("subscribers", "remove", "gijs@example.nl")
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED_CSV, encoding="utf-8")

    dry = newsletter("subscribers", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written: added 3, updated 0, skipped 2, invalid 2" in dry.stdout
    assert list(newsletter.subscribers()) == ["gijs@example.nl"]

    result = newsletter("subscribers", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "added": 3,
        "updated": 0,
        "skipped": 2,
        "invalid": 2,
        "dry_run": False,
    }
    assert "line 3: invalid e-mail address 'not-an-address'" in result.stderr
    assert "line 8: unknown status 'sleeping'" in result.stderr
    rows = newsletter.subscribers()
    assert rows["anna@example.nl"]["name"] == "Anna"
    assert rows["dirk@example.nl"]["status"] == "unsubscribed"
    assert rows["gijs@example.nl"]["status"] == "unsubscribed"  # never re-activated
    again = newsletter("subscribers", "import", str(path), "--json")
    assert json.loads(again.stdout)["added"] == 0


def test_import_headerless_file(newsletter: NewsletterCli, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("fien@example.nl,Fien\nhans@example.nl\n", encoding="utf-8")
    assert "added 2" in newsletter.ok("subscribers", "import", str(path))
    assert newsletter.subscribers()["fien@example.nl"]["name"] == "Fien"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        (b"naam,woonplaats\nAnna,Delft\n", "no email column"),
        (b"", "the file is empty"),
        ("email,naam\nzoe@example.nl,Zoë\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_import_of_a_bad_file_writes_nothing(
    newsletter: NewsletterCli, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert message in newsletter.fails("subscribers", "import", str(path))
    assert newsletter.subscribers() == {}


def test_import_missing_file_is_a_usage_error(newsletter: NewsletterCli, tmp_path: Path) -> None:
    result = newsletter("subscribers", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_export_round_trip(newsletter: NewsletterCli, tmp_path: Path, database_url: str) -> None:
    newsletter.ok("subscribers", "add", "zoe@example.nl", "--name", 'Zoë, "de" Wit')
    newsletter.ok("subscribers", "add", "ben@example.nl")
    newsletter.ok("subscribers", "add", "out@example.nl")
    newsletter.ok("subscribers", "remove", "out@example.nl")
    exported = newsletter.ok("subscribers", "export")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["email"] for r in rows] == ["zoe@example.nl", "ben@example.nl", "out@example.nl"]

    path = tmp_path / "export.csv"
    path.write_text(exported, encoding="utf-8")
    other = NewsletterCli(f"sqlite:///{tmp_path}/other.db", tmp_path)
    assert "added 3" in other.ok("subscribers", "import", str(path))
    before = {e: (r["name"], r["status"]) for e, r in newsletter.subscribers().items()}
    after = {e: (r["name"], r["status"]) for e, r in other.subscribers().items()}
    assert before == after

    as_json = json.loads(newsletter.ok("subscribers", "export", "--format", "json"))
    assert [r["email"] for r in as_json] == [r["email"] for r in rows]


def test_show_export_and_status_carry_the_proof_of_consent(
    newsletter: NewsletterCli, tmp_path: Path
) -> None:
    newsletter.ok("subscribers", "add", "anna@example.nl", "--name", "Anna")
    csv_file = tmp_path / "oude-lijst.csv"
    csv_file.write_text("email\nbram@example.nl\n", encoding="utf-8")
    newsletter.ok("subscribers", "import", str(csv_file))

    shown = newsletter.ok("subscribers", "show", "ANNA@example.nl").splitlines()
    assert "consent: came through the CLI (admin)" in shown
    assert any(line.startswith("signed_up_at        20") for line in shown)
    assert not any("NO EVIDENCE" in line for line in shown)
    imported = newsletter.ok("subscribers", "show", "bram@example.nl")
    assert "consent: came through an import of oude-lijst.csv" in imported
    assert "consent: NO EVIDENCE on record (no sign-up moment)" in imported
    as_json = json.loads(newsletter.ok("subscribers", "show", "bram@example.nl", "--json"))
    assert (as_json["consent_source"], as_json["consent_file"]) == ("import", "oude-lijst.csv")
    assert (as_json["consent_recorded"], as_json["signed_up_at"]) == (False, None)
    assert "no subscriber with address nobody@example.nl" in newsletter.fails(
        "subscribers", "show", "nobody@example.nl"
    )

    rows = {
        r["email"]: r for r in csv.DictReader(io.StringIO(newsletter.ok("subscribers", "export")))
    }
    assert (rows["anna@example.nl"]["consent_source"], rows["bram@example.nl"]["consent_file"]) == (
        "cli",
        "oude-lijst.csv",
    )
    assert rows["anna@example.nl"]["signed_up_at"] and not rows["bram@example.nl"]["signed_up_at"]
    status = json.loads(newsletter.ok("status", "--json"))["readers"]
    assert status == {"receiving": 2, "paused": 0, "without_consent_evidence": 1}

    newsletter.ok("subscribers", "remove", "anna@example.nl", "--forget")
    database = open_database(newsletter.database_url)
    with database.session() as session:
        erased = session.scalars(select(Subscriber).where(Subscriber.email.is_(None))).one()
        kept = (erased.consent_source, erased.signed_up_at, erased.consent_form_hash)
    database.dispose()
    assert kept == (None, None, None)


def test_list_and_count_json_shapes(newsletter: NewsletterCli) -> None:
    assert json.loads(newsletter.ok("subscribers", "list", "--json")) == []
    newsletter.ok("subscribers", "add", "a@example.nl", "--name", "A")
    newsletter.ok("subscribers", "add", "b@example.nl")
    newsletter.ok("subscribers", "remove", "b@example.nl")
    listed = json.loads(newsletter.ok("subscribers", "list", "--json"))
    assert {"email", "name", "status"} <= set(listed[0])
    active = json.loads(newsletter.ok("subscribers", "list", "--status", "active", "--json"))
    assert [r["email"] for r in active] == ["a@example.nl"]
    counts = json.loads(newsletter.ok("subscribers", "count", "--json"))
    assert counts["active"] == 1 and counts["unsubscribed"] == 1 and counts["total"] == 2
    table = newsletter.ok("subscribers", "list")
    assert "a@example.nl" in table and "b@example.nl" in table


def test_console_script_runs_with_global_config_option(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n', encoding="utf-8")
    script = Path(sys.executable).with_name("newsletter")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    run = subprocess.run(
        [str(script), "--config", str(config), "subscribers", "add", "x@example.nl"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "x@example.nl: added\n"
    bad = subprocess.run(
        [str(script), "--config", str(config), "subscribers", "add", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: invalid e-mail address 'nope'")
    assert "Traceback" not in bad.stderr
