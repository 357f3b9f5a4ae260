"""A real IMAP server for the tests: Debian's dovecot, started by the test with a config of
its own in a temporary folder (implicit TLS with a certificate made by trustme, one user
with a password, Maildir storage), listening on 127.0.0.1 only. Dovecot refuses to run its
login processes as root, so under root (CI) it runs as ``nobody``; it never touches the
system's dovecot configuration or service.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from .system import wait_until

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "bounces"
PASSWORD = "imap-test-wachtwoord"


@dataclass(frozen=True)
class Dovecot:
    port: int  # implicit TLS (imaps)
    ca_file: Path
    starttls_port: int  # plain IMAP that must be upgraded with STARTTLS before LOGIN


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_dovecot(workdir: Path) -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd")
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    for name in ("run", "state", "mail", "home"):
        (workdir / name).mkdir(parents=True)
    certificate.cert_chain_pems[0].write_to_path(workdir / "cert.pem")
    certificate.private_key_pem.write_to_path(workdir / "key.pem")
    ca.cert_pem.write_to_path(workdir / "ca.pem")
    (workdir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    port, starttls_port = _free_port(), _free_port()
    group = account.pw_gid
    (workdir / "dovecot.conf").write_text(
        f"""
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
instance_name = newsletter-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{workdir}/cert.pem
ssl_key = <{workdir}/key.pem
auth_mechanisms = plain login
default_login_user = {account.pw_name}
default_internal_user = {account.pw_name}
default_internal_group = {grp.getgrgid(group).gr_name}
first_valid_uid = 1
mail_location = maildir:{workdir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {workdir}/passwd
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={group} home={workdir}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""",
        encoding="utf-8",
    )
    os.chmod(workdir, 0o755)
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, account.pw_uid, group)
    with (workdir / "stderr.txt").open("wb") as output:
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(workdir / "dovecot.conf")],
            user=account.pw_uid,
            group=group,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or _listening(port), timeout=20, what="dovecot"
        )
        if process.poll() is not None:
            logs = [workdir / "stderr.txt", workdir / "dovecot.log"]
            text = " ".join(log.read_text() for log in logs if log.exists())
            raise RuntimeError(f"dovecot did not start: {text}")
        yield Dovecot(port, workdir / "ca.pem", starttls_port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
