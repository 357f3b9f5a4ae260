"""Benchmark: how long the ``newsletter`` command takes to start and finish a small job.

Each command runs several times, every time in a fresh process (the installed console
script, as an admin types it), against a SQLite database in a temporary folder. Prints the
median and fastest wall time per command, and for ``--help`` the modules that a run
imports (from ``python -X importtime``): how many, and which libraries outside the
standard library, so an import that creeps back into the start-up path shows by name.

    python bench/cli_startup.py
    python bench/cli_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("newsletter")


def newsletter(config: Path, *args: str) -> list[str]:
    return [str(SCRIPT), "--config", str(config), *args]


def wall_times(command: Callable[[int], list[str]], runs: int) -> list[float]:
    """Seconds per run; ``command(i)`` gives the i-th run's argv (so each can differ)."""
    times = []
    for i in range(runs):
        start = time.perf_counter()
        subprocess.run(command(i), check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def imported_modules(argv: list[str]) -> list[str]:
    """The modules one run of ``argv`` imports, in import order."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    names = (
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    )
    return list(dict.fromkeys(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per command")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        config = Path(tmp) / "newsletter.toml"
        config.write_text(f'[database]\nurl = "sqlite:///{Path(tmp) / "newsletter.db"}"\n')
        subprocess.run(newsletter(config, "db", "upgrade"), check=True, stdout=subprocess.DEVNULL)
        commands: dict[str, Callable[[int], list[str]]] = {
            "newsletter --help": lambda i: newsletter(config, "--help"),
            "newsletter subscribers add": lambda i: newsletter(
                config, "subscribers", "add", f"lezer{i}@voorbeeld.nl"
            ),
            "newsletter status": lambda i: newsletter(config, "status"),
        }
        print(f"{args.runs} fresh processes per command, load average {os.getloadavg()[0]:.1f}")
        print(f"{'command':<28} {'median':>8} {'fastest':>8}")
        for name, command in commands.items():
            times = wall_times(command, args.runs)
            print(f"{name:<28} {statistics.median(times):7.3f}s {min(times):7.3f}s")

        modules = imported_modules([str(SCRIPT), "--help"])
        stdlib = sys.stdlib_module_names
        packages = {name.split(".")[0] for name in modules} - stdlib
        libraries = sorted(
            name for name in packages - {"newsletter", "sitecustomize"} if name[0] != "_"
        )
        ours = [name for name in modules if name.startswith("newsletter")]
        print(f"newsletter --help imports {len(modules)} modules")
        print(f"  {len(libraries)} libraries: {', '.join(libraries)}")
        print(f"  {len(ours)} of newsletter: {', '.join(ours)}")


if __name__ == "__main__":
    main()
