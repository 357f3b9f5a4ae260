"""The owner's notices about what came back: an edition that bounced or was reported as
spam too often; a rejection on our side names the fix that fits its reason, and a
blocklisting the delisting page of the list its reply names."""

from __future__ import annotations

import pytest

from newsletter.config import BouncesSection
from newsletter.mail.returns_alert import (
    Rejection,
    likely_fix,
    returns_notice,
    sender_notice,
    suspect_notice,
)


def test_the_notice_gives_the_counts_their_shares_and_the_limits() -> None:
    notice = returns_notice(
        BouncesSection(hard_alert_percent=5.0, complaint_alert_percent=0.3),
        edition_id=12,
        subject="Rust vinden",
        recipients=400,
        hard=24,
        complaints=2,
    )
    assert notice.subject == "Nieuwsbrief: te veel bounces of klachten bij editie 12"
    assert notice.paragraphs[0] == "Editie 12 (\u201cRust vinden\u201d) ging naar 400 lezers."
    assert notice.paragraphs[1] == "Harde bounces: 24 (6,0%; grens 5%)"
    assert notice.paragraphs[2] == "Spamklachten: 2 (0,5%; grens 0,3%)"
    assert "newsletter editions release N" in notice.paragraphs[-1]
    assert notice.report is None


def test_an_edition_without_recipients_has_no_share() -> None:
    notice = returns_notice(
        BouncesSection(), edition_id=1, subject="Leeg", recipients=0, hard=0, complaints=0
    )
    assert notice.paragraphs[1] == "Harde bounces: 0 (-; grens 5%)"


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
    assert "gmail.com: 3× SPF, DKIM of DMARC klopt niet (550 5.7.26 unauthenticated)" in text
    assert "outlook.com: 1× geblokkeerd (ons IP-adres of domein)" in text
    assert "https://sender.office.com/" in text
    one = sender_notice(
        edition_id=5, subject="Rust", rejections=[Rejection("x.nl", "policy", 1, "550 5.7.1")]
    )
    assert "werd 1 bericht geweigerd" in one.paragraphs[0]


def test_the_suspect_notice_gives_the_editions_own_share_at_the_domain() -> None:
    notice = suspect_notice(edition_id=7, subject="Rust", domain="voorbeeld.nl", held=12, mail=40)
    assert notice.subject == "Nieuwsbrief: veel harde bounces bij voorbeeld.nl (editie 7)"
    assert "kwamen 12 van de 40 berichten aan voorbeeld.nl (30%) terug" in notice.paragraphs[0]
    assert "newsletter bounces confirm 7 voorbeeld.nl" in notice.paragraphs[2]
