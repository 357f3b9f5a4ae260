"""The reply rules: what an SMTP reply at each stage comes to, pushback and soft bounces apart."""

from __future__ import annotations

import pytest

from newsletter.delivery.attempt import Outcome, classify, enhanced_status


@pytest.mark.parametrize(
    ("code", "text", "stage", "outcome", "bounced", "pushback"),
    [
        (250, "2.0.0 OK", "message", Outcome.SENT, False, False),
        (550, "5.1.1 <x@y>: User unknown", "rcpt", Outcome.FAILED, True, False),
        (550, "5.7.1 Rejected by policy", "message", Outcome.FAILED, False, False),
        (552, "5.2.2 Mailbox full", "rcpt", Outcome.FAILED, False, False),
        (451, "4.7.1 Try again later", "rcpt", Outcome.DEFERRED, False, False),
        (450, "4.2.0 Mailbox busy", "rcpt", Outcome.DEFERRED, False, False),
        (421, "4.3.2 Service not available", "connect", Outcome.DEFERRED, False, True),
        (452, "4.7.0 Too many messages", "mail", Outcome.DEFERRED, False, True),
        (554, "5.7.1 Sender refused", "mail", Outcome.DEFERRED, False, False),
        (535, "5.7.8 Authentication failed", "connect", Outcome.DEFERRED, False, False),
    ],
)
def test_reply_classification(code, text, stage, outcome, bounced, pushback):
    attempt = classify(code, text, stage)
    assert (attempt.outcome, attempt.bounced, attempt.pushback) == (outcome, bounced, pushback)
    assert attempt.connection_failed == (stage == "connect")


def test_enhanced_status_is_read_from_the_start_only():
    assert enhanced_status("5.1.1 <a@b>: unknown") == "5.1.1"
    assert enhanced_status("User unknown 5.1.1") is None


@pytest.mark.parametrize(
    ("code", "text", "stage", "pushback", "soft_bounce"),
    [
        # One reader's mailbox, for now: deferred, counted for that reader, never a brake.
        (451, "4.7.1 Greylisted, please try again later", "rcpt", False, True),
        (452, "4.2.2 Mailbox full", "rcpt", False, True),
        (451, "4.3.0 Temporary local problem", "rcpt", False, True),
        (450, "4.2.1 Too many messages for this mailbox, slow down", "rcpt", False, True),
        (452, "4.2.2 Mailbox over quota", "message", False, True),
        (451, "4.3.0 Queue file write error", "message", False, True),
        # The relay about our sending: a brake, nobody's soft bounce.
        (421, "4.3.2 Service not available, closing channel", "connect", True, False),
        (421, "4.7.0 Too many messages, slow down", "mail", True, False),
        (421, "4.4.2 Timeout, closing connection", "rcpt", True, False),
        (421, "Service shutting down", "message", True, False),
        (451, "4.7.0 Temporary rate limit, try later", "mail", True, False),
        (450, "Sending rate exceeded", "mail", True, False),
        (452, "Too many connections from your host", "connect", True, False),
        (451, "Throttled: slow down", "data", True, False),
        (451, "4.7.1 Greylisting in action", "message", True, False),
        (452, "4.3.1 Daily sending quota exceeded", "message", True, False),
        (454, "4.7.0 Try again later", "message", True, False),
        # Neither: a relay-side 4xx that is not about speed, a hard refusal.
        (452, "4.3.1 Insufficient system storage", "mail", False, False),
        (550, "5.1.1 User unknown", "rcpt", False, False),
    ],
)
def test_pushback_and_soft_bounces_are_told_apart(code, text, stage, pushback, soft_bounce):
    attempt = classify(code, text, stage)
    assert (attempt.pushback, attempt.soft_bounce) == (pushback, soft_bounce)
    assert attempt.outcome == (Outcome.FAILED if code >= 500 else Outcome.DEFERRED)


@pytest.mark.parametrize(
    ("code", "text", "bounced", "soft_bounce"),
    [
        (550, "5.1.1 <x@y>: Recipient address rejected: User unknown", True, False),
        (550, "User unknown", True, False),  # no enhanced code: the words decide
        (552, "5.2.2 Mailbox full", False, True),  # the reader's side: it adds up
        (550, "5.7.26 Unauthenticated email is not accepted due to DMARC policy", False, False),
        (554, "5.7.1 Client host [192.0.2.10] blocked using zen.spamhaus.org", False, False),
        (550, "5.1.1 recipient rejected; spam filter", True, False),  # a real 5.1.1 is hard
        (451, "4.7.1 Client host rejected: cannot find your reverse hostname", False, False),
        (452, "4.2.2 Mailbox full", False, True),
    ],
)
def test_a_refusal_at_rcpt_is_judged_by_its_cause(code, text, bounced, soft_bounce):
    """Issue 22: the same classifier as returned mail; only an address gone drops a
    reader, and a refusal on our side counts against nobody."""
    attempt = classify(code, text, "rcpt")
    assert (attempt.bounced, attempt.soft_bounce) == (bounced, soft_bounce)
