"""Which delivery of ours a returned message is about, if any.

Anyone can write a report naming any address, so a report is tied to a delivery only by
what we alone can write:

* The VERP token of the envelope recipient (``bounces+TOKEN@``); a token that does not
  verify stops there and ties the report to nothing.
* Without a token, one of our Message-IDs in the returned headers whose MAC verifies
  (``<edition.subscriber.MAC@domain>``, see :class:`~newsletter.delivery.message_ids.MessageIds`;
  the ledger row must have been sent with it) *and* a recipient the report names (a DSN's
  Final-Recipient or Original-Recipient, an ARF report's Original-Rcpt-To, the addresses
  found in a non-standard bounce) that is that delivery's reader: only we can write the
  MAC, and a genuine Message-ID comes back from its own reader's mailbox.
* A relay's webhook, whose request was verified, may be tied by our Message-ID alone, or
  else by the last delivery sent to the one address it names.
"""

from __future__ import annotations

from email.message import Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.models import Delivery, DeliveryStatus, Subscriber
from newsletter.delivery.message_ids import message_ids
from newsletter.mail.verp import return_paths
from newsletter.returns.parse import Verdict, envelope_candidates


def pick_recipient(settings: Settings, message: Message) -> str | None:
    """``Delivered-To``, ``X-Original-To``, ``To``: the first that is one of ours."""
    candidates = envelope_candidates(message)
    paths = return_paths(settings.bounces, settings.signing_key)
    if paths is not None:
        for address in candidates:
            if paths.is_ours(address):
                return address
    return candidates[0] if candidates else None


def find_delivery(
    session: Session,
    settings: Settings,
    verdict: Verdict,
    recipient: str | None,
    by_address: bool,
) -> tuple[Delivery | None, str]:
    """The delivery a report is about, or None and why not.

    A mail is tied to a delivery by a VERP token that verifies, or by one of our
    Message-IDs that verifies together with a recipient that is the delivery's reader.
    ``by_address`` (webhooks only, whose requests are verified) takes our Message-ID on
    its own, else the last delivery to the one address named: a mail naming an address
    proves nothing, anyone can write one."""
    paths = return_paths(settings.bounces, settings.signing_key)
    token = paths.token_of(recipient) if paths is not None and recipient else None
    if token:
        assert paths is not None
        delivery_id = paths.delivery_of(token)
        if delivery_id is None:
            return None, "the return-path token does not verify"
        delivery = session.get(Delivery, delivery_id)
        return delivery, "the return-path token names no delivery"
    delivery, why_not = _by_message_id(session, settings, verdict, by_address)
    if delivery is None and by_address and len(verdict.recipients) == 1:
        delivery = _last_sent_to(session, verdict.recipients[0])
    return delivery, "" if delivery is not None else why_not


def _by_message_id(
    session: Session, settings: Settings, verdict: Verdict, by_address: bool
) -> tuple[Delivery | None, str]:
    """The delivery of the first of our Message-IDs in the report that verifies, was sent
    with it, and (unless ``by_address``) belongs to a recipient the report names."""
    ids = message_ids(settings)
    named = {address.lower() for address in verdict.recipients}
    why_not = "no message of ours found in it"
    for message_id in verdict.message_ids:
        ours = ids.read(message_id)
        if ours is None:
            continue
        edition_id, subscriber_id = ours
        found = session.execute(
            select(Delivery, Subscriber.email)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.subscriber_id == subscriber_id,
                Delivery.message_id == ids.make(edition_id, subscriber_id),
            )
        ).first()
        if found is None:
            continue
        delivery, email = found
        if by_address or (email is not None and email.lower() in named):
            return delivery, ""
        why_not = "our Message-ID, but the report names " + (
            "another recipient" if named else "no recipient"
        )
    return None, why_not


def _last_sent_to(session: Session, email: str) -> Delivery | None:
    return session.scalar(
        select(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Subscriber.email == email, Delivery.status == DeliveryStatus.SENT)
        .order_by(Delivery.id.desc())
        .limit(1)
    )
