"""The owner's mail: one notice under its own subject, several about one edition in one
mail under a subject naming it, the reports shown as they are."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.mail.owner import Notice, build_owner_message, dutch_percent, subject_of
from tests.support.settings import OWNER, SENDER, make_settings
from tests.support.smtp import ReceivedMail

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
EMPTY = Notice("De wachtrij is leeg", ["Er staat geen bericht klaar.", "Voeg er een toe."])
HELD = Notice("Editie tegengehouden", ["De controle vond problemen."], report="FAIL  spf\nOK  dkim")


def test_the_subject_is_the_notices_own_unless_several_are_about_one_edition() -> None:
    assert subject_of([HELD], 5) == "Editie tegengehouden"
    assert subject_of([EMPTY, HELD], None) == "De wachtrij is leeg"
    assert subject_of([EMPTY, HELD], 5) == "Nieuwsbrief: 2 meldingen over editie 5"


def test_the_mail_goes_to_the_owner_with_every_notice_and_its_report_as_it_is() -> None:
    settings = make_settings(newsletter={"owner_address": OWNER})
    raw = build_owner_message(settings.newsletter, [EMPTY, HELD], edition_id=5, now=NOW)
    mail = ReceivedMail(SENDER, [OWNER], raw)
    assert mail.message["To"] == OWNER
    assert mail.message["Subject"] == "Nieuwsbrief: 2 meldingen over editie 5"
    text = mail.text().replace("\r\n", "\n")
    assert "# De wachtrij is leeg" in text and "# Editie tegengehouden" in text
    assert text.index("Voeg er een toe.") < text.index("# Editie tegengehouden")
    assert "FAIL  spf\nOK  dkim" in text


def test_a_single_notice_has_no_heading_of_its_own() -> None:
    settings = make_settings(newsletter={"owner_address": OWNER})
    mail = ReceivedMail(SENDER, [OWNER], build_owner_message(settings.newsletter, [EMPTY], now=NOW))
    assert mail.message["Subject"] == "De wachtrij is leeg"
    assert "# " not in mail.text()


def test_a_share_is_written_with_a_dutch_decimal_comma() -> None:
    assert dutch_percent(14.2857) == "14,3%"
    assert dutch_percent(14.2857, ".2f") == "14,29%"
    assert dutch_percent(0.3, "g") == "0,3%"
    assert dutch_percent(5.0, "g") == "5%"
