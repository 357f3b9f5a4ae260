"""Benchmark: how long the ``newsletter`` command takes to start and finish a small job.

Each command runs several times, every time in a fresh process (the installed console
script, as an admin types it), against a SQLite database in a temporary folder. Prints the
median and fastest wall time per command, the median CPU time (user + system: less moved
by other work on a shared machine than the wall time), and the modules each command
imports (from ``python -X importtime``): how many, and which libraries outside the
standard library, so an import that creeps back into the start-up path shows by name.

The commands run with their bytecode cached, as an installed copy runs: a cache folder in
the temporary folder (``PYTHONPYCACHEPREFIX``, even where ``PYTHONDONTWRITEBYTECODE`` is
set), filled by one untimed run of each command. Without it every run compiles the
package's own modules from source again, which is no part of starting up.

    python bench/cli_startup.py
    python bench/cli_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import os
import resource
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


def cached_bytecode(folder: Path) -> dict[str, str]:
    """The environment of a command whose compiled modules are kept in ``folder``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(folder)}


def run_times(
    command: Callable[[int], list[str]], runs: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per run; ``command(i)`` gives the i-th run's argv (so each can
    differ)."""
    walls, cpus = [], []
    for i in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command(i), check=True, stdout=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def imported_modules(argv: list[str], env: dict[str, str]) -> list[str]:
    """The modules one run of ``argv`` imports, in import order."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
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
        env = cached_bytecode(Path(tmp) / "bytecode")
        subprocess.run(
            newsletter(config, "db", "upgrade"), check=True, stdout=subprocess.DEVNULL, env=env
        )
        commands: dict[str, Callable[[int], list[str]]] = {
            "newsletter --help": lambda i: newsletter(config, "--help"),
            "newsletter subscribers add": lambda i: newsletter(
                config, "subscribers", "add", f"lezer{i}@voorbeeld.nl"
            ),
            "newsletter status": lambda i: newsletter(config, "status"),
        }
        for command in commands.values():  # fills the bytecode cache
            subprocess.run(command(-1), check=True, stdout=subprocess.DEVNULL, env=env)
        print(f"{args.runs} fresh processes per command, load average {os.getloadavg()[0]:.1f}")
        print(f"{'command':<28} {'median':>8} {'fastest':>8} {'cpu':>8}")
        for name, command in commands.items():
            walls, cpus = run_times(command, args.runs, env)
            print(
                f"{name:<28} {statistics.median(walls):7.3f}s {min(walls):7.3f}s "
                f"{statistics.median(cpus):7.3f}s"
            )

        for name, command in commands.items():
            modules = imported_modules(command(args.runs), env)
            packages = {module.split(".")[0] for module in modules} - sys.stdlib_module_names
            libraries = sorted(
                package
                for package in packages - {"newsletter", "sitecustomize"}
                if package[0] != "_"
            )
            ours = [module for module in modules if module.startswith("newsletter")]
            print(f"{name} imports {len(modules)} modules")
            print(f"  {len(libraries)} libraries: {', '.join(libraries)}")
            if name.endswith("--help"):
                print(f"  {len(ours)} of newsletter: {', '.join(ours)}")
            else:
                print(f"  {len(ours)} of newsletter")


if __name__ == "__main__":
    main()
