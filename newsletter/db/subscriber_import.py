"""Bulk import of subscribers from CSV, streamed in batches so file size never shows in memory.

The whole import is one transaction (the caller's session): a crash or a dead database
leaves the list as it was, and ``--dry-run`` is the same work rolled back. Opt-outs win
over the file: an unsubscribed, bounced, complained or erased address is never made
active by an import, while a row whose ``status`` says unsubscribed/bounced/complained
does mark an existing subscriber that way (importing a suppression list).

A new reader from a file is recorded as come by import, with the file's name, and without
evidence of consent (no sign-up moment): ``subscribers show`` says so, ``status`` counts
them, and the owner keeps the proof that came with the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TextIO

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    any_,
    bindparam,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from newsletter.db.models import ConsentSource, Event, Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscribers import (
    OPTED_OUT,
    clean_name,
    forget_salt,
    forgotten_hash,
    normalise_address,
)
from newsletter.errors import InputError

BATCH_SIZE = 5000
FILE_NAME_MAX_LENGTH = 255  # the column's width
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection");
# the apostrophe is the spreadsheet's own "this is text" mark, so it prefixes them on export.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
EMAIL_HEADERS = {"email", "emailaddress", "mail", "emailadres", "mailadres", "address"}
NAME_HEADERS = {"name", "naam", "fullname", "volledigenaam"}
STATUS_HEADERS = {"status"}
IMPORTABLE_STATUSES = {
    "": SubscriberStatus.ACTIVE,
    "active": SubscriberStatus.ACTIVE,
    "pending": SubscriberStatus.PENDING,
    "unsubscribed": SubscriberStatus.UNSUBSCRIBED,
    "bounced": SubscriberStatus.BOUNCED,
    "complained": SubscriberStatus.COMPLAINED,
}


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "invalid": self.invalid,
        }


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    name: str | None
    status: SubscriberStatus


@dataclass(frozen=True)
class _Columns:
    email: int
    name: int | None
    status: int | None


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never runs it; :func:`from_spreadsheet` undoes it.

    Anyone can sign up with a name like ``=HYPERLINK(...)``, and the owner opens the export
    in a spreadsheet. A cell that already starts with the mark gets one more, so that
    importing an export gives back every value exactly.
    """
    return TEXT_MARK + cell if cell.startswith((*FORMULA_TRIGGERS, TEXT_MARK)) else cell


def from_spreadsheet(cell: str) -> str:
    """The value behind a cell written by :func:`spreadsheet_safe` (other cells as they are)."""
    if cell.startswith(TEXT_MARK) and cell[1:].startswith((*FORMULA_TRIGGERS, TEXT_MARK)):
        return cell[1:]
    return cell


def _header_key(cell: str) -> str:
    return "".join(ch for ch in cell.strip().lower() if ch.isalnum())


def _detect_columns(first_row: list[str]) -> tuple[_Columns, bool]:
    """Find the columns; returns them and whether the first row was a header."""
    keys = [_header_key(cell) for cell in first_row]

    def position(names: set[str]) -> int | None:
        return next((i for i, key in enumerate(keys) if key in names), None)

    email = position(EMAIL_HEADERS)
    if email is not None:
        return _Columns(email, position(NAME_HEADERS), position(STATUS_HEADERS)), True
    if first_row and "@" in first_row[0]:
        return _Columns(0, 1 if len(first_row) > 1 else None, None), False
    raise InputError("no email column: the first row names no 'email' column and holds no address")


def _rows(stream: TextIO, problems: Callable[[RowProblem], None]) -> Iterator[_Row | None]:
    """Parsed rows in file order; ``None`` for a row that was invalid (already reported)."""
    try:
        sample = stream.read(64 * 1024)
    except UnicodeDecodeError:
        raise InputError("not a CSV file: it is not UTF-8 text") from None
    if "\x00" in sample:
        raise InputError("not a CSV file: it contains binary data")
    if not sample.strip():
        raise InputError("the file is empty")
    first_line = sample.splitlines()[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in Dutch locales write ';'
    reader = csv.reader(_chain_text(sample, stream), delimiter=delimiter)
    try:
        first = next(reader)
        columns, had_header = _detect_columns(first)
        if not had_header:
            yield _parse_row(first, columns, reader.line_num, problems)
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield _parse_row(cells, columns, reader.line_num, problems)
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: not valid CSV: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"after line {reader.line_num}: the file is not UTF-8 text") from None


def _chain_text(head: str, rest: TextIO) -> Iterator[str]:
    """Lines of ``head`` followed by the rest of the stream, without reading it all."""
    buffer = io.StringIO(head)
    pending = ""
    for line in buffer:
        if line.endswith(("\n", "\r")):
            yield pending + line
            pending = ""
        else:
            pending += line
    for line in rest:
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _parse_row(
    cells: list[str], columns: _Columns, line: int, problems: Callable[[RowProblem], None]
) -> _Row | None:
    def cell(index: int | None) -> str:
        if index is None or index >= len(cells):
            return ""
        return from_spreadsheet(cells[index].strip())

    try:
        email = normalise_address(cell(columns.email))
        name = clean_name(cell(columns.name) or None)
        status_text = cell(columns.status).lower()
        if status_text not in IMPORTABLE_STATUSES:
            raise InputError(f"unknown status {status_text!r}")
    except InputError as exc:
        problems(RowProblem(line, str(exc)))
        return None
    return _Row(line, email, name, IMPORTABLE_STATUSES[status_text])


