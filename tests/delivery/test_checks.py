"""The pre-send check: it passes every real edition and catches each mistake it is meant to."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from newsletter.config import Settings
from newsletter.content.post import Block
from newsletter.delivery.checks import check_edition, spamassassin_score
from newsletter.mail.message import build_message
from newsletter.mail.render import RenderedEdition, personalise, render_edition
from tests.mail.conftest import posts_under_test
from tests.support.posts import rich_post
from tests.support.readers import recipient_of
from tests.support.settings import make_settings

NOW = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)
POSTS = posts_under_test()


@pytest.fixture
def settings() -> Settings:
    """Plain settings: the checks need no relay (this folder's own fixture starts one)."""
    return make_settings()


def built(edition: RenderedEdition, settings: Settings) -> bytes:
    person = recipient_of(settings, 42, "zoe@example.nl", "Zoë", post_slug=edition.post_slug)
    return build_message(edition, person, settings.newsletter, now=NOW)


def failures(edition: RenderedEdition, raw: bytes, settings: Settings) -> list[str]:
    return [
        f.check
        for f in check_edition(edition, raw, settings.newsletter.signature).findings
        if f.status == "fail"
    ]


@pytest.mark.parametrize("post", POSTS, ids=[p.slug for p in POSTS])
def test_every_edition_passes(post: object, settings: Settings) -> None:
    edition = render_edition(post, settings.newsletter)  # type: ignore[arg-type]
    report = check_edition(edition, built(edition, settings), settings.newsletter.signature)
    assert report.ok, "\n".join(report.lines())
    assert report.lines()[-1].endswith("0 failed, 0 warnings")


def test_an_oversized_html_part_fails(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    padded = edition.html.replace("</body>", "<p>" + "rust " * 21_000 + "</p></body>")
    bloated = replace(edition, html=padded)
    assert failures(bloated, built(bloated, settings), settings) == ["HTML size"]


def test_missing_parity_bad_links_images_and_signatures_fail(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    html = edition.html.replace(
        "</body>",
        '<a href="javascript:alert(1)">x</a><a href="">y</a><img src="https://x/p.gif">'
        "<p>Groet,<br>Gerrit</p></body>",
    )
    text = edition.text.replace("Welke gedachte keert steeds terug?", "")
    broken = replace(edition, html=html, text=text)
    assert failures(broken, built(broken, settings), settings) == [
        "headings, prompts and questions in text",
        "alt text on images",
        "link",
        "link",
        "signature in HTML",
    ]


def test_missing_unsubscribe_everywhere_fails(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    person = recipient_of(settings, 42, "zoe@example.nl", "Zoë", post_slug=edition.post_slug)
    html, text = personalise(edition, person)
    message = EmailMessage()
    message["From"] = "nieuwsbrief@gerritvanderheide.com"
    message["To"] = "zoe@example.nl"
    message["Subject"] = edition.subject
    message["List-Id"] = '"Nieuwsbrief van Gerrit" <nieuwsbrief.gerritvanderheide.com>'
    message["Feedback-ID"] = "innerlijke-rust:nieuwsbrief.example.org:edition:example.org"
    message.set_content(text.replace(person.unsubscribe_url, ""))
    message.add_alternative(html, subtype="html")
    raw = message.as_bytes()
    assert failures(edition, raw, settings) == [
        "List-Unsubscribe-Post (RFC 8058 one-click)",
        "List-Unsubscribe",
    ]


@pytest.mark.parametrize(
    ("header", "spoiled", "check"),
    [
        (b"List-Id: ", b"X-List: ", "List-Id (RFC 2919)"),
        (b"<nieuwsbrief.gerritvanderheide.com>", b"nieuwsbrief", "List-Id (RFC 2919)"),
        (b".gerritvanderheide.com>\r\n", b">\r\n", "List-Id (RFC 2919)"),
        (b"Feedback-ID: ", b"X-Feedback: ", "Feedback-ID (Gmail)"),
        (b":gerritvanderhei\r\n", b":nb\r\n", "Feedback-ID (Gmail)"),
    ],
)
def test_list_id_and_feedback_id_must_have_their_form(
    settings: Settings, header: bytes, spoiled: bytes, check: str
) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    raw = built(edition, settings)
    assert header in raw
    assert failures(edition, raw.replace(header, spoiled, 1), settings) == [check]


def test_an_encoded_list_unsubscribe_header_fails(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    raw = built(edition, settings)
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = [
        b"List-Unsubscribe: =?utf-8?q?=3Chttps=3A//x?="
        if line.startswith(b"List-Unsubscribe:")
        else line
        for line in head.split(b"\r\n")
    ]
    mangled = b"\r\n".join(lines) + b"\r\n\r\n" + body
    report = check_edition(edition, mangled, settings.newsletter.signature)
    assert [f.detail for f in report.findings if f.status == "fail"] == [
        "RFC 2047-encoded; clients will not decode it"
    ]


def test_http_on_loopback_is_a_demo_warning(settings: Settings) -> None:
    local = make_settings(newsletter={"base_url": "http://127.0.0.1:8080"})
    edition = render_edition(rich_post(), local.newsletter)
    report = check_edition(edition, built(edition, local), local.newsletter.signature)
    assert any(
        f.status == "warn" and f.detail.startswith("http://127.0.0.1:8080/unsubscribe/")
        for f in report.findings
    )
    assert report.ok


def test_a_public_http_base_url_fails(settings: Settings) -> None:
    public = make_settings(newsletter={"base_url": "http://nieuwsbrief.example.org"})
    edition = render_edition(rich_post(), public.newsletter)
    report = check_edition(edition, built(edition, public), public.newsletter.signature)
    assert not report.ok  # List-Unsubscribe needs an https URL for one-click
    assert any(f.status == "fail" and "no https URL" in f.detail for f in report.findings)


def test_spamassassin_scores_an_edition_as_clean(settings: Settings) -> None:
    if shutil.which("spamassassin") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spamassassin is not installed, and CI must run this check")
        pytest.skip("spamassassin is not installed")
    edition = render_edition(POSTS[0], settings.newsletter)
    result = spamassassin_score(built(edition, settings))
    assert result is not None and result.score <= 0.5, result


def test_spamassassin_score_is_none_without_the_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert spamassassin_score(b"Subject: x\r\n\r\nhoi\r\n") is None


def test_a_post_that_signs_off_itself_fails_the_signature_check(settings: Settings) -> None:
    post = rich_post()
    signed = replace(post, blocks=(*post.blocks, Block("paragraph", "Groet, Gerrit")))
    edition = render_edition(signed, settings.newsletter)
    assert failures(edition, built(edition, settings), settings) == [
        "signature in HTML",
        "signature in text",
    ]
