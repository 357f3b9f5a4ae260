"""The text of each file ``newsletter init`` writes, made from the answers; nothing is
written here (see :mod:`newsletter.setup.init`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from newsletter.setup.questions import feeds_of
from newsletter.setup.records import DnsRecord, domain_of

CONFIG = "config.toml"
SECRET_KEY = "secret-key"  # noqa: S105 (a file name)
DKIM_KEY = "dkim-private.pem"
SMTP_PASSWORD = "smtp-password"  # noqa: S105 (a file name)
UNIT = "newsletter.service"
CADDYFILE = "Caddyfile"
RECORDS = "dns-records.txt"
DATA = "data"
WEB_PORT = 8080


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def config_text(directory: Path, answers: Mapping[str, str], password_file: bool) -> str:
    """The config file, one section after the other, every value from the answers."""
    lines = [
        f"# Written by `newsletter init` on {datetime.now(UTC):%Y-%m-%d}. Every key is explained",
        "# in config.example.toml. Secrets live in the files named here (mode 0600), or in",
        "# NEWSLETTER_SECRET_KEY, NEWSLETTER_SMTP_PASSWORD and NEWSLETTER_DKIM_PRIVATE_KEY.",
        "",
        *_newsletter_section(directory, answers),
        "",
        "[database]",
        '# Empty: SQLite in data_dir. PostgreSQL: "postgresql://newsletter@localhost/newsletter"',
        'url = ""',
        "",
        *_smtp_section(directory, answers, password_file),
        "",
        "[schedule]",
        f"cron = {_toml(answers['send_at'])}",
        f"timezone = {_toml(answers['timezone'])}",
        "",
        "[posts]",
        "# The blog's feeds, polled for new posts; empty: posts are added by hand.",
        f"feeds = [{', '.join(_toml(url) for url in feeds_of(answers))}]",
        "",
        "[web]",
        "# The Caddyfile next to this file forwards base_url here; Caddy connects from",
        "# 127.0.0.1 and names the visitor in X-Forwarded-For.",
        'host = "127.0.0.1"',
        f"port = {WEB_PORT}",
        'trusted_proxies = ["127.0.0.1"]',
        "",
        *_dkim_section(directory, answers),
        "",
        *_bounces_section(answers),
        "",
        "[doctor]",
        '# DNS server of `newsletter doctor` as "HOST:PORT"; empty: the system resolver.',
        'nameserver = ""',
        "",
        "[owner]",
        "# A day after each edition, mail its figures to newsletter.owner_address (also on",
        "# the edition's page at /beheer); false: no weekly mail.",
        "weekly_report = true",
        "",
    ]
    return "\n".join(lines)


def _newsletter_section(directory: Path, answers: Mapping[str, str]) -> list[str]:
    name = answers["from_name"]
    domain = domain_of(answers["from_address"])
    signature = f"Groet,\n{name}"
    return [
        "[newsletter]",
        f"name = {_toml(f'Nieuwsbrief van {name}')}",
        f"from_name = {_toml(name)}",
        f"from_address = {_toml(answers['from_address'])}",
        f"base_url = {_toml(answers['base_url'])}",
        f"list_id = {_toml(f'nieuwsbrief.{domain}')}",
        f"signature = {_toml(signature)}",
        f"data_dir = {_toml(str(directory / DATA))}",
        f"secret_key_file = {_toml(str(directory / SECRET_KEY))}",
    ]


def _smtp_section(directory: Path, answers: Mapping[str, str], password_file: bool) -> list[str]:
    if not answers["smtp_host"]:
        return [
            "[smtp]",
            "# No relay yet: mail goes to data/outbox. Set host, port and username.",
            'host = ""',
        ]
    port = int(answers["smtp_port"])
    lines = [
        "[smtp]",
        f"host = {_toml(answers['smtp_host'])}",
        f"port = {port}",
        f"security = {_toml('tls' if port == 465 else 'starttls')}",
        f"username = {_toml(answers['smtp_user'])}",
    ]
    if password_file:
        lines.append(f"password_file = {_toml(str(directory / SMTP_PASSWORD))}")
    return lines


def _dkim_section(directory: Path, answers: Mapping[str, str]) -> list[str]:
    if not answers["dkim_selector"]:
        return ["[dkim]", "# Not signing: the relay signs (domain, selector, private_key_file)"]
    return [
        "[dkim]",
        f"domain = {_toml(domain_of(answers['from_address']))}",
        f"selector = {_toml(answers['dkim_selector'])}",
        f"private_key_file = {_toml(str(directory / DKIM_KEY))}",
    ]


def _bounces_section(answers: Mapping[str, str]) -> list[str]:
    if not answers.get("bounce_address"):
        return [
            "[bounces]",
            '# Off: the return path is from_address. address = "bounces@DOMAIN"',
            'address = ""',
        ]
    return ["[bounces]", f"address = {_toml(answers['bounce_address'])}"]


def unit_text(directory: Path, executable: str, user: str) -> str:
    return f"""\
# systemd unit: sudo cp {directory / UNIT} /etc/systemd/system/
#               sudo systemctl enable --now newsletter
[Unit]
Description=Weekly newsletter
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
User={user}
WorkingDirectory={directory}
Environment=NEWSLETTER_CONFIG={directory / CONFIG}
ExecStart={executable} run --log-format json
Restart=on-failure
TimeoutStopSec=20
# What the daemon creates (the database, the outbox) only this user can read.
UMask=0077
# Every SMTP session and web request holds a descriptor; 1,024 is systemd's default.
LimitNOFILE=65536
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={directory / DATA}

[Install]
WantedBy=multi-user.target
"""


def caddy_text(base_url: str) -> str:
    """Caddy fetches and renews the certificate itself; a base URL with a path is served
    under that path, with the prefix stripped before it reaches the app."""
    parts = urlsplit(base_url)
    site = parts.netloc if parts.scheme == "https" else f"http://{parts.netloc}"
    upstream = f"\treverse_proxy 127.0.0.1:{WEB_PORT}"
    body = f"\thandle_path {parts.path}/* {{\n\t{upstream}\n\t}}" if parts.path else upstream
    return (
        "# Caddy (https://caddyserver.com): put this in /etc/caddy/Caddyfile, then\n"
        "#   sudo systemctl reload caddy\n"
        f"{site} {{\n{body}\n}}\n"
    )


def records_text(records: list[DnsRecord]) -> str:
    lines = ["# DNS records to publish; then check them with `newsletter doctor`.", ""]
    for record in records:
        lines += [f"# {record.note}", f"{record.name}. {record.type} {record.shown}", ""]
    return "\n".join(lines)
