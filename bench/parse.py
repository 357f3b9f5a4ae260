"""How long one parse of each seed post takes (target: under 20 ms per parse).

    .venv/bin/python bench/parse.py [-n 200]

Each post is parsed once to warm up, then N times; caches inside the parser are cleared
before every parse, so each run measures a parse of text the parser has not seen before.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from newsletter.content import parse_scraped
from newsletter.content.classify import marker_key

SEEDS_DIR = Path(__file__).resolve().parents[1] / "examples" / "posts"
TARGET_MS = 20.0


def time_parses(text: str, source: str, runs: int) -> list[float]:
    """Milliseconds per parse, one entry per run."""
    parse_scraped(text, source=source)
    timings = []
    for _ in range(runs):
        marker_key.cache_clear()
        start = time.perf_counter()
        parse_scraped(text, source=source)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=200, help="parses per post")
    args = parser.parse_args(argv)
    slowest = 0.0
    print(f"{'post':<32} {'lines':>5} {'blocks':>6} {'mean ms':>8} {'median ms':>9} {'max ms':>7}")
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        timings = time_parses(text, str(path), args.runs)
        blocks = len(parse_scraped(text, source=str(path)).blocks)
        mean, median = statistics.fmean(timings), statistics.median(timings)
        slowest = max(slowest, median)
        print(
            f"{path.name:<32} {text.count(chr(10)):>5} {blocks:>6} "
            f"{mean:>8.2f} {median:>9.2f} {max(timings):>7.2f}"
        )
    verdict = "ok" if slowest < TARGET_MS else "TOO SLOW"
    print(f"slowest median {slowest:.2f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
    return 0 if slowest < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
