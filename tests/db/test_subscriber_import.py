"""The CSV import as a unit, on one session: columns found by header or by shape, opt-outs
that win over the file, and spreadsheet-safe cells that come back exactly.

The command around it (``subscribers import``, its report and ``--dry-run``) is tested
through the CLI in ``tests/cli/test_subscribers.py``.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from newsletter.db import subscribers
from newsletter.db.database import Database
from newsletter.db.models import ConsentSource, Event, Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscriber_import import (
    ImportSummary,
    RowProblem,
    from_spreadsheet,
    import_csv,
    spreadsheet_safe,
)
from newsletter.errors import InputError
from tests.support.db import add_subscriber


def run_import(
    database: Database, text: str, batch_size: int = 1000
) -> tuple[ImportSummary, list[RowProblem], dict[str, tuple[str | None, SubscriberStatus]]]:
    problems: list[RowProblem] = []
    with database.session() as session:
        summary = import_csv(
            session,
            io.StringIO(text),
            report=problems.append,
            file_name="lijst.csv",
            batch_size=batch_size,
        )
        session.commit()
    with database.session() as session:
        rows = {s.email: (s.name, s.status) for s in session.scalars(select(Subscriber))}
    return summary, problems, {email: row for email, row in rows.items() if email}


def test_a_header_names_the_columns_in_any_order_and_language(database: Database) -> None:
    summary, problems, rows = run_import(
        database, "Naam;E-mailadres\nAnna;anna@example.nl\nBram;BRAM@example.nl\n"
    )
    assert (summary.added, problems) == (2, [])
    assert rows == {
        "anna@example.nl": ("Anna", SubscriberStatus.ACTIVE),
        "bram@example.nl": ("Bram", SubscriberStatus.ACTIVE),
    }


def test_without_a_header_the_first_column_is_the_address(database: Database) -> None:
    summary, _, rows = run_import(database, "anna@example.nl,Anna\ngeen-adres,X\n")
    assert (summary.added, summary.invalid) == (1, 1)
    assert rows == {"anna@example.nl": ("Anna", SubscriberStatus.ACTIVE)}


def test_a_file_without_addresses_is_refused(database: Database) -> None:
    with pytest.raises(InputError, match="no email column"):
        run_import(database, "naam,plaats\nAnna,Utrecht\n")


def test_an_unsubscribed_reader_stays_unsubscribed(database: Database) -> None:
    add_subscriber(database, "weg@example.nl", SubscriberStatus.UNSUBSCRIBED)
    summary, _, rows = run_import(database, "email\nweg@example.nl\nnieuw@example.nl\n")
    assert summary.added == 1
    assert rows["weg@example.nl"][1] == SubscriberStatus.UNSUBSCRIBED


def test_a_reader_from_a_file_is_stored_as_the_list_reads_it(database: Database) -> None:
    """The bulk path (COPY, the driver's executemany) writes what the ORM would have:
    aware UTC moments, the consent of a file, and one import event at the same moment."""
    before = utcnow()
    run_import(
        database, "email,name,status\nanna@example.nl,Anna,\nbram@example.nl,,unsubscribed\n"
    )
    with database.session() as session:
        anna = subscribers.find(session, "anna@example.nl")
        bram = subscribers.find(session, "bram@example.nl")
        assert anna is not None and bram is not None
        assert before <= anna.created_at == anna.confirmed_at <= utcnow()
        assert anna.created_at.tzinfo is not None and anna.unsubscribed_at is None
        assert (anna.consent_source, anna.consent_file) == (ConsentSource.IMPORT, "lijst.csv")
        assert (bram.status, bram.confirmed_at) == (SubscriberStatus.UNSUBSCRIBED, None)
        assert (bram.unsubscribed_at, bram.unsubscribe_source) == (bram.created_at, "import")
        events = session.execute(select(Event.subscriber_id, Event.kind, Event.occurred_at)).all()
    assert sorted(events) == [
        (anna.id, "import", anna.created_at),
        (bram.id, "import", bram.created_at),
    ]


def test_a_duplicate_across_batches_is_one_subscriber(database: Database) -> None:
    text = "email\n" + "".join(f"lezer{n}@example.nl\n" for n in range(5)) + "lezer0@example.nl\n"
    summary, _, rows = run_import(database, text, batch_size=2)
    assert len(rows) == 5 and summary.added == 5


@given(st.text())
def test_a_spreadsheet_cell_gives_back_exactly_what_was_written(cell: str) -> None:
    safe = spreadsheet_safe(cell)
    assert from_spreadsheet(safe) == cell
    assert not safe.startswith(("=", "+", "-", "@"))
