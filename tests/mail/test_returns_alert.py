"""The owner's notices about what came back: a rejection on our side names the fix that
fits its reason, and a blocklisting the delisting page of the list its reply names."""

from __future__ import annotations

import pytest

from newsletter.mail.returns_alert import Rejection, likely_fix, sender_notice


@pytest.mark.parametrize(
    ("reason", "reply", "fix"),
    [
        ("authfailure", "550 5.7.26 DMARC policy", "draai newsletter doctor"),
        ("ratelimited", "421 4.7.28 unusual rate", "verlaag smtp.max_per_second"),
        ("blocked", "554 5.7.1 listed at zen.spamhaus.org", "https://check.spamhaus.org/"),
        ("blocked", "554 blocked by b.barracudacentral.org", "barracudacentral.org/rbl/removal"),
        ("blocked", "550 5.7.1 listed on bl.spamcop.net", "https://www.spamcop.net/bl.shtml"),
        ("blocked", "550 5.7.1 Unfortunately ... (S3150)", "https://sender.office.com/"),
        ("blocked", "550 5.7.1 your IP has a poor reputation", "postmaster@gmail.com"),
        ("policy", "550 5.7.1 message refused", "postmaster@gmail.com"),
    ],
)
def test_the_likely_fix(reason: str, reply: str, fix: str) -> None:
    assert fix in likely_fix(reason, reply, "gmail.com")


def test_the_notice_names_every_domain_with_its_reply() -> None:
    notice = sender_notice(
        edition_id=4,
        subject="Rust",
        rejections=[
            Rejection("gmail.com", "authfailure", 3, "550 5.7.26 unauthenticated"),
            Rejection("outlook.com", "blocked", 1, "550 5.7.1 (S3150)"),
        ],
    )
    text = "\n".join(notice.paragraphs)
    assert "werden 4 berichten geweigerd" in text
    assert "gmail.com: 3× authfailure (550 5.7.26 unauthenticated)" in text
    assert "outlook.com: 1× blocked" in text and "https://sender.office.com/" in text
