"""An aiosmtpd relay in a process of its own for bench/send.py: clean, or with the fault
mix of issue 16 (451 4.3.0 to every 37th RCPT, 550 5.1.1 to every 50th, a hang-up during
every 97th DATA). It is the tests' relay (tests/support/smtp.py); it prints its port and
runs until SIGTERM.

    python bench/fault_relay.py clean|mix
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.smtp import LOCAL_ERROR, USER_UNKNOWN, Faults, SmtpServer  # noqa: E402


def main() -> None:
    mix = sys.argv[1:] == ["mix"]
    faults = Faults(pipelining=True)
    if mix:
        faults = Faults(
            rcpt_every={37: LOCAL_ERROR, 50: USER_UNKNOWN}, drop_data_every=97, pipelining=True
        )
    server = SmtpServer(faults).start()
    print(server.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
