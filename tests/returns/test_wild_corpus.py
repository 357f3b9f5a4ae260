"""The classifier judged by the wild corpus (issue 22 point 3): returned mail as the real
systems write it, each reader's verdict against the corpus's label. The run prints a
confusion table (expected kind x kind given) and the misses, and holds the figures issue 22
asks of real returned mail:

* of the readers dropped as hard, at least 98% truly have no address;
* at least 95% of the dead addresses are recognised;
* at least 90% of the abuse reports become complaints;
* no auto-reply or delivery notice changes a reader;
* at least 80% of the sender-side rejections are told apart.

On top of the figures, every file must get the kind it is labelled with.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from newsletter.errors import NotAMailError, UnreadableMessageError
from newsletter.returns.parse import classify
from newsletter.web.relay_events import (
    Payload,
    mailgun_events,
    postmark_events,
    sendgrid_events,
    ses_events,
)
from tests.support.wild import REASONS, WILD, Expected, WildCase, manifest, wild_corpus

CASES = wild_corpus()
MESSAGES = [case for case in CASES if not case.is_event]
# Relays whose webhook bodies web/relay_events.py turns into events with a pure function.
PURE_EVENTS = {"Amazon SES", "Mailgun", "Postmark", "SendGrid"}
NOTICES = frozenset({"autoreply", "delivered", "delayed"})
KINDS = (*REASONS, "error")


@dataclass(frozen=True)
class Outcome:
    case: WildCase
    expected: Expected
    kind: str
    reason: str

    @property
    def right(self) -> bool:
        return self.kind == self.expected.kind


def test_every_file_is_labelled_once_with_the_shared_vocabulary() -> None:
    files = {path.name for path in WILD.iterdir()} - {"expected.toml"}
    assert files == set(manifest())
    assert len(CASES) >= 170
    for case in CASES:
        assert b"%%" not in case.raw, f"{case.name}: a placeholder is left unfilled"
        assert case.note and case.system, case.name
        readers = [expected.reader for expected in case.expected]
        assert len(readers) == len(set(readers)), case.name
        for expected in case.expected:
            assert expected.reason in REASONS[expected.kind], (case.name, expected)


def test_the_corpus_covers_every_reason_from_several_systems() -> None:
    files: Counter[tuple[str, str]] = Counter()
    systems: dict[str, set[str]] = {kind: set() for kind in REASONS}
    for case in CASES:
        for expected in case.expected:
            files[expected.kind, expected.reason] += 1
            systems[expected.kind].add(case.system)
    missing = [(k, r) for k, reasons in REASONS.items() for r in reasons if files[k, r] < 2]
    assert not missing, f"reasons with fewer than two files: {missing}"
    assert all(len(found) >= 3 for found in systems.values()), systems
    assert sum(len(case.expected) > 1 for case in CASES) >= 8  # multi-recipient reports
    relays = {case.system for case in CASES if case.is_event}
    assert relays == {"Amazon SES", "SendGrid", "Postmark", "Mailgun"}


def message_outcomes(case: WildCase) -> list[Outcome]:
    """Each expected reader's verdict: the one naming the reader, else the only one."""
    try:
        verdicts = classify(case.raw)
    except (NotAMailError, UnreadableMessageError):
        return [Outcome(case, expected, "error", "") for expected in case.expected]
    outcomes = []
    for expected in case.expected:
        named = [v for v in verdicts if expected.reader in v.recipients]
        found = named or (list(verdicts) if len(verdicts) == 1 else [])
        kind, reason = (str(found[0].kind), found[0].reason) if found else ("error", "not named")
        outcomes.append(Outcome(case, expected, kind, reason))
    return outcomes


