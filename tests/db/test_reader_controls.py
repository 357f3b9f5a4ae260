"""What a reader changes on their own page, at the database: pause, name, a new address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter.db import reader_controls
from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus, utcnow
from newsletter.errors import InputError
from tests.support.db import add_subscriber, events_of, subscriber_row


def test_a_pause_is_a_date_and_a_new_one_replaces_the_old(database: Database) -> None:
    reader = add_subscriber(database, "anna@example.nl")
    before = utcnow()
    with database.session() as session:
        shown = reader_controls.pause(session, reader, 8)
    assert shown is not None and shown.paused_until is not None
    assert before + timedelta(weeks=8) <= shown.paused_until <= utcnow() + timedelta(weeks=8)
    with database.session() as session:
        shorter = reader_controls.pause(session, reader, 2)
    assert shorter is not None and shorter.paused_until is not None
    assert shorter.paused_until < shown.paused_until
    with database.session() as session:
        resumed = reader_controls.resume(session, reader)
    assert resumed is not None and resumed.paused_until is None
    assert subscriber_row(database, reader).paused_until is None
    assert events_of(database, reader) == [("pause", "web"), ("pause", "web"), ("resume", "web")]
    with database.session() as session, pytest.raises(InputError, match="2, 4, 8 weeks"):
        reader_controls.pause(session, reader, 3)


def test_only_an_active_reader_manages_a_subscription(database: Database) -> None:
    gone = add_subscriber(database, "weg@example.nl", SubscriberStatus.UNSUBSCRIBED)
    with database.session() as session:
        assert reader_controls.pause(session, gone, 2) is None
        assert reader_controls.rename(session, gone, "Weg") is None
        assert reader_controls.request_move(session, gone, "nieuw@example.nl") is None
        shown = reader_controls.settings_of(session, gone)
    assert shown is not None and not shown.active
    row = subscriber_row(database, gone)
    assert (row.paused_until, row.name, row.new_email) == (None, None, None)


def test_the_greeting_name_is_cleaned_and_may_be_emptied(database: Database) -> None:
    reader = add_subscriber(database, "anna@example.nl", name="Anna")
    with database.session() as session:
        shown = reader_controls.rename(session, reader, "  Anne\nMarie ")
    assert shown is not None and shown.name == "Anne Marie"
    with database.session() as session:
        reader_controls.rename(session, reader, "")
        with pytest.raises(InputError, match="longer than 200"):
            reader_controls.rename(session, reader, "x" * 201)
    assert subscriber_row(database, reader).name is None


def test_a_move_waits_for_the_new_address_and_a_newer_request_spends_older_links(
    database: Database,
) -> None:
    reader = add_subscriber(database, "oud@example.nl")
    with database.session() as session:
        asked = reader_controls.request_move(session, reader, "nieuw@example.nl")
    assert asked is not None and asked[0] == "requested"
    made = utcnow().replace(microsecond=0)
    assert subscriber_row(database, reader).email == "oud@example.nl"  # still receiving
    with database.session() as session:
        assert reader_controls.move_page(session, reader, made) == "to confirm"
        assert reader_controls.move_page(session, reader, made - timedelta(seconds=5)) == "spent"
        assert reader_controls.confirm_move(session, reader, made) == (
            "moved",
            reader_controls.Moved("oud@example.nl", "nieuw@example.nl", None),
        )
    row = subscriber_row(database, reader)
    assert (row.email, row.new_email) == ("nieuw@example.nl", None)
    with database.session() as session:  # the link again: nothing left to confirm
        assert reader_controls.confirm_move(session, reader, made) == ("spent", None)
        assert reader_controls.request_move(session, reader, "nieuw@example.nl") == ("same", None)


def test_an_address_of_another_reader_is_never_taken(database: Database) -> None:
    reader = add_subscriber(database, "oud@example.nl")
    add_subscriber(database, "bezet@example.nl")
    with database.session() as session:
        assert reader_controls.request_move(session, reader, "bezet@example.nl") == (
            "taken",
            None,
        )
        reader_controls.request_move(session, reader, "vrij@example.nl")
    made = utcnow().replace(microsecond=0)
    add_subscriber(database, "vrij@example.nl")  # someone signs up with it before the click
    with database.session() as session:
        assert reader_controls.confirm_move(session, reader, made) == ("taken", None)
    assert subscriber_row(database, reader).email == "oud@example.nl"
