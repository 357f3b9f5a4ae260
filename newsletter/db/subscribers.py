"""The subscriber list: adding, removing, forgetting and listing people.

A subscriber's choice to leave is final for everything an admin or an import does: only
an explicit ``resubscribe`` (the admin saying the person asked) or, later, the person's
own confirmed sign-up brings them back. Every change writes an event.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter.content.classify import clean_display_name
from newsletter.db import consent
from newsletter.db.consent import ConsentEvidence
from newsletter.db.events import record_event
from newsletter.db.models import (
    ConsentSource,
    Delivery,
    InstallationSecret,
    Subscriber,
    SubscriberStatus,
    iso_moment,
    utcnow,
)
from newsletter.errors import InputError, NotFoundError

NAME_MAX_LENGTH = 200
OPTED_OUT = frozenset(
    {SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED}
)


def normalise_address(raw: str) -> str:
    """The canonical form we store: validated, IDN-normalised and lower-cased.

    Lower-casing the local part too is what every newsletter tool does in practice; it
    makes "Anna@X.nl" and "anna@x.nl" one subscriber. No DNS lookups: a CLI command or an
    import must not depend on the network. No non-ASCII local parts (SMTPUTF8): most
    relays refuse them, and a message header cannot carry one; IDN domains are stored in
    their ASCII (punycode) form, which every relay takes.
    """
    address = raw.strip()
    plain = _plain_address(address)
    if plain is not None:
        return plain
    try:
        result = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InputError(f"invalid e-mail address {address!r}: {exc}") from None
    return (result.ascii_email or result.normalized).lower()


_HOSTNAME_CHARACTERS = re.compile(r"[A-Za-z0-9.-]+\Z")


def _plain_address(address: str) -> str | None:
    """The common address, ``dot.atom@ascii.domain``, by email-validator's rules at a
    fraction of the cost; None for anything else, which takes the full path.

    Validating the domain is most of email-validator's time (Unicode tables for every
    label), and a list of a million readers has a few thousand domains: each is checked
    once, by email-validator itself, and its verdict remembered. The local part is
    checked with email-validator's own dot-atom pattern, the length as it counts it.
    An address that fails any of this is validated in full, for the exact error message.
    """
    local, at, domain = address.rpartition("@")
    if not at or not DOT_ATOM_TEXT.match(local) or not _HOSTNAME_CHARACTERS.match(domain):
        return None
    checked = _checked_domain(domain)
    if checked is None or len(local) + checked[1] >= EMAIL_MAX_LENGTH:
        return None
    return f"{local}@{checked[0]}".lower()


@lru_cache(maxsize=8192)
def _checked_domain(domain: str) -> tuple[str, int] | None:
    """``domain`` in ASCII and the longest of its forms in UTF-8 bytes (email-validator
    measures the address in each), or None when email-validator refuses it."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    forms = (domain, result.domain, result.ascii_domain)
    return result.ascii_domain, max(len(form.encode()) for form in forms)


def clean_name(raw: str | None) -> str | None:
    """Names go into e-mail headers and greetings: one line, no control characters."""
    name = clean_display_name(raw)
    if name is not None and len(name) > NAME_MAX_LENGTH:
        raise InputError(f"name is longer than {NAME_MAX_LENGTH} characters")
    return name


@dataclass(frozen=True)
class SubscriberRecord:
    id: int
    email: str | None
    name: str | None
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    unsubscribe_source: str | None
    paused_until: datetime | None
    new_email: str | None
    consent: ConsentEvidence

    @classmethod
    def of(cls, row: Subscriber) -> SubscriberRecord:
        return cls(
            id=row.id,
            email=row.email,
            name=row.name,
            status=row.status,
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            unsubscribed_at=row.unsubscribed_at,
            unsubscribe_source=row.unsubscribe_source,
            paused_until=row.paused_until,
            new_email=row.new_email,
            consent=ConsentEvidence.of(row),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "created_at": iso_moment(self.created_at),
            "confirmed_at": iso_moment(self.confirmed_at),
            "unsubscribed_at": iso_moment(self.unsubscribed_at),
            "unsubscribe_source": self.unsubscribe_source,
            "paused_until": iso_moment(self.paused_until),
            "new_email": self.new_email,
            **self.consent.to_json(),
        }


