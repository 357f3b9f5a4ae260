"""How long one parse of each seed post takes (target: under 20 ms per parse).

    .venv/bin/python bench/parse.py [-n 200]

Each post is parsed once to warm up, then N times; caches inside the parser are cleared
before every parse, so each run measures a parse of text the parser has not seen before.
The same posts are then written as Markdown (from their parsed blocks) and read by the
Markdown reader (markdown-it-py), so both readers are timed on real posts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from newsletter.content.classify import marker_key
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Post
from newsletter.content.scraped import parse_scraped

SEEDS_DIR = Path(__file__).resolve().parents[1] / "examples" / "posts"
TARGET_MS = 20.0


def time_parses(
    text: str, source: str, runs: int, parse: Callable[..., Post] = parse_scraped
) -> list[float]:
    """Milliseconds per parse, one entry per run."""
    parse(text, source=source)
    timings = []
    for _ in range(runs):
        marker_key.cache_clear()
        start = time.perf_counter()
        parse(text, source=source)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def as_markdown(post: Post) -> str:
    """The post written by hand as Markdown: front matter, headings, lists, quotes, FAQ."""
    lines = ["---", f"title: {json.dumps(post.title, ensure_ascii=False)}", "---", ""]
    if post.questions:
        lines += ["## Drie vragen om even bij stil te staan", ""]
        lines += [f"- {q.question} → {q.answer}" for q in post.questions] + [""]
    marks = {"heading": "## ", "subheading": "### ", "quote": "> ", "prompt": "💡 "}
    for block in post.blocks:
        if block.type in ("list", "related"):
            lines += [f"- {item}" for item in block.items] + [""]
        else:
            lines += [marks.get(block.type, "") + block.text, ""]
    if post.faq:
        lines += [f"## {post.faq_heading or 'Veelgestelde vragen'}", ""]
        for entry in post.faq:
            lines += [f"### {entry.question}", "", entry.answer, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=200, help="parses per post")
    args = parser.parse_args(argv)
    seeds = {
        path.name: path.read_text(encoding="utf-8") for path in sorted(SEEDS_DIR.glob("*.txt"))
    }
    as_md = {
        name.replace(".txt", ".md"): as_markdown(parse_scraped(text, source=name))
        for name, text in seeds.items()
    }
    slowest = max(
        report("post", seeds, parse_scraped, args.runs),
        report("as Markdown", as_md, parse_markdown, args.runs),
    )
    verdict = "ok" if slowest < TARGET_MS else "TOO SLOW"
    print(f"slowest median {slowest:.2f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
    return 0 if slowest < TARGET_MS else 1


def report(title: str, posts: dict[str, str], parse: Callable[..., Post], runs: int) -> float:
    """One table of timings; the slowest median in milliseconds."""
    print(f"{title:<32} {'lines':>5} {'blocks':>6} {'mean ms':>8} {'median ms':>9} {'max ms':>7}")
    slowest = 0.0
    for name, text in posts.items():
        timings = time_parses(text, name, runs, parse)
        blocks = len(parse(text, source=name).blocks)
        mean, median = statistics.fmean(timings), statistics.median(timings)
        slowest = max(slowest, median)
        print(
            f"{name:<32} {text.count(chr(10)):>5} {blocks:>6} "
            f"{mean:>8.2f} {median:>9.2f} {max(timings):>7.2f}"
        )
    return slowest


if __name__ == "__main__":
    raise SystemExit(main())
