"""`newsletter preview` and `newsletter check` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.mail.tokens import read_token
from tests.support.settings import SECRET
from tests.support.system import EXAMPLE_POSTS as EXAMPLES

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str) -> Run:
    def invoke(*args: str, base_url: str = "https://nieuwsbrief.example.org") -> Result:
        env = {
            "NEWSLETTER_DATABASE__URL": database_url,
            "NEWSLETTER_SECRET_KEY": SECRET,
            "NEWSLETTER_NEWSLETTER__BASE_URL": base_url,
        }
        return CliRunner().invoke(cli, list(args), env=env)

    assert invoke("posts", "import", str(EXAMPLES)).exit_code == 0
    return invoke


def test_preview_eml_is_the_message_for_that_subscriber(run: Run) -> None:
    run("subscribers", "add", "anna@example.nl", "--name", "Anna")
    result = run("preview", "--format", "eml", "--subscriber", "Anna@example.nl")
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(result.stdout_bytes, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "Anna <anna@example.nl>"
    assert message["Subject"].startswith("Innerlijke kracht")
    url = str(message["List-Unsubscribe"]).split(">")[0].lstrip("<")
    assert read_token(SECRET, "unsubscribe", url.rsplit("/", 1)[1]) == 1
    html_part = message.get_body(("html",))
    assert html_part is not None and "Hoi Anna," in html_part.get_content()


def test_preview_of_a_named_post_to_a_file(run: Run, tmp_path: Path) -> None:
    slug = "mededogen-met-jezelf-de-kracht-van-zachtheid-in-moeilijke-momenten"
    out = tmp_path / "preview.html"
    result = run("preview", slug, "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Mededogen met jezelf" in html and html.count("Groet,<br>Gerrit") == 1
    text = run("preview", slug, "--format", "text").stdout
    assert text.count("Groet,\nGerrit") == 1


def test_preview_errors_are_one_line(run: Run) -> None:
    unknown = run("preview", "bestaat-niet")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: no post with slug")
    nobody = run("preview", "--subscriber", "niemand@example.nl")
    assert nobody.exit_code == 1 and "no subscriber" in nobody.stderr


def test_check_passes_for_every_real_post(run: Run) -> None:
    for _ in range(5):
        result = run("check")
        assert result.exit_code == 0, result.output
        assert "0 failed" in result.stdout
        assert "FAIL" not in result.stdout
        slug = run("posts", "next").stdout.split(":")[0]
        run("posts", "skip", slug)
    assert run("posts", "next").stdout.startswith("the queue is empty")


def test_check_fails_on_a_public_http_unsubscribe_link(run: Run) -> None:
    result = run("check", base_url="http://nieuwsbrief.example.org")
    assert result.exit_code == 1
    assert "FAIL  List-Unsubscribe: no https URL" in result.stdout


def test_an_unwritable_output_file_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("preview", "-o", str(tmp_path / "no-such-folder" / "x.html"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No such file or directory: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
