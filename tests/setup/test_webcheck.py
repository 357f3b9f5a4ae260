"""The base_url check against the real web app, served by uvicorn on loopback.

https with a certificate from a test CA (trusted through SSL_CERT_FILE, the way OpenSSL
lets a machine add a CA) is ok; the same server untrusted fails; plain http is a warning
on this machine and a failure for a public address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme

from newsletter.config import load_settings
from newsletter.db.database import open_database
from newsletter.setup import doctor
from newsletter.web.app import create_app
from tests.support.web import uvicorn_serving

from .conftest import closed_port, message, statuses, write_config

SECRET = "x" * 40


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "config.toml",
        {"newsletter": {"from_address": "nieuwsbrief@gerritvanderheide.nl"}},
    )


@contextmanager
def serving(tmp_path: Path, config: Path, cert: trustme.LeafCert | None) -> Iterator[str]:
    """The app of ``config`` on 127.0.0.1 (https when given a certificate); yields its URL."""
    settings = load_settings(config, {"NEWSLETTER_SECRET_KEY": SECRET})
    database = open_database(f"sqlite:///{tmp_path}/newsletter.db")
    tls: dict[str, str] = {}
    if cert is not None:
        cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
        tls = {"ssl_keyfile": str(tmp_path / "key.pem"), "ssl_certfile": str(tmp_path / "cert.pem")}
    try:
        with uvicorn_serving(create_app(settings, database), **tls) as port:
            yield f"{'https' if cert else 'http'}://127.0.0.1:{port}"
    finally:
        database.dispose()


@pytest.fixture
def https_app(tmp_path: Path, config: Path, test_ca: trustme.CA) -> Iterator[str]:
    with serving(tmp_path, config, test_ca.issue_cert("127.0.0.1")) as url:
        yield url


@pytest.fixture
def http_app(tmp_path: Path, config: Path) -> Iterator[str]:
    with serving(tmp_path, config, None) as url:
        yield url


def check(config: Path, base_url: str) -> list[doctor.Result]:
    results = doctor.run(config, {"NEWSLETTER_NEWSLETTER__BASE_URL": base_url}, only=["base_url"])
    assert [result.check for result in results] == ["config", "base_url"]
    return results


def test_https_answering_healthz_is_ok(
    config: Path, https_app: str, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    results = check(config, https_app)
    assert statuses(results)["base_url"] == "ok", message(results, "base_url")
    assert message(results, "base_url") == f"{https_app}/healthz answers: database ok"


def test_an_untrusted_certificate_fails(
    config: Path, https_app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-ca.pem"
    empty.write_text("", encoding="ascii")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    results = check(config, https_app)
    assert statuses(results)["base_url"] == "fail"
    assert message(results, "base_url").startswith(
        f"{https_app}/healthz has a certificate that is not trusted (unable to get local issuer "
        "certificate)"
    )


def test_plain_http_on_this_machine_warns(config: Path, http_app: str) -> None:
    results = check(config, http_app)
    assert statuses(results)["base_url"] == "warn"
    assert message(results, "base_url") == (
        f"newsletter.base_url {http_app} is only on this machine (answers: database ok): "
        "readers need a public https address; put the app behind a TLS proxy (the Caddyfile "
        "of `newsletter init`)"
    )


def test_plain_http_to_a_public_name_fails(config: Path) -> None:
    """Nothing resolves here, which the message says too; http alone already fails it."""
    results = check(config, "http://nieuwsbrief.invalid")
    assert statuses(results)["base_url"] == "fail"
    assert message(results, "base_url").startswith(
        "newsletter.base_url http://nieuwsbrief.invalid is over plain http (cannot be reached"
    )


def test_https_with_nothing_listening_fails(config: Path, ca_file: str) -> None:
    port = closed_port()
    results = check(config, f"https://127.0.0.1:{port}")
    assert statuses(results)["base_url"] == "fail"
    assert message(results, "base_url") == (
        f"https://127.0.0.1:{port}/healthz cannot be reached (Connection refused): is "
        "`newsletter run` running behind the proxy?"
    )
