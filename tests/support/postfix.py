"""A real Postfix as the relay, with its own client rate limit: Debian's postfix, started
by the test with a configuration, queue and data folder of its own, listening on
127.0.0.1 only and relaying everything to a final destination the test runs (an aiosmtpd
server), so what Postfix accepted can be counted. It never touches the system's
configuration (``/etc/postfix``) or its mail system.

Anvil limits every client to ``rate_limit`` messages per ``time_unit`` and refuses more
with ``450 4.7.1 Error: too much mail from 127.0.0.1`` at MAIL FROM, as a real relay
does. Loopback clients are exempt by default (``smtpd_client_event_limit_exceptions``
is ``$mynetworks``), so the exemption is turned off.

``postfix start`` must run as root (it drops to ``mail_owner`` for its daemons, which
must not be root); the folders are therefore not under pytest's ``tmp_path``, which is
private to its owner, but in a temporary folder the ``postfix`` user can reach.
Postfix logs to ``maillog`` in that folder (there is no syslog here).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .system import free_port, wait_until

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

# The services a relay needs: smtpd on a high port, the queue, and smtp out to the sink.
_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60  1 pickup
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -   - proxymap
smtp      unix  - - n -   - smtp
relay     unix  - - n -   - smtp
error     unix  - - n -   - error
retry     unix  - - n -   - error
discard   unix  - - n -   - discard
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


@dataclass(frozen=True)
class Postfix:
    port: int
    folder: Path

    def log(self) -> str:
        path = self.folder / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


def _main_cf(folder: Path, final_port: int, rate_limit: int, time_unit: str) -> str:
    return f"""\
compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.test
mydestination =
relayhost = [127.0.0.1]:{final_port}
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtputf8_enable = no
message_size_limit = 0
maillog_file = {folder}/maillog
maillog_file_prefixes = {folder}
smtpd_client_message_rate_limit = {rate_limit}
anvil_rate_time_unit = {time_unit}
smtpd_client_event_limit_exceptions =
"""


def _postfix(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POSTFIX, "-c", str(folder / "conf"), command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_postfix(
    final_port: int, *, rate_limit: int = 100, time_unit: str = "10s"
) -> Iterator[Postfix]:
    if not Path(POSTFIX).exists():
        pytest.skip("postfix is not installed: make system-packages")
    if os.geteuid() != 0:
        pytest.skip("postfix start needs root (its daemons then run as mail_owner)")
    owner = pwd.getpwnam("postfix")
    with tempfile.TemporaryDirectory(prefix="newsletter-postfix-") as name:
        folder = Path(name)
        folder.chmod(0o755)
        for part in ("conf", "queue", "data"):
            (folder / part).mkdir()
        os.chown(folder / "data", owner.pw_uid, owner.pw_gid)
        port = free_port()
        main_cf = _main_cf(folder, final_port, rate_limit, time_unit)
        (folder / "conf" / "main.cf").write_text(main_cf, encoding="utf-8")
        (folder / "conf" / "master.cf").write_text(_MASTER_CF.format(port=port), encoding="utf-8")
        started = _postfix(folder, "start")
        server = Postfix(port, folder)
        try:
            if started.returncode != 0:
                raise RuntimeError(f"postfix did not start: {started.stderr} {server.log()}")
            wait_until(lambda: _listening(port), timeout=20, what="postfix")
            yield server
        finally:
            _postfix(folder, "stop")