AddOutcome = Literal["added", "already subscribed", "resubscribed", "updated"]


def forget_salt(session: Session) -> bytes:
    """A random salt made once per database, so forgotten-address hashes are not guessable."""
    row = session.get(InstallationSecret, "forget_salt")
    if row is None:
        row = InstallationSecret(name="forget_salt", value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


def forgotten_hash(salt: bytes, address: str) -> str:
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()


def receiving(now: datetime) -> ColumnElement[bool]:
    """The readers an edition made at ``now`` goes to: active, with an address, and not on
    a pause (a pause ends by itself when ``paused_until`` has passed)."""
    return and_(
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.email.is_not(None),
        or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now),
    )


@dataclass(frozen=True)
class ReaderCounts:
    """The active readers as ``status`` shows them: who the next edition goes to, who is
    on a pause, and who has no proof of consent on record (see ``consent``)."""

    receiving: int
    paused: int
    without_consent_evidence: int


def reader_counts(session: Session, now: datetime) -> ReaderCounts:
    """One pass over the active readers' index (``ix_subscribers_receiving``): the paused
    are a FILTER of it, the receiving the rest (see ``receiving``), the readers without
    proof of consent those with no ``signed_up_at`` (see ``consent.without_evidence``).
    Three counts read the index of a million readers two or three times; a FILTER per
    count cost SQLite more than those (bench/README.md, issue 25)."""
    active, paused, signed_up = session.execute(
        select(
            func.count(),
            func.count().filter(Subscriber.paused_until > now),
            func.count(Subscriber.signed_up_at),
        ).where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.email.is_not(None))
    ).one()
    return ReaderCounts(active - paused, paused, active - signed_up)


def find(session: Session, address: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.email == address)).one_or_none()


def add(
    session: Session,
    raw_address: str,
    name: str | None = None,
    *,
    resubscribe: bool = False,
    actor: str = "admin",
) -> tuple[AddOutcome, SubscriberRecord]:
    """The address on the list as active (the admin's ``subscribers add``): a new row, or
    the existing one confirmed or renamed. A reader who left, or was erased on request,
    comes back only with ``resubscribe`` (they asked)."""
    address = normalise_address(raw_address)
    name = clean_name(name)
    subscriber = find(session, address)
    if subscriber is None:
        return _add_new(session, address, name, resubscribe=resubscribe, actor=actor)

    now = utcnow()
    if subscriber.status in OPTED_OUT:
        if not resubscribe:
            raise InputError(
                f"{address} is {subscriber.status} (their choice is respected); "
                "add --resubscribe only if the person asked to come back"
            )
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.confirmed_at = now
        subscriber.unsubscribed_at = None
        subscriber.unsubscribe_source = None
        consent.record_signup(subscriber, ConsentSource.CLI, now)
        if name:
            subscriber.name = name
        record_event(session, "resubscribe", actor, subscriber.id)
        return "resubscribed", SubscriberRecord.of(subscriber)

    outcome: AddOutcome = "already subscribed"
    if subscriber.status == SubscriberStatus.PENDING:
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.confirmed_at = now
        consent.record_signup(subscriber, ConsentSource.CLI, now)
        record_event(session, "confirm", actor, subscriber.id)
        outcome = "updated"
    if name and name != subscriber.name:
        subscriber.name = name
        record_event(session, "rename", actor, subscriber.id)
        outcome = "updated"
    return outcome, SubscriberRecord.of(subscriber)