def _batches(rows: Iterable[_Row | None], size: int) -> Iterator[list[_Row | None]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def import_csv(
    session: Session,
    stream: TextIO,
    *,
    report: Callable[[RowProblem], None],
    file_name: str | None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import ``stream``; ``file_name`` is kept with each new reader as where they came from."""
    summary = ImportSummary()
    salt = forget_salt(session)
    erased = set(
        session.scalars(
            select(Subscriber.forgotten_hash).where(Subscriber.forgotten_hash.is_not(None))
        )
    )
    statistics = _PlannerStatistics(session)
    for batch in _batches(_rows(stream, report), batch_size):
        statistics.refresh_if_grown(summary.added)
        valid: dict[str, _Row] = {}
        for row in batch:
            if row is None:
                summary.invalid += 1
            elif row.email in valid:
                summary.skipped += 1
            elif erased and forgotten_hash(salt, row.email) in erased:
                report(RowProblem(row.line, "skipped: this address was erased on request"))
                summary.skipped += 1
            else:
                valid[row.email] = row
        _apply_batch(session, valid, summary, file_name)
    return summary


class _PlannerStatistics:
    """Keeps PostgreSQL's planner informed while one transaction fills the table.

    Without fresh statistics the planner still believes ``subscribers`` is as small as
    before the import and looks addresses up with a sequential scan: quadratic time
    (seen: 200,000 rows at a third of the speed of 50,000). ``ANALYZE`` each time the
    table has doubled keeps the lookups on the unique index at a logarithmic cost.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._enabled = session.get_bind().dialect.name == "postgresql"
        self._analysed_at = 0

    def refresh_if_grown(self, added: int) -> None:
        if self._enabled and added >= max(2 * self._analysed_at, BATCH_SIZE):
            self._session.execute(text("ANALYZE subscribers"))
            self._analysed_at = added


def _apply_batch(
    session: Session, rows: dict[str, _Row], summary: ImportSummary, file_name: str | None
) -> None:
    existing = {
        subscriber.email: subscriber
        for subscriber in session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status).where(
                _among(session, list(rows))
            )
        )
    }
    now = utcnow()
    new = [row for email, row in rows.items() if email not in existing]
    _insert_new(session, new, now, file_name)
    summary.added += len(rows) - len(existing)
    _update_existing(session, existing, rows, summary, now)


def _among(session: Session, emails: list[str]) -> ColumnElement[bool]:
    """``email IN (…)``; on PostgreSQL as one array parameter, since a thousand separate
    ones cost more to render and send than the lookup itself."""
    if session.get_bind().dialect.name == "postgresql":
        return Subscriber.email == any_(bindparam("emails", emails, type_=ARRAY(String)))
    return Subscriber.email.in_(emails)


_COPY_NEW = (
    "COPY subscribers (email, name, status, created_at, confirmed_at, unsubscribed_at,"
    " unsubscribe_source, consent_source, consent_file) FROM STDIN"
)
_INSERT_NEW = (
    "INSERT INTO subscribers (email, name, status, created_at, confirmed_at, unsubscribed_at,"
    " unsubscribe_source, consent_source, consent_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _insert_new(session: Session, rows: list[_Row], now: datetime, file_name: str | None) -> None:
    """The batch's new readers, and an import event for each.

    Past SQLAlchemy's per-row work (the ORM's bookkeeping, a type conversion for every
    value), which was most of an import's time: PostgreSQL takes the rows by ``COPY``,
    SQLite by the driver's ``executemany``, with the moment converted once per batch by
    the dialect's own processor. The events follow in one ``INSERT … SELECT`` by address.
    """
    if not rows:
        return
    connection = session.connection()
    moment_type = Subscriber.__table__.c.created_at.type
    processor = moment_type.bind_processor(connection.dialect)
    moment = processor(now) if processor else now
    source = file_name[:FILE_NAME_MAX_LENGTH] if file_name else None
    values = [
        (
            row.email,
            row.name,
            row.status.value,
            moment,
            moment if row.status == SubscriberStatus.ACTIVE else None,
            moment if row.status in OPTED_OUT else None,
            "import" if row.status in OPTED_OUT else None,
            ConsentSource.IMPORT.value,
            source,
        )
        for row in rows
    ]
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(_COPY_NEW) as copy:
            for value in values:
                copy.write_row(value)
    else:
        connection.exec_driver_sql(_INSERT_NEW, values)
    new_readers = select(
        literal("import"), literal("import"), Subscriber.id, literal(now, moment_type)
    ).where(_among(session, [row.email for row in rows]))
    session.execute(
        insert(Event).from_select(["kind", "actor", "subscriber_id", "occurred_at"], new_readers)
    )


def _update_existing(
    session: Session,
    existing: dict[str, Any],
    rows: dict[str, _Row],
    summary: ImportSummary,
    now: datetime,
) -> None:
    """Readers already on the list: a new name, or an opt-out, is taken; an opted-out
    reader's record stays exactly as they left it."""
    changed_events = []
    for email, current in existing.items():
        row = rows[email]
        if current.status in OPTED_OUT:
            summary.skipped += 1
            continue
        changes: dict[str, object] = {}
        if row.name and row.name != current.name:
            changes["name"] = row.name
        if row.status in OPTED_OUT:
            changes.update(status=row.status, unsubscribed_at=now, unsubscribe_source="import")
        if not changes:
            summary.skipped += 1
            continue
        session.execute(update(Subscriber).where(Subscriber.id == current.id).values(**changes))
        changed_events.append(
            {
                "kind": "import",
                "actor": "import",
                "subscriber_id": current.id,
                "occurred_at": now,
                "detail": {"changed": sorted(changes)},
            }
        )
        summary.updated += 1
    if changed_events:
        session.execute(insert(Event), changed_events)
