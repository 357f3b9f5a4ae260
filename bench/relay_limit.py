"""Benchmark: one `send` through a real Postfix that limits us (anvil), issue 26 point 2.

A private Postfix (tests/support/postfix.py: its own configuration and queue, 127.0.0.1
only, relaying to an aiosmtpd sink) allows ``--limit`` messages per ``--window`` seconds
and refuses more with ``450 4.7.1 Error: too much mail``. The send's time is compared
with the time the limit allows: at its nominal rate (readers / (limit / window)) and at
the least a fixed window allows (the last window opens at ``(ceil(readers / limit) - 1)
× window``). Target: at most 1.3 × the nominal time, nobody deferred, the edition sent.
Needs root (``postfix start``).

    python bench/relay_limit.py                    # 600 readers, 100 per 10 s
    python bench/relay_limit.py --readers 1200 --limit 100 --window 10
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.db.database import open_database  # noqa: E402
from newsletter.delivery.engine import send_edition  # noqa: E402
from tests.support.db import new_edition  # noqa: E402
from tests.support.postfix import running_postfix  # noqa: E402
from tests.support.schema import migrate_sqlite_template  # noqa: E402
from tests.support.settings import make_settings, relay  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=600)
    parser.add_argument("--limit", type=int, default=100, help="messages per window")
    parser.add_argument("--window", type=int, default=10, help="anvil_rate_time_unit, s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-relay-limit-") as folder:
        path = migrate_sqlite_template(Path(folder) / "newsletter.db")
        database = open_database(f"sqlite:///{path}")
        edition_id, _ = new_edition(database, args.readers)
        with (
            SmtpServer() as sink,
            running_postfix(sink.port, rate_limit=args.limit, time_unit=f"{args.window}s") as mta,
        ):
            started = time.perf_counter()
            summary = send_edition(database, make_settings(smtp=relay(mta.port)), edition_id)
            seconds = time.perf_counter() - started
        database.dispose()
    nominal = args.readers / (args.limit / args.window)
    least = (math.ceil(args.readers / args.limit) - 1) * args.window
    print(f"readers {args.readers}, relay limit {args.limit} per {args.window} s")
    print(f"send        {seconds:6.1f} s  status {summary.status}")
    print(f"nominal     {nominal:6.1f} s  ratio {seconds / nominal:.2f} (target <= 1.3)")
    print(f"least       {least:6.1f} s  ratio {seconds / least:.2f}")
    print(
        f"sent {summary.sent}  deferred {summary.deferred}  failed {summary.failed}  "
        f"slowdowns {summary.slowdowns}  learned relay rate {summary.relay_rate or 0:.2f}/s "
        f"(actual {args.limit / args.window:.2f}/s)"
    )


if __name__ == "__main__":
    main()