def _add_new(
    session: Session, address: str, name: str | None, *, resubscribe: bool, actor: str
) -> tuple[AddOutcome, SubscriberRecord]:
    """A new row for an address not on the list; one erased on request comes back only
    with ``resubscribe``, and then its erasure mark is lifted."""
    forgotten = session.scalars(
        select(Subscriber).where(
            Subscriber.forgotten_hash == forgotten_hash(forget_salt(session), address)
        )
    ).one_or_none()
    if forgotten is not None:
        if not resubscribe:
            raise InputError(
                f"{address} was removed and erased on request; "
                "add --resubscribe only if the person asked to come back"
            )
        forgotten.forgotten_hash = None
    now = utcnow()
    subscriber = Subscriber(
        email=address,
        name=name,
        status=SubscriberStatus.ACTIVE,
        created_at=now,
        confirmed_at=now,
    )
    consent.record_signup(subscriber, ConsentSource.CLI, now)
    session.add(subscriber)
    session.flush()
    record_event(session, "subscribe", actor, subscriber.id, returning=forgotten is not None)
    return ("resubscribed" if forgotten else "added"), SubscriberRecord.of(subscriber)


def unsubscribe(session: Session, subscriber: Subscriber, source: str) -> bool:
    """Mark a subscriber unsubscribed; returns False when they already were (idempotent)."""
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    subscriber.unsubscribe_source = source
    record_event(session, "unsubscribe", source, subscriber.id)
    return True


def remove(session: Session, raw_address: str, *, forget: bool = False) -> SubscriberRecord:
    address = normalise_address(raw_address)
    subscriber = get(session, address)
    if subscriber.status not in OPTED_OUT:
        unsubscribe(session, subscriber, "admin")
    if forget:
        subscriber.forgotten_hash = forgotten_hash(forget_salt(session), address)
        subscriber.email = None
        subscriber.name = None
        subscriber.new_email = None
        subscriber.new_email_requested_at = None
        subscriber.paused_until = None
        consent.erase(subscriber)
        # Its deliveries keep the domain of the address for the figures per domain: no more.
        session.execute(
            update(Delivery).where(Delivery.subscriber_id == subscriber.id).values(domain=None)
        )
        record_event(session, "forget", "admin", subscriber.id)
    return SubscriberRecord.of(subscriber)


def get(session: Session, raw_address: str) -> Subscriber:
    """The subscriber with this address; :class:`NotFoundError` when there is none."""
    address = normalise_address(raw_address)
    subscriber = find(session, address)
    if subscriber is None:
        raise NotFoundError(f"no subscriber with address {address}")
    return subscriber


def reactivate(session: Session, raw_address: str, *, actor: str = "admin") -> SubscriberRecord:
    """Bring back a reader who was dropped as ``bounced`` by mistake (a classifier's error,
    a provider's bad day). Only a bounce is undone here: a reader who complained or
    unsubscribed left by their own choice and stays out."""
    subscriber = get(session, raw_address)
    if subscriber.status in (SubscriberStatus.COMPLAINED, SubscriberStatus.UNSUBSCRIBED):
        raise InputError(
            f"{subscriber.email} is {subscriber.status} (their choice is respected); "
            "only a bounced reader is reactivated"
        )
    if subscriber.status != SubscriberStatus.BOUNCED:
        raise InputError(f"{subscriber.email} is {subscriber.status}, not bounced")
    subscriber.status = SubscriberStatus.ACTIVE
    record_event(session, "reactivate", actor, subscriber.id, status_before="bounced")
    return SubscriberRecord.of(subscriber)


def iterate(session: Session, status: str | None = None) -> Iterator[SubscriberRecord]:
    """Every subscriber with an address, oldest first, streamed from the database."""
    query = select(Subscriber).where(Subscriber.email.is_not(None)).order_by(Subscriber.id)
    if status is not None:
        if status not in set(SubscriberStatus):
            raise InputError(
                f"unknown status {status!r}; use one of: {', '.join(SubscriberStatus)}"
            )
        query = query.where(Subscriber.status == status)
    for row in session.scalars(query.execution_options(yield_per=1000)):
        yield SubscriberRecord.of(row)


def count_by_status(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(SubscriberStatus, 0)
    rows = session.execute(
        select(Subscriber.status, func.count())
        .where(Subscriber.email.is_not(None))
        .group_by(Subscriber.status)
    )
    for status, count in rows:
        counts[SubscriberStatus(status)] = count
    return {str(status): count for status, count in counts.items()}
