"""Proof of consent (GDPR art. 7(1)): how and when each reader said yes.

A sender must be able to show that every reader consented. So each reader's row keeps how
they came (the sign-up form, the API the blog's box posts to, the CLI, or an import and its
file), when they signed up, when they confirmed, the IP address and user agent of the
request that confirmed (unless ``web.record_consent_ip`` is off) and a hash of the sign-up
text they saw. Readers with no sign-up moment on record (an import, or a reader from before
this was kept) are *without evidence*: ``subscribers show`` says so and ``status`` counts
them. Erasing a reader erases this too: the evidence names the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_

from newsletter.db.models import ConsentSource, Subscriber, SubscriberStatus, iso_moment

USER_AGENT_MAX_LENGTH = 500


@dataclass(frozen=True, slots=True)
class ConfirmingRequest:
    """What is kept of the request that confirmed a sign-up; both None when not recorded."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class ConsentEvidence:
    """A reader's consent as recorded; when they confirmed is the row's ``confirmed_at``."""

    source: str | None
    file: str | None
    signed_up_at: datetime | None
    ip: str | None
    user_agent: str | None
    form_hash: str | None

    @classmethod
    def of(cls, row: Subscriber) -> ConsentEvidence:
        return cls(
            source=row.consent_source,
            file=row.consent_file,
            signed_up_at=row.signed_up_at,
            ip=row.consent_ip,
            user_agent=row.consent_user_agent,
            form_hash=row.consent_form_hash,
        )

    @property
    def recorded(self) -> bool:
        """False for a reader without evidence (see the module docstring)."""
        return self.signed_up_at is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "consent_recorded": self.recorded,
            "consent_source": self.source,
            "consent_file": self.file,
            "signed_up_at": iso_moment(self.signed_up_at),
            "consent_ip": self.ip,
            "consent_user_agent": self.user_agent,
            "consent_form_hash": self.form_hash,
        }


def record_signup(
    subscriber: Subscriber,
    source: ConsentSource,
    now: datetime,
    *,
    form_hash: str | None = None,
    file: str | None = None,
) -> None:
    """A new sign-up: its way in and moment replace any earlier one (the confirmation that
    follows answers this one); what confirmed the earlier one no longer applies."""
    subscriber.consent_source = source
    subscriber.consent_file = file
    subscriber.signed_up_at = now
    subscriber.consent_form_hash = form_hash
    subscriber.consent_ip = None
    subscriber.consent_user_agent = None


def record_confirmation(subscriber: Subscriber, request: ConfirmingRequest) -> None:
    subscriber.consent_ip = request.ip
    subscriber.consent_user_agent = (
        request.user_agent[:USER_AGENT_MAX_LENGTH] if request.user_agent else None
    )


def erase(subscriber: Subscriber) -> None:
    """Forget the evidence with the person (``subscribers remove --forget``)."""
    subscriber.consent_source = None
    subscriber.consent_file = None
    subscriber.signed_up_at = None
    subscriber.consent_ip = None
    subscriber.consent_user_agent = None
    subscriber.consent_form_hash = None


def without_evidence() -> ColumnElement[bool]:
    """Active readers with no sign-up on record: we mail them, and cannot show their yes."""
    return and_(
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.email.is_not(None),
        Subscriber.signed_up_at.is_(None),
    )
