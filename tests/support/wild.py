"""The wild corpus of issue 22: returned mail in the shapes the real systems write it.

``tests/support/returned/wild/`` holds messages (``.eml``) and relay webhook bodies
(``.json``) written by us after the systems' documentation and published examples, with
placeholders for what only a real send knows. ``expected.toml`` says, per file, which
system wrote it and the verdict for each reader it names: the classifier is judged by
these, so every label carries its reason in ``note``.

Pure: reading and filling files, no database, no network.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from .returned import CORPUS, written

WILD = CORPUS / "wild"
# The readers a report names, in the order of Addresses.readers.
READERS = ("%%RECIPIENT%%", "%%RECIPIENT_2%%", "%%RECIPIENT_3%%")

# The vocabulary of issue 22: every kind and the reasons it may give.
REASONS: dict[str, frozenset[str]] = {
    "hard": frozenset({"userunknown", "hostunknown", "hasmoved"}),
    "soft": frozenset(
        {
            "mailboxfull",
            "toobig",
            "expired",
            "suspended",
            "systemerror",
            "networkerror",
            "undetermined",
        }
    ),
    "sender": frozenset(
        {
            "blocked",
            "authfailure",
            "reversedns",
            "policy",
            "spam",
            "virus",
            "contentrejected",
            "norelaying",
            "ratelimited",
            "tlsrequired",
        }
    ),
    "complaint": frozenset({"abuse", "fraud", "virusreport", "other"}),
    "unsubscribe": frozenset({"optout", "listunsubscribe"}),
    "ignored": frozenset(
        {"autoreply", "delivered", "delayed", "authreport", "notspam", "notabounce", "unreadable"}
    ),
}


@dataclass(frozen=True)
class Addresses:
    """What a real send knows and the corpus leaves open: the VERP return path, up to three
    readers (a multi-recipient report names more than one), our Message-ID."""

    return_path: str = "bounces+7-abcdefghijklm@gerritvanderheide.com"
    readers: tuple[str, str, str] = (
        "lezer1@voorbeeld.nl",
        "lezer2@voorbeeld.nl",
        "lezer3@voorbeeld.nl",
    )
    message_id: str = "<7.3.20261207050000@gerritvanderheide.com>"


@dataclass(frozen=True)
class Expected:
    """The verdict the corpus expects for one reader."""

    reader: str
    kind: str
    reason: str


@dataclass(frozen=True)
class WildCase:
    name: str
    system: str
    raw: bytes
    expected: tuple[Expected, ...]
    note: str

    @property
    def is_event(self) -> bool:
        """A relay's webhook body (JSON) rather than a mail message."""
        return self.name.endswith(".json")


def manifest() -> dict[str, dict[str, Any]]:
    with (WILD / "expected.toml").open("rb") as file:
        return tomllib.load(file)


def wild_corpus(addresses: Addresses | None = None) -> list[WildCase]:
    """Every corpus file filled in for ``addresses``, with its expected verdicts."""
    addresses = addresses or Addresses()
    reader = dict(zip(READERS, addresses.readers, strict=True))
    cases = []
    for name, entry in sorted(manifest().items()):
        labels = entry.get("verdicts") or [
            {"recipient": recipient, "kind": entry["kind"], "reason": entry["reason"]}
            for recipient in entry["recipients"]
        ]
        expected = tuple(
            Expected(reader[label["recipient"]], label["kind"], label["reason"]) for label in labels
        )
        raw = written(
            f"wild/{name}",
            return_path=addresses.return_path,
            recipient=addresses.readers[0],
            message_id=addresses.message_id,
            others=addresses.readers[1:],
        )
        cases.append(WildCase(name, entry["system"], raw, expected, entry["note"]))
    return cases
