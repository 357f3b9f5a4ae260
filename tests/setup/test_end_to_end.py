"""From zero to a clean ``newsletter doctor``, as a new user goes: ``init``, publish the
printed records, ``db upgrade``, start the app behind https, run ``doctor``.

Everything is real and on loopback: the DNS server holds exactly the records init wrote
to dns-records.txt, the relay is aiosmtpd with STARTTLS and AUTH, the web app is uvicorn
with TLS, and the commands are the installed ``newsletter`` executable.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import trustme

from newsletter.config import load_settings
from newsletter.db.database import open_database
from newsletter.db.events import last_doctor_run
from tests.support.smtp import RELAY_PASSWORD as PASSWORD
from tests.support.smtp import RELAY_USER as USER
from tests.support.smtp import RelayAuth, SmtpServer

from .dns_server import Zone, dns_server
from .test_webcheck import serving

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
DOMAIN = "gerritvanderheide.nl"


def newsletter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def published(records_file: Path) -> Zone:
    """The zone a user makes by copying dns-records.txt into their DNS panel."""
    zone = Zone()
    for name, rtype, value in re.findall(r'^(\S+)\. (\w+) "(.*)"$', records_file.read_text(), re.M):
        zone.set(name, rtype, value)
    zone.set(DOMAIN, "MX", f"10 mx.{DOMAIN}")
    zone.set(f"mx.{DOMAIN}", "A", "192.0.2.10")
    return zone


def test_init_publish_upgrade_doctor(
    tmp_path: Path, test_ca: trustme.CA, server_tls: ssl.SSLContext, ca_file: str
) -> None:
    target = tmp_path / "nieuwsbrief"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["NEWSLETTER_SMTP_PASSWORD"] = PASSWORD
    with SmtpServer(auth=RelayAuth("starttls", server_tls)) as relay:
        made = newsletter(
            "init",
            str(target),
            "--yes",
            "--from-address",
            USER,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(relay.port),
            "--smtp-user",
            USER,
            "--base-url",
            "https://nieuwsbrief.gerritvanderheide.nl",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        assert '"v=spf1 mx ip4:127.0.0.1 ~all"' in made.stdout
        config = str(target / "config.toml")
        env = {k: v for k, v in env.items() if k != "NEWSLETTER_SMTP_PASSWORD"}
        upgraded = newsletter("--config", config, "db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr

        # The public name cannot be served here: the app's loopback https address stands in.
        with (
            dns_server(published(target / "dns-records.txt")) as nameserver,
            serving(tmp_path, Path(config), test_ca.issue_cert("127.0.0.1")) as base_url,
        ):
            checked = newsletter(
                "--config",
                config,
                "doctor",
                "--json",
                env={
                    **env,
                    "NEWSLETTER_DOCTOR__NAMESERVER": nameserver,
                    "NEWSLETTER_SMTP__CA_FILE": ca_file,
                    "NEWSLETTER_NEWSLETTER__BASE_URL": base_url,
                    "SSL_CERT_FILE": ca_file,
                },
            )
    report = json.loads(checked.stdout)
    assert {item["check"]: item["status"] for item in report} == {
        "config": "ok",
        "secret_key": "ok",
        "database": "ok",
        "file_modes": "ok",  # init and db upgrade made the data folder and files private
        "relay": "ok",
        "spf": "ok",
        "dkim": "ok",
        "dmarc": "warn",  # init's starting record is p=none, on purpose
        "base_url": "ok",
    }, report
    assert checked.returncode == 0, checked.stderr
    assert [(login.user, login.encrypted) for login in relay.handler.logins] == [(USER, True)]
    assert relay.handler.mail_commands == 0
    # The full run is kept for the owner's page: when, and which checks did not pass.
    database = open_database(load_settings(config).database_url)
    try:
        with database.session() as session:
            run = last_doctor_run(session)
    finally:
        database.dispose()
    assert run is not None and (run.failed, run.warned) == ((), ("dmarc",))
