"""``newsletter init``: the files of a working set-up, from flags (--yes).

The prompts at a terminal are tested with the command's module, in tests/cli/test_setup.py.
"""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.config import load_settings
from newsletter.setup import doctor
from newsletter.setup.records import dkim_record

from .conftest import invoke, statuses

FROM = "nieuwsbrief@gerritvanderheide.nl"
FLAGS = [
    "--yes",
    "--from-name",
    "Gerrit van der Heide",
    "--from-address",
    FROM,
    "--base-url",
    "https://nieuwsbrief.gerritvanderheide.nl",
    "--smtp-host",
    "smtp.mailrelay.nl",
    "--smtp-port",
    "465",
    "--smtp-user",
    "gerrit",
    "--timezone",
    "Europe/Brussels",
    "--send-at",
    "fri 18:30",
    "--dkim-selector",
    "nb2026",
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_with_flags_writes_a_set_up_that_loads_and_migrates(
    tmp_path: Path, database_url: str
) -> None:
    target = tmp_path / "nieuwsbrief"
    result = invoke("init", str(target), *FLAGS)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == [
        "Caddyfile",
        "config.toml",
        "data",
        "dkim-private.pem",
        "dns-records.txt",
        "newsletter.service",
        "secret-key",
    ]
    assert mode(target / "secret-key") == 0o600
    assert mode(target / "dkim-private.pem") == 0o600
    assert len((target / "secret-key").read_text().strip()) >= 43  # 32 random bytes
    pem = (target / "dkim-private.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048

    settings = load_settings(target / "config.toml", environ={})
    assert settings.newsletter.from_name == "Gerrit van der Heide"
    assert settings.newsletter.from_address == FROM
    assert settings.newsletter.base_url == "https://nieuwsbrief.gerritvanderheide.nl"
    assert settings.newsletter.data_dir == str(target / "data")
    assert Path(settings.newsletter.data_dir).is_absolute()
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "smtp.mailrelay.nl",
        465,
        "tls",
    )
    assert settings.smtp.username == "gerrit"
    assert (settings.schedule.cron, settings.schedule.timezone) == ("fri 18:30", "Europe/Brussels")
    assert (settings.dkim.domain, settings.dkim.selector) == ("gerritvanderheide.nl", "nb2026")
    assert settings.signing_key() == (target / "secret-key").read_text().strip()
    assert settings.web.trusted_proxies == ("127.0.0.1",)  # Caddy, from the Caddyfile below

    # The DKIM record printed and written is the public half of the key on disk.
    record = dkim_record("gerritvanderheide.nl", "nb2026", pem.decode())
    assert record.value in (target / "dns-records.txt").read_text()
    assert record.value in result.output.replace("\n", "")
    assert "nb2026._domainkey.gerritvanderheide.nl" in result.output
    assert "_dmarc.gerritvanderheide.nl" in result.output
    assert f"newsletter --config {target / 'config.toml'} doctor" in result.output

    unit = (target / "newsletter.service").read_text()
    assert f"Environment=NEWSLETTER_CONFIG={target / 'config.toml'}" in unit
    assert f"ReadWritePaths={target / 'data'}" in unit
    assert "run --log-format json" in unit
    # What the daemon makes is its owner's alone; idle SMTP sessions cannot use up the
    # 1,024 descriptors of systemd's default.
    assert "\nUMask=0077\n" in unit
    assert "\nLimitNOFILE=65536\n" in unit
    assert mode(target / "data") == 0o700
    caddy = (target / "Caddyfile").read_text()
    assert "nieuwsbrief.gerritvanderheide.nl {\n\treverse_proxy 127.0.0.1:8080\n}" in caddy

    upgraded = invoke(
        "--config",
        str(target / "config.toml"),
        "db",
        "upgrade",
        env={"NEWSLETTER_DATABASE__URL": database_url},
    )
    assert upgraded.exit_code == 0, upgraded.output
    assert "database upgraded from empty to" in upgraded.output
    results = doctor.run(
        target / "config.toml",
        {"NEWSLETTER_DATABASE__URL": database_url},
        only=["secret_key", "database"],
    )
    assert statuses(results) == {"config": "ok", "secret_key": "ok", "database": "ok"}


def test_init_never_overwrites_without_force_and_force_keeps_the_keys(tmp_path: Path) -> None:
    target = tmp_path / "nb"
    assert invoke("init", str(target), *FLAGS).exit_code == 0
    before = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}

    again = invoke("init", str(target), *FLAGS[:-1], "other")
    assert again.exit_code == 1
    assert again.output.startswith("error: ")
    assert "already exist; pass --force to overwrite (keys are kept)" in again.output
    assert {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()} == before

    forced = invoke("init", str(target), "--force", *FLAGS[:-1], "other")
    assert forced.exit_code == 0, forced.output
    after = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}
    assert after["secret-key"] == before["secret-key"]
    assert after["dkim-private.pem"] == before["dkim-private.pem"]
    assert after["config.toml"] != before["config.toml"]
    assert load_settings(target / "config.toml", environ={}).dkim.selector == "other"
    assert mode(target / "secret-key") == 0o600


