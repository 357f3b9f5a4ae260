"""The double opt-in mail: the link, how long it works, and no list headers (it belongs to
no edition)."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.mail.confirmation import (
    CONFIRM_MAX_AGE_DAYS,
    build_confirmation_message,
    build_moved_notice,
)
from tests.support.settings import SENDER, make_settings
from tests.support.smtp import ReceivedMail

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
CONFIRM_URL = "https://nieuwsbrief.gerritvanderheide.com/confirm/abc.def"
NEWSLETTER = make_settings().newsletter


def _mail(name: str | None) -> ReceivedMail:
    raw = build_confirmation_message(
        NEWSLETTER, address="piet@voorbeeld.nl", name=name, confirm_url=CONFIRM_URL, now=NOW
    )
    return ReceivedMail(SENDER, ["piet@voorbeeld.nl"], raw)


def test_the_mail_asks_to_confirm_with_the_link_and_how_long_it_works() -> None:
    mail = _mail("Piet")
    message = mail.message
    assert message["Subject"] == "Bevestig je aanmelding voor Nieuwsbrief van Gerrit"
    assert message["To"] == "Piet <piet@voorbeeld.nl>"
    assert message["From"] == f"Gerrit <{SENDER}>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None
    text = mail.text().replace("\r\n", "\n")
    assert text.startswith("Hoi Piet,")
    assert mail.link("/confirm/") == CONFIRM_URL
    assert f"De link werkt {CONFIRM_MAX_AGE_DAYS} dagen" in text
    assert text.rstrip().endswith("Groet,\nGerrit")
    html = message.get_body(preferencelist=("html",))
    assert html is not None and CONFIRM_URL in str(html.get_content())


def test_a_name_cannot_add_a_header_and_no_name_is_a_plain_greeting() -> None:
    mail = _mail("Piet\r\nBcc: kees@voorbeeld.nl")
    assert mail.message["Bcc"] is None
    assert "\n" not in str(mail.message["To"])
    assert _mail(None).text().startswith("Hoi,")
    assert _mail(None).message["To"] == "piet@voorbeeld.nl"


def test_replies_to_the_moved_notice_go_where_the_editions_replies_go() -> None:
    """The notice asks "Was jij dit niet? Antwoord dan op deze mail": a reply must reach a
    person, not the unsubscribe listener that may have the From address."""
    answered = make_settings(newsletter={"reply_to": "gerrit@gerritvanderheide.com"}).newsletter
    for newsletter, expected in ((answered, "gerrit@gerritvanderheide.com"), (NEWSLETTER, None)):
        raw = build_moved_notice(
            newsletter,
            old_address="piet@oud.nl",
            masked_new_address="p•••@nieuw.nl",
            name=None,
            now=NOW,
        )
        message = ReceivedMail(SENDER, ["piet@oud.nl"], raw).message
        assert message["Reply-To"] == expected
    confirmation = build_confirmation_message(
        answered, address="piet@voorbeeld.nl", name=None, confirm_url=CONFIRM_URL, now=NOW
    )
    assert b"Reply-To" not in confirmation  # asks for no answer
