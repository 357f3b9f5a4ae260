"""The database schema as typed SQLAlchemy models.

The migrations in ``migrations/`` create exactly these tables; a test runs ``alembic
check`` so the two never drift. Status values are plain strings guarded by CHECK
constraints (portable across SQLite and PostgreSQL, and readable in a SQL shell).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_moment(value: datetime | None) -> str | None:
    """A moment as JSON carries it (ISO 8601), or None."""
    return value.isoformat() if value else None


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class EditionStatus(enum.StrEnum):
    DRAFT = "draft"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"


# The deferred deliveries, as SQL, for the partial index of them.
DEFERRED = "status = 'deferred'"


def _one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class ConsentSource(enum.StrEnum):
    """How a reader came onto the list (``subscribers show`` prints it as evidence)."""

    FORM = "form"
    API = "api"
    CLI = "cli"
    IMPORT = "import"


class Subscriber(Base):
    """A person on the list. ``email`` is NULL once the subscriber was forgotten (GDPR).

    Addresses are stored lower-cased, which makes uniqueness case-insensitive on every
    database; ``forgotten_hash`` keeps a salted hash of a forgotten address so an import
    can recognise it without knowing it.

    ``paused_until``: editions made before then skip the reader (the pause ends by itself).
    ``new_email``: an address the reader asked to move to, mailed a confirm link at
    ``new_email_requested_at``; the old one keeps receiving until it is confirmed.
    The ``consent_*`` columns and ``signed_up_at`` are the proof of consent (GDPR art. 7(1));
    erasing the reader clears them (see ``db/consent.py``).
    """

    __tablename__ = "subscribers"
    __table_args__ = (
        _one_of("status", SubscriberStatus),
        # The readers an edition goes to, paused or not, with proof of consent or not:
        # counted from the index alone (see 0010).
        Index(
            "ix_subscribers_receiving",
            "status",
            "paused_until",
            "signed_up_at",
            postgresql_where=text("email IS NOT NULL"),
            sqlite_where=text("email IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    unsubscribe_source: Mapped[str | None] = mapped_column(String(32))
    forgotten_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paused_until: Mapped[datetime | None]
    new_email: Mapped[str | None] = mapped_column(String(320))
    new_email_requested_at: Mapped[datetime | None]
    # A value of ConsentSource; no CHECK (see migration 0008: it would rebuild the table).
    consent_source: Mapped[str | None] = mapped_column(String(16))
    consent_file: Mapped[str | None] = mapped_column(String(255))
    signed_up_at: Mapped[datetime | None]
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_user_agent: Mapped[str | None] = mapped_column(String(500))
    consent_form_hash: Mapped[str | None] = mapped_column(String(64))


class Post(Base):
    """A post in the send queue; ``document`` is the parsed ``content.Post`` as JSON."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    published_at: Mapped[datetime | None]
    position: Mapped[float | None] = mapped_column(Float)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set for posts that came from a feed: the item's identity and the feed it came from.
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id"), index=True)
    guid: Mapped[str | None] = mapped_column(Text, index=True)
    link: Mapped[str | None] = mapped_column(Text, index=True)