def test_without_dkim_and_with_a_password_from_the_environment(tmp_path: Path) -> None:
    target = tmp_path / "nb"
    result = invoke(
        "init",
        str(target),
        "--yes",
        "--from-address",
        FROM,
        "--smtp-host",
        "smtp.mailrelay.nl",
        "--dkim-selector",
        "none",
        "--base-url",
        "https://gerritvanderheide.nl/nieuwsbrief/",
        env={"NEWSLETTER_SMTP_PASSWORD": "geheim wachtwoord"},
    )
    assert result.exit_code == 0, result.output
    assert not (target / "dkim-private.pem").exists()
    assert mode(target / "smtp-password") == 0o600
    settings = load_settings(target / "config.toml", environ={})
    assert settings.dkim.domain == ""
    assert settings.smtp.username == FROM  # the default user is the sending address
    assert settings.smtp_password is not None
    assert settings.smtp_password.reveal() == "geheim wachtwoord"
    assert settings.newsletter.base_url == "https://gerritvanderheide.nl/nieuwsbrief"
    caddy = (target / "Caddyfile").read_text()
    assert "gerritvanderheide.nl {\n\thandle_path /nieuwsbrief/* {\n" in caddy
    assert "_domainkey" not in result.output
    assert "geheim" not in result.output


def test_feeds_and_a_bounce_address_are_written_and_their_records_printed(tmp_path: Path) -> None:
    target = tmp_path / "nb"
    result = invoke(
        "init",
        str(target),
        *FLAGS,
        "--feed",
        "https://gerritvanderheide.nl/feed/",
        "--feed",
        "http://oud.gerritvanderheide.nl/rss",
        "--bounce-address",
        "bounces@post.gerritvanderheide.nl",
    )
    assert result.exit_code == 0, result.output
    settings = load_settings(target / "config.toml", environ={})
    assert settings.posts.feeds == (
        "https://gerritvanderheide.nl/feed/",
        "http://oud.gerritvanderheide.nl/rss",
    )
    assert settings.bounces.address == "bounces@post.gerritvanderheide.nl"
    records = (target / "dns-records.txt").read_text()
    # The return path's domain needs an SPF record allowing the relay, and an MX.
    assert 'post.gerritvanderheide.nl. TXT "v=spf1 mx a:smtp.mailrelay.nl ~all"' in records
    assert "post.gerritvanderheide.nl. MX 10 " in records
    assert "bounces come back to bounces@post.gerritvanderheide.nl" in records
    output = result.output.replace("\n", " ")
    assert "post.gerritvanderheide.nl  MX" in output
    assert "post.gerritvanderheide.nl  TXT" in output


def test_without_feeds_or_bounce_address_both_are_off(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "nb"), *FLAGS)
    assert result.exit_code == 0, result.output
    settings = load_settings(tmp_path / "nb" / "config.toml", environ={})
    assert settings.posts.feeds == ()
    assert settings.bounces.address == ""
    assert " MX" not in (tmp_path / "nb" / "dns-records.txt").read_text()


def test_a_bounce_address_of_the_from_domain_adds_only_the_mx_note(tmp_path: Path) -> None:
    bounce = "bounces@gerritvanderheide.nl"
    result = invoke("init", str(tmp_path / "nb"), *FLAGS, "--bounce-address", bounce)
    assert result.exit_code == 0, result.output
    records = (tmp_path / "nb" / "dns-records.txt").read_text()
    assert records.count('TXT "v=spf1') == 1
    assert "gerritvanderheide.nl. MX 10 " in records


SET_UP_FILES = (
    "config.toml",
    "secret-key",
    "dkim-private.pem",
    "smtp-password",
    "newsletter.service",
    "Caddyfile",
    "dns-records.txt",
)


def test_a_link_at_any_file_is_replaced_never_written_through(tmp_path: Path) -> None:
    """Someone who can write into DIR plants links to files of theirs (or of the user who
    will run init as root); init writes the SMTP password, the keys and the config into
    DIR itself, and the files the links point at keep their content and mode."""
    target = tmp_path / "nb"
    target.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in SET_UP_FILES:
        victim = elsewhere / name
        victim.write_text(f"not init's: {name}\n")
        victim.chmod(0o644)
        (target / name).symlink_to(victim)
    # A link to a file that does not exist yet: writing through it would create that file.
    (target / "data").mkdir()
    dangling = elsewhere / "not-there"
    target.joinpath("Caddyfile").unlink()
    target.joinpath("Caddyfile").symlink_to(dangling)
    password = {"NEWSLETTER_SMTP_PASSWORD": "geheim-wachtwoord"}

    refused = invoke("init", str(target), *FLAGS, env=password)
    assert refused.exit_code == 1
    assert "already exist; pass --force" in refused.stderr
    for name in SET_UP_FILES:  # a link at a key counts too: it is no key to keep
        assert str(target / name) in refused.stderr

    forced = invoke("init", str(target), "--force", *FLAGS, env=password)
    assert forced.exit_code == 0, forced.output
    for name in SET_UP_FILES:
        path = target / name
        assert stat.S_ISREG(path.lstat().st_mode), f"{name} is not a regular file in DIR"
        if name == "Caddyfile":
            continue
        assert (elsewhere / name).read_text() == f"not init's: {name}\n"
        assert mode(elsewhere / name) == 0o644
    assert not dangling.exists()
    for secret in ("secret-key", "dkim-private.pem", "smtp-password"):
        assert mode(target / secret) == 0o600
    assert (target / "smtp-password").read_text() == "geheim-wachtwoord\n"
    # The key written is a new one, not what the link pointed at.
    pem = (target / "dkim-private.pem").read_bytes()
    assert isinstance(serialization.load_pem_private_key(pem, password=None), rsa.RSAPrivateKey)
    assert sorted(p.name for p in target.iterdir()) == sorted((*SET_UP_FILES, "data"))

    # The keys are regular files now, so a second --force keeps them.
    key = (target / "secret-key").read_bytes()
    again = invoke("init", str(target), "--force", *FLAGS, env=password)
    assert again.exit_code == 0, again.output
    assert (target / "secret-key").read_bytes() == key
    assert (target / "dkim-private.pem").read_bytes() == pem
