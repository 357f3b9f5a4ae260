"""What every section shares: it names its own problems as (key, problem), and only a
person's config is checked, never a section built in code."""

from __future__ import annotations

from dataclasses import fields

import pytest

from newsletter.config import (
    BouncesSection,
    DkimSection,
    DoctorSection,
    ImapSection,
    InboundSection,
    NewsletterSection,
    PostsSection,
    ScheduleSection,
    Settings,
    SmtpSection,
    WebSection,
)
from newsletter.config.section import Section


def test_a_section_names_its_own_problems_and_is_not_checked_when_built_in_code() -> None:
    web = WebSection(port=0)  # what a test binds; only a person's config is refused it
    assert list(web.problems()) == [("port", "must be between 1 and 65535")]
    assert list(ImapSection(port=0).problems()) == []  # off: its keys are not used
    assert list(SmtpSection().problems()) == []


BROKEN: list[Section] = [
    NewsletterSection(base_url="example.org", from_address=""),
    PostsSection(poll_minutes=0),
    ScheduleSection(catch_up_hours=-1),
    SmtpSection(connections=0, timeout=0),
    DkimSection(domain="example.org"),
    WebSection(trusted_hosts=("A",)),
    InboundSection(max_sessions=0),
    BouncesSection(soft_window=0),
    ImapSection(host="imap.example.org"),
    DoctorSection(nameserver="dns.example.org"),
]


@pytest.mark.parametrize("section", BROKEN, ids=lambda section: type(section).__name__)
def test_each_problem_names_a_key_of_its_own_section(section: Section) -> None:
    """The loader adds ``WHERE: section.`` in front: a key that is not the section's own
    would send a person to a key that does not exist."""
    problems = list(section.problems())
    assert problems
    keys = {field.name for field in fields(section)}  # type: ignore[arg-type]
    for key, problem in problems:
        assert key in keys
        assert problem and "\n" not in problem and not problem.startswith(key)


def test_the_defaults_break_no_rule() -> None:
    settings = Settings()
    for field in fields(settings):
        section = getattr(settings, field.name)
        if hasattr(section, "problems"):
            assert list(section.problems()) == [], field.name
    assert list(settings.problems()) == []
