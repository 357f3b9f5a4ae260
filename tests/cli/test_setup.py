"""cli/setup: ``newsletter init`` asks its questions at a terminal (Rich prompts, a wrong
answer asked again, a hidden password), and says what to pass without one.

The interactive test drives the real command in a pseudo-terminal (pexpect), as a person
at a terminal would.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pexpect
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_settings
from tests.support.system import NEWSLETTER_SCRIPT

FROM = "nieuwsbrief@gerritvanderheide.nl"
NEWSLETTER = str(NEWSLETTER_SCRIPT)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_asks_in_a_terminal(tmp_path: Path) -> None:
    """A person at a terminal: defaults taken with Enter, a wrong time zone asked again,
    the SMTP password typed without echo."""
    target = tmp_path / "nb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    child = pexpect.spawn(
        NEWSLETTER,
        ["init", str(target)],
        env={**env, "COLUMNS": "200", "TERM": "dumb"},
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
    )
    try:
        child.expect_exact("Your name, as readers see it in their inbox (Gerrit):")
        child.sendline("")
        child.expect_exact("(nieuwsbrief@gerritvanderheide.com):")
        child.sendline(FROM)
        child.expect_exact("(https://nieuwsbrief.gerritvanderheide.nl):")
        child.sendline("")
        child.expect_exact("The feed of your blog")
        child.sendline("https://gerritvanderheide.nl/feed/ https://gerritvanderheide.nl/en/feed/")
        child.expect_exact("Your mail provider's SMTP server")
        child.sendline("smtp.mailrelay.nl")
        child.expect_exact("(587):")
        child.sendline("")
        child.expect_exact(f"({FROM}):")
        child.sendline("")
        child.expect_exact("(Europe/Amsterdam):")
        child.sendline("Mars/Olympus")
        child.expect_exact("'Mars/Olympus' is not an IANA time zone like Europe/Amsterdam")
        child.expect_exact("(Europe/Amsterdam):")
        child.sendline("Europe/Amsterdam")
        child.expect_exact("(mon 07:00):")
        child.sendline("tue 06:15")
        child.expect_exact("(nieuwsbrief):")
        child.sendline("")
        child.expect_exact("The address bounces come back to")
        child.sendline("bounces+x@gerritvanderheide.nl")
        child.expect_exact("has a '+': give the plain address")
        child.expect_exact("The address bounces come back to")
        child.sendline("Bounces@Gerritvanderheide.nl")
        child.expect_exact("The SMTP password")
        child.sendline("s3cret-in-a-tty")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    output = child.before or ""
    assert child.exitstatus == 0, output
    assert "s3cret-in-a-tty" not in output  # not echoed
    settings = load_settings(target / "config.toml", environ={})
    assert settings.newsletter.from_name == "Gerrit"
    assert settings.newsletter.from_address == FROM
    assert settings.smtp.host == "smtp.mailrelay.nl"
    assert settings.smtp.username == FROM
    assert settings.schedule.cron == "tue 06:15"
    assert settings.dkim.selector == "nieuwsbrief"
    assert settings.posts.feeds == (
        "https://gerritvanderheide.nl/feed/",
        "https://gerritvanderheide.nl/en/feed/",
    )
    assert settings.bounces.address == "bounces@gerritvanderheide.nl"
    assert settings.smtp_password is not None
    assert settings.smtp_password.reveal() == "s3cret-in-a-tty"
    assert mode(target / "smtp-password") == 0o600
    assert mode(target / "secret-key") == 0o600


def test_init_without_a_terminal_or_flags_says_to_pass_yes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "nb")], input="")
    assert result.exit_code == 1
    assert result.output.endswith(
        "error: no answer (input closed): pass --yes to take the defaults\n"
    )
