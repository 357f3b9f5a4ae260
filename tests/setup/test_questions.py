"""setup/questions: each answer of ``newsletter init`` is checked, and a bad one is refused
naming its flag before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import invoke


def test_a_bad_answer_is_one_line_naming_the_flag_and_nothing_is_written(tmp_path: Path) -> None:
    target = tmp_path / "nb"
    for flag, value, problem in [
        ("--send-at", "someday", "error: --send-at: schedule.cron 'someday' is not"),
        ("--from-address", "gerrit@", "error: --from-address: invalid e-mail address"),
        ("--base-url", "nieuwsbrief.nl", "error: --base-url: 'nieuwsbrief.nl' is not an address"),
        ("--smtp-port", "70000", "error: --smtp-port: 70000 is not between 1 and 65535"),
        ("--timezone", "Mars/Olympus", "error: --timezone: 'Mars/Olympus' is not an IANA"),
        ("--smtp-host", "smtp.x.nl:587", "error: --smtp-host: 'smtp.x.nl:587' is not a host"),
        ("--feed", "gerrit.nl/feed", "error: --feed: 'gerrit.nl/feed' is not a feed address"),
        ("--bounce-address", "b+1@x.nl", "error: --bounce-address: 'b+1@x.nl' has a '+'"),
        ("--bounce-address", "bounces@", "error: --bounce-address: invalid e-mail address"),
        ("--from-name", "Gerrit <g@x.nl>", "error: --from-name: a name of one line without <"),
        ("--from-name", "G" * 201, "error: --from-name: name is longer than 200 characters"),
    ]:
        result = invoke("init", str(target), "--yes", flag, value)
        assert result.exit_code == 1, (flag, result.output)
        assert result.stderr.startswith(problem), result.output
        assert result.stderr.count("\n") == 1
        assert result.stdout == ""
        assert not target.exists()


@pytest.mark.parametrize("answer", ["none", "-", ""])
def test_the_selector_none_means_no_dkim(tmp_path: Path, answer: str) -> None:
    result = invoke("init", str(tmp_path), "--yes", "--dkim-selector", answer)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "dkim-private.pem").exists()
