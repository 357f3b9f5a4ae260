"""The sections of what is published and when: the newsletter, its posts, its schedule."""

from __future__ import annotations

import pytest

from newsletter.config import DatabaseSection, NewsletterSection, PostsSection, ScheduleSection


def keys(section: NewsletterSection | PostsSection | ScheduleSection) -> list[str]:
    return [key for key, _ in section.problems()]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"alert_failed_percent": 101.0}, ["alert_failed_percent"]),
        ({"base_url": "ftp://example.org"}, ["base_url"]),
        ({"reply_to": "Gerrit <gerrit@example.org>"}, ["reply_to"]),
        ({"owner_address": "gerrit"}, ["owner_address"]),
        ({"from_address": "a@example.org\r\nBcc: x@example.org"}, ["from_address"]),
        ({"post_url_template": "https://blog.example.org/"}, ["post_url_template"]),
        ({"post_url_template": "https://blog.example.org/{slug}/"}, []),
        ({"list_id": "nieuwsbrief"}, ["list_id"]),
        ({"list_id": "<nieuwsbrief.example.org>"}, ["list_id"]),
        ({"list_id": "nieuws brief.example.org"}, ["list_id"]),
        ({"list_id": "nb.gerrit.nl"}, []),
        ({"from_address": "nb@x.nl"}, []),
        ({"from_address": "nb@café.nl"}, ["from_address"]),
        ({"from_address": "nb@x.nl", "feedback_sender_id": "gerrit"}, []),
        ({"feedback_sender_id": "a:b:c:d"}, ["feedback_sender_id"]),
        ({"feedback_sender_id": "sixteen-letters!"}, ["feedback_sender_id"]),
        ({"more_posts": -1}, ["more_posts"]),
        ({"more_posts": 6}, ["more_posts"]),
        ({"more_posts": 0}, []),
    ],
)
def test_newsletter_keys_that_would_break_a_mail_or_a_link(changes: dict, expected: list[str]):
    assert keys(NewsletterSection(**changes)) == expected


def test_the_feedback_sender_id_comes_from_the_sender_domain_unless_set() -> None:
    assert NewsletterSection(from_address="nb@Example.org").sender_id == "example.org"
    long_domain = NewsletterSection(from_address="nb@gerritvanderheide.com")
    assert long_domain.sender_id == "gerritvanderhei"
    assert NewsletterSection(from_address="nb@x.nl").sender_id == "x.nl-news"
    assert NewsletterSection(feedback_sender_id="gerrit-nb").sender_id == "gerrit-nb"


def test_a_feed_with_a_password_is_named_without_it() -> None:
    posts = PostsSection(
        feeds=("https://blog.example.org/feed", "ftp://gerrit:geheim@example.org/")
    )
    ((key, problem),) = posts.problems()
    assert key == "feeds"
    assert "geheim" not in problem and "ftp://gerrit:***@example.org/" in problem


def test_posts_limits_must_be_positive() -> None:
    assert keys(PostsSection()) == []
    assert keys(PostsSection(max_post_bytes=0, fetch_timeout_seconds=0, poll_minutes=0)) == [
        "max_post_bytes",
        "fetch_timeout_seconds",
        "poll_minutes",
    ]


def test_the_schedule_needs_a_known_time_zone_and_no_negative_waits() -> None:
    assert keys(ScheduleSection()) == []
    broken = ScheduleSection(catch_up_hours=-1, review_minutes=-5, timezone="Europe/Utrecht")
    assert keys(broken) == ["catch_up_hours", "review_minutes", "timezone"]
    assert keys(ScheduleSection(timezone="../etc/passwd")) == ["timezone"]


def test_the_database_url_is_judged_when_opened_not_when_loaded() -> None:
    assert list(DatabaseSection(url="not a url").problems()) == []
