"""Benchmark: `newsletter subscribers import` of generated CSV files.

Prints rows/s and the peak RSS of the importing process for several file sizes, so one
can see that memory stays flat as the file grows (the import streams in batches).

    python bench/import_subscribers.py                       # SQLite, 50k and 200k rows
    python bench/import_subscribers.py --rows 200000 1000000
    python bench/import_subscribers.py --database postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name\n")
        for i in range(rows):
            out.write(f"lezer{i}@voorbeeld{i % 97}.nl,Lezer {i}\n")
            if i % 1000 == 999:
                out.write(f"geen-adres-{i},Fout\n")  # one invalid row per thousand


def run_import(csv_path: Path, database_url: str) -> tuple[float, int, float]:
    """Run the import in a child process; returns (seconds, peak RSS in MiB, CPU seconds)
    of that child. The CPU time (user + system) moves less than the wall time with what
    else runs on a shared machine; the database server's own work is not in it."""
    script = Path(sys.executable).with_name("newsletter")
    env = {**os.environ, "NEWSLETTER_DATABASE__URL": database_url}
    output_path = csv_path.with_suffix(".out")
    start = time.perf_counter()
    with output_path.open("w") as output:
        child = subprocess.Popen(
            [str(script), "subscribers", "import", str(csv_path)],
            env=env,
            stdout=output,
            stderr=subprocess.DEVNULL,
        )
        # wait4, not wait: it returns the resource usage of exactly this child.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"import failed with exit code {child.returncode}")
    peak = usage.ru_maxrss
    output = output_path.read_text()
    print(f"    {output.strip()}")
    return seconds, peak // 1024, usage.ru_utime + usage.ru_stime


def fresh_database(base_url: str | None, workdir: Path, label: str) -> tuple[str, str | None]:
    if base_url is None:
        return f"sqlite:///{workdir}/{label}.db", None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}", schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--database", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    backend = "postgresql" if args.database else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for rows in args.rows:
            csv_path = workdir / f"{rows}.csv"
            write_csv(csv_path, rows)
            url, schema = fresh_database(args.database, workdir, str(rows))
            try:
                print(f"{backend}: {rows:,} rows ({csv_path.stat().st_size / 2**20:.1f} MiB)")
                seconds, peak_mib, cpu = run_import(csv_path, url)
            finally:
                if schema:
                    with psycopg.connect(args.database, autocommit=True) as connection:
                        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            print(
                f"    {rows / seconds:,.0f} rows/s, {seconds:.1f} s, peak RSS {peak_mib} MiB,"
                f" {cpu:.1f} s CPU ({rows / cpu:,.0f} rows per CPU second)"
            )


if __name__ == "__main__":
    main()
