"""The owner's login mail: to the owner only, the link whole, how long it works."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.mail.owner_login import build_login_message
from tests.support.settings import OWNER, SENDER, make_settings
from tests.support.smtp import ReceivedMail

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
LOGIN_URL = "https://nieuwsbrief.gerritvanderheide.com/beheer/inloggen/" + "x" * 43


def test_the_login_mail_carries_the_whole_link_to_the_owner() -> None:
    newsletter = make_settings(newsletter={"owner_address": OWNER}).newsletter
    raw = build_login_message(newsletter, login_url=LOGIN_URL, valid_minutes=15, now=NOW)
    mail = ReceivedMail(SENDER, [OWNER], raw)

    message = mail.message
    assert message["To"] == OWNER
    assert message["Subject"] == "Inloggen bij Nieuwsbrief van Gerrit"
    assert message["List-Unsubscribe"] is None
    assert mail.link("/beheer/inloggen/") == LOGIN_URL
    assert "15 minuten en maar één keer" in mail.text()
    html = message.get_body(preferencelist=("html",))
    assert html is not None and f'href="{LOGIN_URL}"' in str(html.get_content())
