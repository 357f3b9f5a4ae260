"""The welcome mail, built directly: when the newsletter comes, the latest edition or the
archive, and an edition's list headers (the web flow is in tests/web/test_welcome.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.mail.render import BROWSER_PLACEHOLDER, GREETING_PLACEHOLDER
from newsletter.mail.welcome import build_welcome_message
from tests.support.settings import AMSTERDAM, BASE_URL, SECRET, SENDER, make_settings
from tests.support.smtp import ReceivedMail

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
NEWSLETTER = make_settings().newsletter


def _welcome(latest: tuple[str, str] | None, next_send: datetime | None) -> ReceivedMail:
    raw = build_welcome_message(
        NEWSLETTER,
        SECRET,
        subscriber_id=9,
        address="piet@voorbeeld.nl",
        name="Piet",
        latest=latest,
        next_send=next_send,
        now=NOW,
    )
    return ReceivedMail(SENDER, ["piet@voorbeeld.nl"], raw)


def test_the_welcome_says_when_and_links_the_latest_edition() -> None:
    mail = _welcome(("rust-vinden", "Rust vinden"), datetime(2026, 12, 7, 7, 0, tzinfo=AMSTERDAM))
    assert mail.message["Subject"] == "Welkom bij Nieuwsbrief van Gerrit"
    text = mail.text().replace("\r\n", "\n")
    assert "De nieuwsbrief komt elke maandag rond 07:00." in " ".join(text.split())
    assert '"Rust vinden"' in text
    assert mail.link("/archive/") == f"{BASE_URL}/archive/rust-vinden"
    unsubscribe = mail.link("/unsubscribe/")
    assert mail.message["List-Unsubscribe"].startswith(f"<{unsubscribe}>, <mailto:")
    raw = mail.data.decode("utf-8", "replace")
    assert GREETING_PLACEHOLDER not in raw and BROWSER_PLACEHOLDER not in raw


def test_before_the_first_edition_it_links_the_archive() -> None:
    text = _welcome(None, None).text().replace("\r\n", "\n")
    assert "De nieuwsbrief komt één keer per week." in " ".join(text.split())
    assert f"Archief: {BASE_URL}/archive\n" in text
    assert "Laatste nieuwsbrief" not in text