def confusion(outcomes: list[Outcome]) -> str:
    counts = Counter((outcome.expected.kind, outcome.kind) for outcome in outcomes)
    lines = ["expected \\ got".ljust(14) + "".join(kind.rjust(12) for kind in KINDS)]
    for expected in REASONS:
        lines.append(
            expected.ljust(14) + "".join(str(counts[expected, got]).rjust(12) for got in KINDS)
        )
    misses = [
        f"  {o.case.name} ({o.case.system}) {o.expected.reader}: expected "
        f"{o.expected.kind}/{o.expected.reason}, got {o.kind}/{o.reason}"
        for o in outcomes
        if not o.right
    ]
    reasons = sum(o.right and o.reason == o.expected.reason for o in outcomes)
    lines.append(
        f"kinds right: {sum(o.right for o in outcomes)}/{len(outcomes)}; "
        f"reasons right too: {reasons}"
    )
    return "\n".join([*lines, f"misses ({len(misses)}):", *misses])


def share(outcomes: list[Outcome], among: str, given: str, by_expected: bool = True) -> float:
    """Of the outcomes expected (or given) ``among``, the share given (or expected) ``given``."""
    pool = [o for o in outcomes if (o.expected.kind if by_expected else o.kind) == among]
    hits = [o for o in pool if (o.kind if by_expected else o.expected.kind) == given]
    return len(hits) / len(pool) if pool else 1.0


def test_the_classifier_reads_the_wild_corpus() -> None:
    outcomes = [outcome for case in MESSAGES for outcome in message_outcomes(case)]
    print(confusion(outcomes))
    notices = [o for o in outcomes if o.expected.kind == "ignored" and o.expected.reason in NOTICES]
    figures = {
        "hard verdicts that are dead addresses": share(outcomes, "hard", "hard", by_expected=False),
        "dead addresses recognised": share(outcomes, "hard", "hard"),
        "abuse reports become complaints": share(outcomes, "complaint", "complaint"),
        "sender-side rejections told apart": share(outcomes, "sender", "sender"),
    }
    print("\n".join(f"{name}: {value:.1%}" for name, value in figures.items()))
    assert figures["hard verdicts that are dead addresses"] >= 0.98, figures
    assert figures["dead addresses recognised"] >= 0.95, figures
    assert figures["abuse reports become complaints"] >= 0.90, figures
    assert [o.case.name for o in notices if o.kind != "ignored"] == []
    assert figures["sender-side rejections told apart"] >= 0.80, figures
    assert [o.case.name for o in outcomes if not o.right] == []


def event_outcomes(case: WildCase) -> list[Outcome]:
    """The events web/relay_events.py makes of a body; a reader with no event is ignored."""
    body = json.loads(case.raw)
    if case.system == "Amazon SES":
        notification = Payload(json.loads(body["Message"]), "the SNS message")
        events = ses_events(notification, body["MessageId"])
    elif case.system == "Postmark":
        events = postmark_events(Payload(body, "the body"))
    elif case.system == "SendGrid":
        events = sendgrid_events([Payload(item, "an event") for item in body])
    else:
        events = mailgun_events(Payload(body["event-data"], "event-data"), "token")
    given = {event.email: event for event in events}
    return [
        Outcome(case, expected, str(event.kind), event.reason)
        if (event := given.get(expected.reader)) is not None
        else Outcome(case, expected, "ignored", "no event")
        for expected in case.expected
    ]


def test_relay_events_get_the_verdict_of_their_cause() -> None:
    """SES, Mailgun, Postmark and SendGrid bodies."""
    events = [case for case in CASES if case.is_event and case.system in PURE_EVENTS]
    outcomes = [outcome for case in events for outcome in event_outcomes(case)]
    print(confusion(outcomes))
    assert [o.case.name for o in outcomes if not o.right] == []


def test_no_verdict_names_anyone_but_the_readers_a_report_is_about() -> None:
    """Our own addresses (From, return path), a Message-ID that reads like an address and the
    mail system's own boxes are never a failed recipient: a detector scraping the quoted
    message must not add them."""
    strangers = {}
    for case in MESSAGES:
        try:
            verdicts = classify(case.raw)
        except (NotAMailError, UnreadableMessageError):
            continue
        named = {address for verdict in verdicts for address in verdict.recipients}
        if others := named - {expected.reader for expected in case.expected}:
            strangers[case.name] = sorted(others)
    assert strangers == {}