class Feed(Base):
    """A configured feed and what the last polls learned about it.

    ``added_at`` is when the feed was first polled: items published after it are new posts
    and go out before the back catalogue. ``etag``/``last_modified`` are the validators of
    the last good response (for a conditional GET); ``failing_since`` is set from the first
    failed poll until the next good one.
    """

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertStatus(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    LOGGED = "logged"


class OwnerAlert(Base):
    """Something the owner must hear about: one per cause per period (``period``: an ISO
    week). Recorded ``pending`` by whoever knows the cause, ``claimed`` by the one mailer
    while it mails (``tried_at``), then ``sent``; ``logged`` when there is no owner address.
    ``details`` holds the mail's ``paragraphs`` and ``report``, and for the returns alert
    the numbers the hold rule quotes."""

    __tablename__ = "owner_alerts"
    __table_args__ = (UniqueConstraint("cause", "period"), _one_of("status", AlertStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    cause: Mapped[str] = mapped_column(String(2100))
    period: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    tried_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Edition(Base):
    """One send of one post. ``week_key`` (e.g. ``2026-W48``) makes a scheduled week unique."""

    __tablename__ = "editions"
    __table_args__ = (_one_of("status", EditionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    week_key: Mapped[str | None] = mapped_column(String(16), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class EditionCard(Base):
    """A post shown as a short card in an edition of another post (a busy week): it went
    out with that edition, so it is sent and never becomes an edition of its own."""

    __tablename__ = "edition_cards"

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class Delivery(Base):
    """The per-recipient ledger row: what happened to one edition for one subscriber."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        Index("ix_deliveries_work", "edition_id", "status", "next_attempt_at"),
        Index("ix_deliveries_edition_domain", "edition_id", "domain", "status"),
        # Partial indexes of the few rows a query looks for among every edition's (see
        # migration 0010); their conditions are written as the queries write theirs.
        Index(
            "ix_deliveries_deferred",
            "status",
            "next_attempt_at",
            postgresql_where=text(DEFERRED),
            sqlite_where=text(DEFERRED),
        ),
        Index(
            "ix_deliveries_soft_bounce",
            "edition_id",
            postgresql_where=text("soft_bounce IS true"),
            sqlite_where=text("soft_bounce IS 1"),
        ),
        _one_of("status", DeliveryStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_reply: Mapped[str | None] = mapped_column(Text)
    # This edition soft-bounced: the reader's mailbox answered 4xx (see attempt.py) and no
    # retry delivered it (a delivery clears it), or a late soft bounce report came for it.
    soft_bounce: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]
    # The receiving domain of the reader's address when the edition was made (NULL for an
    # erased reader): the suspect rule and the figures per domain count by it, from an index.
    domain: Mapped[str | None] = mapped_column(String(255))


class Event(Base):
    """Append-only log of who did what to whom, and when (never updated, never deleted)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_edition_id_kind", "edition_id", "kind"),
        Index("ix_events_kind_occurred_at", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReportResult(enum.StrEnum):
    """What a stored report did: the verdict's kind (see ``returns.parse.Kind``), ``ignored``
    when it was tied to no delivery of ours, or ``suspect``: a hard verdict held back
    because its domain refused too much of one edition at once (``returns.suspect``)."""

    HARD = "hard"
    SOFT = "soft"
    SENDER = "sender"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    SUSPECT = "suspect"
    IGNORED = "ignored"


class BounceReport(Base):
    """One verdict of a bounce, complaint or other message that came back after the relay
    said yes: one row per recipient a report names (``part``: the verdict's place in the
    message's verdicts).

    ``fingerprint`` (SHA-256 of the message, or of the webhook event) and ``part`` are
    unique together, so the same report fed in twice (a re-run pipe, a mailbox polled
    again, a webhook retried) is recognised and changes nothing. No address is stored
    here, only the receiving ``domain``: the subscriber row has the address, and erasing
    a subscriber (GDPR) erases it everywhere. ``reason`` is the cause as a category
    (``userunknown``, ``blocked``...), ``diagnostic`` the reporting server's words.
    """

    __tablename__ = "bounce_reports"
    __table_args__ = (
        UniqueConstraint("fingerprint", "part"),
        Index("ix_bounce_reports_edition_domain", "edition_id", "domain"),
        _one_of("result", ReportResult),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    part: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    diagnostic: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))
    reply_code: Mapped[int | None] = mapped_column(Integer)
    domain: Mapped[str | None] = mapped_column(String(255))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))


class OwnerLogin(Base):
    """One login of the owner's area: a mailed one-time link, then the session it opened.

    Only a hash of the link's token is stored, so a copy of the database opens nothing.
    ``used_at`` is set once, by one conditional UPDATE (the link works once); the session
    cookie names the row, and ``ended_at`` (logging out) ends that session wherever the
    cookie is kept."""

    __tablename__ = "owner_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class InstallationSecret(Base):
    """Values generated once per database, such as the salt of forgotten-address hashes."""

    __tablename__ = "installation"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SendPace(Base):
    """The one row every sender locks to take from the shared budget (see delivery/budget):
    ``next_slot`` is when the next message may go under ``smtp.max_per_second``, in epoch
    seconds, on one grid for all senders."""

    __tablename__ = "send_pace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_slot: Mapped[float] = mapped_column(Float)


class SendCount(Base):
    """Messages handed to the relay per minute (epoch minutes), by every sender together:
    what ``smtp.max_per_hour`` and ``max_per_day`` are counted against."""

    __tablename__ = "send_counts"

    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sent: Mapped[int] = mapped_column(Integer)
