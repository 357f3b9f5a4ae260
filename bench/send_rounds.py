"""Issue 26's figure: our send side by side with smtp-source, round after round.

Each round runs Postfix's smtp-source into the sink (``--ceiling-messages`` messages of
the edition's size over ``--connections`` sessions), then, on a fresh database with the
list and the post queued, the whole command `newsletter send --next --yes --json` in a
child process: start-up, rendering, the deliverability check (SpamAssassin included),
creating the edition, the send loop, the bookkeeping. Two rates per round, both as a
share of that round's smtp-source rate: the send loop's (``messages_per_second`` of the
summary: sent over the loop's own time) and the whole command's (sent over the child's
wall time). The medians over the rounds are the issue's figures (targets: loop ≥ 85 %,
command ≥ 70 %). On a shared machine those move with the others' load; the CPU time the
command used (its own and its children's, SpamAssassin's included; from ``getrusage``)
per message moves much less, and is printed too. Called by ``bench/send.py --rounds N``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from send import ceiling, free_port, fresh_database, message_size, prepare, run_send


def rounds(args: argparse.Namespace) -> None:
    slug, size = message_size(args.post)
    count = args.subscribers[0]
    port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    time.sleep(0.5)
    label = "postgresql" if args.postgres and args.no_sqlite else "sqlite"
    backend = args.postgres if label == "postgresql" else None
    print(f"post {slug}: {size:,} bytes per message, {args.connections} connections, "
          f"{count:,} readers, {label}; load average {_load()}")  # fmt: skip
    print(f"{'round':>5}{'source/s':>10}{'loop/s':>8}{'loop %':>8}{'command/s':>11}"
          f"{'command %':>11}{'outside loop s':>16}{'CPU µs/msg':>12}")  # fmt: skip
    loops: list[float] = []
    commands: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for number in range(1, args.rounds + 1):
                source = ceiling(port, size, args.connections, args.ceiling_messages)
                url, schema = fresh_database(backend, Path(tmp), f"round{number}")
                prepare(url, args.post, count, edition=False)
                before = _children_cpu()
                summary, wall, _ = run_send(url, 0, port, args.connections)
                cpu = (_children_cpu() - before) / count * 1e6
                assert summary["sent"] == count, summary
                loop, command = summary["messages_per_second"], count / wall
                loops.append(loop / source)
                commands.append(command / source)
                print(f"{number:>5}{source:>10,.0f}{loop:>8,.0f}{loop / source:>8.0%}"
                      f"{command:>11,.0f}{command / source:>11.0%}"
                      f"{wall - summary['seconds']:>16.2f}{cpu:>12,.0f}")  # fmt: skip
                if schema and backend:
                    with psycopg.connect(backend, autocommit=True) as connection:
                        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        sink.terminate()
        sink.wait()
    loop_median, command_median = statistics.median(loops), statistics.median(commands)
    print(f"median of {args.rounds}: send loop {loop_median:.0%} of smtp-source (target 85 %), "
          f"whole command {command_median:.0%} (target 70 %); load average {_load()}")  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
