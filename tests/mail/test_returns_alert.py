"""The owner's notice about an edition that bounced or was reported as spam too often."""

from __future__ import annotations

from newsletter.config import BouncesSection
from newsletter.mail.returns_alert import returns_notice


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
    assert notice.paragraphs[1] == "Harde bounces: 24 (6.0%; grens 5%)"
    assert notice.paragraphs[2] == "Spamklachten: 2 (0.5%; grens 0.3%)"
    assert "newsletter editions release N" in notice.paragraphs[-1]
    assert notice.report is None


def test_an_edition_without_recipients_has_no_share() -> None:
    notice = returns_notice(
        BouncesSection(), edition_id=1, subject="Leeg", recipients=0, hard=0, complaints=0
    )
    assert notice.paragraphs[1] == "Harde bounces: 0 (-; grens 5%)"
