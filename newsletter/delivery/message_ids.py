"""Our Message-IDs, ``<edition.subscriber.MAC@domain>``: made here, and read here only.

A Message-ID names the delivery a returned mail is about, so a forged one must not name
anybody else's: the MAC signs ``edition.subscriber`` under the secret key with a salt of
its own (:class:`~newsletter.mail.signing.ShortMac`: 64 bits, 13 characters of
``a-z2-7``). It is the same every time a message is made: a copy sent twice after a crash
carries the same Message-ID, which lets mail clients fold the duplicates together. The
ledger records it per row when the message is sent.

The Message-IDs of editions sent before the MAC (``<edition.subscriber.stamp@domain>``,
a timestamp anyone could copy) are not ours any more: :meth:`MessageIds.read` refuses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsletter.config import Settings
from newsletter.mail.signing import MAC_PATTERN, ShortMac

_SALT = b"newsletter.message-id:"
_NUMBER = r"[1-9][0-9]{0,17}"
_MESSAGE_ID = re.compile(rf"<({_NUMBER})\.({_NUMBER})\.({MAC_PATTERN})@([^<>@\s]+)>")


class MessageIds:
    """The Message-IDs of one installation: its secret key, its sending domain."""

    def __init__(self, secret: str, domain: str) -> None:
        self._mac = ShortMac(secret, _SALT)
        self.domain = domain

    def make(self, edition_id: int, subscriber_id: int) -> str:
        pair = f"{edition_id}.{subscriber_id}"
        return f"<{pair}.{self._mac.sign(pair)}@{self.domain}>"

    def read(self, message_id: str) -> tuple[int, int] | None:
        """(edition, subscriber) of a Message-ID we made; None for anything else (not
        our form or our domain, a MAC that does not verify, a stamp of old)."""
        match = _MESSAGE_ID.fullmatch(message_id.strip())
        if match is None or match[4].lower() != self.domain.lower():
            return None
        edition, subscriber, mac = match[1], match[2], match[3]
        if not self._mac.verifies(f"{edition}.{subscriber}", mac):
            return None
        return int(edition), int(subscriber)

    def of_edition(self, edition_id: int) -> EditionMessageIds:
        return EditionMessageIds(self, edition_id)


@dataclass(frozen=True)
class EditionMessageIds:
    """The Message-IDs of one edition, by subscriber: what compose and the ledger need."""

    ids: MessageIds
    edition_id: int

    def for_subscriber(self, subscriber_id: int) -> str:
        return self.ids.make(self.edition_id, subscriber_id)


def message_ids(settings: Settings) -> MessageIds:
    """This installation's Message-IDs: the secret key's MAC, ``from_address``'s domain."""
    domain = settings.newsletter.from_address.rpartition("@")[2]
    return MessageIds(settings.signing_key(), domain)
